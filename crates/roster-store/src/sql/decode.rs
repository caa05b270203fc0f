//! Decoders of the column types every record shares (ids, times,
//! statuses, roles) and of the JSON text columns; each record's own column
//! list and decoder sit with its SQL. A value that fails to decode (bad id,
//! unknown enum text, bad JSON) is an `Internal` error naming the column,
//! never the value.

use std::str::FromStr;

use roster_core::error::{DomainError, Result};
use roster_core::ids::ProjectId;
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;
use serde_json::{json, Value as Json};

use super::Row;

pub fn corrupt(column: &str, what: &str) -> DomainError {
    DomainError::Internal(format!("stored {column} is not a valid {what}"))
}

/// An id column.
pub fn id<T: FromStr>(row: &Row, i: usize, column: &str) -> Result<T> {
    row.text(i)?.parse().map_err(|_| corrupt(column, "id"))
}

pub fn opt_id<T: FromStr>(row: &Row, i: usize, column: &str) -> Result<Option<T>> {
    match row.opt_text(i)? {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| corrupt(column, "id")),
    }
}

pub fn ts(row: &Row, i: usize) -> Result<Timestamp> {
    row.int(i).map(Timestamp)
}

pub fn opt_ts(row: &Row, i: usize) -> Result<Option<Timestamp>> {
    Ok(row.opt_int(i)?.map(Timestamp))
}

pub fn status(row: &Row, i: usize) -> Result<ResourceStatus> {
    ResourceStatus::parse(&row.text(i)?).map_err(|_| corrupt("status", "status"))
}

pub fn org_role(row: &Row, i: usize) -> Result<OrgRole> {
    OrgRole::parse(&row.text(i)?).map_err(|_| corrupt("role", "org role"))
}

pub fn project_role(row: &Row, i: usize) -> Result<ProjectRole> {
    ProjectRole::parse(&row.text(i)?).map_err(|_| corrupt("role", "project role"))
}

/// Membership labels: a JSON array of strings.
pub fn encode_labels(labels: &[String]) -> String {
    Json::from(labels.to_vec()).to_string()
}

pub fn decode_labels(raw: &str) -> Result<Vec<String>> {
    serde_json::from_str(raw).map_err(|_| corrupt("memberships.labels", "JSON array of strings"))
}

/// Invitation project assignments: `[{"project_id": "…", "role": "admin"}]`.
pub fn encode_assignments(assignments: &[(ProjectId, ProjectRole)]) -> String {
    let items: Vec<Json> = assignments
        .iter()
        .map(|(project, role)| json!({ "project_id": project.to_string(), "role": role.as_str() }))
        .collect();
    Json::Array(items).to_string()
}

pub fn decode_assignments(raw: &str) -> Result<Vec<(ProjectId, ProjectRole)>> {
    let bad = || {
        corrupt(
            "invitations.project_assignments",
            "JSON list of assignments",
        )
    };
    let items: Vec<Json> = serde_json::from_str(raw).map_err(|_| bad())?;
    items
        .iter()
        .map(|item| {
            let project = item
                .get("project_id")
                .and_then(Json::as_str)
                .ok_or_else(bad)?;
            let role = item.get("role").and_then(Json::as_str).ok_or_else(bad)?;
            Ok((
                ProjectId::parse(project).map_err(|_| bad())?,
                ProjectRole::parse(role).map_err(|_| bad())?,
            ))
        })
        .collect()
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
        assert!(raw.contains("\"role\":\"admin\""), "{raw}");
        assert_eq!(decode_assignments(&raw).unwrap(), assignments);
        assert_eq!(decode_assignments("[]").unwrap(), vec![]);
        assert!(decode_assignments("[{\"project_id\":\"x\",\"role\":\"admin\"}]").is_err());
    }

    #[test]
    fn labels_round_trip_and_bad_json_is_internal() {
        let labels = vec!["billing".to_string(), "on \"call\"".to_string()];
        assert_eq!(decode_labels(&encode_labels(&labels)).unwrap(), labels);
        let err = decode_labels("{oops").unwrap_err();
        assert!(matches!(err, DomainError::Internal(_)));
        assert!(!err.to_string().contains("oops"));
    }
}
