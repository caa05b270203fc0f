//! `roster backup` and `roster restore`.
//!
//! SQLite: the backup is `VACUUM INTO` a temporary file next to the target
//! — one read transaction, so a consistent snapshot while servers keep
//! writing (WAL readers do not block writers) — then `integrity_check`,
//! fsync, and a rename, so a file under the final name is always complete.
//! A restore checks the file first (integrity, a Roster schema no newer
//! than this binary), refuses a database that another process has open
//! (a running server), and one that holds data unless forced, copies it in with SQLite's online backup API (page by page under
//! the destination's write lock, so no reader ever sees half a database),
//! checks the result and applies pending migrations.
//!
//! PostgreSQL: `pg_dump --format=custom` (a consistent snapshot by
//! PostgreSQL's MVCC) and `pg_restore`, found on `PATH` or in the newest
//! `/usr/lib/postgresql/*/bin`; the connection settings travel in `PG*`
//! environment variables, so the password never shows in a process list.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rusqlite::Connection;

use crate::connect::{connect_postgres, open_sqlite, postgres_config, target, FileAccess, Target};
use crate::{migrate, Backend};

/// What `backup` or `restore` did, one line per fact, for the operator.
pub type Report = Vec<String>;

/// Writes a backup of the database `url` names to `file` (which must not exist).
pub fn backup(url: &str, file: &Path) -> Result<Report, String> {
    if file.exists() {
        return Err(format!(
            "{} already exists; pick another name (a backup never overwrites a file)",
            file.display()
        ));
    }
    match target(url)? {
        Target::Sqlite(path) => backup_sqlite(path, file),
        Target::Postgres(url) => backup_postgres(url, file),
    }
}

/// Replaces the database `url` names with the backup in `file`.
pub fn restore(url: &str, file: &Path, force: bool) -> Result<Report, String> {
    if !file.is_file() {
        return Err(format!("no backup file at {}", file.display()));
    }
    match target(url)? {
        Target::Sqlite(path) => restore_sqlite(path, file, force),
        Target::Postgres(url) => restore_postgres(url, file, force),
    }
}

fn sqlite_error(what: &Path) -> impl Fn(rusqlite::Error) -> String + '_ {
    move |e| format!("SQLite database {}: {e}", what.display())
}

fn backup_sqlite(source: &Path, file: &Path) -> Result<Report, String> {
    if !source.is_file() {
        return Err(format!("no SQLite database at {}", source.display()));
    }
    let partial = partial_name(file);
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        // Read-write without CREATE: VACUUM INTO only reads the source,
        // but a read-only handle cannot recover a WAL left by a crash.
        let conn = open_sqlite(source, FileAccess::ReadWrite).map_err(sqlite_error(source))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(sqlite_error(source))?;
        let destination = partial
            .to_str()
            .ok_or_else(|| format!("{} is not valid UTF-8", partial.display()))?;
        conn.execute("VACUUM INTO ?1", [destination])
            .map_err(sqlite_error(source))?;
        drop(conn);
        let mut report = verify_sqlite_file(&partial)?;
        // VACUUM INTO does not fsync its output.
        publish(&partial, file)?;
        report.insert(
            0,
            format!("backed up {} to {}", source.display(), file.display()),
        );
        Ok(report)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// `file.partial`, in the same folder (so the final rename is atomic).
fn partial_name(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    file.with_file_name(name)
}

/// Syncs the finished `partial` file and renames it to `file`, so a file
/// under the final name is always complete.
fn publish(partial: &Path, file: &Path) -> Result<(), String> {
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", partial.display()))?;
    std::fs::rename(partial, file)
        .map_err(|e| format!("cannot move the backup to {}: {e}", file.display()))?;
    sync_parent(file);
    Ok(())
}

fn sync_parent(file: &Path) {
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(dir) = std::fs::File::open(parent) {
            let _ = dir.sync_all();
        }
    }
}

/// Checks that `file` is a sound SQLite database holding a Roster schema
/// this binary can run, and describes it.
fn verify_sqlite_file(file: &Path) -> Result<Report, String> {
    let fail = sqlite_error(file);
    let conn = open_sqlite(file, FileAccess::ReadOnly).map_err(&fail)?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| format!("{} is not a sound SQLite database: {e}", file.display()))?;
    if verdict != "ok" {
        return Err(format!(
            "{} fails SQLite's integrity check: {verdict}",
            file.display()
        ));
    }
    let versions = sqlite_versions(&conn).map_err(|_| {
        format!(
            "{} is not a Roster database (no schema_migrations)",
            file.display()
        )
    })?;
    let newest = versions.iter().max().copied().ok_or_else(|| {
        format!(
            "{} is not a Roster database (no migration applied)",
            file.display()
        )
    })?;
    migrate::check_not_newer(Backend::Sqlite, &versions)?;
    let count = |table: &str| -> Result<i64, String> {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .map_err(&fail)
    };
    Ok(vec![
        "integrity check: ok".to_string(),
        format!("schema version: {newest}"),
        format!(
            "holds {} users, {} organizations, {} audit events",
            count("users")?,
            count("orgs")?,
            count("audit_events")?
        ),
    ])
}

fn sqlite_versions(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    let mut statement = conn.prepare("SELECT version FROM schema_migrations")?;
    let versions = statement.query_map([], |row| row.get(0))?;
    versions.collect()
}

fn restore_sqlite(path: &Path, file: &Path, force: bool) -> Result<Report, String> {
    let mut report = verify_sqlite_file(file)?;
    let fail = sqlite_error(path);
    let mut destination = open_sqlite(path, FileAccess::Create).map_err(&fail)?;
    // A running server keeps its connections open, and in WAL mode an open
    // connection holds a shared lock on the file: taking it exclusively
    // fails while any server (or other process) has the database open.
    // Held from here to the end of the copy, it also keeps servers out.
    destination
        .busy_timeout(Duration::from_millis(500))
        .map_err(&fail)?;
    destination
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(&fail)?;
    if let Err(error) = destination.execute_batch("BEGIN EXCLUSIVE; COMMIT;") {
        return Err(format!(
            "{} is in use ({error}): stop every `roster serve` using it, then restore",
            path.display()
        ));
    }
    let tables: i64 = destination
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |row| row.get(0),
        )
        .map_err(&fail)?;
    if tables > 0 && !force {
        return Err(format!(
            "{} already holds a database; stop every `roster serve` using it, then pass --force \
             to replace it",
            path.display()
        ));
    }
    let source = open_sqlite(file, FileAccess::ReadOnly).map_err(sqlite_error(file))?;
    {
        let copy = rusqlite::backup::Backup::new(&source, &mut destination).map_err(&fail)?;
        // Every page in one step: the destination is written under one lock.
        copy.run_to_completion(i32::MAX, Duration::from_millis(100), None)
            .map_err(&fail)?;
    }
    drop(source);
    drop(destination);
    // Opening the store checks the restored file and applies any
    // migration this binary has and the backup lacks.
    crate::sqlite::SqliteStore::open(path)?;
    let report_after = crate::check_integrity(&format!("sqlite://{}", path.display()))?;
    if !report_after.is_sound() {
        return Err(format!(
            "the restored database has problems: {}",
            report_after.problems.join("; ")
        ));
    }
    report.insert(
        0,
        format!("restored {} from {}", path.display(), file.display()),
    );
    report.push("the restored database passes `roster check`".to_string());
    Ok(report)
}

/// A PostgreSQL client program: on `PATH`, else in the newest
/// `/usr/lib/postgresql/*/bin` (Debian installs them there).
fn pg_program(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let version = entry.file_name().to_string_lossy().parse().ok()?;
                Some((version, entry.path().join("bin").join(name)))
            })
            .filter(|(_, program)| program.is_file())
            .collect();
        versions.sort();
        versions.pop().map(|(_, program)| program)
    })
}

/// `program` with the URL's connection settings in `PG*` variables.
fn pg_command(name: &str, url: &str) -> Result<Command, String> {
    let program = pg_program(name).ok_or_else(|| {
        format!(
            "{name} was not found (install PostgreSQL's client programs, e.g. the \
             postgresql-client package); see docs/operations.md for doing it by hand"
        )
    })?;
    let config = pg_config(url)?;
    let mut command = Command::new(program);
    if let Some(host) = config.get_hosts().first() {
        match host {
            postgres::config::Host::Tcp(host) => command.env("PGHOST", host),
            postgres::config::Host::Unix(path) => command.env("PGHOST", path),
        };
    }
    if let Some(port) = config.get_ports().first() {
        command.env("PGPORT", port.to_string());
    }
    if let Some(user) = config.get_user() {
        command.env("PGUSER", user);
    }
    if let Some(password) = config.get_password() {
        command.env("PGPASSWORD", String::from_utf8_lossy(password).into_owned());
    }
    if let Some(dbname) = config.get_dbname() {
        command.env("PGDATABASE", dbname);
    }
    Ok(command)
}

fn run(mut command: Command, what: &str) -> Result<String, String> {
    let out = command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn backup_postgres(url: &str, file: &Path) -> Result<Report, String> {
    let partial = partial_name(file);
    let mut dump = pg_command("pg_dump", url)?;
    dump.args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(&partial);
    let result = run(dump, "pg_dump").and_then(|_| {
        // A dump pg_restore can read back whole.
        let mut list = pg_command("pg_restore", url)?;
        list.arg("--list").arg(&partial);
        let entries = run(list, "pg_restore --list")?;
        if !entries.contains("schema_migrations") {
            return Err("the dump holds no schema_migrations: is this a Roster database?".into());
        }
        publish(&partial, file)?;
        Ok(vec![
            format!(
                "backed up the PostgreSQL database to {} (pg_dump, custom format)",
                file.display()
            ),
            "pg_restore reads the dump back: ok".to_string(),
        ])
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn restore_postgres(url: &str, file: &Path, force: bool) -> Result<Report, String> {
    let mut list = pg_command("pg_restore", url)?;
    list.arg("--list").arg(file);
    let entries = run(list, "pg_restore --list")
        .map_err(|e| format!("{} is not a readable pg_dump archive: {e}", file.display()))?;
    if !entries.contains("schema_migrations") {
        return Err(format!(
            "{} is not a dump of a Roster database",
            file.display()
        ));
    }
    let mut client = connect_postgres(url)?;
    let tables: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            &[],
        )
        .and_then(|row| row.try_get(0))
        .map_err(|e| format!("cannot inspect the database: {e}"))?;
    let others: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .and_then(|row| row.try_get(0))
        .map_err(|e| format!("cannot inspect the database: {e}"))?;
    drop(client);
    if others > 0 {
        return Err(format!(
            "the PostgreSQL database is in use ({others} other connection(s)): stop every \
             `roster serve` using it, then restore"
        ));
    }
    if tables > 0 && !force {
        return Err(
            "the PostgreSQL database already holds tables; stop every `roster serve` using it, \
             then pass --force to replace them"
                .into(),
        );
    }
    let mut restore = pg_command("pg_restore", url)?;
    restore.args([
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]);
    if tables > 0 {
        restore.args(["--clean", "--if-exists"]);
    }
    restore
        .arg("--dbname")
        .arg(url_database_only(url)?)
        .arg(file);
    run(restore, "pg_restore")?;
    // Checks the schema version (refusing a newer one) and migrates.
    crate::postgres::PostgresStore::open(url)?;
    let checked = crate::check_integrity(url)?;
    if !checked.is_sound() {
        return Err(format!(
            "the restored database has problems: {}",
            checked.problems.join("; ")
        ));
    }
    Ok(vec![
        format!("restored the PostgreSQL database from {}", file.display()),
        "the restored database passes `roster check`".to_string(),
    ])
}

/// The database name alone (the rest travels in `PG*` variables).
fn url_database_only(url: &str) -> Result<String, String> {
    let config = pg_config(url)?;
    Ok(config.get_dbname().unwrap_or("postgres").to_string())
}

fn pg_config(url: &str) -> Result<postgres::Config, String> {
    postgres_config(url).map_err(|e| format!("invalid PostgreSQL URL: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_sit_next_to_the_target() {
        assert_eq!(
            partial_name(Path::new("dir/roster.bak")),
            PathBuf::from("dir/roster.bak.partial")
        );
    }

    #[test]
    fn a_file_that_is_not_a_roster_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"this is not a database at all, just some bytes").unwrap();
        let err = verify_sqlite_file(&junk).unwrap_err();
        assert!(
            err.contains("not a sound SQLite database") || err.contains("file is not a database"),
            "{err}"
        );

        let empty = dir.path().join("empty.db");
        Connection::open(&empty)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER)")
            .unwrap();
        let err = verify_sqlite_file(&empty).unwrap_err();
        assert!(err.contains("not a Roster database"), "{err}");
    }
}
