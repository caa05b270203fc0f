//! Transports: SMTP from `ROSTER_SMTP_URL` (`smtp://` with STARTTLS when the
//! server offers it, `smtps://` with implicit TLS, optional user and
//! password), or — without SMTP — the log, which is a development mode.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;
use roster_core::model::OutboxEmail;

/// Where and as whom to send.
#[derive(Clone)]
pub struct MailConfig {
    pub smtp_url: Option<String>,
    pub from: String,
}

/// How emails leave.
#[derive(Clone)]
pub enum Transport {
    Smtp {
        mailer: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
        server: String,
    },
    /// No SMTP configured: each email is written to the log and counts as
    /// delivered (the outbox keeps it).
    Log { from: Mailbox },
}

const SEND_TIMEOUT: Duration = Duration::from_secs(10);

impl Transport {
    /// Builds the transport the configuration names.
    pub fn from_config(config: &MailConfig) -> Result<Self, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("ROSTER_SMTP_FROM {:?} is not a mailbox: {e}", config.from))?;
        let Some(url) = config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(Transport::Log { from });
        };
        let (implicit_tls, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("smtp://") {
            (false, rest)
        } else {
            return Err("ROSTER_SMTP_URL must start with smtp:// or smtps://".to_string());
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => {
                let port: u16 = port
                    .parse()
                    .map_err(|_| format!("ROSTER_SMTP_URL has an invalid port {port:?}"))?;
                (host, port)
            }
            None => (hostport, if implicit_tls { 465 } else { 587 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err("ROSTER_SMTP_URL names no host".to_string());
        }
        let tls_parameters = TlsParameters::new(host.to_string())
            .map_err(|e| format!("TLS setup for {host} failed: {e}"))?;
        let tls = if implicit_tls {
            Tls::Wrapper(tls_parameters)
        } else {
            Tls::Opportunistic(tls_parameters)
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(SEND_TIMEOUT));
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
            builder = builder.credentials(Credentials::new(decode(user), decode(password)));
        }
        let scheme = if implicit_tls { "smtps" } else { "smtp" };
        Ok(Transport::Smtp {
            mailer: Box::new(builder.build()),
            from,
            server: format!("{scheme}://{host}:{port}"),
        })
    }

    /// Where mail goes, for the start-up log (never the password).
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp { server, .. } => format!("SMTP server {server}"),
            Transport::Log { .. } => "the log (ROSTER_SMTP_URL is not set)".to_string(),
        }
    }

    /// Sends one email: a text and an HTML part.
    pub async fn send(&self, email: &OutboxEmail) -> Result<(), String> {
        match self {
            Transport::Log { .. } => {
                tracing::info!(
                    email_id = %email.id,
                    to = %email.to,
                    subject = %email.subject,
                    "email (no SMTP server configured; delivered to this log):\n{}",
                    email.text_body
                );
                Ok(())
            }
            Transport::Smtp { mailer, from, .. } => {
                let to: Mailbox = email
                    .to
                    .parse()
                    .map_err(|e| format!("invalid recipient: {e}"))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(email.subject.clone())
                    .multipart(MultiPart::alternative_plain_html(
                        email.text_body.clone(),
                        email.html_body.clone(),
                    ))
                    .map_err(|e| format!("cannot build the message: {e}"))?;
                match tokio::time::timeout(SEND_TIMEOUT * 2, mailer.send(message)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(format!("SMTP: {e}")),
                    Err(_) => Err("SMTP: timed out".to_string()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: Option<&str>) -> MailConfig {
        MailConfig {
            smtp_url: url.map(str::to_string),
            from: "Roster <noreply@localhost>".into(),
        }
    }

    #[test]
    fn no_url_means_the_log() {
        assert!(matches!(
            Transport::from_config(&config(None)).unwrap(),
            Transport::Log { .. }
        ));
    }

    #[test]
    fn smtp_urls_parse_with_default_ports_and_credentials() {
        let plain = Transport::from_config(&config(Some("smtp://mail.example.com"))).unwrap();
        assert_eq!(plain.describe(), "SMTP server smtp://mail.example.com:587");
        let tls = Transport::from_config(&config(Some("smtps://user%40x:p%3Ass@mail.example.com")))
            .unwrap();
        assert_eq!(tls.describe(), "SMTP server smtps://mail.example.com:465");
        let port = Transport::from_config(&config(Some("smtp://127.0.0.1:2525"))).unwrap();
        assert!(!port.describe().contains("p:ss"));
        assert_eq!(port.describe(), "SMTP server smtp://127.0.0.1:2525");
    }

    #[test]
    fn bad_urls_and_senders_are_refused() {
        assert!(Transport::from_config(&config(Some("http://mail.example.com"))).is_err());
        assert!(Transport::from_config(&config(Some("smtp://mail.example.com:port"))).is_err());
        assert!(Transport::from_config(&config(Some("smtp://"))).is_err());
        let bad_from = MailConfig {
            smtp_url: None,
            from: "not a mailbox".into(),
        };
        assert!(Transport::from_config(&bad_from).is_err());
    }
}
