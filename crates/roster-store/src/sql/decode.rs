//! How each column type is written (`From<T> for Value`, `params!`) and
//! read back (`FromValue`, `decode!`), once for every record. A value that
//! fails to decode (bad id, unknown enum text, bad JSON) is an `Internal`
//! error naming the column's position, never the value.

use roster_core::ids::{
    ApiKeyId, AuditEventId, InvitationId, OrgId, OutboxEmailId, ProjectId, SessionId, UserId,
};
use roster_core::model::InvitationStatus;
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::scope::Scope;
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;
use serde_json::{json, Value as Json};

use super::Value;

/// The parameters of a statement, each converted `Value::from`. Braces
/// keep a long list on a few lines: `params! { org.id, &org.name }`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        [$($crate::sql::Value::from($value)),*]
    };
}

/// Decodes `Record { field, … }` from consecutive columns of `row`,
/// starting at column `at` (the order of the record's column list).
macro_rules! decode {
    ($row:expr, $at:expr, $record:ident { $($field:ident),* $(,)? }) => {{
        let mut columns = $row.columns($at);
        Ok($record { $($field: columns.next()?),* })
    }};
}

/// `SELECT <columns><rest>`: a record's column list, then the rest of the
/// query, as one static string.
macro_rules! select {
    ($columns:expr, $rest:literal) => {
        concat!("SELECT ", $columns, $rest)
    };
}

/// `INSERT INTO <table> (<columns>) VALUES (<values>)`, as one static string.
macro_rules! insert_into {
    ($table:literal, $columns:expr, $values:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (",
            $columns,
            ") VALUES (",
            $values,
            ")"
        )
    };
}

pub(crate) use {decode, insert_into, params, select};

/// A column type: how it is read from a `Value`. `Err` names what was
/// expected.
pub(crate) trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, &'static str>;
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            _ => Err("text"),
        }
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Int(n) => Ok(*n),
            _ => Err("integer"),
        }
    }
}

/// PostgreSQL answers a `BOOLEAN`, SQLite an integer 0 or 1.
impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Bool(b) => Ok(*b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            _ => Err("boolean"),
        }
    }
}

impl FromValue for u32 {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        Ok(u32::try_from(i64::from_value(value)?).unwrap_or(u32::MAX))
    }
}

impl FromValue for Timestamp {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        i64::from_value(value).map(Timestamp)
    }
}

/// NULL is `None`.
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Null => Ok(None),
            _ => T::from_value(value).map(Some),
        }
    }
}

/// Text parsed by `parse`; `what` names the type in the error.
fn parsed<T, E>(
    value: &Value,
    what: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, &'static str> {
    match value {
        Value::Text(s) => parse(s).map_err(|_| what),
        _ => Err(what),
    }
}

/// Ids and enums: stored as their text (`$write`), read back by `$parse`.
macro_rules! text_columns {
    ($($type:ty => $what:literal, $parse:expr, $write:ident;)*) => {$(
        impl FromValue for $type {
            fn from_value(value: &Value) -> Result<Self, &'static str> {
                parsed(value, $what, $parse)
            }
        }

        impl From<$type> for Value {
            fn from(value: $type) -> Self {
                Value::text(value.$write())
            }
        }

        impl From<Option<$type>> for Value {
            fn from(value: Option<$type>) -> Self {
                value.map_or(Value::Null, Value::from)
            }
        }
    )*};
}

text_columns! {
    ApiKeyId => "id", str::parse, to_string;
    AuditEventId => "id", str::parse, to_string;
    InvitationId => "id", str::parse, to_string;
    OrgId => "id", str::parse, to_string;
    OutboxEmailId => "id", str::parse, to_string;
    ProjectId => "id", str::parse, to_string;
    SessionId => "id", str::parse, to_string;
    UserId => "id", str::parse, to_string;
    ResourceStatus => "status", ResourceStatus::parse, as_str;
    OrgRole => "org role", OrgRole::parse, as_str;
    ProjectRole => "project role", ProjectRole::parse, as_str;
    InvitationStatus => "invitation status", |s| InvitationStatus::parse(s).ok_or(()), as_str;
}

/// Membership labels: a JSON array of strings.
impl FromValue for Vec<String> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        parsed(value, "JSON array of strings", |s| serde_json::from_str(s))
    }
}

pub fn encode_labels(labels: &[String]) -> Value {
    Value::Text(Json::from(labels.to_vec()).to_string())
}

/// Invitation project assignments: `[{"project_id": "…", "role": "admin"}]`.
impl FromValue for Vec<(ProjectId, ProjectRole)> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        parsed(value, "JSON list of assignments", decode_assignments)
    }
}

pub fn encode_assignments(assignments: &[(ProjectId, ProjectRole)]) -> Value {
    let items: Vec<Json> = assignments
        .iter()
        .map(|(project, role)| json!({ "project_id": project.to_string(), "role": role.as_str() }))
        .collect();
    Value::Text(Json::Array(items).to_string())
}

fn decode_assignments(raw: &str) -> Result<Vec<(ProjectId, ProjectRole)>, ()> {
    let items: Vec<Json> = serde_json::from_str(raw).map_err(drop)?;
    items
        .iter()
        .map(|item| {
            let field = |name| item.get(name).and_then(Json::as_str).ok_or(());
            let project = ProjectId::parse(field("project_id")?).map_err(drop)?;
            Ok((project, ProjectRole::parse(field("role")?).map_err(drop)?))
        })
        .collect()
}

/// API key scopes: one space-separated string.
impl FromValue for Vec<Scope> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        parsed(value, "scope list", |s| {
            s.split_whitespace().map(Scope::parse).collect()
        })
    }
}

pub fn encode_scopes(scopes: &[Scope]) -> Value {
    let names: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
    Value::Text(names.join(" "))
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::text(value)
    }
}

impl From<&String> for Value {
    fn from(value: &String) -> Self {
        Value::text(value)
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl From<Option<&str>> for Value {
    fn from(value: Option<&str>) -> Self {
        Value::opt_text(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<u32> for Value {
    fn from(value: u32) -> Self {
        Value::Int(value.into())
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl From<Timestamp> for Value {
    fn from(value: Timestamp) -> Self {
        Value::Int(value.0)
    }
}

impl From<Option<Timestamp>> for Value {
    fn from(value: Option<Timestamp>) -> Self {
        Value::opt_int(value.map(|t| t.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_round_trip_through_json() {
        let assignments = vec![
            (ProjectId::new(), ProjectRole::Admin),
            (ProjectId::new(), ProjectRole::Member),
        ];
        let raw = encode_assignments(&assignments);
        let Value::Text(text) = &raw else {
            panic!("assignments are text")
        };
        assert!(text.contains("\"role\":\"admin\""), "{text}");
        assert_eq!(Vec::from_value(&raw), Ok(assignments));
        let empty = Value::text("[]");
        assert_eq!(
            Vec::<(ProjectId, ProjectRole)>::from_value(&empty),
            Ok(vec![])
        );
        let bad = Value::text("[{\"project_id\":\"x\",\"role\":\"admin\"}]");
        assert!(Vec::<(ProjectId, ProjectRole)>::from_value(&bad).is_err());
    }

    #[test]
    fn labels_round_trip_and_bad_json_names_no_value() {
        let labels = vec!["billing".to_string(), "on \"call\"".to_string()];
        assert_eq!(Vec::from_value(&encode_labels(&labels)), Ok(labels));
        let err = Vec::<String>::from_value(&Value::text("{oops")).unwrap_err();
        assert!(!err.contains("oops"));
    }

    #[test]
    fn booleans_decode_from_either_backend() {
        assert_eq!(bool::from_value(&Value::Bool(true)), Ok(true));
        assert_eq!(bool::from_value(&Value::Int(0)), Ok(false));
        assert!(bool::from_value(&Value::Text("x".into())).is_err());
        assert_eq!(Option::<String>::from_value(&Value::Null), Ok(None));
        assert!(i64::from_value(&Value::Text("x".into())).is_err());
    }
}
