//! Command line and configuration: every `ROSTER_*` setting of the product
//! contract, as a flag with an environment fallback.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use roster_core::time::parse_duration_secs;
use roster_core::{CoreConfig, SignupMode};

/// Roster: organizations, projects and memberships, as one service.
#[derive(Debug, Parser)]
#[command(name = "roster", version, about)]
pub struct Cli {
    /// Database: `sqlite://path` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "ROSTER_DATABASE_URL",
        default_value = "sqlite://roster.db",
        global = true
    )]
    pub database_url: String,

    /// Log format: `text` or `json`.
    #[arg(long, env = "ROSTER_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size of the `serve` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and serve the HTTP API.
    Serve(ServeArgs),
    /// Serve a demo: a fresh SQLite file with a demo org, members,
    /// projects and an invitation; prints the console URL and a login.
    Demo(DemoArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check the database: the backend's structural checks and Roster's
    /// invariants (every org has an owner, …). Exits 1 if anything is wrong.
    Check,
    /// Write a consistent backup of the database to FILE while servers
    /// run (SQLite: a snapshot, integrity-checked; PostgreSQL: pg_dump).
    Backup {
        /// Where to write the backup (must not exist yet).
        file: PathBuf,
    },
    /// Replace the database with a backup made by `roster backup`, after
    /// checking it. Stop every `roster serve` on the database first.
    Restore {
        /// The backup to restore.
        file: PathBuf,
        /// Replace a database that already holds data.
        #[arg(long)]
        force: bool,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI 3.1 document of one HTTP surface (JSON) and exit;
    /// the same document the server serves (see docs/openapi.md).
    Openapi {
        /// Which surface to describe.
        #[arg(long, default_value = "tenant", value_parser = parse_surface)]
        surface: roster_http::openapi::Surface,
    },
}

fn parse_surface(raw: &str) -> Result<roster_http::openapi::Surface, String> {
    roster_http::openapi::Surface::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = roster_http::openapi::Surface::ALL
            .iter()
            .map(|s| s.name())
            .collect();
        format!("unknown surface {raw:?}; one of: {}", names.join(", "))
    })
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user account with a verified email.
    Create {
        #[arg(long)]
        email: String,
        /// The password (prefer ROSTER_USER_PASSWORD, which stays out of the process list).
        #[arg(long, env = "ROSTER_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        username: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The demo's SQLite file, made afresh (an older demo file is replaced).
    /// `ROSTER_DATABASE_URL` is not used by the demo.
    #[arg(long, default_value = "roster-demo.db")]
    pub file: PathBuf,

    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROSTER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// A PostgreSQL streaming replica for reads (`postgres://…`); reads use
    /// it whenever it has caught up with the primary.
    #[arg(long, env = "ROSTER_DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<String>,

    /// Base of links in emails (default: http://<listen>).
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// SMTP server for outgoing email (`smtp://user:pass@host:port`, `smtps://…`).
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of outgoing email.
    #[arg(
        long,
        env = "ROSTER_SMTP_FROM",
        default_value = "Roster <noreply@localhost>"
    )]
    pub smtp_from: String,

    /// Invitation lifetime (`7d`, `12h`, `30m`, seconds).
    #[arg(long, env = "ROSTER_INVITATION_TTL", default_value = "7d")]
    pub invitation_ttl: String,

    /// Who may sign up: `open`, `invite-only` or `closed`.
    #[arg(long, env = "ROSTER_SIGNUP", default_value = "open")]
    pub signup: String,

    /// File holding the token signing key (default: generated once and kept in the database).
    #[arg(long, env = "ROSTER_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Signup and login attempts per client address per minute.
    #[arg(long, env = "ROSTER_AUTH_RATE_PER_MINUTE", default_value_t = 30)]
    pub auth_rate_per_minute: u32,

    /// Invitation emails one organization may send per hour.
    #[arg(long, env = "ROSTER_INVITATION_RATE_PER_HOUR", default_value_t = 100)]
    pub invitation_rate_per_hour: u32,

    /// Invitation emails one address may receive per day, from every
    /// organization together.
    #[arg(
        long,
        env = "ROSTER_INVITATIONS_PER_RECIPIENT_PER_DAY",
        default_value_t = 5
    )]
    pub invitations_per_recipient_per_day: u32,

    /// Invitation emails one account (or API key) may cause per hour, and
    /// people it may add at once (each add mails the person).
    #[arg(
        long,
        env = "ROSTER_INVITATIONS_PER_ACCOUNT_PER_HOUR",
        default_value_t = 50
    )]
    pub invitations_per_account_per_hour: u32,

    /// Organizations one account may create per day.
    #[arg(long, env = "ROSTER_ORGS_PER_ACCOUNT_PER_DAY", default_value_t = 10)]
    pub orgs_per_account_per_day: u32,

    /// Browser origins allowed to call the API, comma-separated
    /// (`https://app.example.com,https://admin.example.com`). Unset: no CORS.
    #[arg(long, env = "ROSTER_CORS_ORIGINS")]
    pub cors_origins: Option<String>,

    /// How long a client may take to send a request head, and a request body.
    #[arg(long, env = "ROSTER_CLIENT_TIMEOUT", default_value = "30s")]
    pub client_timeout: String,

    /// Most client connections open at once; more are answered 503 and
    /// closed (default: the open-file limit less a reserve of 128).
    #[arg(long, env = "ROSTER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,

    /// Bearer token that `/metrics` requires (prefer the environment
    /// variable). Unset, and no metrics listener: no `/metrics`.
    #[arg(long, env = "ROSTER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// A separate address serving only `/metrics` (the main listener then
    /// does not serve it).
    #[arg(long, env = "ROSTER_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

impl ServeArgs {
    /// The core's settings, validated; `bound` is the address actually
    /// listened on (the default base of email links).
    pub fn core_config(&self, bound: std::net::SocketAddr) -> anyhow::Result<CoreConfig> {
        let invitation_ttl_secs = parse_duration_secs(&self.invitation_ttl)
            .map_err(|e| anyhow::anyhow!("ROSTER_INVITATION_TTL: {e}"))?;
        let signup = SignupMode::parse(&self.signup).map_err(anyhow::Error::msg)?;
        if self.auth_rate_per_minute == 0 {
            anyhow::bail!("ROSTER_AUTH_RATE_PER_MINUTE must be at least 1");
        }
        if self.invitation_rate_per_hour == 0 {
            anyhow::bail!("ROSTER_INVITATION_RATE_PER_HOUR must be at least 1");
        }
        for (value, name) in [
            (
                self.invitations_per_recipient_per_day,
                "ROSTER_INVITATIONS_PER_RECIPIENT_PER_DAY",
            ),
            (
                self.invitations_per_account_per_hour,
                "ROSTER_INVITATIONS_PER_ACCOUNT_PER_HOUR",
            ),
            (
                self.orgs_per_account_per_day,
                "ROSTER_ORGS_PER_ACCOUNT_PER_DAY",
            ),
        ] {
            if value == 0 {
                anyhow::bail!("{name} must be at least 1");
            }
        }
        let public_url = match &self.public_url {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                url.trim_end_matches('/').to_string()
            }
            Some(url) => {
                anyhow::bail!("ROSTER_PUBLIC_URL must start with http:// or https://, not {url:?}")
            }
            None => format!("http://{bound}"),
        };
        Ok(CoreConfig {
            invitation_ttl_secs,
            signup,
            auth_rate_per_minute: self.auth_rate_per_minute,
            public_url,
            invitation_emails_per_hour: self.invitation_rate_per_hour,
            invitation_emails_per_recipient_per_day: self.invitations_per_recipient_per_day,
            invitation_emails_per_account_per_hour: self.invitations_per_account_per_hour,
            orgs_per_account_per_day: self.orgs_per_account_per_day,
            ..CoreConfig::default()
        })
    }

    /// The HTTP layer's settings, validated.
    pub fn http_options(&self) -> anyhow::Result<roster_http::HttpOptions> {
        let client_timeout = parse_duration_secs(&self.client_timeout)
            .map_err(|e| anyhow::anyhow!("ROSTER_CLIENT_TIMEOUT: {e}"))?;
        if client_timeout == 0 {
            anyhow::bail!("ROSTER_CLIENT_TIMEOUT must be at least 1s");
        }
        if self.max_connections == Some(0) {
            anyhow::bail!("ROSTER_MAX_CONNECTIONS must be at least 1");
        }
        let cors_origins = match &self.cors_origins {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(parse_origin)
                .collect::<anyhow::Result<_>>()?,
        };
        Ok(roster_http::HttpOptions {
            cors_origins,
            client_timeout: std::time::Duration::from_secs(client_timeout as u64),
            max_connections: self.max_connections,
            metrics: self.metrics_config()?,
        })
    }

    /// `/metrics`: off unless a token or a separate listener is configured.
    fn metrics_config(&self) -> anyhow::Result<Option<roster_http::metrics::MetricsConfig>> {
        let token = self.metrics_token.as_deref().map(str::trim);
        if token.is_some_and(|t| t.len() < 16 || t.chars().any(|c| c.is_ascii_control())) {
            anyhow::bail!("ROSTER_METRICS_TOKEN must be at least 16 printable characters");
        }
        if token.is_none() && self.metrics_listen.is_none() {
            return Ok(None);
        }
        Ok(Some(roster_http::metrics::MetricsConfig::new(
            token,
            self.metrics_listen.is_none(),
        )))
    }

    /// The signing key from `ROSTER_SECRET_KEY_FILE`, if set.
    pub fn signing_key(&self) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(path) = &self.secret_key_file else {
            return Ok(None);
        };
        let raw = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("ROSTER_SECRET_KEY_FILE {}: {e}", path.display()))?;
        let key = raw.trim_ascii().to_vec();
        if key.len() < 32 {
            anyhow::bail!("ROSTER_SECRET_KEY_FILE must hold at least 32 bytes of key material");
        }
        Ok(Some(key))
    }
}

/// One CORS origin: `http(s)://host[:port]`, exactly as browsers send it in
/// the `Origin` header (no path, no trailing slash, no wildcard).
fn parse_origin(origin: &str) -> anyhow::Result<axum::http::HeaderValue> {
    let refuse = || {
        anyhow::anyhow!(
            "ROSTER_CORS_ORIGINS: {origin:?} is not an origin like https://app.example.com"
        )
    };
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(refuse)?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(refuse());
    }
    axum::http::HeaderValue::from_str(origin).map_err(|_| refuse())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert!(parse_origin("https://app.example.com").is_ok());
        assert!(parse_origin("http://localhost:3000").is_ok());
        assert!(parse_origin("https://app.example.com/").is_err());
        assert!(parse_origin("*").is_err());
        assert!(parse_origin("app.example.com").is_err());
        assert!(parse_origin("https://").is_err());
    }
}
