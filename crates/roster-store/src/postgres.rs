//! The PostgreSQL store: the synchronous `postgres` client on an r2d2 pool
//! (NoTls; up to 16 connections, 10 s to get one), each connection keeping
//! its prepared statements. A write is one READ COMMITTED transaction in
//! which `lock_org` takes the org's row lock (`FOR UPDATE`); a read is one
//! REPEATABLE READ, READ ONLY transaction (a consistent snapshot, like
//! SQLite's, and never a serialisation failure). The store is called from
//! `spawn_blocking` threads, where the blocking client is fine.

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, Config, IsolationLevel, NoTls, Statement, Transaction};
use r2d2::ManageConnection;
use r2d2_postgres::PostgresConnectionManager;
use roster_core::error::{DomainError, Result};
use roster_core::store::{PoolUsage, ReadTx, Store, Tx};

use crate::connect::{postgres_config, POSTGRES_CONNECT_TIMEOUT};
use crate::errors::from_postgres;
use crate::sql::{self, Access, Conn, Row, SqlTx, Value};
use crate::{migrate, Backend};

const POOL_SIZE: u32 = 16;

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// How long a read waits for a replica connection before it reads from
/// the primary instead.
const REPLICA_CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// A Roster database on a PostgreSQL server, optionally with a streaming
/// replica for reads.
pub struct PostgresStore {
    pool: r2d2::Pool<Manager>,
    replica: Option<r2d2::Pool<Manager>>,
    /// Until when reads skip a replica that failed (so a dead replica
    /// costs one connection timeout per pause, not one per read).
    replica_paused_until: std::sync::Mutex<Option<std::time::Instant>>,
    primary_transactions: AtomicU64,
    replica_transactions: AtomicU64,
}

/// How long reads stay on the primary after the replica failed.
const REPLICA_PAUSE: Duration = Duration::from_secs(5);

impl PostgresStore {
    /// Connects (`postgres://…` or `postgresql://…`), applies pending
    /// migrations and starts the pool. Errors never repeat the URL.
    pub fn open(url: &str) -> std::result::Result<Self, String> {
        let config = postgres_config(url).map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
        // One direct connection first, so an unreachable server or a bad
        // password is reported at once rather than after the pool's timeout.
        let mut client = config
            .connect(NoTls)
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        let mut statements = HashMap::new();
        migrate::apply_pending(Backend::Postgres, |step| {
            let tx = client.transaction().map_err(from_postgres)?;
            sql::run(PgConn::new(tx, &mut statements), Access::Write, |tx| {
                step(tx)
            })
        })
        .map_err(|e| format!("cannot migrate the PostgreSQL database: {e}"))?;
        drop(client);
        Ok(Self {
            pool: pool(config, POSTGRES_CONNECT_TIMEOUT),
            replica: None,
            replica_paused_until: std::sync::Mutex::new(None),
            primary_transactions: AtomicU64::new(0),
            replica_transactions: AtomicU64::new(0),
        })
    }

    /// As `open`, with reads served by the streaming replica at `read_url`
    /// whenever it has caught up (see `read`). The replica is not needed
    /// to start: while it cannot be reached, reads go to the primary.
    pub fn open_with_replica(url: &str, read_url: &str) -> std::result::Result<Self, String> {
        let mut config: Config = read_url
            .parse()
            .map_err(|e| format!("invalid PostgreSQL URL in ROSTER_DATABASE_READ_URL: {e}"))?;
        config.connect_timeout(REPLICA_CONNECTION_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("roster-reader");
        }
        let mut store = Self::open(url)?;
        store.replica = Some(pool(config, REPLICA_CONNECTION_TIMEOUT));
        Ok(store)
    }

    fn client(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool
            .get()
            .map_err(|e| DomainError::Internal(format!("postgres pool: {e}")))
    }
}

fn pool(config: Config, timeout: Duration) -> r2d2::Pool<Manager> {
    r2d2::Pool::builder()
        .max_size(POOL_SIZE)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .build_unchecked(Manager {
            inner: PostgresConnectionManager::new(config, NoTls),
        })
}

/// Runs `f` in a transaction of `pooled` (see `sql::run`).
fn in_transaction(
    pooled: &mut PgClient,
    access: Access,
    body: impl FnOnce(&mut SqlTx<'_>) -> Result<()>,
) -> Result<()> {
    let PgClient { client, statements } = pooled;
    // Reads: one REPEATABLE READ snapshot; writes: READ COMMITTED, with
    // `lock_org` serialising the changes to one org.
    let (isolation, read_only) = match access {
        Access::Read => (IsolationLevel::RepeatableRead, true),
        Access::Write => (IsolationLevel::ReadCommitted, false),
    };
    let tx = client
        .build_transaction()
        .isolation_level(isolation)
        .read_only(read_only)
        .start()
        .map_err(from_postgres)?;
    sql::run(PgConn::new(tx, statements), access, body)
}

impl PostgresStore {
    /// A replica connection that has replayed every WAL record the primary
    /// had inserted when this was called, or None (no replica, it cannot
    /// be reached, or it lags). A snapshot taken on it afterwards therefore
    /// holds every write acknowledged before the read began, on any server
    /// — read-your-writes and monotonic reads for every client.
    fn caught_up_replica(&self) -> Option<r2d2::PooledConnection<Manager>> {
        let replica = self.replica.as_ref()?;
        {
            let paused = self
                .replica_paused_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if paused.is_some_and(|until| std::time::Instant::now() < until) {
                return None;
            }
        }
        let pause = || {
            *self
                .replica_paused_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(std::time::Instant::now() + REPLICA_PAUSE);
        };
        // Insert position, not write position: with synchronous_commit
        // off, a commit is acknowledged before its WAL is written.
        let primary_lsn: String = match self.client().and_then(|mut pooled| {
            pooled
                .client
                .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])
                .and_then(|row| row.try_get(0))
                .map_err(from_postgres)
        }) {
            Ok(lsn) => lsn,
            Err(error) => {
                tracing::debug!(%error, "cannot read the primary's WAL position");
                return None;
            }
        };
        let mut pooled = match replica.get() {
            Ok(pooled) => pooled,
            Err(error) => {
                tracing::warn!(%error, "the read replica cannot be reached; reading from the primary");
                pause();
                return None;
            }
        };
        // NULL (not a standby) counts as not caught up.
        let caught_up = pooled
            .client
            .query_one(
                "SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)",
                &[&primary_lsn],
            )
            .and_then(|row| row.try_get::<_, bool>(0));
        match caught_up {
            Ok(true) => Some(pooled),
            Ok(false) => None,
            Err(error) => {
                tracing::warn!(%error, "the read replica did not answer; reading from the primary");
                pause();
                None
            }
        }
    }
}

impl Store for PostgresStore {
    fn read(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<()>) -> Result<()> {
        // The replica's position is checked before its transaction begins,
        // so the snapshot (taken at the first statement) is at least as new.
        let mut pooled = match self.caught_up_replica() {
            Some(pooled) => {
                self.replica_transactions.fetch_add(1, Ordering::Relaxed);
                pooled
            }
            None => {
                self.primary_transactions.fetch_add(1, Ordering::Relaxed);
                self.client()?
            }
        };
        in_transaction(&mut pooled, Access::Read, |tx| f(tx))
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.primary_transactions.fetch_add(1, Ordering::Relaxed);
        let mut pooled = self.client()?;
        in_transaction(&mut pooled, Access::Write, |tx| f(tx))
    }

    fn ping(&self) -> Result<()> {
        self.client()?
            .client
            .batch_execute("SELECT 1")
            .map_err(from_postgres)
    }

    fn backend(&self) -> &'static str {
        Backend::Postgres.as_str()
    }

    fn pool_usage(&self) -> Vec<PoolUsage> {
        let mut pools = vec![usage("primary", &self.pool, &self.primary_transactions)];
        if let Some(replica) = &self.replica {
            pools.push(usage("replica", replica, &self.replica_transactions));
        }
        pools
    }
}

fn usage(name: &'static str, pool: &r2d2::Pool<Manager>, transactions: &AtomicU64) -> PoolUsage {
    let state = pool.state();
    PoolUsage {
        pool: name,
        in_use: state.connections - state.idle_connections,
        idle: state.idle_connections,
        max: pool.max_size(),
        transactions: transactions.load(Ordering::Relaxed),
    }
}

/// A pooled connection with the statements it has prepared (the set of SQL
/// texts is small and fixed, so the cache needs no bound).
struct PgClient {
    client: ManuallyDrop<Client>,
    statements: HashMap<String, Statement>,
}

impl Drop for PgClient {
    fn drop(&mut self) {
        self.statements.clear();
        // SAFETY: `drop` runs once and nothing touches `client` after this.
        let client = unsafe { ManuallyDrop::take(&mut self.client) };
        // `postgres::Client` closes its connection by blocking on a runtime
        // of its own, which panics on a Tokio worker thread — and the last
        // handle to the pool is dropped on one when the server (or a test)
        // shuts down. Close it on a plain thread instead.
        let _ = std::thread::Builder::new()
            .name("pg-close".into())
            .spawn(move || drop(client));
    }
}

/// r2d2's manager for `PgClient`s, delegating to r2d2_postgres.
struct Manager {
    inner: PostgresConnectionManager<NoTls>,
}

impl ManageConnection for Manager {
    type Connection = PgClient;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<PgClient, postgres::Error> {
        Ok(PgClient {
            client: ManuallyDrop::new(self.inner.connect()?),
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgClient) -> std::result::Result<(), postgres::Error> {
        self.inner.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut PgClient) -> bool {
        self.inner.has_broken(&mut conn.client)
    }
}

/// `Conn` over an open transaction, preparing each statement once per
/// connection.
struct PgConn<'c, 's> {
    tx: Transaction<'c>,
    statements: &'s mut HashMap<String, Statement>,
}

impl<'c, 's> PgConn<'c, 's> {
    fn new(tx: Transaction<'c>, statements: &'s mut HashMap<String, Statement>) -> Self {
        Self { tx, statements }
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        // Prepared statements belong to the connection, not the
        // transaction: they outlive this commit or rollback.
        let statement = self.tx.prepare(sql).map_err(from_postgres)?;
        self.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Conn for PgConn<'_, '_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let statement = self.statement(sql)?;
        self.tx
            .execute(&statement, &refs(params))
            .map_err(from_postgres)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        let rows = self
            .tx
            .query(&statement, &refs(params))
            .map_err(from_postgres)?;
        rows.iter().map(decode_row).collect()
    }

    fn execute_batch(&mut self, sql: &str) -> Result<()> {
        self.tx.batch_execute(sql).map_err(from_postgres)
    }

    fn commit(self) -> Result<()> {
        self.tx.commit().map_err(from_postgres)
    }

    fn rollback(self) {
        // A failed rollback leaves a broken connection, which the pool
        // then discards.
        let _ = self.tx.rollback();
    }
}

fn decode_row(row: &postgres::Row) -> Result<Row> {
    let bad = |i: usize| DomainError::Internal(format!("column {i} did not decode"));
    let values = row
        .columns()
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let ty = column.type_();
            let value = if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int))
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)
                    .map(|v| v.map(|n| Value::Int(n.into())))
            } else if *ty == Type::BOOL {
                row.try_get::<_, Option<bool>>(i)
                    .map(|v| v.map(Value::Bool))
            } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
                row.try_get::<_, Option<String>>(i)
                    .map(|v| v.map(Value::Text))
            } else {
                return Err(DomainError::Internal(format!(
                    "column {i} has unexpected type {ty}"
                )));
            };
            value.map(|v| v.unwrap_or(Value::Null)).map_err(|_| bad(i))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Row(values))
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => n.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bool(b) => b.to_sql(ty, out),
        }
    }

    /// Any parameter type: `to_sql_checked` checks each value against it.
    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => n.to_sql_checked(ty, out),
            Value::Text(s) => s.to_sql_checked(ty, out),
            Value::Bool(b) => b.to_sql_checked(ty, out),
        }
    }
}
