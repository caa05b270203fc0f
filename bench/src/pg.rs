//! A throwaway PostgreSQL cluster for one benchmark run, started from the
//! `initdb`/`pg_ctl` binaries (`ROSTER_PG_BIN`, or the newest
//! `/usr/lib/postgresql/*/bin`) in a temporary folder on a free 127.0.0.1
//! port, as the `postgres` user when running as root (initdb refuses
//! root). Unlike the test cluster of roster-testkit it keeps PostgreSQL's
//! durable defaults (fsync and synchronous commit on), so write figures
//! compare fairly with SQLite's `synchronous=FULL`. Stopped on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

pub struct Cluster {
    root: bool,
    pg_ctl: PathBuf,
    data: PathBuf,
    port: u16,
    // Removed on drop, after the cluster stopped.
    _dir: tempfile::TempDir,
}

fn pg_bin() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("ROSTER_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (no /usr/lib/postgresql); set ROSTER_PG_BIN")?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    Ok(versions.pop().context("no PostgreSQL binaries found")?.1)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_command(root: bool, program: &Path) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> anyhow::Result<()> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| what.to_string())?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

impl Cluster {
    pub fn start() -> anyhow::Result<Self> {
        let bin = pg_bin()?;
        let root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("roster-bench-pg-")
            .tempdir()?;
        if root {
            let mut chown = Command::new("chown");
            chown.arg("postgres:postgres").arg(dir.path());
            run(chown, "chown")?;
        }
        let data = dir.path().join("data");
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
        run(initdb, "initdb")?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} \
             -c max_connections=100",
            dir.path().display()
        );
        let pg_ctl = bin.join("pg_ctl");
        let mut start = pg_command(root, &pg_ctl);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        run(start, "pg_ctl start")?;
        Ok(Self {
            root,
            pg_ctl,
            data,
            port,
            _dir: dir,
        })
    }

    /// Creates a database and answers its URL.
    pub fn create_database(&self, name: &str) -> anyhow::Result<String> {
        let mut admin = roster_store_admin(self.port)?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            self.port
        ))
    }

    /// Drops a database (after its server stopped).
    pub fn drop_database(&self, name: &str) -> anyhow::Result<()> {
        let mut admin = roster_store_admin(self.port)?;
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        Ok(())
    }
}

fn roster_store_admin(port: u16) -> anyhow::Result<postgres::Client> {
    Ok(postgres::Client::connect(
        &format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        postgres::NoTls,
    )?)
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = pg_command(self.root, &self.pg_ctl);
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"]);
        let _ = stop
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
