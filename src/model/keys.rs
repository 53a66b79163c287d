//! The type of a toolctl.toml key's value, for the modules that map other formats onto
//! the settings (`import gitlab-rb`) without reading the settings' schema themselves
//! (`settings::schema` holds the keys; it re-exports [`Kind`]).

/// The type of a key's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    /// An integer in `min..=max`.
    Int(i64, i64),
    Bool,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// An array of strings.
    List,
    /// A table of string values with free keys (`mattermost.env`).
    Map,
}

impl Kind {
    pub fn describe(self) -> String {
        match self {
            Kind::Str => "a string".into(),
            Kind::Int(min, max) => format!("an integer from {min} to {max}"),
            Kind::Bool => "a boolean (true or false)".into(),
            Kind::Enum(values) => format!(
                "one of {}",
                values
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::List => "an array of strings".into(),
            Kind::Map => "a table of strings".into(),
        }
    }
}
