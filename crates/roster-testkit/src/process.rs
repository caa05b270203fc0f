//! A real `roster serve` process: started with `ROSTER_LISTEN=127.0.0.1:0`,
//! it prints `listening on http://ADDR` once bound; we read that line, wait
//! for `/readyz`, and kill the process when the value is dropped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running server process.
pub struct RosterProcess {
    child: Child,
    base_url: String,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    /// Every log line that carries a console link with a token: the emails
    /// the server delivered to its log (no SMTP server is configured).
    mail_lines: Arc<Mutex<Vec<String>>>,
}

/// Most mail lines kept per process.
const MAX_MAIL_LINES: usize = 10_000;

impl RosterProcess {
    /// Runs `bin serve` on `database_url` with `extra_env`, and answers once
    /// it is listening and ready. Without `ROSTER_SMTP_URL` the server
    /// delivers email to its log (at info level for `roster_mail`, which
    /// the default `RUST_LOG` here keeps), where `mailed_token` reads it.
    pub fn spawn(
        bin: &Path,
        database_url: &str,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .env("ROSTER_LISTEN", "127.0.0.1:0")
            .env("ROSTER_DATABASE_URL", database_url)
            .env("RUST_LOG", "warn,roster_mail=info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let mut child = command.spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stderr"))?;

        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let mail_lines = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr_tail.clone();
        let mail = mail_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("?token=") {
                    let mut mail = mail.lock().unwrap_or_else(|e| e.into_inner());
                    if mail.len() < MAX_MAIL_LINES {
                        mail.push(line.clone());
                    }
                }
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                if tail.len() >= 200 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sender = Some(sender);
            // Keep draining stdout so the child never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    if let Some(sender) = sender.take() {
                        let _ = sender.send(url.trim().to_string());
                    }
                }
            }
        });

        let mut process = Self {
            child,
            base_url: String::new(),
            stderr_tail,
            mail_lines,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        process.base_url = loop {
            if let Ok(url) = receiver.recv_timeout(Duration::from_millis(100)) {
                break url;
            }
            if let Some(status) = process.child.try_wait()? {
                anyhow::bail!(
                    "roster exited with {status} before listening:\n{}",
                    process.stderr_tail()
                );
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "roster did not start listening within 30 s:\n{}",
                    process.stderr_tail()
                );
            }
        };
        wait_ready_blocking(&process.base_url, Duration::from_secs(30))?;
        Ok(process)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines the server wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        let tail = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// The token of the newest email to `to`, delivered to this server's
    /// log, whose link points at `/console/{page}`.
    pub fn mailed_token(&self, to: &str, page: &str) -> Option<String> {
        let marker = format!("/console/{page}?token=");
        let recipient = format!(" to={to} ");
        let mail = self.mail_lines.lock().unwrap_or_else(|e| e.into_inner());
        mail.iter()
            .rev()
            .filter(|line| line.contains(&recipient))
            .find_map(|line| {
                let start = line.find(&marker)? + marker.len();
                let token: String = line[start..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                (!token.is_empty()).then_some(token)
            })
    }

    /// SIGKILL, and reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then up to 10 s for a graceful exit, then SIGKILL.
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RosterProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `GET {base}/readyz` until it answers 200.
fn wait_ready_blocking(base: &str, timeout: Duration) -> anyhow::Result<()> {
    let address = base.trim_start_matches("http://").to_string();
    let deadline = Instant::now() + timeout;
    loop {
        if readyz_ok(&address) {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("{base}/readyz did not answer 200 within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One plain HTTP/1.1 request over a TCP socket: no client runtime needed
/// in a blocking context.
fn readyz_ok(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}
