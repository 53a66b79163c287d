//! Every rendered file loaded by its real consumer, for every fixture that renders it:
//! `nginx -t` (Debian's nginx) on `nginx/mattermost.conf`, Ruby's Psych (as mail_room
//! loads its config, symbols permitted) on `mail_room.yml`, `python3 -m json.tool` on
//! Mattermost's `config.json`; and `[mailroom] user`/`group` owning what mail_room reads.
//!
//! `nginx -t` opens the certificates at the paths the file names (`/etc/toolctl/ssl/…`),
//! so it runs in a private mount namespace (`unshare -m`) where the test root's
//! `etc/toolctl` is bind-mounted on `/etc/toolctl` (over a private overlay of `/etc` when
//! the host has no `/etc/toolctl`), with certificates made by the test. Its pid, error log
//! and temp directories are in a temp directory: nothing is written elsewhere.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{mode, TestRoot};
use crate::mailservers::{certs, Dovecot, DovecotOptions, ALICE, ALICE_PASSWORD};
use crate::reconfigure::root_from;

/// `MailRoom::MAILBOX_FIELDS` of mail_room 0.11 (lib/mail_room/mailbox.rb).
const MAILBOX_FIELDS: &[&str] = &[
    "email",
    "password",
    "host",
    "port",
    "ssl",
    "start_tls",
    "limit_max_unread",
    "idle_timeout",
    "search_command",
    "name",
    "delete_after_delivery",
    "expunge_deleted",
    "delivery_klass",
    "delivery_method",
    "log_path",
    "delivery_options",
    "arbitration_method",
    "arbitration_options",
    "logger",
    "inbox_method",
    "inbox_options",
];

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("toolctl.toml").is_file())
        .collect();
    out.sort();
    out
}

/// Each fixture reconfigured in its own root, with the fixture's name.
fn rendered_fixtures() -> Vec<(String, TestRoot)> {
    fixtures()
        .into_iter()
        .map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let t = root_from(&case);
            t.toolctl(["reconfigure"]).run().assert_code(0);
            (name, t)
        })
        .collect()
}

fn rendered(t: &TestRoot, rel: &str) -> PathBuf {
    t.path("var/opt/toolctl/rendered").join(rel)
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Runs `nginx -t` on `conf` (an included server file) with the root's `etc/toolctl` on
/// `/etc/toolctl`; returns (success, output).
fn nginx_t(t: &TestRoot, conf: &Path) -> (bool, String) {
    let work = tempfile::Builder::new()
        .prefix("toolctl-nginx-")
        .tempdir()
        .unwrap();
    let w = work.path();
    for d in ["temp", "up", "work"] {
        fs::create_dir(w.join(d)).unwrap();
    }
    let temp = w.join("temp");
    let main = w.join("nginx.conf");
    fs::write(
        &main,
        format!(
            "events {{}}\nhttp {{\n    access_log off;\n    client_body_temp_path {0}/body;\n    proxy_temp_path {0}/proxy;\n    fastcgi_temp_path {0}/fastcgi;\n    uwsgi_temp_path {0}/uwsgi;\n    scgi_temp_path {0}/scgi;\n    include {1};\n}}\n",
            temp.display(),
            conf.display()
        ),
    )
    .unwrap();
    let script = format!(
        "set -e
mount --make-rprivate /
if [ ! -d /etc/toolctl ]; then
  mount -t overlay overlay -o lowerdir=/etc,upperdir={up},workdir={work} /etc
  mkdir /etc/toolctl
fi
mount --bind {etc} /etc/toolctl
exec nginx -t -p {prefix}/ -c {main} -e {prefix}/error.log -g 'pid {prefix}/nginx.pid;'",
        up = sh_quote(&w.join("up")),
        work = sh_quote(&w.join("work")),
        etc = sh_quote(&t.path("etc/toolctl")),
        prefix = w.display(),
        main = sh_quote(&main),
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("run unshare (util-linux): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Puts the test certificate and key at every `ssl_certificate*` path the file names
/// (all under `/etc/toolctl/`, as the fixtures have them).
fn place_certificates(t: &TestRoot, conf: &str) {
    for line in conf.lines() {
        let line = line.trim();
        let (src, path) = if let Some(p) = line.strip_prefix("ssl_certificate_key ") {
            (&certs().good.key, p)
        } else if let Some(p) = line.strip_prefix("ssl_certificate ") {
            (&certs().good.cert, p)
        } else {
            continue;
        };
        let path = path.trim_end_matches(';');
        let rel = path
            .strip_prefix("/etc/toolctl/")
            .unwrap_or_else(|| panic!("certificate outside /etc/toolctl: {path}"));
        let dest = t.path("etc/toolctl").join(rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(src, dest).unwrap();
    }
}

#[test]
fn nginx_t_accepts_every_rendered_mattermost_conf() {
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for (name, t) in rendered_fixtures() {
        let conf = rendered(&t, "nginx/mattermost.conf");
        let Ok(text) = fs::read_to_string(&conf) else {
            continue;
        };
        place_certificates(&t, &text);
        let (ok, out) = nginx_t(&t, &conf);
        if !ok || !out.contains("test is successful") {
            failures.push(format!("{name}: nginx -t failed:\n{out}"));
        }
        checked.push(name);
    }
    println!("nginx -t passed on: {}", checked.join(", "));
    assert!(
        checked.len() >= 4,
        "too few fixtures render nginx: {checked:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn nginx_t_fails_when_a_certificate_is_missing() {
    // The namespace set-up is real: without the certificate nginx -t must fail.
    let t = root_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mattermost-https"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let (ok, out) = nginx_t(&t, &rendered(&t, "nginx/mattermost.conf"));
    assert!(!ok, "nginx -t passed without certificates:\n{out}");
    assert!(out.contains("mattermost-nginx.crt"), "{out}");
}

#[test]
fn mattermost_nginx_settings_reach_their_locations() {
    let t = root_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mattermost-https"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let text = fs::read_to_string(rendered(&t, "nginx/mattermost.conf")).unwrap();
    let (ws, root) = text.split_once("location / {").expect("a location /");
    let ws = ws
        .rsplit_once("location ~ /api/v[0-9]+/(users/)?websocket$ {")
        .unwrap()
        .1;
    assert!(ws.contains("proxy_read_timeout 120s;"), "{text}");
    assert!(ws.contains("client_max_body_size 50M;"), "{text}");
    assert!(
        ws.contains("proxy_set_header Connection \"upgrade\";"),
        "{text}"
    );
    assert!(root.contains("proxy_read_timeout 10m;"), "{text}");
    assert!(root.contains("client_max_body_size 200m;"), "{text}");
    assert!(root.contains("proxy_set_header Connection \"\";"), "{text}");
    assert!(
        text.contains("listen 443 ssl http2;") && !text.contains("http2 on;"),
        "{text}"
    );
    assert!(text.contains("keepalive 32;"), "{text}");
    // The Boards plugin's WebSocket: upgraded, with the WebSocket timeout.
    let boards = text
        .split_once("location /plugins/focalboard/ws/ {")
        .expect("the Boards WebSocket location")
        .1
        .split_once('}')
        .unwrap()
        .0;
    assert!(
        boards.contains("proxy_set_header Upgrade $http_upgrade;"),
        "{text}"
    );
    assert!(
        boards.contains("proxy_set_header Connection \"upgrade\";"),
        "{text}"
    );
    assert!(boards.contains("proxy_read_timeout 120s;"), "{text}");
    // Both servers: no version; over TLS no compression; IPv6 as asked (`listen_ipv6`).
    assert_eq!(text.matches("server_tokens off;").count(), 2, "{text}");
    assert_eq!(text.matches("gzip off;").count(), 1, "{text}");
    assert!(text.contains("listen [::]:80;\n"), "{text}");
    assert!(text.contains("listen [::]:443 ssl http2;\n"), "{text}");
    // Off by default, as omnibus.
    let t = root_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/full"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let text = fs::read_to_string(rendered(&t, "nginx/mattermost.conf")).unwrap();
    assert!(!text.contains("[::]"), "{text}");
    assert!(text.contains("server_tokens off;"), "{text}");
}

/// A stand-in for Mattermost behind nginx: `101 Switching Protocols` to a request that
/// still carries `Upgrade: websocket` and `Connection: upgrade` when it arrives, else
/// `200`; the request path is echoed in `X-Path`.
fn upgrade_backend() -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = Vec::new();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push(line.trim_end().to_ascii_lowercase());
            }
            let path = head
                .first()
                .and_then(|l| l.split(' ').nth(1))
                .unwrap_or("")
                .to_string();
            let upgrade = head.iter().any(|h| h == "upgrade: websocket")
                && head.iter().any(|h| h == "connection: upgrade");
            let answer = if upgrade {
                format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Path: {path}\r\n\r\n")
            } else {
                format!("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Path: {path}\r\n\r\n")
            };
            let _ = s.write_all(answer.as_bytes());
        }
    });
    port
}

/// A free port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The status line nginx answers to a WebSocket handshake for `path`.
fn handshake(port: u16, path: &str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: chat.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

#[test]
fn nginx_upgrades_the_api_and_boards_websockets_and_nothing_else() {
    let backend = upgrade_backend();
    let port = free_port();
    let t = TestRoot::builder()
        .settings(format!(
            "[mattermost]\nexternal_url = \"http://chat.example.test:{port}\"\n\
             listen_address = \"127.0.0.1:{backend}\"\n\
             sql_data_source = \"user=mm host=db dbname=mm\"\n"
        ))
        .build();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let conf = rendered(&t, "nginx/mattermost.conf");
    let (ok, out) = nginx_t(&t, &conf);
    assert!(ok, "{out}");
    let work = tempfile::Builder::new()
        .prefix("toolctl-nginx-")
        .tempdir()
        .unwrap();
    let w = work.path();
    let main = w.join("nginx.conf");
    fs::write(
        &main,
        format!(
            "events {{}}\nhttp {{\n    access_log off;\n    client_body_temp_path {0}/body;\n    proxy_temp_path {0}/proxy;\n    fastcgi_temp_path {0}/fastcgi;\n    uwsgi_temp_path {0}/uwsgi;\n    scgi_temp_path {0}/scgi;\n    include {1};\n}}\n",
            w.display(),
            conf.display()
        ),
    )
    .unwrap();
    let nginx = Command::new("nginx")
        .arg("-p")
        .arg(format!("{}/", w.display()))
        .arg("-c")
        .arg(&main)
        .arg("-e")
        .arg(w.join("error.log"))
        .args(["-g", &format!("daemon off; pid {}/nginx.pid;", w.display())])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("run nginx: {e}"));
    // Stopped with SIGTERM (the master stops its workers), then the whole group killed:
    // a killed master would leave its workers behind.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let pid = self.0.id() as libc::pid_t;
            // SAFETY: signals to the process and the group this test started.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let _ = self.0.wait();
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }
    let nginx = Stop(nginx);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "nginx did not listen");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let results = [
        "/api/v4/websocket",
        "/plugins/focalboard/ws/",
        "/plugins/focalboard/ws/onchange?token=x",
        "/api/v4/users/me",
    ]
    .map(|p| (p, handshake(port, p)));
    drop(nginx);
    let status = |p: &str| {
        results
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, s)| s.clone())
            .unwrap()
    };
    assert_eq!(
        status("/api/v4/websocket"),
        "HTTP/1.1 101 Switching Protocols",
        "{results:?}"
    );
    assert_eq!(
        status("/plugins/focalboard/ws/"),
        "HTTP/1.1 101 Switching Protocols",
        "{results:?}"
    );
    assert_eq!(
        status("/plugins/focalboard/ws/onchange?token=x"),
        "HTTP/1.1 101 Switching Protocols",
        "{results:?}"
    );
    // `location /` drops the upgrade (`Connection ""`).
    assert_eq!(status("/api/v4/users/me"), "HTTP/1.1 200 OK", "{results:?}");
}

/// What Ruby sees in a mail_room.yml: per mailbox, its keys (each must be a Symbol), the
/// class and content of `:ssl`, and every non-Symbol key anywhere below it.
const RUBY: &str = r##"
require 'yaml'
require 'json'
require 'uri'
require 'cgi'
doc = YAML.safe_load(File.read(ARGV[0]), permitted_classes: [Symbol])
bad = []
walk = lambda do |v, path|
  case v
  when Hash
    v.each { |k, x| bad << "#{path}/#{k.inspect}" unless k.is_a?(Symbol); walk.(x, "#{path}/#{k}") }
  when Array
    v.each_with_index { |x, i| walk.(x, "#{path}[#{i}]") }
  end
end
walk.(doc, "")
out = doc[:mailboxes].map do |m|
  ssl = m[:ssl]
  ssl_desc = case ssl
    when Hash then { "hash" => ssl.map { |k, v| [k.to_s, v.is_a?(Symbol) ? "sym:#{v}" : v] }.to_h }
    else ssl
  end
  urls = [m.dig(:delivery_options, :redis_url), m.dig(:arbitration_options, :redis_url)].compact
  {
    "keys" => m.keys.map(&:to_s),
    "ssl" => ssl_desc,
    "start_tls" => m[:start_tls],
    "redis_passwords" => urls.map { |u| p = URI(u).password; p && CGI.unescape(p) },
    "delivery_options" => (m[:delivery_options] || {}).map { |k, v| [k.to_s, v.to_s] }.to_h,
    "arbitration_options" => (m[:arbitration_options] || {}).map { |k, v| [k.to_s, v.to_s] }.to_h,
  }
end
puts JSON.generate({ "bad_keys" => bad, "mailboxes" => out })
"##;

fn ruby_view(path: &Path) -> serde_json::Value {
    let out = Command::new("ruby")
        .args(["-e", RUBY])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("run ruby: {e}"));
    assert!(
        out.status.success(),
        "Psych refused {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn mail_room_yml_loads_in_ruby_with_only_mail_rooms_keys_and_tls_inside_ssl() {
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for (name, t) in rendered_fixtures() {
        let path = rendered(&t, "mail_room.yml");
        if !path.exists() {
            continue;
        }
        let view = ruby_view(&path);
        if view["bad_keys"].as_array().is_some_and(|b| !b.is_empty()) {
            failures.push(format!(
                "{name}: keys that are not Symbols: {}",
                view["bad_keys"]
            ));
        }
        for m in view["mailboxes"].as_array().unwrap() {
            for k in m["keys"].as_array().unwrap() {
                let k = k.as_str().unwrap();
                if !MAILBOX_FIELDS.contains(&k) {
                    failures.push(format!("{name}: `:{k}` is not in MAILBOX_FIELDS"));
                }
            }
            // :ssl is false with STARTTLS, a hash only with a ca_file over implicit TLS.
            match (&m["ssl"], m["start_tls"].as_bool()) {
                (serde_json::Value::Bool(_), _) => {}
                // Microsoft Graph mailboxes have no IMAP connection.
                (serde_json::Value::Null, _)
                    if m["keys"]
                        .as_array()
                        .unwrap()
                        .contains(&"inbox_method".into()) => {}
                (serde_json::Value::Object(h), Some(false)) => {
                    // Only the CA: a `:verify_mode` breaks mail_room at its first reconnect.
                    let h = &h["hash"];
                    if h.as_object().map(|o| o.len()) != Some(1) || !h["ca_file"].is_string() {
                        failures.push(format!("{name}: :ssl hash is {h}"));
                    }
                }
                (other, _) => failures.push(format!("{name}: :ssl is {other}")),
            }
            if m["start_tls"] == true && m["ssl"] != false {
                failures.push(format!("{name}: STARTTLS with :ssl {}", m["ssl"]));
            }
        }
        let log_dirs: Vec<PathBuf> = fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter_map(|l| l.trim().strip_prefix(":log_path: "))
            .map(|p| t.path(p.trim_matches('"').trim_start_matches('/')))
            .map(|p| p.parent().unwrap().to_path_buf())
            .collect();
        for d in log_dirs {
            if !d.is_dir() || mode(&d) != 0o750 {
                failures.push(format!(
                    "{name}: log directory {} missing or not 0750",
                    d.display()
                ));
            }
        }
        checked.push(name);
    }
    println!("Psych loaded mail_room.yml of: {}", checked.join(", "));
    assert!(
        checked.len() >= 8,
        "too few fixtures render mail_room.yml: {checked:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn mail_room_yml_renders_sidekiq_and_arbitration_as_gitlab_does() {
    let t = root_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mailroom-redis"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let view = ruby_view(&rendered(&t, "mail_room.yml"));
    let boxes = view["mailboxes"].as_array().unwrap();
    let (incoming, desk) = (&boxes[0], &boxes[1]);
    // Implicit TLS with a ca_file: the hash; STARTTLS with one: false (mail_room ignores it).
    assert_eq!(
        incoming["ssl"]["hash"],
        serde_json::json!({"ca_file": "/etc/toolctl/ssl/mail-ca.pem"})
    );
    assert_eq!(desk["ssl"], false);
    assert_eq!(desk["start_tls"], true);
    let d = &incoming["delivery_options"];
    assert_eq!(d["queue"], "default");
    assert_eq!(d["worker"], "EmailReceiverWorker");
    assert_eq!(d["redis_db"], "2");
    for m in boxes {
        assert_eq!(m["arbitration_options"]["namespace"], "mail_room:gitlab");
        // Ruby's redis client decodes the userinfo form-style (CGI.unescape): the password
        // with `+`, `@`, `:`, `%` and a space comes back whole.
        for p in m["redis_passwords"].as_array().unwrap() {
            assert_eq!(p, "p+w@r:d%2B x");
        }
        assert_eq!(
            m["redis_passwords"].as_array().unwrap().len(),
            if m == incoming { 2 } else { 1 }
        );
    }
}

/// The `config.json` keys toolctl manages, as the struct fields of mattermost/mattermost
/// `server/public/model/config.go` name them (ServiceSettings, GitLabSettings as an
/// SSOSettings, SqlSettings, TeamSettings, EmailSettings). A key added to the template
/// must be added here after checking it there.
const CONFIG_GO: &[&str] = &[
    "ServiceSettings.SiteURL",
    "ServiceSettings.ListenAddress",
    "GitLabSettings.Enable",
    "GitLabSettings.Id",
    "GitLabSettings.Secret",
    "GitLabSettings.Scope",
    "GitLabSettings.AuthEndpoint",
    "GitLabSettings.TokenEndpoint",
    "GitLabSettings.UserAPIEndpoint",
    "SqlSettings.DriverName",
    "SqlSettings.DataSource",
    "TeamSettings.SiteName",
    "EmailSettings.EnableSignUpWithEmail",
];

#[test]
fn mattermost_config_json_is_accepted_by_json_tool() {
    let mut checked = Vec::new();
    for (name, t) in rendered_fixtures() {
        let path = rendered(&t, "mattermost/config.json");
        if !path.exists() {
            continue;
        }
        let out = Command::new("/usr/bin/python3")
            .args(["-m", "json.tool"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: json.tool refused config.json:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        for (section, keys) in doc.as_object().unwrap() {
            for key in keys.as_object().unwrap().keys() {
                let full = format!("{section}.{key}");
                assert!(
                    CONFIG_GO.contains(&full.as_str()),
                    "{name}: config.json key {full} is not a field of Mattermost's model/config.go"
                );
            }
        }
        checked.push(name);
    }
    println!("json.tool accepted config.json of: {}", checked.join(", "));
    assert!(checked.len() >= 4, "{checked:?}");
}

#[test]
fn mailroom_user_and_group_own_what_mail_room_reads() {
    let t = root_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mailroom-redis"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let nobody = (65534, 65534);
    for p in [
        rendered(&t, "mail_room.yml"),
        rendered(&t, "mailroom/.gitlab_mailroom_secret"),
        rendered(&t, "mailroom"),
        t.path("var/log/toolctl/mailroom"),
    ] {
        let m = fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), nobody, "owner of {}", p.display());
    }
    assert_eq!(mode(&rendered(&t, "mail_room.yml")), 0o600);
    assert_eq!(mode(&t.path("var/log/toolctl/mailroom")), 0o750);
    // The poller, as nobody, reads its config and token and writes its log.
    let read = |p: PathBuf| {
        Command::new("setpriv")
            .args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "--",
                "cat",
            ])
            .arg(p)
            .output()
            .unwrap()
    };
    assert!(read(rendered(&t, "mail_room.yml")).status.success());
    assert!(read(rendered(&t, "mailroom/.gitlab_mailroom_secret"))
        .status
        .success());
    let log = t.path("var/log/toolctl/mailroom/mail_room_json.log");
    let touch = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
            "touch",
        ])
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        touch.status.success(),
        "{}",
        String::from_utf8_lossy(&touch.stderr)
    );
    // Ownership is part of the plan: a chown'd-back file is fixed, nothing else rewritten.
    std::os::unix::fs::chown(rendered(&t, "mail_room.yml"), Some(0), Some(0)).unwrap();
    let again = t.toolctl(["reconfigure"]).run();
    again.assert_code(0);
    assert!(again.stderr.contains("1 changed"), "{again}");
    let m = fs::metadata(rendered(&t, "mail_room.yml")).unwrap();
    assert_eq!((m.uid(), m.gid()), nobody);
}

#[test]
fn without_mailroom_user_everything_stays_root_owned() {
    let t = root_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gmail"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    for p in [
        rendered(&t, "mail_room.yml"),
        t.path("var/log/toolctl/mailroom"),
    ] {
        let m = fs::metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (0, 0), "owner of {}", p.display());
    }
}

#[test]
fn diffs_mask_the_redis_password_in_every_form() {
    let t = root_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mailroom-redis"));
    let out = t.toolctl(["reconfigure", "--dry-run", "--diff"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    assert!(
        text.contains(":redis_url: \"redis://:********@127.0.0.1:6379/2\""),
        "{out}"
    );
    for leak in ["p+w@r:d%2B x", "p%2Bw%40r%3Ad%252B%20x"] {
        assert!(
            !text.contains(leak) && !out.stderr.contains(leak),
            "leaked {leak}\n{out}"
        );
    }
    // An old password, no longer known, is masked by its place in the URL.
    t.toolctl(["reconfigure"]).run().assert_code(0);
    t.write_secret("redis", b"password: 'Another-one'\n");
    let out = t.toolctl(["reconfigure", "--dry-run", "--diff"]).run();
    out.assert_code(0);
    assert!(out.stderr.contains("1 would change"), "{out}");
    let text = out.stdout_str();
    assert!(
        !text.contains("p%2Bw") && !text.contains("Another-one"),
        "{out}"
    );
}

#[test]
fn an_existing_directory_outside_the_log_directory_is_not_handed_to_mail_room() {
    let t = root_from(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mailroom-redis"));
    let toml = fs::read_to_string(t.config_file()).unwrap().replace(
        "delivery_method = \"sidekiq\"",
        "delivery_method = \"sidekiq\"\nlog_file = \"/var/log/mail_room_json.log\"",
    );
    fs::write(t.config_file(), toml).unwrap();
    fs::create_dir_all(t.path("var/log")).unwrap();
    crate::harness::chmod(&t.path("var/log"), 0o755);
    // A log file directly in a shared directory is a settings error now (the audit after
    // a service account): mail_room's log directory must be one of its own.
    let before = t.snapshot();
    t.toolctl(["reconfigure"])
        .run()
        .assert_error("incoming_email.log_file", &["below", "/var/log/"]);
    before.assert_unchanged(&t.snapshot(), &"log_file in /var/log");
    let m = fs::metadata(t.path("var/log")).unwrap();
    assert_eq!((m.uid(), m.gid(), mode(&t.path("var/log"))), (0, 0, 0o755));
}

/// mail_room's IMAP connection, as mail_room 0.11.1 makes it, written from its documented
/// behaviour, not from its source: the config is read through ERB and Psych
/// (Symbols permitted); on every (re)connect, `ssl_options` replaces a `:verify_mode` name
/// in the mailbox's own `:ssl` hash by OpenSSL's integer, and looks the stored value up
/// again on the next connect (an Integer has no name: `NoMethodError`); the hash is then
/// `Net::IMAP.new`'s `ssl:`. The first mailbox connects, logs in and selects its folder;
/// it prints `connected` (or `not connected`) and waits for a line on stdin (the test kicks the session
/// meanwhile), waits until the session is gone (up to 5 s), and connects again the same way.
/// `ARGV[1]` is the test root: the rendered `ca_file` is a path below it.
const MAIL_ROOM_RECONNECT: &str = r##"
require 'erb'
require 'yaml'
require 'json'
require 'openssl'
require 'net/imap'

# A name (:peer) becomes OpenSSL's constant; the integer stored by the previous connect
# has no #upcase.
def lookup_verify_mode(mode)
  OpenSSL::SSL.const_get("VERIFY_#{mode.upcase}")
end

def ssl_options(mailbox)
  ssl = mailbox[:ssl]
  return ssl unless ssl.is_a?(Hash)
  ssl[:verify_mode] = lookup_verify_mode(ssl[:verify_mode]) if ssl.key?(:verify_mode)
  ssl
end

def connect(mailbox)
  imap = Net::IMAP.new(mailbox[:host], port: mailbox[:port], ssl: ssl_options(mailbox))
  imap.login(mailbox[:email], mailbox[:password])
  imap.select(mailbox[:name])
  imap
end

doc = YAML.safe_load(ERB.new(File.read(ARGV[0])).result, permitted_classes: [Symbol])
mailbox = doc[:mailboxes].first
ssl = mailbox[:ssl]
ssl[:ca_file] = File.join(ARGV[1], ssl[:ca_file]) if ssl.is_a?(Hash) && ssl[:ca_file]
result = {}
begin
  first = connect(mailbox)
  result["first"] = "ok"
  result["verify_mode"] = first.instance_variable_get(:@sock).context.verify_mode rescue nil
rescue Exception => e
  result["first"] = "#{e.class}: #{e.message}"
end
puts(first ? "connected" : "not connected")
$stdout.flush
$stdin.gets
if first
  # doveadm signals the session's process and returns: the BYE may follow a moment later.
  result["kicked"] = false
  100.times do
    begin
      first.noop
    rescue Exception
      result["kicked"] = true
      break
    end
    sleep 0.05
  end
end
begin
  second = connect(mailbox)
  second.logout
  result["second"] = "ok"
rescue Exception => e
  result["second"] = "#{e.class}: #{e.message}"
end
puts JSON.generate(result)
"##;

/// Runs [`MAIL_ROOM_RECONNECT`] on `yml` against `dovecot`, kicking alice in between.
fn mail_room_reconnect(t: &TestRoot, yml: &Path, dovecot: &Dovecot) -> serde_json::Value {
    use std::io::{BufRead, BufReader, Write};
    let mut child = Command::new("ruby")
        .args(["-e", MAIL_ROOM_RECONNECT])
        .arg(yml)
        .arg(t.path(""))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run ruby: {e}"));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    match line.as_str() {
        "connected\n" => {
            dovecot.kick(ALICE);
        }
        "not connected\n" => {}
        _ => panic!("the reader did not get to the kick: {line:?}"),
    }
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the reader failed:\n{rest}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(rest.trim()).unwrap_or_else(|e| panic!("{e}: {rest}"))
}

#[test]
fn mail_room_with_a_ca_file_reconnects_after_its_session_is_kicked() {
    let dovecot = Dovecot::start(DovecotOptions::default());
    let t = TestRoot::builder()
        .settings(format!(
            "external_url = \"https://gitlab.example.com\"\n\n[incoming_email]\nenabled = true\n\
             address = \"incoming+%{{key}}@incoming.example.test\"\nhost = \"127.0.0.1\"\n\
             port = {}\nssl = true\nca_file = \"/ca.pem\"\n",
            dovecot.imaps
        ))
        .copy_file("ca.pem", &certs().ca)
        .secret(
            "incoming-email",
            format!("user: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n"),
        )
        .secret(
            "mailroom",
            "webhook_secret: 'dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LXdlYmhvb2s='\n",
        )
        .build();
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let yml = rendered(&t, "mail_room.yml");
    let text = fs::read_to_string(&yml).unwrap();
    assert!(
        text.contains(":ssl:\n      :ca_file: \"/ca.pem\"\n    :start_tls: false"),
        "{text}"
    );

    let view = mail_room_reconnect(&t, &yml, &dovecot);
    assert_eq!(view["first"], "ok", "{view}");
    // Verified without :verify_mode: Net::IMAP's default is VERIFY_PEER.
    assert_eq!(view["verify_mode"], 1, "{view}");
    assert_eq!(view["kicked"], true, "{view}");
    assert_eq!(view["second"], "ok", "{view}");

    // The former rendering, read the same way: the reconnect dies as mail_room's did.
    let old = t.path("old-mail_room.yml");
    fs::write(
        &old,
        text.replace(
            ":ca_file: \"/ca.pem\"\n",
            ":ca_file: \"/ca.pem\"\n      :verify_mode: :peer\n",
        ),
    )
    .unwrap();
    let view = mail_room_reconnect(&t, &old, &dovecot);
    assert_eq!(view["first"], "ok", "{view}");
    assert_eq!(view["kicked"], true, "{view}");
    assert!(
        view["second"]
            .as_str()
            .unwrap()
            .starts_with("NoMethodError"),
        "{view}"
    );

    // A CA that did not sign the server's certificate is refused: still verified.
    fs::copy(&certs().self_signed.cert, t.path("ca.pem")).unwrap();
    let view = mail_room_reconnect(&t, &yml, &dovecot);
    assert!(
        view["first"]
            .as_str()
            .unwrap()
            .contains("certificate verify failed"),
        "{view}"
    );
}
