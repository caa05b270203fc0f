//! SQL for projects and project memberships.

use roster_core::error::Result;
use roster_core::ids::{OrgId, ProjectId, UserId};
use roster_core::model::{Project, ProjectMember};
use roster_core::role::ProjectRole;
use roster_core::time::Timestamp;

use super::decode::{self, project_cols};
use super::{Row, SqlTx, Value};

pub fn insert_project(tx: &mut SqlTx, project: &Project) -> Result<()> {
    tx.execute(
        "INSERT INTO projects (id, org_id, name, description, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Value::text(project.id),
            Value::text(project.org_id),
            Value::text(&project.name),
            Value::text(&project.description),
            Value::text(project.status.as_str()),
            Value::Int(project.created_at.0),
            Value::Int(project.updated_at.0),
        ],
    )?;
    Ok(())
}

/// The project, only if it belongs to `org`.
pub fn project(tx: &mut SqlTx, org: OrgId, id: ProjectId) -> Result<Option<Project>> {
    let sql = concat!(
        "SELECT ",
        project_cols!(),
        " FROM projects p WHERE p.id = $1 AND p.org_id = $2"
    );
    let row = tx.query_opt(sql, &[Value::text(id), Value::text(org)])?;
    row.map(|row| decode::project(&row)).transpose()
}

/// Updates name, description, status and `updated_at`; a project never
/// moves to another org.
pub fn update_project(tx: &mut SqlTx, project: &Project) -> Result<()> {
    tx.execute(
        "UPDATE projects SET name = $3, description = $4, status = $5, updated_at = $6 \
         WHERE id = $1 AND org_id = $2",
        &[
            Value::text(project.id),
            Value::text(project.org_id),
            Value::text(&project.name),
            Value::text(&project.description),
            Value::text(project.status.as_str()),
            Value::Int(project.updated_at.0),
        ],
    )?;
    Ok(())
}

/// Its members go by `ON DELETE CASCADE`.
pub fn delete_project(tx: &mut SqlTx, org: OrgId, id: ProjectId) -> Result<()> {
    tx.execute(
        "DELETE FROM projects WHERE id = $1 AND org_id = $2",
        &[Value::text(id), Value::text(org)],
    )?;
    Ok(())
}

/// One page in id order, by the index (org_id, id).
pub fn list_projects(
    tx: &mut SqlTx,
    org: OrgId,
    after: Option<ProjectId>,
    limit: usize,
) -> Result<Vec<Project>> {
    let sql = concat!(
        "SELECT ",
        project_cols!(),
        " FROM projects p WHERE p.org_id = $1 AND p.id > $2 ORDER BY p.id LIMIT $3"
    );
    let rows = tx.query(
        sql,
        &[Value::text(org), Value::after(after), Value::limit(limit)],
    )?;
    rows.iter().map(decode::project).collect()
}

const MEMBER_SELECT: &str = "SELECT pm.project_id, pm.user_id, u.email, pm.role, pm.created_at \
     FROM project_members pm JOIN users u ON u.id = pm.user_id ";

fn project_member_from(row: &Row) -> Result<ProjectMember> {
    Ok(ProjectMember {
        project_id: decode::id(row, 0, "project_members.project_id")?,
        user_id: decode::id(row, 1, "project_members.user_id")?,
        email: row.text(2)?,
        role: decode::project_role(row, 3)?,
        created_at: decode::ts(row, 4)?,
    })
}

pub fn project_member(
    tx: &mut SqlTx,
    project: ProjectId,
    user: UserId,
) -> Result<Option<ProjectMember>> {
    let sql = format!("{MEMBER_SELECT}WHERE pm.project_id = $1 AND pm.user_id = $2");
    let row = tx.query_opt(&sql, &[Value::text(project), Value::text(user)])?;
    row.map(|row| project_member_from(&row)).transpose()
}

pub fn insert_project_member(
    tx: &mut SqlTx,
    project: ProjectId,
    user: UserId,
    role: ProjectRole,
    at: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO project_members (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        &[Value::text(project), Value::text(user), Value::text(role.as_str()), Value::Int(at.0)],
    )?;
    Ok(())
}

pub fn update_project_member_role(
    tx: &mut SqlTx,
    project: ProjectId,
    user: UserId,
    role: ProjectRole,
) -> Result<()> {
    tx.execute(
        "UPDATE project_members SET role = $3 WHERE project_id = $1 AND user_id = $2",
        &[
            Value::text(project),
            Value::text(user),
            Value::text(role.as_str()),
        ],
    )?;
    Ok(())
}

pub fn delete_project_member(tx: &mut SqlTx, project: ProjectId, user: UserId) -> Result<()> {
    tx.execute(
        "DELETE FROM project_members WHERE project_id = $1 AND user_id = $2",
        &[Value::text(project), Value::text(user)],
    )?;
    Ok(())
}

/// One page in user-id order, by the primary key (project_id, user_id);
/// `u.id > $2` repeats the bound on the joined side (see
/// `orgs::list_members`).
pub fn list_project_members(
    tx: &mut SqlTx,
    project: ProjectId,
    after: Option<UserId>,
    limit: usize,
) -> Result<Vec<ProjectMember>> {
    let sql = format!(
        "{MEMBER_SELECT}WHERE pm.project_id = $1 AND pm.user_id > $2 AND u.id > $2 \
         ORDER BY pm.user_id LIMIT $3"
    );
    let rows = tx.query(
        &sql,
        &[
            Value::text(project),
            Value::after(after),
            Value::limit(limit),
        ],
    )?;
    rows.iter().map(project_member_from).collect()
}
