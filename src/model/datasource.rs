//! The text of a PostgreSQL data source (`mattermost.sql_data_source`): its two forms
//! (libpq key/value and `postgres://` URL), a value quoted as libpq and Go's lib/pq read
//! it, and the password put in or taken out. Pure string code, shared by the renderer
//! (Mattermost's data source), `import gitlab-rb` and `mattermost::pg` (the clients).

/// Parses a data source; warnings (fixed or stripped keywords) go to `warn`.
pub fn parse(
    source: &str,
    warn: &mut Vec<String>,
) -> std::result::Result<Vec<(String, String)>, String> {
    let s = source.trim();
    let mut params = if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        parse_url(s)?
    } else {
        parse_kv(s)?
    };
    if let Some((why, _)) = go_only(&params) {
        return Err(why);
    }
    params.retain(|(k, v)| {
        if CLIENT_SIDE.contains(&k.as_str()) {
            warn.push(format!(
                "`{k}={v}` in `mattermost.sql_data_source` is an option of Mattermost's Go driver (lib/pq), not libpq's: left out for the PostgreSQL clients"
            ));
            false
        } else {
            true
        }
    });
    for (k, v) in params.iter_mut() {
        if k == "sslmode" && v == "required" {
            warn.push("`sslmode=required` in `mattermost.sql_data_source` is the docs' typo for `sslmode=require`: using `require`".into());
            *v = "require".into();
        }
    }
    Ok(runtime_parameters_as_options(params))
}

/// libpq's connection keywords (PostgreSQL 17, "Parameter Key Words"): all that `psql`,
/// `pg_dump` and `pg_restore` accept; any other makes them fail with `invalid connection
/// option`.
const LIBPQ_KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "requiressl",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
];

/// Options of Go's lib/pq that only change how the driver itself talks (binary formats,
/// prepared statements): they mean nothing to libpq's clients and are left out.
const CLIENT_SIDE: &[&str] = &["binary_parameters", "disable_prepared_binary_result"];

/// lib/pq's own keywords that libpq has no form for: the clients cannot be given the same
/// connection, so the data source is refused, with what to write instead.
const NO_LIBPQ_FORM: &[(&str, &str)] = &[
    (
        "sslinline",
        "write the PEM of `sslcert`, `sslkey` and `sslrootcert` to root-owned files and give their paths instead (both Mattermost's driver and libpq read files); then remove `sslinline`",
    ),
    (
        "krbspn",
        "libpq names the Kerberos service with `krbsrvname` (the service part of the principal) and takes the host from `host`: write `krbsrvname=…` instead of `krbspn`",
    ),
];

/// The first keyword of `params` that Mattermost's driver reads and libpq has no form for:
/// the reason and the hint.
pub fn go_only(params: &[(String, String)]) -> Option<(String, &'static str)> {
    params.iter().find_map(|(k, _)| {
        NO_LIBPQ_FORM.iter().find(|(n, _)| n == k).map(|(n, hint)| {
            (
                format!("`{n}` is an option of Mattermost's Go driver (lib/pq) that libpq, and so psql and pg_dump, has no form for"),
                *hint,
            )
        })
    })
}

/// `source`'s keywords that have no libpq form ([`go_only`]), for the settings check
/// (`None` also when the source does not parse: that is reported where it is used).
pub fn go_only_in(source: &str) -> Option<(String, &'static str)> {
    let s = source.trim();
    let params = if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        parse_url(s).ok()?
    } else {
        parse_kv(s).ok()?
    };
    go_only(&params)
}

/// Keywords libpq does not know are run-time parameters to lib/pq, which sends them to the
/// server in the startup packet (`search_path=mm`, `statement_timeout=5000`…); libpq's
/// form of the same is `options=-c name=value`, appended to any `options` written.
fn runtime_parameters_as_options(params: Vec<(String, String)>) -> Vec<(String, String)> {
    let (known, runtime): (Vec<_>, Vec<_>) = params
        .into_iter()
        .partition(|(k, _)| LIBPQ_KEYWORDS.contains(&k.as_str()));
    if runtime.is_empty() {
        return known;
    }
    let mut out = known;
    // In `options`, a space separates arguments and a backslash escapes the next byte.
    let escape = |v: &str| v.replace('\\', "\\\\").replace(' ', "\\ ");
    let added: Vec<String> = runtime
        .iter()
        .map(|(k, v)| format!("-c{}={}", escape(k), escape(v)))
        .collect();
    match out.iter_mut().find(|(k, _)| k == "options") {
        Some((_, o)) => {
            for a in &added {
                o.push(' ');
                o.push_str(a);
            }
        }
        None => out.push(("options".into(), added.join(" "))),
    }
    out
}

pub fn parse_kv(s: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!("`{key}` has no `=value`"));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(format!("the quoted value of `{key}` is not closed")),
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

fn parse_url(s: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a valid URL ({e})"))?;
    let dec = |v: &str| {
        url::form_urlencoded::parse(format!("x={}", v.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    if !u.username().is_empty() {
        out.push(("user".into(), dec(u.username())));
    }
    if let Some(p) = u.password() {
        out.push(("password".into(), dec(p)));
    }
    if let Some(h) = u.host_str().filter(|h| !h.is_empty()) {
        out.push(("host".into(), dec(h)));
    }
    if let Some(p) = u.port() {
        out.push(("port".into(), p.to_string()));
    }
    let db = u.path().trim_start_matches('/');
    if !db.is_empty() {
        out.push(("dbname".into(), dec(db)));
    }
    for (k, v) in u.query_pairs() {
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

/// A conninfo value as libpq and Go's lib/pq read it: bare when it can be, quoted otherwise.
pub fn conninfo_value(v: &str) -> String {
    if !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        v.to_string()
    } else {
        quote(v)
    }
}

/// `source` with `password` added, in the data source's own form: a quoted `password=`
/// keyword, or a percent-encoded query parameter of a `postgres://` URL.
pub fn with_password(source: &str, password: &str) -> String {
    let s = source.trim();
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        let sep = if s.contains('?') { '&' } else { '?' };
        let encoded: String = url::form_urlencoded::byte_serialize(password.as_bytes()).collect();
        format!("{s}{sep}password={encoded}")
    } else {
        format!("{s} password={}", conninfo_value(password))
    }
}

/// `source` without its password, and the password: the `password` keyword of the
/// key=value form, or the password of a URL's userinfo or query. `None` when it has none
/// (or does not parse: it is then left as written).
pub fn split_password(source: &str) -> (String, Option<String>) {
    let s = source.trim();
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        let Ok(mut u) = url::Url::parse(s) else {
            return (source.to_string(), None);
        };
        let mut password = u
            .password()
            // Userinfo is percent-encoded, where `+` is itself (unlike a form's space).
            .map(|p| {
                let form = format!("p={}", p.replace('+', "%2B"));
                url::form_urlencoded::parse(form.as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            });
        let _ = u.set_password(None);
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        if let Some((_, p)) = pairs.iter().find(|(k, _)| k == "password") {
            password = Some(p.clone());
            let rest: Vec<_> = pairs.iter().filter(|(k, _)| k != "password").collect();
            if rest.is_empty() {
                u.set_query(None);
            } else {
                u.query_pairs_mut().clear().extend_pairs(rest);
            }
        }
        return (u.to_string(), password);
    }
    match parse_kv(s) {
        Ok(params) if params.iter().any(|(k, _)| k == "password") => {
            let password = params
                .iter()
                .find(|(k, _)| k == "password")
                .map(|(_, v)| v.clone());
            let rest: Vec<String> = params
                .iter()
                .filter(|(k, _)| k != "password")
                .map(|(k, v)| format!("{k}={}", conninfo_value(v)))
                .collect();
            (rest.join(" "), password)
        }
        _ => (source.to_string(), None),
    }
}

/// Quotes a conninfo value.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod go_keyword_tests {
    use super::*;

    #[test]
    fn run_time_parameters_become_options_and_client_side_ones_are_left_out() {
        let mut w = Vec::new();
        let p = parse(
            "user=mm dbname=mm search_path='mm, public' statement_timeout=5000 disable_prepared_binary_result=yes",
            &mut w,
        )
        .unwrap();
        assert_eq!(
            p,
            [
                ("user".to_string(), "mm".to_string()),
                ("dbname".into(), "mm".into()),
                (
                    "options".into(),
                    "-csearch_path=mm,\\ public -cstatement_timeout=5000".into()
                ),
            ]
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("disable_prepared_binary_result"), "{w:?}");
        // Written options are kept, and the URL form is read the same way.
        let p = parse(
            "postgres://mm@db/mm?options=-cwork_mem%3D8MB&search_path=mm",
            &mut w,
        )
        .unwrap();
        assert!(p.contains(&("options".into(), "-cwork_mem=8MB -csearch_path=mm".into())));
        // Nothing libpq does not know survives.
        assert!(p.iter().all(|(k, _)| LIBPQ_KEYWORDS.contains(&k.as_str())));
    }

    #[test]
    fn keywords_without_a_libpq_form_are_refused_with_a_hint() {
        let mut w = Vec::new();
        let e = parse(
            "user=mm dbname=mm sslinline=true sslcert='-----BEGIN'",
            &mut w,
        )
        .unwrap_err();
        assert!(e.contains("`sslinline`"), "{e}");
        let (why, hint) = go_only_in("postgres://mm@db/mm?krbspn=postgres/db").unwrap();
        assert!(
            why.contains("`krbspn`") && hint.contains("krbsrvname"),
            "{why} {hint}"
        );
        assert!(go_only_in("user=mm search_path=x").is_none());
    }
}
