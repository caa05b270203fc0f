//! The SQLite store: one writer connection behind a mutex (each write is
//! `BEGIN IMMEDIATE` … `COMMIT`, so writes are serialised and take the
//! database's write lock up front), and a small lazily opened pool of
//! `query_only` reader connections, each read one deferred transaction (a
//! consistent WAL snapshot). Every connection runs in WAL mode with
//! `synchronous=FULL`, foreign keys on and a 5 s busy timeout.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use roster_core::error::{DomainError, Result};
use roster_core::store::{PoolUsage, ReadTx, Store, Tx};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection, Transaction, TransactionBehavior};

use crate::connect::{self, open_sqlite};
use crate::errors::from_sqlite;
use crate::sql::{self, placeholders_in_order, Access, Conn, Row, Value};
use crate::{migrate, Backend};

/// Reader connections opened at most (reads beyond wait for one).
const MAX_READERS: usize = 4;

/// A Roster database in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Readers,
    writes: AtomicU64,
    reads: AtomicU64,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file and applies pending
    /// migrations. The parent folder must exist.
    pub fn open(path: &Path) -> std::result::Result<Self, String> {
        let fail =
            |e: rusqlite::Error| format!("cannot open SQLite database {}: {e}", path.display());
        let mut writer = open_sqlite(path, connect::FileAccess::Create).map_err(fail)?;
        configure(&writer, false).map_err(fail)?;
        // Each step in its own `BEGIN IMMEDIATE` transaction, which also
        // keeps a second process from migrating at the same time: it waits
        // for the write lock, then sees the step applied.
        migrate::apply_pending(Backend::Sqlite, |step| {
            in_transaction(&mut writer, Access::Write, |tx| step(tx))
        })
        .map_err(|e| format!("cannot migrate SQLite database {}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            writes: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            readers: Readers {
                path: path.to_path_buf(),
                state: Mutex::default(),
                freed: Condvar::new(),
            },
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn configure(conn: &Connection, read_only: bool) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(
            mode,
            "SQLite did not switch to WAL mode; reads will wait for writes"
        );
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Overwrite deleted and rewritten content with zeros, so that a secret
    // cleared from a row (a delivered email's link) does not linger in the
    // file's free space.
    conn.pragma_update(None, "secure_delete", "ON")?;
    if read_only {
        conn.pragma_update(None, "query_only", "ON")?;
    }
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside a transaction poisons the mutex, but the transaction
    // was rolled back while unwinding (rusqlite's `Transaction` drop), so
    // the connection is fine to use.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `body` in a transaction of `conn` (see `sql::run`).
/// Reads are deferred transactions (a WAL snapshot); writes take the write
/// lock up front (`BEGIN IMMEDIATE`).
fn in_transaction<T>(
    conn: &mut Connection,
    access: Access,
    body: impl FnOnce(&mut sql::SqlTx<'_>) -> Result<T>,
) -> Result<T> {
    let behavior = match access {
        Access::Read => TransactionBehavior::Deferred,
        Access::Write => TransactionBehavior::Immediate,
    };
    let tx = conn
        .transaction_with_behavior(behavior)
        .map_err(from_sqlite)?;
    sql::run(SqliteConn { tx }, access, body)
}

impl Store for SqliteStore {
    fn read(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<()>) -> Result<()> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let mut reader = self.readers.checkout()?;
        in_transaction(reader.conn_mut(), Access::Read, |tx| f(tx))
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let mut writer = lock(&self.writer);
        in_transaction(&mut writer, Access::Write, |tx| f(tx))
    }

    fn ping(&self) -> Result<()> {
        let reader = self.readers.checkout()?;
        reader
            .conn()
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(from_sqlite)
    }

    fn backend(&self) -> &'static str {
        Backend::Sqlite.as_str()
    }

    fn pool_usage(&self) -> Vec<PoolUsage> {
        // The writer is busy exactly while its mutex is held.
        let writer_busy = matches!(
            self.writer.try_lock(),
            Err(std::sync::TryLockError::WouldBlock)
        );
        let readers = lock(&self.readers.state);
        let idle = readers.idle.len();
        vec![
            PoolUsage {
                pool: "writer",
                in_use: u32::from(writer_busy),
                idle: u32::from(!writer_busy),
                max: 1,
                transactions: self.writes.load(Ordering::Relaxed),
            },
            PoolUsage {
                pool: "readers",
                in_use: (readers.open - idle) as u32,
                idle: idle as u32,
                max: MAX_READERS as u32,
                transactions: self.reads.load(Ordering::Relaxed),
            },
        ]
    }
}

/// The reader connections: opened on demand up to `MAX_READERS`, kept idle
/// between reads.
struct Readers {
    path: PathBuf,
    state: Mutex<ReaderState>,
    freed: Condvar,
}

#[derive(Default)]
struct ReaderState {
    idle: Vec<Connection>,
    open: usize,
}

impl Readers {
    fn checkout(&self) -> Result<Reader<'_>> {
        let mut state = lock(&self.state);
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Reader {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if state.open < MAX_READERS {
                state.open += 1;
                drop(state);
                return match self.open_one() {
                    Ok(conn) => Ok(Reader {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(err) => {
                        lock(&self.state).open -= 1;
                        self.freed.notify_one();
                        Err(from_sqlite(err))
                    }
                };
            }
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn open_one(&self) -> rusqlite::Result<Connection> {
        // Read-write, though it only reads (`query_only`): a read-only
        // handle cannot take part in WAL recovery.
        let conn = open_sqlite(&self.path, connect::FileAccess::ReadWrite)?;
        configure(&conn, true)?;
        Ok(conn)
    }
}

/// A checked-out reader; goes back to the pool when dropped.
struct Reader<'p> {
    pool: &'p Readers,
    conn: Option<Connection>,
}

impl Reader<'_> {
    fn conn(&self) -> &Connection {
        // Some from checkout until drop.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("reader used after release"))
    }

    fn conn_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("reader used after release"))
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            lock(&self.pool.state).idle.push(conn);
            self.pool.freed.notify_one();
        }
    }
}

/// `Conn` over an open rusqlite transaction. Statements are prepared once
/// per connection (rusqlite's statement cache, keyed by the SQL text).
struct SqliteConn<'c> {
    tx: Transaction<'c>,
}

impl SqliteConn<'_> {
    fn statement(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>> {
        debug_assert!(
            placeholders_in_order(sql),
            "SQLite binds by first appearance; number the placeholders in order: {sql}"
        );
        self.tx.prepare_cached(sql).map_err(from_sqlite)
    }
}

impl Conn for SqliteConn<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let changed = self
            .statement(sql)?
            .execute(params_from_iter(params))
            .map_err(from_sqlite)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut stmt = self.statement(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(params_from_iter(params)).map_err(from_sqlite)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(from_sqlite)? {
            let values = (0..width)
                .map(|i| from_column(row.get_ref(i).map_err(from_sqlite)?, i))
                .collect::<Result<Vec<_>>>()?;
            out.push(Row(values));
        }
        Ok(out)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        self.tx.execute_batch(sql).map_err(from_sqlite)
    }

    fn commit(self) -> Result<()> {
        self.tx.commit().map_err(from_sqlite)
    }

    fn rollback(self) {
        let _ = self.tx.rollback();
    }
}

fn from_column(value: ValueRef<'_>, i: usize) -> Result<Value> {
    match value {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(n) => Ok(Value::Int(n)),
        ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec())
            .map(Value::Text)
            .map_err(|_| DomainError::Internal(format!("column {i} is not valid UTF-8"))),
        ValueRef::Real(_) | ValueRef::Blob(_) => Err(DomainError::Internal(format!(
            "column {i} has an unexpected type"
        ))),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(*n),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            // Booleans are INTEGER 0/1 in SQLite.
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
        }))
    }
}
