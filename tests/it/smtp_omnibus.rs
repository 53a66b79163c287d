//! SMTP rendered as omnibus renders it, and `smtp check`
//! failing where GitLab's session raises.
//!
//! - the 270-combination matrix (authentication × tls × enable_starttls_auto × verify mode
//!   × ca_file), each set through toolctl.toml, against a table of omnibus' rules written
//!   here from omnibus' documented behaviour;
//! - a representative subset loaded in Ruby with Debian's `mail` gem and GitLab's rule
//!   (implicit TLS and STARTTLS are mutually exclusive) restated here, delivering to a
//!   loopback aiosmtpd (SMTPS or STARTTLS): `smtp check` passes exactly where that session
//!   delivers, and refuses (exit 2) exactly where it raises ArgumentError.

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

use crate::gitlab::{write_key_bases, BASE};
use crate::harness::{parallel_steps, TestRoot};
use crate::mailservers::{
    certs, Aiosmtpd, Dovecot, DovecotOptions, Postfix, SmtpdMode, ALICE, ALICE_PASSWORD,
};

const SMTP_RB: &str = "var/opt/toolctl/rendered/gitlab/smtp_settings.rb";

/// Everything but `[smtp]`'s transport keys: a Linux-package GitLab owned by root (the
/// test runs as root), the CA at `/ca.pem` in the root.
fn head(port: u16) -> String {
    format!(
        "external_url = \"https://gitlab.test\"\n\n[email]\nfrom = \"{ALICE}\"\n\n\
         [gitlab]\ninstall = \"omnibus\"\nsecrets_file = \"/etc/gitlab/gitlab-secrets.json\"\n\
         encrypted_settings_dir = \"/var/opt/gitlab/gitlab-rails/shared/encrypted_settings\"\n\
         user = \"root\"\ngroup = \"root\"\n\n\
         [smtp]\nenabled = true\naddress = \"127.0.0.1\"\nport = {port}\n"
    )
}

fn root() -> TestRoot {
    let t = TestRoot::builder()
        .settings(head(2525))
        .copy_file("ca.pem", &certs().ca)
        .secret(
            "smtp",
            format!("user_name: '{ALICE}'\npassword: '{ALICE_PASSWORD}'\n"),
        )
        .build();
    write_key_bases(&t, BASE, &[]);
    t
}

/// The `key: value` lines of the rendered `smtp_settings = { … }` hash.
fn rendered_options(t: &TestRoot) -> BTreeMap<String, String> {
    let text = fs::read_to_string(t.path(SMTP_RB)).unwrap();
    let body = text
        .split_once("smtp_settings = {\n")
        .and_then(|(_, rest)| rest.split_once("\n  }"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("no settings hash in\n{text}"));
    body.lines()
        .map(|l| {
            let (k, v) = l.trim().trim_end_matches(',').split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// One combination; `None` is "not written".
#[derive(Clone, Copy, Debug)]
struct Combo {
    authentication: Option<&'static str>,
    tls: Option<bool>,
    starttls: Option<bool>,
    verify: Option<&'static str>,
    ca_file: bool,
}

impl Combo {
    fn toml(&self) -> String {
        let mut s = String::new();
        if let Some(a) = self.authentication {
            s += &format!("authentication = \"{a}\"\n");
        }
        if let Some(v) = self.tls {
            s += &format!("tls = {v}\n");
        }
        if let Some(v) = self.starttls {
            s += &format!("enable_starttls_auto = {v}\n");
        }
        if let Some(v) = self.verify {
            s += &format!("openssl_verify_mode = \"{v}\"\n");
        }
        if self.ca_file {
            s += "ca_file = \"/ca.pem\"\n";
        }
        s
    }
}

fn all() -> Vec<Combo> {
    let mut out = Vec::new();
    for authentication in [
        None,
        Some("none"),
        Some("plain"),
        Some("login"),
        Some("cram_md5"),
    ] {
        for tls in [None, Some(false), Some(true)] {
            for starttls in [None, Some(false), Some(true)] {
                for verify in [None, Some("peer"), Some("none")] {
                    for ca_file in [false, true] {
                        out.push(Combo {
                            authentication,
                            tls,
                            starttls,
                            verify,
                            ca_file,
                        });
                    }
                }
            }
        }
    }
    out
}

/// What omnibus does with the combination, from omnibus' documented behaviour: both `tls` and
/// `enable_starttls_auto` true is refused at its reconfigure; an unset
/// `enable_starttls_auto` is left out; `none` (like unset) writes no authentication key.
/// The other options are compared by their effect on the session: an absent `tls` is
/// false, an absent verify mode is the mail gem's default, `peer`.
fn omnibus(c: &Combo) -> Option<BTreeMap<String, String>> {
    if c.tls == Some(true) && c.starttls == Some(true) {
        return None;
    }
    let mut m = BTreeMap::new();
    if let Some(a) = c.authentication.filter(|a| *a != "none") {
        m.insert("authentication".into(), a.into());
    }
    if let Some(v) = c.starttls {
        m.insert("enable_starttls_auto".into(), v.to_string());
    }
    m.insert("tls".into(), (c.tls == Some(true)).to_string());
    m.insert(
        "openssl_verify_mode".into(),
        c.verify.unwrap_or("peer").into(),
    );
    if c.ca_file {
        m.insert("ca_file".into(), "/ca.pem".into());
    }
    Some(m)
}

/// toolctl's rendered options, normalized the same way (symbol or string, absent `tls`).
fn normalized(mut r: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for k in ["address", "port", "domain", "user_name", "password"] {
        r.remove(k);
    }
    for v in r.values_mut() {
        *v = v.trim_start_matches(':').trim_matches('"').to_string();
    }
    r.entry("tls".into()).or_insert_with(|| "false".into());
    r.entry("openssl_verify_mode".into())
        .or_insert_with(|| "peer".into());
    r
}

#[test]
fn smtp_matrix_of_270_renders_what_omnibus_renders_and_refuses_what_it_refuses() {
    let combos = all();
    assert_eq!(combos.len(), 270);
    let chunks: Vec<Vec<Combo>> = combos.chunks(45).map(<[Combo]>::to_vec).collect();
    let results = parallel_steps(&chunks, |chunk| {
        let t = root();
        let mut refused = 0;
        for c in chunk {
            t.write_settings(&format!("{}{}", head(2525), c.toml()));
            let before = t.snapshot();
            let out = t.toolctl(["reconfigure"]).run();
            match omnibus(c) {
                None => {
                    out.assert_error(
                        "mutually exclusive",
                        &["omnibus", "STARTTLS patch", "enable_starttls_auto"],
                    );
                    before.assert_unchanged(&t.snapshot(), &format!("{c:?}"));
                    refused += 1;
                }
                Some(want) => {
                    out.assert_code(0);
                    let have = rendered_options(&t);
                    // `none` writes no credentials either.
                    assert_eq!(
                        have.contains_key("user_name"),
                        c.authentication != Some("none"),
                        "{c:?}: {have:?}"
                    );
                    assert_eq!(normalized(have), want, "{c:?}");
                }
            }
        }
        refused
    });
    // tls = true with starttls = true: 5 authentications × 3 verify modes × 2 ca_files.
    assert_eq!(results.iter().sum::<usize>(), 30);
}

#[test]
fn tls_with_enable_starttls_auto_is_refused_by_reconfigure_and_smtp_check() {
    let t = root();
    for tls_key in ["tls", "ssl"] {
        t.write_settings(&format!(
            "{}{tls_key} = true\nenable_starttls_auto = true\n",
            head(465)
        ));
        let before = t.snapshot();
        t.toolctl(["reconfigure"]).run().assert_error(
            "mutually exclusive",
            &[
                "omnibus",
                "STARTTLS patch",
                "config unset smtp.enable_starttls_auto",
            ],
        );
        // The check refuses before connecting (nothing listens on 465 here).
        t.toolctl(["smtp", "check"])
            .run()
            .assert_error("mutually exclusive", &["omnibus"]);
        before.assert_unchanged(&t.snapshot(), &tls_key);
    }
}

#[test]
fn tls_alone_renders_tls_true_alone_and_ssl_is_tls() {
    let t = root();
    for tls_key in ["tls", "ssl"] {
        t.write_settings(&format!("{}{tls_key} = true\n", head(465)));
        t.toolctl(["reconfigure"]).run().assert_code(0);
        let o = rendered_options(&t);
        assert_eq!(o.get("tls").map(String::as_str), Some("true"), "{o:?}");
        assert!(!o.contains_key("enable_starttls_auto"), "{o:?}");
        assert!(!o.contains_key("ssl"), "{o:?}");
        let rb = fs::read_to_string(t.path("var/opt/toolctl/rendered/gitlab/gitlab.rb")).unwrap();
        assert!(rb.contains("gitlab_rails['smtp_tls'] = true"), "{rb}");
        assert!(
            rb.contains("gitlab_rails['smtp_enable_starttls_auto'] = nil"),
            "{rb}"
        );
    }
    // Without a port, ssl derives 465 as tls does.
    t.write_settings(&head(465).replace("port = 465\n", "ssl = true\n"));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    assert_eq!(rendered_options(&t)["port"], "465");
}

/// Debian's `mail` gem with GitLab's STARTTLS rule restated: the options as written
/// (before the gem's defaults) decide whether both transports were asked for.
const RUBY_SESSION: &str = r#"
require 'mail'
require 'openssl'

module Rails
  def self.env; Struct.new(:production?).new(true); end
end
module ActionMailer
  class Base
    class << self; attr_accessor :smtp_settings, :delivery_method; end
  end
end
module Gitlab
  module Email
    class SmtpConfig
      def self.secrets; new; end
      def username; ENV.fetch('SMTP_USER'); end
      def password; ENV.fetch('SMTP_PASSWORD'); end
    end
  end
  class Application
    def self.config
      @config ||= Struct.new(:action_mailer).new(Struct.new(:delivery_method).new)
    end
  end
end

# GitLab's rule: asking for implicit TLS (`tls`, or its synonym
# `ssl`) and for STARTTLS (`enable_starttls`, `enable_starttls_auto`) at once raises
# ArgumentError; the gem's own default for enable_starttls_auto does not count.
module ExclusiveTransports
  def initialize(values)
    @written = values.dup
    super
  end

  private

  def build_smtp_session
    implicit = @written[:tls] || @written[:ssl]
    if implicit && (@written[:enable_starttls] || @written[:enable_starttls_auto])
      raise ArgumentError, 'implicit TLS and STARTTLS are mutually exclusive'
    end
    super
  end
end
Mail::SMTP.prepend(ExclusiveTransports)

load ARGV.fetch(0)
settings = ActionMailer::Base.smtp_settings.dup
settings[:ca_file] = File.join(ENV.fetch('ROOT'), settings[:ca_file]) if settings[:ca_file]
settings[:open_timeout] = 5
settings[:read_timeout] = 5
mail = Mail.new do
  from ENV.fetch('SMTP_USER')
  to 'bob@example.test'
  subject 'toolctl session check'
  body 'hello'
end
mail.delivery_method(:smtp, settings)
begin
  mail.deliver!
  puts 'delivered'
rescue ArgumentError => e
  puts "raised ArgumentError: #{e.message}"
rescue StandardError, Timeout::Error => e
  puts "failed #{e.class}"
end
"#;

#[test]
fn smtp_check_fails_exactly_where_gitlabs_mail_session_fails() {
    let implicit = Aiosmtpd::start(SmtpdMode::Implicit);
    let starttls = Aiosmtpd::start(SmtpdMode::Starttls);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("session.rb");
    fs::write(&script, RUBY_SESSION).unwrap();
    let ca = "ca_file = \"/ca.pem\"\n";
    let cases: Vec<(u16, String)> = vec![
        // SMTPS.
        (implicit.port, format!("tls = true\n{ca}")),
        (implicit.port, format!("ssl = true\n{ca}")),
        (
            implicit.port,
            format!("tls = true\nenable_starttls_auto = false\n{ca}"),
        ),
        (
            implicit.port,
            format!("tls = true\nenable_starttls_auto = true\n{ca}"),
        ),
        (
            implicit.port,
            format!("ssl = true\nenable_starttls_auto = true\n{ca}"),
        ),
        (
            implicit.port,
            "tls = true\nopenssl_verify_mode = \"none\"\n".into(),
        ),
        (implicit.port, "tls = true\n".into()),
        (
            implicit.port,
            format!("tls = true\nauthentication = \"login\"\n{ca}"),
        ),
        // STARTTLS.
        (starttls.port, ca.into()),
        (starttls.port, format!("enable_starttls_auto = true\n{ca}")),
        (
            starttls.port,
            format!("enable_starttls_auto = true\nauthentication = \"plain\"\n{ca}"),
        ),
        (starttls.port, format!("tls = false\n{ca}")),
        (starttls.port, "openssl_verify_mode = \"none\"\n".into()),
        (starttls.port, format!("tls = true\n{ca}")),
    ];
    let delivered = check_agrees_with_ruby(&script, &cases);
    assert!(delivered >= 8, "{delivered} delivered");
}

/// Runs `smtp check` and GitLab's session (in Ruby) on each `(port, [smtp] keys)`, and
/// asserts they agree: check passes where Ruby delivers, fails where it fails, refuses
/// (exit 2) where it raises ArgumentError. Returns how many were delivered.
fn check_agrees_with_ruby(script: &std::path::Path, cases: &[(u16, String)]) -> usize {
    let t = root();
    let mut delivered = 0;
    for (port, extra) in cases {
        t.write_settings(&format!("{}{extra}", head(*port)));
        let check = t
            .toolctl(["smtp", "check", "--timeout", "5", "--output-format", "json"])
            .run();
        let ruby_verdict = if check.code == Some(2) {
            // Refused: render what omnibus would have refused with the option added
            // anyway, to see that GitLab's session raises on it.
            let mut options = head(*port);
            options += extra;
            let rb = render_unchecked(&t, &options);
            ruby(script, &rb, &t)
        } else {
            t.toolctl(["reconfigure"]).run().assert_code(0);
            ruby(script, &t.path(SMTP_RB), &t)
        };
        match check.code {
            Some(0) => {
                assert_eq!(ruby_verdict, "delivered", "{extra}\n{check}");
                delivered += 1;
            }
            Some(1) => assert!(
                ruby_verdict.starts_with("failed"),
                "{extra}: {ruby_verdict}\n{check}"
            ),
            Some(2) => {
                assert!(
                    ruby_verdict.starts_with("raised ArgumentError"),
                    "{extra}: {ruby_verdict}"
                );
                assert!(check.stderr.contains("mutually exclusive"), "{check}");
            }
            _ => panic!("{extra}\n{check}"),
        }
        assert!(!check.stdout_str().contains(ALICE_PASSWORD));
        assert!(!check.stderr.contains(ALICE_PASSWORD));
    }
    delivered
}

/// The smtp_settings.rb GitLab would get if the refused option were written anyway: the
/// same settings without `enable_starttls_auto = true`, rendered, and the key put back.
fn render_unchecked(t: &TestRoot, settings: &str) -> std::path::PathBuf {
    t.write_settings(&settings.replace("enable_starttls_auto = true\n", ""));
    t.toolctl(["reconfigure"]).run().assert_code(0);
    let text = fs::read_to_string(t.path(SMTP_RB)).unwrap();
    let text = text.replace(
        "    tls: true,",
        "    enable_starttls_auto: true,\n    tls: true,",
    );
    let out = t.path("unchecked_smtp_settings.rb");
    fs::write(&out, text).unwrap();
    t.write_settings(settings);
    out
}

fn ruby(script: &std::path::Path, rb: &std::path::Path, t: &TestRoot) -> String {
    let out = Command::new("ruby")
        .arg(script)
        .arg(rb)
        .env("SMTP_USER", ALICE)
        .env("SMTP_PASSWORD", ALICE_PASSWORD)
        .env("ROOT", t.path(""))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Combo {
    /// The same combination as a gitlab.rb: `None` is a line not written, `none` is
    /// `nil` (no authentication key), and `ssl` spells implicit TLS as `smtp_ssl`.
    fn gitlab_rb(&self, port: u16, ssl: bool) -> String {
        let mut s = format!(
            "gitlab_rails['smtp_enable'] = true\ngitlab_rails['smtp_address'] = '127.0.0.1'\n\
             gitlab_rails['smtp_port'] = {port}\n"
        );
        match self.authentication {
            None => {}
            Some("none") => s += "gitlab_rails['smtp_authentication'] = nil\n",
            Some(a) => s += &format!("gitlab_rails['smtp_authentication'] = \"{a}\"\n"),
        }
        if let Some(v) = self.tls {
            let key = if ssl { "smtp_ssl" } else { "smtp_tls" };
            s += &format!("gitlab_rails['{key}'] = {v}\n");
        }
        if let Some(v) = self.starttls {
            s += &format!("gitlab_rails['smtp_enable_starttls_auto'] = {v}\n");
        }
        if let Some(v) = self.verify {
            s += &format!("gitlab_rails['smtp_openssl_verify_mode'] = '{v}'\n");
        }
        if self.ca_file {
            s += "gitlab_rails['smtp_ca_file'] = '/ca.pem'\n";
        }
        s
    }
}

/// The matrix's other half: each combination written as a gitlab.rb goes through
/// `import gitlab-rb` then `reconfigure`, and renders what the toolctl.toml path renders
/// (and what the omnibus table gives). Import takes the refused pair as it is (it does
/// not resolve the settings); reconfigure then refuses it and writes nothing.
#[test]
fn smtp_matrix_of_270_through_import_gitlab_rb_renders_what_toolctl_toml_renders() {
    let combos: Vec<(usize, Combo)> = all().into_iter().enumerate().collect();
    assert_eq!(combos.len(), 270);
    let chunks: Vec<Vec<(usize, Combo)>> = combos.chunks(45).map(<[_]>::to_vec).collect();
    let results = parallel_steps(&chunks, |chunk| {
        let t = root();
        let rb = t.aux().join("gitlab.rb");
        let mut refused = 0;
        for (i, c) in chunk {
            // Half of the combinations spell implicit TLS `smtp_ssl`.
            let ssl = i % 2 == 1;
            let what = format!("{c:?} ssl={ssl}");
            // By gitlab.rb, into settings with no transport key.
            t.write_settings(&head(2525));
            fs::write(&rb, c.gitlab_rb(2525, ssl)).unwrap();
            t.toolctl(["import", "gitlab-rb", rb.to_str().unwrap()])
                .run()
                .assert_code(0);
            // The imported [smtp] is the toolctl.toml path's [smtp], key for key: the
            // same settings, so the same rendering (checked against the table there).
            let imported = fs::read_to_string(t.config_file()).unwrap();
            assert_eq!(
                smtp_table(&imported),
                smtp_table(&format!("{}{}", head(2525), c.toml())),
                "{what}\n{imported}"
            );
            let before = t.snapshot();
            let out = t.toolctl(["reconfigure"]).run();
            match omnibus(c) {
                None => {
                    out.assert_error(
                        "mutually exclusive",
                        &["omnibus", "STARTTLS patch", "enable_starttls_auto"],
                    );
                    before.assert_unchanged(&t.snapshot(), &what);
                    refused += 1;
                }
                Some(want) => {
                    out.assert_code(0);
                    let have = rendered_options(&t);
                    assert_eq!(normalized(have), want, "{what}");
                }
            }
        }
        refused
    });
    assert_eq!(results.iter().sum::<usize>(), 30);
}

/// `[smtp]` of a toolctl.toml, key → value as TOML writes it.
fn smtp_table(toml: &str) -> BTreeMap<String, String> {
    let doc: toml_edit::DocumentMut = toml.parse().unwrap();
    doc["smtp"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                v.as_value().unwrap().to_string().trim().to_string(),
            )
        })
        .collect()
}

/// The same session check against Postfix (STARTTLS on `smtp`, implicit TLS on `smtps`,
/// AUTH through Dovecot, its certificate from the harness CA): a representative subset.
#[test]
fn smtp_check_fails_exactly_where_gitlabs_mail_session_fails_against_postfix() {
    let d = Dovecot::start(DovecotOptions::default());
    let p = Postfix::start(&d);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("session.rb");
    fs::write(&script, RUBY_SESSION).unwrap();
    let ca = "ca_file = \"/ca.pem\"\n";
    let cases: Vec<(u16, String)> = vec![
        // STARTTLS, with and without authentication, verify peer by the CA or none.
        (p.smtp, ca.into()),
        (
            p.smtp,
            format!("enable_starttls_auto = true\nauthentication = \"plain\"\n{ca}"),
        ),
        (
            p.smtp,
            format!("enable_starttls_auto = true\nauthentication = \"login\"\n{ca}"),
        ),
        (p.smtp, format!("authentication = \"none\"\n{ca}")),
        (p.smtp, "openssl_verify_mode = \"none\"\n".into()),
        (
            p.smtp,
            "enable_starttls_auto = true\nopenssl_verify_mode = \"peer\"\n".into(),
        ),
        // Implicit TLS on the STARTTLS port: both fail.
        (p.smtp, format!("tls = true\n{ca}")),
        // SMTPS.
        (p.smtps, format!("tls = true\n{ca}")),
        (
            p.smtps,
            format!("ssl = true\nauthentication = \"login\"\n{ca}"),
        ),
        (
            p.smtps,
            "tls = true\nopenssl_verify_mode = \"none\"\n".into(),
        ),
        (p.smtps, "tls = true\n".into()),
        (
            p.smtps,
            format!("tls = true\nenable_starttls_auto = true\n{ca}"),
        ),
        // STARTTLS asked of the SMTPS port: both fail.
        (p.smtps, format!("enable_starttls_auto = true\n{ca}")),
    ];
    let delivered = check_agrees_with_ruby(&script, &cases);
    assert!(delivered >= 7, "{delivered} delivered");
}
