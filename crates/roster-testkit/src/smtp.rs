//! `SmtpSink`: a small real SMTP server for tests, on a free 127.0.0.1
//! port, keeping every message it receives. It can be stopped (connections
//! are refused, as when a mail server is down) and restarted on the same
//! port. Plain SMTP only: no STARTTLS is offered; AUTH is accepted with any
//! credentials.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA section, dot-unstuffed, lines joined with `\r\n`.
    pub data: String,
}

impl ReceivedMail {
    /// A header's value (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    current.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':') {
                if key.eq_ignore_ascii_case(name) {
                    value = Some(rest.trim().to_string());
                }
            }
        }
        value
    }

    /// The decoded text/plain part.
    pub fn text_part(&self) -> Option<String> {
        self.part("text/plain")
    }

    /// The decoded text/html part.
    pub fn html_part(&self) -> Option<String> {
        self.part("text/html")
    }

    fn part(&self, content_type: &str) -> Option<String> {
        // Each MIME part: headers, blank line, body up to the next boundary.
        for chunk in self.data.split("\r\n--") {
            let Some((headers, body)) = chunk.split_once("\r\n\r\n") else {
                continue;
            };
            let lower = headers.to_ascii_lowercase();
            if !lower.contains(&format!("content-type: {content_type}")) {
                continue;
            }
            let body = body.split("\r\n--").next().unwrap_or(body);
            let decoded = if lower.contains("content-transfer-encoding: quoted-printable") {
                decode_quoted_printable(body)
            } else if lower.contains("content-transfer-encoding: base64") {
                decode_base64(body)
            } else {
                body.to_string()
            };
            return Some(decoded);
        }
        None
    }
}

fn decode_quoted_printable(body: &str) -> String {
    let mut bytes = Vec::with_capacity(body.len());
    let raw = body.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'=' if raw.get(i + 1) == Some(&b'\r') && raw.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if i + 2 < raw.len() => {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        bytes.push(byte);
                        i += 3;
                    }
                    None => {
                        bytes.push(b'=');
                        i += 1;
                    }
                }
            }
            other => {
                bytes.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
}

fn decode_base64(body: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in body.bytes() {
        let Some(value) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
}

/// A running (or stopped) SMTP sink.
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl SmtpSink {
    /// Starts on a free port.
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let mut sink = Self {
            port,
            shared: Arc::new(Shared {
                messages: Mutex::new(Vec::new()),
            }),
            running: None,
        };
        sink.serve(listener)?;
        Ok(sink)
    }

    fn serve(&mut self, listener: TcpListener) -> anyhow::Result<()> {
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, shared) = (stop.clone(), self.shared.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let shared = shared.clone();
                        std::thread::spawn(move || {
                            let _ = session(stream, &shared);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        self.running = Some((stop, thread));
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT`, for `ROSTER_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until at least `count` messages arrived.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> anyhow::Result<Vec<ReceivedMail>> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return Ok(messages);
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "expected {count} messages within {timeout:?}, got {}",
                    messages.len()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops listening: new connections are refused.
    pub fn stop(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() > deadline => return Err(e.into()),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        self.serve(listener)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One SMTP conversation.
fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut reply =
        |line: &str| -> std::io::Result<()> { writer.write_all(format!("{line}\r\n").as_bytes()) };
    reply("220 roster-test-sink ESMTP")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            reply("250-roster-test-sink")?;
            reply("250-AUTH PLAIN LOGIN")?;
            reply("250 8BITMIME")?;
        } else if upper.starts_with("HELO") {
            reply("250 roster-test-sink")?;
        } else if upper.starts_with("AUTH") {
            reply("235 2.7.0 Authentication successful")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..]
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .to_string();
            to.clear();
            reply("250 OK")?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(
                command[8..]
                    .trim()
                    .trim_matches(|c| c == '<' || c == '>')
                    .to_string(),
            );
            reply("250 OK")?;
        } else if upper == "DATA" {
            reply("354 End data with <CR><LF>.<CR><LF>")?;
            let mut data: Vec<String> = Vec::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                let text = line.trim_end_matches(['\r', '\n']);
                if text == "." {
                    break;
                }
                data.push(text.strip_prefix('.').map_or(text.to_string(), |rest| {
                    if text.starts_with("..") {
                        rest.to_string()
                    } else {
                        text.to_string()
                    }
                }));
            }
            let mail = ReceivedMail {
                from: from.clone(),
                to: to.clone(),
                data: data.join("\r\n"),
            };
            shared
                .messages
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(mail);
            reply("250 OK: queued")?;
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            reply("250 OK")?;
        } else if upper == "NOOP" {
            reply("250 OK")?;
        } else if upper == "QUIT" {
            reply("221 Bye")?;
            return Ok(());
        } else {
            reply("502 Command not implemented")?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_and_base64_decode() {
        assert_eq!(decode_quoted_printable("a=3Db=\r\nc"), "a=bc");
        assert_eq!(decode_base64("aGVsbG8gd29ybGQ="), "hello world");
    }

    #[test]
    fn the_sink_receives_a_message_and_can_stop_and_restart() {
        let mut sink = SmtpSink::start().unwrap();
        let send = |port: u16| -> std::io::Result<()> {
            let stream = TcpStream::connect(("127.0.0.1", port))?;
            let mut writer = stream.try_clone()?;
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            for command in [
                "EHLO x",
                "MAIL FROM:<a@x.io>",
                "RCPT TO:<b@x.io>",
                "DATA",
                "Subject: hi\r\n\r\n..dot\r\n.",
                "QUIT",
            ] {
                line.clear();
                reader.read_line(&mut line)?;
                while line.starts_with("250-") {
                    line.clear();
                    reader.read_line(&mut line)?;
                }
                writer.write_all(format!("{command}\r\n").as_bytes())?;
            }
            Ok(())
        };
        send(sink.port()).unwrap();
        let messages = sink.wait_for(1, Duration::from_secs(5)).unwrap();
        assert_eq!(messages[0].to, vec!["b@x.io"]);
        assert_eq!(messages[0].header("subject").as_deref(), Some("hi"));
        assert!(messages[0].data.ends_with(".dot"));
        sink.stop();
        assert!(TcpStream::connect(("127.0.0.1", sink.port())).is_err());
        sink.restart().unwrap();
        send(sink.port()).unwrap();
        assert_eq!(sink.wait_for(2, Duration::from_secs(5)).unwrap().len(), 2);
    }
}
