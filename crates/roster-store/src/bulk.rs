//! A fast path for loading many users (and their memberships of one org)
//! at once: the benchmark harness seeds orgs of up to a million members
//! with it. It bypasses the services on purpose — no audit events, no
//! emails, no rule checks beyond the database's constraints — so it is for
//! seeding a fresh database, never for serving requests.
//!
//! Each `insert` call is one transaction. SQLite: multi-row `INSERT`s of
//! `ROWS_PER_STATEMENT` rows through cached prepared statements, `number`
//! continuing from the largest one. PostgreSQL: `COPY … FROM STDIN` in
//! text format (the identity column assigns `number`).

use std::io::Write;

use roster_core::ids::OrgId;
use roster_core::model::NewUser;
use roster_core::role::OrgRole;
use roster_core::types::ResourceStatus;
use rusqlite::{params_from_iter, Connection, TransactionBehavior};

use crate::connect::{connect_postgres, open_sqlite, target, FileAccess, Target};
use crate::sql::{params, search_text, Value};

/// Rows per multi-row `INSERT` on SQLite (9 parameters per user row, well
/// under SQLite's limit of 32,766 parameters per statement).
const ROWS_PER_STATEMENT: usize = 500;

/// A connection for bulk loading, opened on a migrated database.
pub struct BulkLoader {
    conn: LoadingConnection,
}

enum LoadingConnection {
    Sqlite(Connection),
    Postgres(Box<postgres::Client>),
}

impl BulkLoader {
    /// Opens the database named by `url` (as `crate::open` does: this also
    /// applies pending migrations) and a loading connection to it.
    pub fn open(url: &str) -> Result<Self, String> {
        drop(crate::open(url)?);
        let conn = match target(url)? {
            Target::Sqlite(path) => {
                let conn = open_sqlite(path, FileAccess::ReadWrite)
                    .map_err(|e| format!("cannot open SQLite database: {e}"))?;
                // A large page cache for this connection only: the indexes
                // of a million users (and the search index's trigrams) do
                // not fit SQLite's default 2 MiB, and loading then
                // re-reads the same b-tree pages from the file over and over.
                conn.pragma_update(None, "foreign_keys", "ON")
                    .and_then(|_| conn.pragma_update(None, "cache_size", -512 * 1024))
                    .map_err(|e| e.to_string())?;
                LoadingConnection::Sqlite(conn)
            }
            Target::Postgres(url) => LoadingConnection::Postgres(Box::new(connect_postgres(url)?)),
        };
        Ok(Self { conn })
    }

    /// Inserts `users` (active) and, with `org`, their memberships of that
    /// org with `role`, in one transaction.
    pub fn insert(
        &mut self,
        users: &[NewUser],
        org: Option<(OrgId, OrgRole)>,
    ) -> Result<(), String> {
        if users.is_empty() {
            return Ok(());
        }
        match &mut self.conn {
            LoadingConnection::Sqlite(conn) => {
                insert_sqlite(conn, users, org).map_err(|e| e.to_string())
            }
            LoadingConnection::Postgres(client) => {
                insert_postgres(client, users, org).map_err(|e| e.to_string())
            }
        }
    }
    /// Ends a load, leaving the database as a server expects to find it:
    /// PostgreSQL gets fresh planner statistics (autovacuum would analyse
    /// the new rows only later, and until then the planner takes the org's
    /// members for a handful of rows); SQLite's write-ahead log is folded
    /// into the database file and synced, so the first server does not pay
    /// for flushing the whole load at its first checkpoint.
    pub fn finish(mut self) -> Result<(), String> {
        match &mut self.conn {
            LoadingConnection::Sqlite(conn) => conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(|e| e.to_string()),
            LoadingConnection::Postgres(client) => {
                client.batch_execute("ANALYZE").map_err(|e| e.to_string())
            }
        }
    }
}

fn insert_sqlite(
    conn: &mut Connection,
    users: &[NewUser],
    org: Option<(OrgId, OrgRole)>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut number: i64 =
        tx.query_row("SELECT COALESCE(MAX(number), 0) FROM users", [], |row| {
            row.get(0)
        })?;
    let active = ResourceStatus::Active.as_str();
    for chunk in users.chunks(ROWS_PER_STATEMENT) {
        let mut params = Vec::with_capacity(chunk.len() * 11);
        for user in chunk {
            number += 1;
            let u = user;
            params.extend(params! {
                u.id, number, &u.email, &u.username, &u.name, u.password_hash.as_deref(),
                u.email_verified, active, search_text(u), u.created_at, u.created_at,
            });
        }
        let sql = multi_row(
            "INSERT INTO users (id, number, email, username, name, password_hash, \
             email_verified, status, search, created_at, updated_at) VALUES ",
            "(?,?,?,?,?,?,?,?,?,?,?)",
            chunk.len(),
        );
        tx.prepare_cached(&sql)?
            .execute(params_from_iter(&params))?;
        if let Some((org, role)) = org {
            let sql = multi_row(
                "INSERT INTO memberships (org_id, user_id, role, labels, created_at) VALUES ",
                "(?,?,?,'[]',?)",
                chunk.len(),
            );
            let org = org.to_string();
            let params: Vec<Value> = chunk
                .iter()
                .flat_map(|user| params! { org.clone(), user.id, role, user.created_at })
                .collect();
            tx.prepare_cached(&sql)?
                .execute(params_from_iter(&params))?;
        }
    }
    tx.commit()
}

/// `head` followed by `rows` copies of `row`, comma-separated.
fn multi_row(head: &str, row: &str, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * (row.len() + 1));
    sql.push_str(head);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    sql
}

fn insert_postgres(
    client: &mut postgres::Client,
    users: &[NewUser],
    org: Option<(OrgId, OrgRole)>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut tx = client.transaction()?;
    let mut text = String::with_capacity(users.len() * 200);
    for user in users {
        let hash = match &user.password_hash {
            Some(hash) => copy_text(hash),
            None => "\\N".to_string(),
        };
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{hash}\t{}\tactive\t{}\t{}\t{}\n",
            user.id,
            copy_text(&user.email),
            copy_text(&user.username),
            copy_text(&user.name),
            if user.email_verified { "t" } else { "f" },
            copy_text(&search_text(user)),
            user.created_at.0,
            user.created_at.0,
        ));
    }
    let mut writer = tx.copy_in(
        "COPY users (id, email, username, name, password_hash, email_verified, status, \
         search, created_at, updated_at) FROM STDIN",
    )?;
    writer.write_all(text.as_bytes())?;
    writer.finish()?;
    if let Some((org, role)) = org {
        text.clear();
        for user in users {
            text.push_str(&format!(
                "{org}\t{}\t{}\t[]\t{}\n",
                user.id,
                role.as_str(),
                user.created_at.0
            ));
        }
        let mut writer =
            tx.copy_in("COPY memberships (org_id, user_id, role, labels, created_at) FROM STDIN")?;
        writer.write_all(text.as_bytes())?;
        writer.finish()?;
    }
    tx.commit()?;
    Ok(())
}

/// A value in COPY's text format: backslash, tab and line breaks escaped.
fn copy_text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}
