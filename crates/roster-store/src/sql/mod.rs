//! The backend-neutral SQL layer: a tiny value/row model and the `Conn`
//! trait each backend implements for one open transaction. The SQL text is
//! written once, with PostgreSQL's `$1` placeholders (rewritten to `?1` for
//! SQLite by `sqlite_placeholders`); where the dialects differ the query
//! asks `Conn::dialect` and says why in place.

pub(crate) mod accounts;
mod api_keys;
mod audit;
mod decode;
mod idempotency;
mod invitations;
mod mail;
mod orgs;
mod projects;
mod tx;

use roster_core::error::{DomainError, Result};

pub(crate) use tx::SqlTx;

/// Which SQL dialect a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

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

    /// A `LIMIT`: the core never asks for more than fits.
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
    fn at(&self, i: usize) -> Result<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| DomainError::Internal(format!("result has no column {i}")))
    }

    fn wrong(&self, i: usize, want: &str) -> DomainError {
        let got = self.0.get(i).map_or("nothing", Value::kind);
        DomainError::Internal(format!("column {i}: expected {want}, found {got}"))
    }

    pub fn text(&self, i: usize) -> Result<String> {
        match self.at(i)? {
            Value::Text(s) => Ok(s.clone()),
            _ => Err(self.wrong(i, "text")),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        match self.at(i)? {
            Value::Int(n) => Ok(*n),
            _ => Err(self.wrong(i, "integer")),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// PostgreSQL answers a `BOOLEAN`, SQLite an integer 0 or 1.
    pub fn bool(&self, i: usize) -> Result<bool> {
        match self.at(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            _ => Err(self.wrong(i, "boolean")),
        }
    }
}

/// One open transaction of a backend. Errors are already `DomainError`s
/// (see `errors`).
pub(crate) trait Conn {
    fn dialect(&self) -> Dialect;
    /// Runs a statement, answering the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Runs a query, answering all its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
}

/// Rewrites `$1`-style placeholders to SQLite's `?1` (a bare `$1` would be a
/// *named* parameter in SQLite, numbered by first appearance). Text inside
/// single quotes is left alone.
pub(crate) fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_literal = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => in_literal = !in_literal,
            '$' if !in_literal && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// A `LIKE` pattern matching `needle` anywhere, with `%`, `_` and the escape
/// character `\` taken literally (the query says `ESCAPE '\'`).
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_literals_only() {
        assert_eq!(
            sqlite_placeholders(
                "SELECT a FROM t WHERE b = $1 AND c LIKE $12 ESCAPE '\\' AND d = '$3'"
            ),
            "SELECT a FROM t WHERE b = ?1 AND c LIKE ?12 ESCAPE '\\' AND d = '$3'"
        );
        assert_eq!(sqlite_placeholders("SELECT '$'"), "SELECT '$'");
    }

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape_character() {
        assert_eq!(contains_pattern("ada"), "%ada%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn rows_decode_booleans_from_either_backend() {
        let row = Row(vec![
            Value::Bool(true),
            Value::Int(0),
            Value::Text("x".into()),
            Value::Null,
        ]);
        assert!(row.bool(0).unwrap());
        assert!(!row.bool(1).unwrap());
        assert!(row.bool(2).is_err());
        assert_eq!(row.opt_text(3).unwrap(), None);
        assert!(row.int(2).is_err());
        assert!(row.text(9).is_err());
    }
}
