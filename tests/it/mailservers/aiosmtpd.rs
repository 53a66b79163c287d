//! aiosmtpd (Python): an SMTP relay without a mailbox server behind it.

use super::*;

/// How an [`Aiosmtpd`] listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpdMode {
    /// Plain SMTP offering STARTTLS; AUTH (PLAIN, LOGIN) only after it.
    Starttls,
    /// SMTP over implicit TLS, AUTH PLAIN and LOGIN.
    Implicit,
    /// SMTP over implicit TLS with no AUTH at all.
    ImplicitNoAuth,
}

/// The aiosmtpd server: written out and run with Debian's `/usr/bin/python3` (the
/// `python3` on PATH may lack the `python3-aiosmtpd` package). It prints its port once
/// listening; mail is accepted and dropped.
const AIOSMTPD: &str = r#"
import asyncio, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

mode, cert, key, user, password = sys.argv[1:6]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK dropped"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
        and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)

def factory():
    if mode == "starttls":
        return SMTP(Handler(), hostname="aiosmtpd.example.test", tls_context=ctx,
                    authenticator=authenticator, auth_require_tls=True)
    if mode == "implicit":
        return SMTP(Handler(), hostname="aiosmtpd.example.test",
                    authenticator=authenticator, auth_require_tls=False)
    return SMTP(Handler(), hostname="aiosmtpd.example.test", auth_exclude_mechanism=["PLAIN", "LOGIN"])

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0,
                                      ssl=None if mode == "starttls" else ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;

/// A running aiosmtpd (Debian's `python3-aiosmtpd`), a second SMTP server family beside
/// Postfix and Dovecot submission. Users: [`ALICE`] / [`ALICE_PASSWORD`].
pub struct Aiosmtpd {
    pub port: u16,
    child: Child,
    _tmp: tempfile::TempDir,
}

impl Aiosmtpd {
    pub fn start(mode: SmtpdMode) -> Aiosmtpd {
        let tmp = tempfile::Builder::new()
            .prefix("toolctl-aiosmtpd-")
            .tempdir()
            .expect("create the aiosmtpd dir");
        let script = tmp.path().join("smtpd.py");
        fs::write(&script, AIOSMTPD).expect("write smtpd.py");
        let pair = &certs().good;
        let stderr_path = tmp.path().join("stderr");
        let stderr = fs::File::create(&stderr_path).expect("create aiosmtpd's stderr");
        let mode_arg = match mode {
            SmtpdMode::Starttls => "starttls",
            SmtpdMode::Implicit => "implicit",
            SmtpdMode::ImplicitNoAuth => "noauth",
        };
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(mode_arg)
            .arg(&pair.cert)
            .arg(&pair.key)
            .arg(ALICE)
            .arg(ALICE_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("run /usr/bin/python3 (is python3-aiosmtpd installed?): {e}")
            });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let Ok(port) = line.trim().parse::<u16>() else {
            kill_group(&mut child);
            panic!(
                "aiosmtpd did not start (stdout {line:?}):\n{}",
                read_lossy(&stderr_path)
            );
        };
        Aiosmtpd {
            port,
            child,
            _tmp: tmp,
        }
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}
