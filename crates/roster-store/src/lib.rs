//! Roster's storage: one implementation of the core's store traits over
//! SQLite (rusqlite) and PostgreSQL (postgres + r2d2), with the schema
//! migrations embedded in the binary.
//!
//! Layout: `connect` parses database URLs and opens plain connections;
//! `migrate` owns the embedded migration list and its runner; `sql` owns
//! the SQL (one implementation of the store traits over a small row/value
//! abstraction, with the dialect differences in `sql::dialect`); `sqlite`
//! and `postgres` own the pools and transactions of their backend;
//! `errors` maps driver errors to `DomainError`.

mod backup;
pub mod bulk;
mod connect;
mod errors;
mod integrity;
mod migrate;
pub mod postgres;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use roster_core::store::Store;

pub use backup::{backup, restore};
pub use connect::Backend;
use connect::{target, Target};
pub use integrity::{check_integrity, IntegrityReport};
pub use migrate::migration_versions;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Opens the database named by a URL and applies pending migrations.
///
/// `sqlite://relative/path`, `sqlite:///absolute/path` (the file is created
/// if missing; its parent folder must exist), `postgres://…` or
/// `postgresql://…`. Errors are human-readable and never repeat the URL
/// (it may hold a password).
pub fn open(url: &str) -> Result<Arc<dyn Store>, String> {
    Ok(match target(url)? {
        Target::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
        Target::Postgres(url) => Arc::new(PostgresStore::open(url)?),
    })
}

/// As `open`, with reads served by a PostgreSQL streaming replica when
/// `read_url` is given (see `PostgresStore::open_with_replica`).
pub fn open_with_read_replica(url: &str, read_url: Option<&str>) -> Result<Arc<dyn Store>, String> {
    let Some(read_url) = read_url else {
        return open(url);
    };
    match (target(url)?, target(read_url)) {
        (Target::Postgres(url), Ok(Target::Postgres(read_url))) => {
            Ok(Arc::new(PostgresStore::open_with_replica(url, read_url)?))
        }
        (Target::Postgres(_), _) => {
            Err("ROSTER_DATABASE_READ_URL must be a postgres:// URL of a streaming replica".into())
        }
        (Target::Sqlite(_), _) => Err(
            "ROSTER_DATABASE_READ_URL needs a PostgreSQL ROSTER_DATABASE_URL (SQLite already \
             reads on several connections)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn unknown_schemes_are_refused_without_echoing_the_url() {
        let err = open("mysql://user:secret@host/db")
            .err()
            .unwrap_or_default();
        assert!(err.contains("unsupported"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(open("sqlite://").is_err());
    }

    #[test]
    fn urls_name_relative_and_absolute_sqlite_files_or_a_postgres_server() {
        assert_eq!(
            target("sqlite://data/roster.db"),
            Ok(Target::Sqlite(Path::new("data/roster.db")))
        );
        assert_eq!(
            target("sqlite:///var/lib/r.db"),
            Ok(Target::Sqlite(Path::new("/var/lib/r.db")))
        );
        let pg = "postgresql://u:p@db:5432/roster";
        assert_eq!(target(pg), Ok(Target::Postgres(pg)));
        assert_eq!(
            target("postgres://db/roster"),
            Ok(Target::Postgres("postgres://db/roster"))
        );
    }

    #[test]
    fn sqlite_urls_open_and_create_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let absolute = dir.path().join("abs.db");
        let store = open(&format!("sqlite://{}", absolute.display())).unwrap();
        assert_eq!(store.backend(), "sqlite");
        store.ping().unwrap();
        assert!(absolute.exists());

        let missing_parent = dir.path().join("no/such/dir/x.db");
        let err = open(&format!("sqlite://{}", missing_parent.display()))
            .err()
            .unwrap();
        assert!(err.contains("SQLite"), "{err}");
    }
}
