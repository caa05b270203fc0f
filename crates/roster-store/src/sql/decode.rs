//! Column lists and row decoders for each record, plus the JSON text
//! columns. A value that fails to decode (bad id, unknown enum text, bad
//! JSON) is an `Internal` error naming the column, never the value.

use std::str::FromStr;

use roster_core::error::{DomainError, Result};
use roster_core::ids::{ProjectId, UserId};
use roster_core::model::{AuditEvent, Invitation, InvitationStatus, Org, Project, User};
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;
use serde_json::{json, Value as Json};

use super::Row;

/// The columns `user` decodes, from `users u`.
macro_rules! user_cols {
    () => {
        "u.id, u.number, u.email, u.username, u.name, u.email_verified, u.status, u.created_at"
    };
}
/// How many columns `user_cols!` names.
pub const USER_WIDTH: usize = 8;

/// The columns `org` decodes, from `orgs o`.
macro_rules! org_cols {
    () => {
        "o.id, o.name, o.description, o.referral_code, o.status, o.created_at, o.updated_at"
    };
}

/// The columns `project` decodes, from `projects p`.
macro_rules! project_cols {
    () => {
        "p.id, p.org_id, p.name, p.description, p.status, p.created_at, p.updated_at"
    };
}

/// The columns `invitation` decodes, from `invitations`.
macro_rules! invitation_cols {
    () => {
        "id, org_id, email, role, message, status, project_assignments, token_hash, created_by, \
         created_at, expires_at"
    };
}

/// The columns `audit_event` decodes, from `audit_events`.
macro_rules! audit_cols {
    () => {
        "id, org_id, actor_type, actor_id, action, target_type, target_id, summary, request_id, \
         created_at"
    };
}

pub(crate) use {audit_cols, invitation_cols, org_cols, project_cols, user_cols};

fn corrupt(column: &str, what: &str) -> DomainError {
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

/// A user from `user_cols!()` starting at column `at`.
pub fn user(row: &Row, at: usize) -> Result<User> {
    Ok(User {
        id: id(row, at, "users.id")?,
        number: row.int(at + 1)?,
        email: row.text(at + 2)?,
        username: row.text(at + 3)?,
        name: row.text(at + 4)?,
        email_verified: row.bool(at + 5)?,
        status: status(row, at + 6)?,
        created_at: ts(row, at + 7)?,
    })
}

/// An org from `org_cols!()` starting at column 0.
pub fn org(row: &Row) -> Result<Org> {
    Ok(Org {
        id: id(row, 0, "orgs.id")?,
        name: row.text(1)?,
        description: row.text(2)?,
        referral_code: row.text(3)?,
        status: status(row, 4)?,
        created_at: ts(row, 5)?,
        updated_at: ts(row, 6)?,
    })
}

/// A project from `project_cols!()` starting at column 0.
pub fn project(row: &Row) -> Result<Project> {
    Ok(Project {
        id: id(row, 0, "projects.id")?,
        org_id: id(row, 1, "projects.org_id")?,
        name: row.text(2)?,
        description: row.text(3)?,
        status: status(row, 4)?,
        created_at: ts(row, 5)?,
        updated_at: ts(row, 6)?,
    })
}

/// An invitation from `invitation_cols!()`.
pub fn invitation(row: &Row) -> Result<Invitation> {
    Ok(Invitation {
        id: id(row, 0, "invitations.id")?,
        org_id: id(row, 1, "invitations.org_id")?,
        email: row.text(2)?,
        role: org_role(row, 3)?,
        message: row.text(4)?,
        status: InvitationStatus::parse(&row.text(5)?)
            .ok_or_else(|| corrupt("invitations.status", "invitation status"))?,
        project_assignments: decode_assignments(&row.text(6)?)?,
        token_hash: row.text(7)?,
        created_by: opt_id::<UserId>(row, 8, "invitations.created_by")?,
        created_at: ts(row, 9)?,
        expires_at: ts(row, 10)?,
    })
}

/// An audit event from `audit_cols!()`.
pub fn audit_event(row: &Row) -> Result<AuditEvent> {
    Ok(AuditEvent {
        id: id(row, 0, "audit_events.id")?,
        org_id: id(row, 1, "audit_events.org_id")?,
        actor_type: row.text(2)?,
        actor_id: row.text(3)?,
        action: row.text(4)?,
        target_type: row.text(5)?,
        target_id: row.text(6)?,
        summary: row.text(7)?,
        request_id: row.text(8)?,
        created_at: ts(row, 9)?,
    })
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
