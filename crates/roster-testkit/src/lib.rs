//! Test support for Roster: fresh databases on both backends (a SQLite file
//! in a temporary folder, or a database on a throwaway PostgreSQL cluster)
//! and a real `roster serve` process on a free 127.0.0.1 port. Knows none
//! of Roster's crates: it talks to the server over HTTP only.

mod pg;
mod process;
mod smtp;
mod spec;

pub use pg::{fresh_postgres_database, ReplicatedPostgres};
pub use process::RosterProcess;
pub use smtp::{ReceivedMail, SmtpSink};
pub use spec::{spec_dir, Spec};

/// The database backends every scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A fresh, empty database; a SQLite file lives as long as this value.
pub struct TestDatabase {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A new database of `backend`.
    pub fn new(backend: Backend) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new().prefix("roster-test-").tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("roster.db").display());
                Ok(Self {
                    url,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => Ok(Self {
                url: fresh_postgres_database(),
                _dir: None,
            }),
        }
    }

    /// The `ROSTER_DATABASE_URL` of this database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_databases_are_files_in_their_own_temp_folder() {
        let a = TestDatabase::new(Backend::Sqlite).unwrap();
        let b = TestDatabase::new(Backend::Sqlite).unwrap();
        assert!(a.url().starts_with("sqlite:///"));
        assert_ne!(a.url(), b.url());
    }

    #[test]
    fn postgres_databases_are_distinct_and_answer() {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                std::thread::spawn(|| {
                    TestDatabase::new(Backend::Postgres)
                        .unwrap()
                        .url()
                        .to_string()
                })
            })
            .collect();
        let urls: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            urls.iter().collect::<std::collections::HashSet<_>>().len(),
            3
        );
        for url in &urls {
            let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
            let row = client.query_one("SELECT 1::int4", &[]).unwrap();
            assert_eq!(row.get::<_, i32>(0), 1);
        }
    }
}
