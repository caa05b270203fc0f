//! Logging: `tracing` events to stderr, one per line, as text or JSON.
//!
//! Text from outside (an invitation's message in a logged email, an error
//! from an SMTP server, a name) can reach a log line. A newline in it
//! would start what looks like another log line — a forged entry — so the
//! writer escapes every control character of an event (`\n`, `\r`, `\x1b`…)
//! except the newline that ends it. This happens in the transport, below
//! every formatter and every call site, so no `tracing::info!` can forget
//! it. Colours are off for the same reason: escape sequences are escaped.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// Sets the global subscriber: `format` is `json` or anything else for
/// text; the level comes from `RUST_LOG` (default `info`).
pub fn init(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Escaped(std::io::stderr));
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Makes writers of another `MakeWriter` that escape each event.
#[derive(Clone, Copy, Debug)]
pub struct Escaped<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaped<M> {
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter(self.0.make_writer())
    }
}

/// A writer that escapes the control characters of what it is given. The
/// formatter hands it one whole event per `write` (it formats into a
/// buffer, then writes it at once), so "the last newline" is the event's
/// end.
pub struct EscapingWriter<W>(W);

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, event: &[u8]) -> io::Result<usize> {
        self.0.write_all(&escape_event(event))?;
        Ok(event.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `event` with every control character but its final newline escaped
/// (`\n`, `\r`, `\t` stays a tab, others as `\xNN`).
pub fn escape_event(event: &[u8]) -> Vec<u8> {
    let (body, end): (&[u8], &[u8]) = match event.strip_suffix(b"\n") {
        Some(body) => (body, b"\n"),
        None => (event, b""),
    };
    let mut escaped = Vec::with_capacity(event.len() + 8);
    for &byte in body {
        match byte {
            b'\n' => escaped.extend_from_slice(b"\\n"),
            b'\r' => escaped.extend_from_slice(b"\\r"),
            b'\t' => escaped.push(b'\t'),
            0x00..=0x1f | 0x7f => escaped.extend_from_slice(format!("\\x{byte:02x}").as_bytes()),
            _ => escaped.push(byte),
        }
    }
    escaped.extend_from_slice(end);
    escaped
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn control_characters_inside_an_event_are_escaped_and_its_end_kept() {
        assert_eq!(escape_event(b"plain\n"), b"plain\n");
        assert_eq!(escape_event(b"a\nb\r\n"), b"a\\nb\\r\n");
        assert_eq!(
            escape_event(b"bell\x07 esc\x1b[31m\n"),
            b"bell\\x07 esc\\x1b[31m\n"
        );
        assert_eq!(
            escape_event("caf\u{e9}\ttab".as_bytes()),
            "caf\u{e9}\ttab".as_bytes()
        );
    }

    /// Collects what a subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_message_with_newlines_stays_one_log_line_in_text_and_json() {
        let hostile = "hello\n2026-01-01T00:00:00Z  INFO roster: admin password reset for everyone";
        for json in [false, true] {
            let captured = Captured::default();
            let sink = captured.clone();
            let builder = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(Escaped(move || sink.clone()));
            let emit = || tracing::info!(note = %hostile, "message: {hostile}");
            if json {
                tracing::subscriber::with_default(builder.json().finish(), emit);
            } else {
                tracing::subscriber::with_default(builder.finish(), emit);
            }
            let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
            assert_eq!(text.lines().count(), 1, "{text}");
            assert!(text.ends_with('\n'));
            assert!(text.contains("hello\\n2026-01-01"), "{text}");
        }
    }
}
