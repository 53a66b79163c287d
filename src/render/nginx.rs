//! `nginx/mattermost.conf`: the server blocks for Mattermost's host, shaped like
//! Mattermost's reference proxy config (deployment-guide/server/setup-nginx-proxy): a
//! keepalive upstream, the WebSocket locations (the API's and the Boards plugin's) and a
//! `location /`, the HTTP→HTTPS redirect when asked, and the certificate paths. No version
//! in headers or error pages (`server_tokens off`), no compression over TLS (`gzip off`:
//! Debian's nginx.conf turns it on, and compressed secrets over TLS are BREACH's target),
//! and IPv4 only unless `listen_ipv6` (omnibus' default; nginx does not start where IPv6
//! is off and a `[::]` listener is asked for).
//!
//! It must load on Debian 12's nginx 1.22.1 as well as newer ones, so HTTP/2 is turned on
//! with `listen 443 ssl http2;` (every nginx since 1.9.5; 1.25.1+ warns and loads), not
//! `http2 on;` (1.25.1+ only). The test suite runs the real `nginx -t` on every fixture.

use super::Context;

const UPSTREAM: &str = "toolctl_mattermost";

/// The headers and buffers both locations carry.
const COMMON: &str = "        proxy_set_header Host $http_host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Frame-Options SAMEORIGIN;
        proxy_buffers 256 16k;
        proxy_buffer_size 16k;
        proxy_http_version 1.1;
";

pub fn render(cx: &Context) -> Option<String> {
    let mm = &cx.model.mattermost;
    let n = &mm.nginx;
    let url = url::Url::parse(mm.external_url.as_deref()?).ok()?;
    let host = url.host_str()?.to_string();
    let https = url.scheme() == "https";
    let port = url.port();
    let body_size = &n.client_max_body_size;
    let read_timeout = &n.proxy_read_timeout;
    let ws_read_timeout = &n.websocket_proxy_read_timeout;
    // The Boards plugin keeps its own WebSocket; without Upgrade/Connection it would get
    // a plain 200 from Mattermost instead of 101.
    let websocket = |location: &str| {
        format!(
            "    location {location} {{
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection \"upgrade\";
        client_max_body_size 50M;
{COMMON}        client_body_timeout 60s;
        send_timeout 300s;
        lingering_timeout 5s;
        proxy_connect_timeout 90s;
        proxy_send_timeout 300s;
        proxy_read_timeout {ws_read_timeout};
        proxy_pass http://{UPSTREAM};
    }}
"
        )
    };
    let locations = format!(
        "{}
{}
    location / {{
        proxy_set_header Connection \"\";
        client_max_body_size {body_size};
{COMMON}        proxy_read_timeout {read_timeout};
        proxy_pass http://{UPSTREAM};
    }}
",
        websocket("~ /api/v[0-9]+/(users/)?websocket$"),
        websocket("/plugins/focalboard/ws/"),
    );
    let listen = |port: u16, params: &str| {
        let mut l = format!("    listen {port}{params};\n");
        if n.listen_ipv6 {
            l.push_str(&format!("    listen [::]:{port}{params};\n"));
        }
        l
    };
    let mut out = cx.header("#");
    let backend = upstream(&mm.listen_address);
    out.push_str(&format!(
        "upstream {UPSTREAM} {{\n    server {backend};\n    keepalive 32;\n}}\n\n"
    ));
    let http_port = if https { 80 } else { port.unwrap_or(80) };
    out.push_str(&format!(
        "server {{\n{}    server_name {host};\n    server_tokens off;\n",
        listen(http_port, "")
    ));
    if https && n.redirect_http_to_https {
        let target = match port {
            Some(p) => format!("https://$host:{p}$request_uri"),
            None => "https://$host$request_uri".to_string(),
        };
        out.push_str(&format!("    return 301 {target};\n"));
    } else {
        out.push('\n');
        out.push_str(&locations);
    }
    out.push_str("}\n");
    if https {
        out.push_str(&format!(
            "\nserver {{
{}    server_name {host};
    server_tokens off;
    gzip off;
    ssl_certificate {};
    ssl_certificate_key {};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_timeout 1d;
    ssl_session_cache shared:SSL:50m;
    # HSTS: six months, as Mattermost's reference config.
    add_header Strict-Transport-Security max-age=15768000;

{locations}}}
",
            listen(port.unwrap_or(443), " ssl http2"),
            n.ssl_certificate.as_deref().unwrap_or_default(),
            n.ssl_certificate_key.as_deref().unwrap_or_default(),
        ));
    }
    Some(out)
}

/// Where nginx reaches Mattermost: `listen_address`, with a wildcard or empty host
/// (`:8065`, `0.0.0.0:8065`, `[::]:8065`) reached on the loopback address.
fn upstream(listen: &str) -> String {
    match listen.rsplit_once(':') {
        Some(("" | "0.0.0.0" | "*", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_string(),
    }
}
