//! Which database a URL names, and opening one plain connection to it: the
//! one place that parses database URLs and opens connections, shared by
//! the stores, backup and restore, bulk loading and the integrity check.
//! Errors never repeat the URL (it may hold a password).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// A database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What a database URL names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    Sqlite(&'a Path),
    Postgres(&'a str),
}

/// `sqlite://relative/path`, `sqlite:///absolute/path`, `postgres://…` or
/// `postgresql://…`.
pub(crate) fn target(url: &str) -> Result<Target<'_>, String> {
    let url = url.trim();
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(
                "the sqlite:// URL names no file: use sqlite://relative/path \
                        or sqlite:///absolute/path"
                    .into(),
            );
        }
        return Ok(Target::Sqlite(Path::new(path)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url));
    }
    Err("unsupported database URL: expected sqlite://path, postgres://… or postgresql://…".into())
}

/// How a SQLite connection may use its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileAccess {
    ReadOnly,
    /// Read and write a file that must exist.
    ReadWrite,
    /// Read and write, creating the file if missing.
    Create,
}

/// How long a SQLite connection waits for a lock before it answers busy,
/// unless its user sets another.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a SQLite file. The connection is used from one thread at a time
/// (no SQLite mutex) and waits `SQLITE_BUSY_TIMEOUT` for locks.
pub(crate) fn open_sqlite(path: &Path, access: FileAccess) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
        | match access {
            FileAccess::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            FileAccess::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
            FileAccess::Create => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    Ok(conn)
}

/// How long connecting to PostgreSQL may take, unless the URL says.
pub(crate) const POSTGRES_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The connection settings of a PostgreSQL URL, naming the application
/// `roster` and bounding the connect time unless the URL says otherwise.
pub(crate) fn postgres_config(url: &str) -> Result<postgres::Config, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(POSTGRES_CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("roster");
    }
    Ok(config)
}

/// One connection to the PostgreSQL database a URL names.
pub(crate) fn connect_postgres(url: &str) -> Result<postgres::Client, String> {
    postgres_config(url)
        .map_err(|e| format!("invalid PostgreSQL URL: {e}"))?
        .connect(postgres::NoTls)
        .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))
}
