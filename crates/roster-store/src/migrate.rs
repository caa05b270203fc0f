//! The embedded schema migrations: one folder per backend
//! (`migrations/sqlite`, `migrations/postgres`) with the same numbered
//! steps, and the one runner both backends use (`apply_pending`): every
//! pending step in its own transaction, recorded in `schema_migrations`.

use roster_core::error::{DomainError, Result as StoreResult};
use roster_core::time::Timestamp;

use crate::sql::{dialect, SqlTx, Value};
use crate::Backend;

/// One numbered schema step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Both backends' step lists from one list of (version, file name), so the
/// two cannot drift apart.
macro_rules! steps {
    ($($version:literal $name:literal),* $(,)?) => {
        const SQLITE: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/sqlite/", $name)),
        }),*];
        const POSTGRES: &[Migration] = &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/postgres/", $name)),
        }),*];
    };
}

steps! {
    1 "0001_init.sql",
    2 "0002_mail.sql",
    3 "0003_api_keys.sql",
    4 "0004_idempotency.sql",
    5 "0005_member_search.sql",
    6 "0006_idempotency_scoped.sql",
    7 "0007_actor_events.sql",
}

/// The same in both backends (`BIGINT` is an integer in SQLite).
pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

pub(crate) fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// Applies every pending step of `backend`. `in_transaction` runs its
/// argument in a fresh transaction of the database being migrated and
/// commits when it answers `Ok` (SQLite: `BEGIN IMMEDIATE`, which holds
/// the write lock). Each step first takes the migration lock, so a second
/// process starting at the same time waits, then finds the step applied.
pub(crate) fn apply_pending(
    backend: Backend,
    mut in_transaction: impl FnMut(&mut dyn FnMut(&mut SqlTx<'_>) -> StoreResult<()>) -> StoreResult<()>,
) -> Result<(), String> {
    for step in migrations(backend) {
        // Why a step stopped, in the operator's words.
        let mut failure = None;
        let mut applied_now = false;
        let outcome = in_transaction(&mut |tx| {
            if let Some(lock) = dialect::migration_lock(backend) {
                tx.run(lock, &[Value::Int(dialect::MIGRATION_LOCK)])?;
            }
            tx.execute_batch(CREATE_TABLE)?;
            let applied = tx.query_all("SELECT version FROM schema_migrations", &[], |row| {
                row.get(0)
            })?;
            if let Err(newer) = check_not_newer(backend, &applied) {
                failure = Some(newer);
                return Err(DomainError::Internal("the schema is newer".into()));
            }
            if applied.contains(&step.version) {
                return Ok(());
            }
            if let Err(error) = tx.execute_batch(step.sql) {
                failure = Some(format!("step {}: {error}", step.name));
                return Err(error);
            }
            // The store's own bookkeeping, not a domain record: the one
            // place the store reads the clock.
            tx.run(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[Value::Int(step.version), Value::Int(Timestamp::now().0)],
            )?;
            applied_now = true;
            Ok(())
        });
        outcome.map_err(|e| failure.unwrap_or_else(|| e.to_string()))?;
        if applied_now {
            tracing::info!(
                version = step.version,
                name = step.name,
                backend = backend.as_str(),
                "applied migration"
            );
        }
    }
    Ok(())
}

/// The numbered steps of a backend, in order.
pub fn migration_versions(backend: Backend) -> Vec<i64> {
    migrations(backend).iter().map(|m| m.version).collect()
}

/// Refuses a database migrated by a newer binary: its schema may not be
/// what this binary's SQL expects.
pub(crate) fn check_not_newer(backend: Backend, applied: &[i64]) -> Result<(), String> {
    let known = migration_versions(backend).into_iter().max().unwrap_or(0);
    match applied.iter().max() {
        Some(&newest) if newest > known => Err(format!(
            "the database schema is at version {newest}, newer than this binary knows ({known}); \
             upgrade Roster"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_in(folder: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    fn version_of(name: &str) -> i64 {
        name.split('_').next().unwrap().parse().unwrap()
    }

    #[test]
    fn both_backends_have_the_same_numbered_steps() {
        assert_eq!(
            migration_versions(Backend::Sqlite),
            migration_versions(Backend::Postgres)
        );
        let sqlite: Vec<i64> = files_in("sqlite").iter().map(|n| version_of(n)).collect();
        let postgres: Vec<i64> = files_in("postgres").iter().map(|n| version_of(n)).collect();
        assert_eq!(sqlite, postgres, "migration folders differ");
    }

    #[test]
    fn every_file_in_a_folder_is_embedded_in_order() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let embedded: Vec<&str> = migrations(backend).iter().map(|m| m.name).collect();
            assert_eq!(embedded, files_in(backend.as_str()), "{backend:?}");
            for (i, m) in migrations(backend).iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "steps are numbered 1, 2, 3, …");
                assert_eq!(m.version, version_of(m.name));
                assert!(!m.sql.trim().is_empty());
            }
        }
    }

    #[test]
    fn a_newer_database_is_refused() {
        assert!(check_not_newer(Backend::Sqlite, &[1]).is_ok());
        assert!(check_not_newer(Backend::Sqlite, &[]).is_ok());
        assert!(check_not_newer(Backend::Postgres, &[1, 99]).is_err());
    }
}
