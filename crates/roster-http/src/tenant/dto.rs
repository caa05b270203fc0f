//! Wire shapes of the Tenant API: what the seed spec and DESIGN.md name,
//! built from core records. Requests are plain strings; the core parses.

use roster_core::model::{AuditEvent, Invitation, Member, Org, Project, ProjectMember, User};
use roster_core::pagination::Page;
use roster_core::role::OrgRole;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct UserResponse {
    pub id: String,
    pub number: i64,
    pub email: String,
    pub username: String,
    pub name: String,
    pub email_verified: bool,
    pub status: &'static str,
    pub created_at: String,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        Self {
            id: user.id.to_string(),
            number: user.number,
            email: user.email,
            username: user.username,
            name: user.name,
            email_verified: user.email_verified,
            status: user.status.as_str(),
            created_at: user.created_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize)]
pub struct OrgResponse {
    pub id: String,
    pub name: String,
    pub description: String,
    pub referral_code: String,
    pub status: &'static str,
    /// The caller's role in the org (an extension of the seed shape).
    pub role: &'static str,
    pub created_at: String,
    pub updated_at: String,
}

impl OrgResponse {
    pub fn new(org: Org, role: OrgRole) -> Self {
        Self {
            id: org.id.to_string(),
            name: org.name,
            description: org.description,
            referral_code: org.referral_code,
            status: org.status.as_str(),
            role: role.as_str(),
            created_at: org.created_at.to_rfc3339(),
            updated_at: org.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize)]
pub struct MemberResponse {
    pub member_id: String,
    pub member_email: String,
    pub member_role: &'static str,
    pub username: String,
    pub name: String,
    pub joined_at: String,
}

impl From<Member> for MemberResponse {
    fn from(member: Member) -> Self {
        Self {
            member_id: member.user.id.to_string(),
            member_email: member.user.email,
            member_role: member.role.as_str(),
            username: member.user.username,
            name: member.user.name,
            joined_at: member.joined_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize)]
pub struct AddMemberResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    pub member_email: String,
    pub member_role: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Serialize)]
pub struct ProjectResponse {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Project> for ProjectResponse {
    fn from(project: Project) -> Self {
        Self {
            id: project.id.to_string(),
            org_id: project.org_id.to_string(),
            name: project.name,
            description: project.description,
            status: project.status.as_str(),
            created_at: project.created_at.to_rfc3339(),
            updated_at: project.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize)]
pub struct ProjectMemberResponse {
    pub member_id: String,
    pub member_role: &'static str,
    pub member_email: String,
    pub added_at: String,
}

impl From<ProjectMember> for ProjectMemberResponse {
    fn from(member: ProjectMember) -> Self {
        Self {
            member_id: member.user_id.to_string(),
            member_role: member.role.as_str(),
            member_email: member.email,
            added_at: member.created_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize)]
pub struct AddProjectMemberResponse {
    pub member_id: String,
    pub member_role: &'static str,
    pub message: String,
}

#[derive(Serialize)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Serialize)]
pub struct AuditEventResponse {
    pub id: String,
    pub org_id: String,
    pub actor: Reference,
    pub action: String,
    pub target: Reference,
    pub summary: String,
    pub request_id: String,
    pub created_at: String,
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(event: AuditEvent) -> Self {
        Self {
            id: event.id.to_string(),
            org_id: event.org_id.to_string(),
            actor: Reference {
                kind: event.actor_type,
                id: event.actor_id,
            },
            action: event.action,
            target: Reference {
                kind: event.target_type,
                id: event.target_id,
            },
            summary: event.summary,
            request_id: event.request_id,
            created_at: event.created_at.to_rfc3339(),
        }
    }
}

/// An invitation as the Tenant API shows it.
#[derive(Serialize)]
pub struct InvitationResponse {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub role: &'static str,
    pub message: String,
    pub status: &'static str,
    pub project_assignments: Vec<ProjectAssignment>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
}

/// Parses project assignments of a request (at most 100).
pub fn parse_assignments(
    raw: &[ProjectAssignment],
) -> Result<
    Vec<(roster_core::ids::ProjectId, roster_core::role::ProjectRole)>,
    roster_core::DomainError,
> {
    if raw.len() > 100 {
        return Err(roster_core::DomainError::invalid(
            "project_assignments",
            "at most 100 projects",
        ));
    }
    raw.iter()
        .map(|a| {
            Ok((
                roster_core::ids::ProjectId::parse(&a.project_id)?,
                roster_core::role::ProjectRole::parse(&a.role)?,
            ))
        })
        .collect()
}

/// A project an invitation adds its invitee to on acceptance.
#[derive(Serialize, Deserialize)]
pub struct ProjectAssignment {
    pub project_id: String,
    pub role: String,
}

impl From<Invitation> for InvitationResponse {
    fn from(invitation: Invitation) -> Self {
        Self {
            id: invitation.id.to_string(),
            org_id: invitation.org_id.to_string(),
            email: invitation.email,
            role: invitation.role.as_str(),
            message: invitation.message,
            status: invitation.status.as_str(),
            project_assignments: invitation
                .project_assignments
                .iter()
                .map(|(project, role)| ProjectAssignment {
                    project_id: project.to_string(),
                    role: role.as_str().to_string(),
                })
                .collect(),
            created_by: invitation.created_by.map(|id| id.to_string()),
            created_at: invitation.created_at.to_rfc3339(),
            expires_at: invitation.expires_at.to_rfc3339(),
        }
    }
}

/// Every list: `{data, next_cursor}`.
#[derive(Serialize)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> ListResponse<T> {
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let page = page.map(f);
        Self {
            data: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

#[derive(Serialize)]
pub struct MessageResponse {
    pub message: String,
}

impl MessageResponse {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// `limit` and `cursor` as they came, parsed by the core.
#[derive(Deserialize, Default)]
pub struct PageParams {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// Member list query: paging plus `q` and `role`.
#[derive(Deserialize, Default)]
pub struct MemberListParams {
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub q: Option<String>,
    pub role: Option<String>,
}
