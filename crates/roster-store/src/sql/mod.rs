//! The backend-neutral SQL layer: a tiny value/row model, the `Conn` trait
//! each backend implements for one open transaction, and `SqlTx`, which
//! implements the core's store traits (one module per aggregate, next to
//! its SQL) over any `Conn`.
//!
//! Every statement is written once, with `$1`-style placeholders numbered
//! in the order they first appear. PostgreSQL reads them as numbered
//! parameters; SQLite reads each as a *named* parameter and numbers names
//! by first appearance, which is then the same numbering, so the text runs
//! unchanged on both (debug builds check the order on every SQLite call).
//! Where the dialects differ, the statement lives in `dialect`.

mod accounts;
mod api_keys;
mod audit;
mod decode;
pub(crate) mod dialect;
mod idempotency;
mod invitations;
mod orgs;
mod outbox;
mod projects;
mod settings;

use roster_core::error::{DomainError, Result};

use crate::Backend;
use decode::FromValue;

pub(crate) use accounts::search_text;
pub(crate) use decode::params;

/// A parameter or column value. Integers are 64-bit everywhere (`BIGINT`);
/// booleans are `BOOLEAN` in PostgreSQL and 0/1 in SQLite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

impl Value {
    pub fn text(value: impl ToString) -> Self {
        Value::Text(value.to_string())
    }

    pub fn opt_text(value: Option<impl ToString>) -> Self {
        value.map_or(Value::Null, Value::text)
    }

    pub fn opt_int(value: Option<i64>) -> Self {
        value.map_or(Value::Null, Value::Int)
    }

    /// A keyset lower bound (`id > $n`): every id sorts after the empty
    /// string, so the first page runs the same query (and plan) as any other.
    pub fn after(after: Option<impl ToString>) -> Self {
        Value::Text(after.map(|id| id.to_string()).unwrap_or_default())
    }

    /// A `LIMIT` or `OFFSET`: the core never asks for more than fits.
    pub fn limit(limit: usize) -> Self {
        Value::Int(i64::try_from(limit).unwrap_or(i64::MAX))
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Text(_) => "text",
            Value::Bool(_) => "boolean",
        }
    }
}

/// One result row, decoded column by column. A value of the wrong type is
/// an `Internal` error naming the column position, never the value.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as a `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let value = self
            .0
            .get(i)
            .ok_or_else(|| DomainError::Internal(format!("result has no column {i}")))?;
        T::from_value(value).map_err(|want| {
            DomainError::Internal(format!(
                "column {i}: expected {want}, found {}",
                value.kind()
            ))
        })
    }

    /// A count (never negative).
    pub fn count(&self, i: usize) -> Result<u64> {
        Ok(u64::try_from(self.get::<i64>(i)?).unwrap_or(0))
    }

    /// The columns from `at` on, read one after the other (see `decode!`).
    pub fn columns(&self, at: usize) -> Columns<'_> {
        Columns {
            row: self,
            next: at,
        }
    }
}

/// A cursor over a row's columns.
pub(crate) struct Columns<'r> {
    row: &'r Row,
    next: usize,
}

impl Columns<'_> {
    pub fn next<T: FromValue>(&mut self) -> Result<T> {
        self.next += 1;
        self.row.get(self.next - 1)
    }
}

/// One open transaction of a backend. Errors are already `DomainError`s
/// (see `errors`).
pub(crate) trait Conn {
    fn backend(&self) -> Backend;
    /// Runs a statement, answering the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Runs a query, answering all its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Runs statements without parameters, separated by `;` (migrations).
    fn execute_batch(&mut self, sql: &str) -> Result<()>;
    /// Ends the transaction, keeping its changes.
    fn commit(self) -> Result<()>
    where
        Self: Sized;
    /// Ends the transaction, dropping its changes. A failed rollback is
    /// moot: the backend's transaction handle retries it when dropped, or
    /// the pool discards the broken connection.
    fn rollback(self)
    where
        Self: Sized;
}

/// Runs `body` in the transaction `conn` holds and commits if it answers
/// `Ok` with no failed statement; otherwise rolls back (as does dropping
/// `conn` on a panic). The one transaction runner of both backends, for
/// the store's reads and writes and for migrations.
pub(crate) fn run<T>(
    mut conn: impl Conn,
    access: Access,
    body: impl FnOnce(&mut SqlTx<'_>) -> Result<T>,
) -> Result<T> {
    let (out, failed) = {
        let mut tx = SqlTx {
            conn: &mut conn,
            access,
            failed: false,
        };
        let out = body(&mut tx);
        (out, tx.failed)
    };
    match out {
        Err(err) => {
            conn.rollback();
            Err(err)
        }
        Ok(_) if failed => {
            conn.rollback();
            Err(DomainError::Internal(
                "an operation failed; the transaction was rolled back".into(),
            ))
        }
        Ok(value) => conn.commit().map(|()| value),
    }
}

/// Decodes one row into a record.
pub(crate) type Decoder<T> = fn(&Row) -> Result<T>;

/// An open transaction as the core sees it: implements every store trait
/// (`impl … for SqlTx` in each aggregate's module).
///
/// A failed statement poisons the transaction: every later statement
/// answers an error and `run` rolls back even if the body answers `Ok`.
/// PostgreSQL aborts a transaction at its first failed statement while
/// SQLite carries on; poisoning gives the core the same (stricter) contract
/// on both, so code tested on SQLite cannot silently lose writes on
/// PostgreSQL.
pub(crate) struct SqlTx<'a> {
    conn: &'a mut dyn Conn,
    access: Access,
    failed: bool,
}

/// What a transaction may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

impl SqlTx<'_> {
    pub fn backend(&self) -> Backend {
        self.conn.backend()
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// The poisoning guard: the only path from `SqlTx` to its connection.
    fn guard<T>(&mut self, op: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        if self.failed {
            return Err(DomainError::Internal(
                "the transaction was aborted by an earlier error".into(),
            ));
        }
        let out = op(&mut *self.conn);
        self.failed = out.is_err();
        out
    }

    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.guard(|conn| conn.execute(sql, params))
    }

    pub fn execute_batch(&mut self, sql: &str) -> Result<()> {
        self.guard(|conn| conn.execute_batch(sql))
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.guard(|conn| conn.query(sql, params))
    }

    /// Every row, each decoded by `decode`.
    pub fn query_all<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        decode: Decoder<T>,
    ) -> Result<Vec<T>> {
        self.query(sql, params)?.iter().map(decode).collect()
    }

    /// The first row, if any, decoded by `decode`.
    pub fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        decode: Decoder<T>,
    ) -> Result<Option<T>> {
        self.query(sql, params)?.first().map(decode).transpose()
    }

    /// The first row of a query that always answers one.
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query(sql, params)?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::Internal("query answered no row".into()))
    }

    /// A statement that changes at most one row: did it change one?
    pub fn changed(&mut self, sql: &str, params: &[Value]) -> Result<bool> {
        Ok(self.execute(sql, params)? > 0)
    }

    /// A statement whose count of changed rows does not matter.
    pub fn run(&mut self, sql: &str, params: &[Value]) -> Result<()> {
        self.execute(sql, params).map(drop)
    }
}

/// Are the `$n` placeholders of `sql` (outside quotes) numbered in the
/// order they first appear, as SQLite needs to bind them by position?
pub(crate) fn placeholders_in_order(sql: &str) -> bool {
    let mut highest = 0;
    let mut in_literal = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => in_literal = !in_literal,
            '$' if !in_literal => {
                let mut n = 0usize;
                while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + digit as usize;
                    chars.next();
                }
                if n > highest + 1 {
                    return false;
                }
                highest = highest.max(n);
            }
            _ => {}
        }
    }
    true
}

/// A `LIKE` pattern matching `needle` anywhere, with `%`, `_` and the escape
/// character `\` taken literally (the query says `ESCAPE '\'`).
pub(crate) fn contains_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_must_first_appear_in_order_outside_literals() {
        assert!(placeholders_in_order(
            "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '\\' AND d = '$9' AND e = $1"
        ));
        assert!(placeholders_in_order(
            "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10)"
        ));
        assert!(!placeholders_in_order("UPDATE t SET a = $2 WHERE id = $1"));
        assert!(!placeholders_in_order("SELECT 1 WHERE a = $1 AND b = $3"));
        assert!(placeholders_in_order("SELECT '$'"));
    }

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape_character() {
        assert_eq!(contains_pattern("ada"), "%ada%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn rows_decode_by_type_and_name_no_value() {
        let row = Row(vec![
            Value::Int(0),
            Value::Text("secret".into()),
            Value::Null,
        ]);
        assert!(!row.get::<bool>(0).unwrap());
        assert_eq!(row.get::<Option<String>>(2).unwrap(), None);
        let err = row.get::<i64>(1).unwrap_err().to_string();
        assert!(err.contains("column 1") && !err.contains("secret"), "{err}");
        assert!(row.get::<String>(9).is_err());
    }
}
