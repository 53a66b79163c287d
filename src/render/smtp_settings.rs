//! `gitlab/smtp_settings.rb`: the ActionMailer initializer omnibus renders from
//! `smtp_settings.rb.erb`, with the credentials read at boot from GitLab's encrypted
//! settings (`Gitlab::Email::SmtpConfig.secrets`, whose methods are `username` and
//! `password` while the file's keys are `user_name` and `password`). No credential is ever
//! written here, so the file is 0644 like omnibus'.

use super::Context;

/// The initializer, when `[smtp]` is enabled and `[gitlab]` is set.
pub fn render(cx: &Context) -> Option<String> {
    let r = &cx.model.smtp;
    if !r.enabled || !super::gitlab_enc::configured(cx.model) {
        return None;
    }
    let mut lines: Vec<String> = Vec::new();
    let auth = r.authentication.as_deref();
    if let Some(a) = auth.filter(|a| *a != "none") {
        lines.push(format!("authentication: :{a},"));
    }
    if auth != Some("none") {
        lines.push("user_name: secrets.username,".into());
        lines.push("password: secrets.password,".into());
    }
    if let Some(v) = &r.address {
        lines.push(format!("address: {},", ruby_str(v)));
    }
    lines.push(format!("port: {},", r.port));
    if let Some(v) = &r.domain {
        lines.push(format!("domain: {},", ruby_str(v)));
    }
    // As omnibus: only when written (the mail gem's default then follows `tls`; written
    // next to `tls: true`, GitLab's STARTTLS patch raises, and the rules refuse it).
    if let Some(v) = r.enable_starttls_auto {
        lines.push(format!("enable_starttls_auto: {v},"));
    }
    lines.push(format!("tls: {},", r.tls));
    if let Some(v) = &r.openssl_verify_mode {
        lines.push(format!("openssl_verify_mode: {},", ruby_str(v)));
    }
    if let Some(v) = &r.ca_file {
        lines.push(format!("ca_file: {},", ruby_str(&v.written)));
    }
    let body: String = lines.iter().map(|l| format!("    {l}\n")).collect();
    Some(format!(
        "{}\
if Rails.env.production?
  secrets = Gitlab::Email::SmtpConfig.secrets
  smtp_settings = {{
{body}  }}

  Gitlab::Application.config.action_mailer.delivery_method = :smtp
  ActionMailer::Base.delivery_method = :smtp

  ActionMailer::Base.smtp_settings = smtp_settings
end
",
        cx.header("#")
    ))
}

/// A Ruby double-quoted literal: `\`, `"` and `#` (interpolation) escaped, control
/// characters as escapes.
pub fn ruby_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '#' => out.push_str("\\#"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ruby_strings_are_escaped() {
        assert_eq!(super::ruby_str(r#"a"b\#{x}"#), r#""a\"b\\\#{x}""#);
    }
}
