//! Servers that misbehave on purpose: a silent listener, a fake SMTP server, a closed port.

use super::*;

/// A TCP listener on 127.0.0.1 that accepts connections and never writes (it keeps them
/// open until it is dropped).
pub struct Silent {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Silent {
    pub fn start() -> Silent {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a silent listener");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut open = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => open.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            drop(open);
        });
        Silent {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A misbehaving SMTP server on 127.0.0.1: it greets with `greeting` (any bytes, escape
/// sequences included), leaves STARTTLS out of its EHLO reply (as a server, or a man in the
/// middle, that strips it), offers `AUTH PLAIN LOGIN`, accepts any login and any message,
/// and records every line it receives ([`FakeSmtp::received`], [`FakeSmtp::got_auth`]).
pub struct FakeSmtp {
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeSmtp {
    pub fn start(greeting: &'static [u8]) -> FakeSmtp {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a fake SMTP server");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (flag, seen) = (stop.clone(), lines.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let seen = seen.clone();
                        std::thread::spawn(move || fake_smtp_session(stream, greeting, &seen));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeSmtp {
            port,
            lines,
            stop,
            thread: Some(thread),
        }
    }

    /// Every line received so far, in order.
    pub fn received(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Whether any client sent `AUTH` (or anything after it).
    pub fn got_auth(&self) -> bool {
        self.received()
            .iter()
            .any(|l| l.to_ascii_uppercase().starts_with("AUTH"))
    }
}

fn fake_smtp_session(stream: TcpStream, greeting: &[u8], seen: &Mutex<Vec<String>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut out = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    let mut send = |text: &[u8]| out.write_all(text).and_then(|()| out.flush());
    let mut reply = b"220 ".to_vec();
    reply.extend_from_slice(greeting);
    reply.extend_from_slice(b"\r\n");
    if send(&reply).is_err() {
        return;
    }
    let mut pending_login = 0;
    let mut in_data = false;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end().to_string();
        seen.lock().unwrap().push(line.clone());
        if in_data {
            if line == "." {
                in_data = false;
                let _ = send(b"250 2.0.0 queued\r\n");
            }
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let answer: &[u8] = if pending_login > 0 {
            pending_login -= 1;
            if pending_login == 1 {
                b"334 UGFzc3dvcmQ6\r\n"
            } else {
                b"235 2.7.0 accepted\r\n"
            }
        } else if upper.starts_with("EHLO") {
            b"250-fake.example.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
        } else if upper == "AUTH LOGIN" {
            pending_login = 2;
            b"334 VXNlcm5hbWU6\r\n"
        } else if upper.starts_with("AUTH PLAIN") {
            b"235 2.7.0 accepted\r\n"
        } else if upper == "DATA" {
            in_data = true;
            b"354 go on\r\n"
        } else if upper == "QUIT" {
            let _ = send(b"221 bye\r\n");
            return;
        } else if upper == "STARTTLS" {
            b"502 5.5.1 not implemented\r\n"
        } else {
            b"250 ok\r\n"
        };
        if send(answer).is_err() {
            return;
        }
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A 127.0.0.1 port with nothing listening: connecting is refused. The port stays reserved
/// (bound, never listening) for the rest of the test process, so nothing else takes it.
pub fn closed_port() -> u16 {
    static HELD: Mutex<Vec<Reserved>> = Mutex::new(Vec::new());
    let r = reserve_port();
    let port = r.port;
    HELD.lock().unwrap().push(r);
    port
}
