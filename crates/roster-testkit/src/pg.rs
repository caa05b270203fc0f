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
    let cluster = Cluster::init("roster-store-pg-");
    let port = cluster.launch(
        &cluster.data,
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
    );
    cluster.watchdog(&[cluster.data.as_path()]);
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

/// A folder holding PostgreSQL data directories, owned by the user that
/// runs the servers.
struct Cluster {
    bin: PathBuf,
    root: bool,
    dir: PathBuf,
    /// The data directory `initdb` created.
    data: PathBuf,
}

impl Cluster {
    /// A new folder with a fresh data directory in it.
    fn init(prefix: &str) -> Self {
        let bin = pg_bin();
        let root = is_root();
        let dir = tempfile::Builder::new()
            .prefix(prefix)
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
        Self {
            bin,
            root,
            dir,
            data,
        }
    }

    /// Starts a server on `data` on a free 127.0.0.1 port, and answers the port.
    fn launch(&self, data: &Path, options: &str) -> u16 {
        let pg_ctl = self.bin.join("pg_ctl");
        let log = data.with_extension("log");
        for attempt in 1..=5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} {options}",
                self.dir.display()
            );
            let mut start = pg_command(self.root, &pg_ctl);
            start
                .arg("-D")
                .arg(data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"]);
            if start
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
            {
                return port;
            }
            assert!(attempt < 5, "pg_ctl start failed; see {}", log.display());
        }
        unreachable!("the loop returns or panics")
    }

    /// `pg_ctl stop -m immediate` of each data directory, as a shell command.
    fn stop_command(&self, datas: &[&Path]) -> String {
        let runuser = if self.root {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let pg_ctl = quote(&self.bin.join("pg_ctl").display().to_string());
        datas
            .iter()
            .map(|data| {
                format!(
                    "{runuser}{pg_ctl} -D {} stop -m immediate >/dev/null 2>&1; ",
                    quote(&data.display().to_string())
                )
            })
            .collect()
    }

    /// The watchdog: once this process is gone, stop the servers and remove
    /// the folder. Started in the background by a shell we wait for, so it
    /// is nobody's zombie; in its own session, so a Ctrl-C to the tests
    /// spares it.
    fn watchdog(&self, datas: &[&Path]) {
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}rm -rf {dir}",
            pid = std::process::id(),
            stop = self.stop_command(datas),
            dir = quote(&self.dir.display().to_string()),
        );
        let mut watchdog = Command::new("sh");
        watchdog.arg("-c").arg(format!(
            "setsid sh -c {} </dev/null >/dev/null 2>&1 &",
            quote(&stop)
        ));
        run(watchdog, "start the cluster watchdog");
    }
}

/// A PostgreSQL primary and a streaming standby of it (hot standby, from
/// `pg_basebackup -R`), each on its own free port, holding one database
/// `roster`. Both stop when the value is dropped (and, failing that, when
/// the test process exits).
pub struct ReplicatedPostgres {
    cluster: Cluster,
    standby: PathBuf,
    pub primary_url: String,
    pub replica_url: String,
}

impl ReplicatedPostgres {
    pub fn start() -> Self {
        let cluster = Cluster::init("roster-replicas-pg-");
        // Replication connections from 127.0.0.1, whatever initdb's default.
        let hba = cluster.data.join("pg_hba.conf");
        let mut rules = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
        rules.push_str("\nhost replication all 127.0.0.1/32 trust\n");
        std::fs::write(&hba, rules).expect("write pg_hba.conf");
        // fsync off is fine for a throwaway pair; full_page_writes stays on
        // (base backups rely on it).
        let options = "-c wal_level=replica -c max_wal_senders=4 -c fsync=off \
                       -c synchronous_commit=off -c max_connections=100";
        let primary_port = cluster.launch(&cluster.data, options);
        let standby = cluster.dir.join("standby");
        cluster.watchdog(&[cluster.data.as_path(), standby.as_path()]);

        let primary_admin = format!("postgres://postgres@127.0.0.1:{primary_port}/postgres");
        let mut admin =
            postgres::Client::connect(&primary_admin, postgres::NoTls).expect("connect to primary");
        admin
            .batch_execute("CREATE DATABASE roster")
            .expect("create database");
        drop(admin);

        let mut basebackup = pg_command(cluster.root, &cluster.bin.join("pg_basebackup"));
        basebackup
            .arg("-D")
            .arg(&standby)
            .args([
                "-R",
                "-X",
                "stream",
                "--no-sync",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .arg("-p")
            .arg(primary_port.to_string());
        run(basebackup, "pg_basebackup");
        let standby_port = cluster.launch(&standby, options);
        let replica_url = format!("postgres://postgres@127.0.0.1:{standby_port}/roster");
        // The standby accepts connections once consistent; wait until it does.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while postgres::Client::connect(&replica_url, postgres::NoTls).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the standby never accepted connections"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self {
            primary_url: format!("postgres://postgres@127.0.0.1:{primary_port}/roster"),
            replica_url,
            standby,
            cluster,
        }
    }

    /// Stops the standby at once (as a crash would).
    pub fn stop_replica(&self) {
        let mut stop = Command::new("sh");
        stop.arg("-c")
            .arg(self.cluster.stop_command(&[self.standby.as_path()]));
        run(stop, "stop the standby");
    }
}

impl Drop for ReplicatedPostgres {
    fn drop(&mut self) {
        let mut stop = Command::new("sh");
        stop.arg("-c").arg(format!(
            "{}rm -rf {}",
            self.cluster
                .stop_command(&[self.standby.as_path(), self.cluster.data.as_path()]),
            quote(&self.cluster.dir.display().to_string())
        ));
        let _ = stop.stdin(Stdio::null()).status();
    }
}

/// `text` as one single-quoted shell word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
