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
    params.retain(|(k, v)| {
        if k == "binary_parameters" {
            warn.push(format!(
                "`binary_parameters={v}` in `mattermost.sql_data_source` is Mattermost's own option, not libpq's: left out for the PostgreSQL clients"
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
    Ok(params)
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
