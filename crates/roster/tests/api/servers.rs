//! The `roster` binary this run built, as an operator runs it: `roster
//! serve` processes on a test's database (configured through the
//! environment) and the other subcommands. Every test that needs a real
//! process starts it here, so the suite's settings live in one place.

use std::path::Path;
use std::process::{Command, Output};

use roster_testkit::{Backend, RosterProcess, TestDatabase};

use crate::TestApp;

/// Rate limits high enough not to trip over the suite itself: the
/// environment form of `test_config`, given to every server process
/// (a test's own settings come after, so they may override these).
pub const SUITE_LIMITS: [(&str, &str); 5] = [
    ("ROSTER_AUTH_RATE_PER_MINUTE", "100000"),
    ("ROSTER_INVITATION_RATE_PER_HOUR", "100000"),
    ("ROSTER_INVITATIONS_PER_RECIPIENT_PER_DAY", "100000"),
    ("ROSTER_INVITATIONS_PER_ACCOUNT_PER_HOUR", "100000"),
    ("ROSTER_ORGS_PER_ACCOUNT_PER_DAY", "100000"),
];

/// The `roster` binary of this build.
pub fn roster_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_roster"))
}

/// Starts `roster serve` on the database at `url` with the suite's limits
/// and `env`, and answers once it is ready. Blocks: call it off the async
/// threads, or use `serve`.
pub fn spawn_server(url: &str, env: &[(&str, &str)]) -> RosterProcess {
    let mut all = SUITE_LIMITS.to_vec();
    all.extend_from_slice(env);
    RosterProcess::spawn(roster_bin(), url, &all).expect("server process")
}

/// `spawn_server` on a blocking thread.
pub async fn serve(url: &str, env: &[(&str, &str)]) -> RosterProcess {
    let (url, env) = (url.to_string(), owned(env));
    tokio::task::spawn_blocking(move || spawn_server(&url, &borrowed(&env)))
        .await
        .expect("start-up thread")
}

/// Runs `roster ARGS` on the database at `url` (on a blocking thread) and
/// answers its output.
pub async fn run_roster(url: &str, args: &[&str]) -> Output {
    let (url, args) = (
        url.to_string(),
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    );
    tokio::task::spawn_blocking(move || {
        Command::new(roster_bin())
            .args(&args)
            .env("ROSTER_DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run roster")
    })
    .await
    .expect("roster thread")
}

/// Runs `roster serve` on a fresh SQLite database with `env`, which must
/// make it refuse to start; answers what it printed to stderr.
pub async fn refused_at_start(env: &[(&str, &str)]) -> String {
    let env = owned(env);
    let output = tokio::task::spawn_blocking(move || {
        let database = TestDatabase::new(Backend::Sqlite).expect("test database");
        Command::new(roster_bin())
            .arg("serve")
            .env("ROSTER_LISTEN", "127.0.0.1:0")
            .env("ROSTER_DATABASE_URL", database.url())
            .envs(env)
            .output()
            .expect("run roster serve")
    })
    .await
    .expect("roster thread");
    assert!(!output.status.success(), "roster serve started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Everything a command printed, stdout then stderr.
pub fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Kills (SIGKILL) or stops (SIGTERM, then a bounded wait) every server
/// process, off the async threads.
async fn end(servers: Vec<RosterProcess>, kill: bool) {
    tokio::task::spawn_blocking(move || {
        for server in servers {
            if kill {
                server.kill();
            } else {
                server.terminate();
            }
        }
    })
    .await
    .expect("stop thread");
}

fn owned(env: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn borrowed(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

impl TestApp {
    /// A fresh database of `backend` and no server yet, for tests that
    /// prepare the database with the `roster` command before
    /// `start_servers`. `base` is empty until then.
    pub async fn without_server(backend: Backend, env: &[(&str, &str)]) -> Self {
        let database = tokio::task::spawn_blocking(move || TestDatabase::new(backend))
            .await
            .expect("database thread")
            .expect("test database");
        Self {
            base: String::new(),
            bases: Vec::new(),
            client: reqwest::Client::new(),
            backend,
            servers: Vec::new(),
            mail_database_url: database.url().to_string(),
            server_env: owned(env),
            database,
        }
    }

    /// Starts `count` real `roster serve` processes sharing one fresh
    /// database of `backend` (rate limits raised for the suite). `base` is
    /// the first; `bases` holds them all.
    pub async fn spawn_processes(backend: Backend, count: usize) -> Self {
        Self::spawn_processes_with_env(backend, count, &[]).await
    }

    /// `spawn_processes` with extra environment for the servers (after
    /// the suite's own, so it may override them, e.g. `RUST_LOG`).
    pub async fn spawn_processes_with_env(
        backend: Backend,
        count: usize,
        env: &[(&str, &str)],
    ) -> Self {
        let mut app = Self::without_server(backend, env).await;
        app.start_servers(count).await;
        app
    }

    /// Starts `count` `roster serve` processes on this app's database with
    /// its `server_env`, in place of any it had.
    pub async fn start_servers(&mut self, count: usize) {
        let (url, env) = (self.database.url().to_string(), self.server_env.clone());
        let servers = tokio::task::spawn_blocking(move || {
            (0..count)
                .map(|_| spawn_server(&url, &borrowed(&env)))
                .collect::<Vec<_>>()
        })
        .await
        .expect("start-up thread");
        end(std::mem::replace(&mut self.servers, servers), true).await;
        self.bases = self
            .servers
            .iter()
            .map(|s| s.base_url().to_string())
            .collect();
        self.base = self.bases[0].clone();
    }

    /// Kills every server process with SIGKILL, as a crash would.
    pub async fn kill_servers(&mut self) {
        end(std::mem::take(&mut self.servers), true).await;
    }

    /// Stops every server process with SIGTERM (a graceful shutdown).
    pub async fn stop_servers(&mut self) {
        end(std::mem::take(&mut self.servers), false).await;
    }

    /// Points the helpers at `server` (on this app's database or another)
    /// and keeps it until the app goes; they read its mail from its log.
    pub fn use_server(&mut self, server: RosterProcess) {
        self.base = server.base_url().to_string();
        self.servers.push(server);
    }
}
