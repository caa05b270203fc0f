//! `roster check`: is this database sound? The backend's own structural
//! check (SQLite's `integrity_check` and `foreign_key_check`; PostgreSQL's
//! `amcheck` over every B-tree index, when the extension is available),
//! then the product's invariants that no constraint can express, in one
//! read-only snapshot. Used by operators after a crash or a restore, and by
//! the crash-durability tests.

use std::path::Path;

use crate::connect::{connect_postgres, open_sqlite, target, FileAccess, Target};

/// What a check found: the checks that ran, and every problem (none: the
/// database is sound).
#[derive(Debug, Default)]
pub struct IntegrityReport {
    pub checks: Vec<String>,
    pub problems: Vec<String>,
}

impl IntegrityReport {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Invariants of the domain, as queries answering one line per violation.
/// Portable SQL: both backends run the same text.
const INVARIANTS: &[(&str, &str)] = &[
    (
        "every organization has an owner",
        "SELECT 'organization ' || o.id || ' has no owner' FROM orgs o \
         WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = o.id AND m.role = 'owner')",
    ),
    (
        "every project member belongs to the project's organization",
        "SELECT 'user ' || pm.user_id || ' is in project ' || pm.project_id || ' but not in its organization' \
         FROM project_members pm JOIN projects p ON p.id = pm.project_id \
         WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = p.org_id AND m.user_id = pm.user_id)",
    ),
];

/// Checks the database a URL names (see `open`), without migrating it.
pub fn check_integrity(url: &str) -> Result<IntegrityReport, String> {
    match target(url)? {
        Target::Sqlite(path) => check_sqlite(path),
        Target::Postgres(url) => check_postgres(url),
    }
}

fn check_sqlite(path: &Path) -> Result<IntegrityReport, String> {
    if !path.exists() {
        return Err(format!("no SQLite database at {}", path.display()));
    }
    let fail = |e: rusqlite::Error| format!("SQLite database {}: {e}", path.display());
    let conn = open_sqlite(path, FileAccess::ReadOnly).map_err(fail)?;
    let lines = |sql: &str| -> Result<Vec<String>, String> {
        let mut statement = conn.prepare(sql).map_err(fail)?;
        let rows = statement
            .query_map([], |row| {
                // Every column as text, joined: foreign_key_check answers
                // (table, rowid, parent, fkid).
                let mut parts = Vec::new();
                for i in 0..row.as_ref().column_count() {
                    let value: rusqlite::types::Value = row.get(i)?;
                    parts.push(match value {
                        rusqlite::types::Value::Null => "NULL".to_string(),
                        rusqlite::types::Value::Integer(n) => n.to_string(),
                        rusqlite::types::Value::Real(x) => x.to_string(),
                        rusqlite::types::Value::Text(s) => s,
                        rusqlite::types::Value::Blob(_) => "<blob>".to_string(),
                    });
                }
                Ok(parts.join(" "))
            })
            .map_err(fail)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(fail)
    };
    let mut report = IntegrityReport::default();
    // One snapshot for every query.
    conn.execute_batch("BEGIN").map_err(fail)?;
    report.checks.push("SQLite integrity_check".into());
    for line in lines("PRAGMA integrity_check")? {
        if line != "ok" {
            report.problems.push(format!("integrity_check: {line}"));
        }
    }
    report.checks.push("SQLite foreign_key_check".into());
    for line in lines("PRAGMA foreign_key_check")? {
        report
            .problems
            .push(format!("foreign key violation: {line}"));
    }
    for (name, sql) in INVARIANTS {
        report.checks.push((*name).into());
        report.problems.extend(lines(sql)?);
    }
    conn.execute_batch("COMMIT").map_err(fail)?;
    Ok(report)
}

fn check_postgres(url: &str) -> Result<IntegrityReport, String> {
    let fail = |e: postgres::Error| format!("PostgreSQL: {e}");
    let mut client = connect_postgres(url)?;
    let mut report = IntegrityReport::default();
    // amcheck verifies each B-tree index against its table. It is a contrib
    // extension that only a privileged role may create, and a check must
    // not change the database: it is used when an operator installed it
    // (`CREATE EXTENSION amcheck`), and reported as skipped otherwise.
    let amcheck = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'", &[])
        .map_err(fail)?
        .is_some();
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(fail)?;
    if amcheck {
        report
            .checks
            .push("PostgreSQL amcheck bt_index_check (heapallindexed) on every index".into());
        let indexes = tx
            .query(
                "SELECT c.oid, c.relname::text FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_am a ON a.oid = c.relam \
                 WHERE a.amname = 'btree' AND n.nspname = current_schema()",
                &[],
            )
            .map_err(fail)?;
        for index in indexes {
            let oid: postgres::types::Oid = index.get(0);
            let name: String = index.get(1);
            if let Err(e) = tx.execute("SELECT bt_index_check($1::oid::regclass, true)", &[&oid]) {
                report.problems.push(format!("index {name}: {e}"));
                // The transaction is aborted; the remaining checks need a new one.
                return Ok(report);
            }
        }
    } else {
        report.checks.push(
            "PostgreSQL amcheck: skipped (run CREATE EXTENSION amcheck to include it)".into(),
        );
    }
    for (name, sql) in INVARIANTS {
        report.checks.push((*name).into());
        for row in tx.query(*sql, &[]).map_err(fail)? {
            report.problems.push(row.get(0));
        }
    }
    tx.commit().map_err(fail)?;
    Ok(report)
}
