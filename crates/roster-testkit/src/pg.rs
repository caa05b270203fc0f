//! A throwaway PostgreSQL cluster: ONE per test process, started lazily
//! from the `initdb`/`pg_ctl` binaries (`ROSTER_PG_BIN`, or the newest
//! `/usr/lib/postgresql/*/bin`) into a temporary folder, as the `postgres`
//! user when running as root (initdb refuses root), listening on a free
//! 127.0.0.1 port. A watchdog stops it and removes its folder once the test
//! process exits. `ROSTER_TEST_POSTGRES_URL` (an admin URL whose user may
//! create databases) uses an existing server instead. Each test gets its
//! own database.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Creates an empty database and answers its URL.
pub fn fresh_postgres_database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = server();
    let name = format!(
        "roster_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = server.admin.lock().unwrap_or_else(|e| e.into_inner());
    // An ICU collation where the cluster supports it, so keyset ordering is
    // exercised under a non-byte-order collation too.
    let icu =
        format!("CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
    if admin.batch_execute(&icu).is_err() {
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
    }
    format!("{}/{name}", server.base_url)
}

struct Server {
    /// URL without the database name.
    base_url: String,
    admin: Mutex<postgres::Client>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let admin_url = match std::env::var("ROSTER_TEST_POSTGRES_URL") {
            Ok(url) => url,
            Err(_) => start_cluster(),
        };
        let admin = postgres::Client::connect(&admin_url, postgres::NoTls)
            .expect("connect to test cluster");
        let base_url = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base.to_string())
            .unwrap_or(admin_url);
        Server {
            base_url,
            admin: Mutex::new(admin),
        }
    })
}

fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("ROSTER_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (no /usr/lib/postgresql): run scripts/test, which installs it, or set ROSTER_PG_BIN or ROSTER_TEST_POSTGRES_URL")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("no PostgreSQL binaries found").1
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program args…`, as the `postgres` user when we are root (initdb
/// refuses to run as root).
fn pg_command(root: bool, program: &Path) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) {
    let out = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts the cluster and answers an admin URL.
fn start_cluster() -> String {
    let bin = pg_bin();
    let root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("roster-store-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    if root {
        let mut chown = Command::new("chown");
        chown.arg("postgres:postgres").arg(&dir);
        run(chown, "chown");
    }
    let data = dir.join("data");
    let mut initdb = pg_command(root, &bin.join("initdb"));
    initdb.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
    ]);
    run(initdb, "initdb");

    let pg_ctl = bin.join("pg_ctl");
    let mut port = 0;
    for attempt in 1..=5 {
        port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            dir.display()
        );
        let mut start = pg_command(root, &pg_ctl);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        if start
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            break;
        }
        assert!(
            attempt < 5,
            "pg_ctl start failed; see {}",
            dir.join("log").display()
        );
    }

    // The watchdog: once this process is gone, stop the cluster and remove
    // its folder. Started in the background by a shell we wait for, so it
    // is nobody's zombie; in its own session, so a Ctrl-C to the tests
    // spares it.
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runuser}{pg_ctl} -D {data} stop -m immediate; rm -rf {dir}",
        pid = std::process::id(),
        runuser = if root { "runuser -u postgres -- " } else { "" },
        pg_ctl = quote(&pg_ctl.display().to_string()),
        data = quote(&data.display().to_string()),
        dir = quote(&dir.display().to_string()),
    );
    let mut watchdog = Command::new("sh");
    watchdog.arg("-c").arg(format!(
        "setsid sh -c {} </dev/null >/dev/null 2>&1 &",
        quote(&stop)
    ));
    run(watchdog, "start the cluster watchdog");
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

/// `text` as one single-quoted shell word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
