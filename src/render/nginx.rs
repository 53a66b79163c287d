//! `nginx/mattermost.conf`: the server block for Mattermost's host, with the HTTP→HTTPS
//! redirect when asked and the certificate paths.

use super::mattermost::LISTEN;
use super::Context;

pub fn render(cx: &Context) -> Option<String> {
    let r = cx.resolved;
    let url = url::Url::parse(r.str("mattermost.external_url")?).ok()?;
    let host = url.host_str()?.to_string();
    let https = url.scheme() == "https";
    let port = url.port();
    let proxy = "    location / {
        proxy_set_header Host $http_host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection \"upgrade\";
        client_max_body_size 50m;
        proxy_pass http://toolctl_mattermost;
    }
";
    let mut out = cx.header("#");
    out.push_str(&format!(
        "upstream toolctl_mattermost {{\n    server {LISTEN};\n}}\n\n"
    ));
    let http_port = if https { 80 } else { port.unwrap_or(80) };
    out.push_str(&format!(
        "server {{\n    listen {http_port};\n    server_name {host};\n"
    ));
    if https && r.bool("mattermost.nginx.redirect_http_to_https") {
        let target = match port {
            Some(p) => format!("https://$host:{p}$request_uri"),
            None => "https://$host$request_uri".to_string(),
        };
        out.push_str(&format!("    return 301 {target};\n"));
    } else {
        out.push_str(proxy);
    }
    out.push_str("}\n");
    if https {
        out.push_str(&format!(
            "\nserver {{\n    listen {} ssl;\n    http2 on;\n    server_name {host};\n    ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols TLSv1.2 TLSv1.3;\n{proxy}}}\n",
            port.unwrap_or(443),
            r.str("mattermost.nginx.ssl_certificate").unwrap_or_default(),
            r.str("mattermost.nginx.ssl_certificate_key").unwrap_or_default(),
        ));
    }
    Some(out)
}
