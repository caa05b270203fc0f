//! Wire shapes of the Tenant API: what the seed spec and DESIGN.md name,
//! built from core records. Requests are plain strings; the core parses.

use roster_core::model::{AuditEvent, Invitation, Member, Org, Project, ProjectMember, User};
use roster_core::pagination::Page;
use roster_core::role::OrgRole;
use roster_core::service::AddMemberOutcome;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::schema;

/// A user account.
#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    #[schema(format = Uuid)]
    pub id: String,
    /// Sequential positive number (the Members API's `user_id`).
    pub number: i64,
    pub email: String,
    pub username: String,
    pub name: String,
    pub email_verified: bool,
    #[schema(value_type = schema::ResourceState)]
    pub status: &'static str,
    #[schema(format = DateTime)]
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

/// Response payload containing organization details.
#[derive(Serialize, ToSchema)]
pub struct OrganizationResponse {
    /// Unique identifier for the organization.
    #[schema(format = Uuid)]
    pub id: String,
    /// Name of the organization.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Organization's description (empty when none was given).
    pub description: String,
    /// Referral code for the organization.
    pub referral_code: String,
    #[schema(value_type = schema::ResourceState)]
    pub status: &'static str,
    /// The caller's role in the org (an extension of the seed shape).
    #[schema(value_type = schema::OrganizationRole)]
    pub role: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl OrganizationResponse {
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

/// Organization member details.
#[derive(Serialize, ToSchema)]
pub struct OrganizationMemberResponse {
    /// The member's user id.
    #[schema(format = Uuid)]
    pub member_id: String,
    #[schema(format = Email)]
    pub member_email: String,
    #[schema(value_type = schema::OrganizationRole)]
    pub member_role: &'static str,
    pub username: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub joined_at: String,
}

impl From<Member> for OrganizationMemberResponse {
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

/// What adding a member did: added, re-roled (with `member_id`) or invited
/// (with `expires_at`); `message` says which.
#[derive(Serialize, ToSchema)]
pub struct AddOrganizationMemberResponse {
    /// The member's user id (absent for an invitation).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid, nullable = false)]
    pub member_id: Option<String>,
    #[schema(format = Email)]
    pub member_email: String,
    #[schema(value_type = schema::OrganizationRole)]
    pub member_role: &'static str,
    /// Which of the three outcomes happened.
    pub message: String,
    /// When the invitation expires (only for an invitation).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime, nullable = false)]
    pub expires_at: Option<String>,
}

impl From<AddMemberOutcome> for AddOrganizationMemberResponse {
    fn from(outcome: AddMemberOutcome) -> Self {
        let (member, message) = match outcome {
            AddMemberOutcome::Added(member) => {
                (member, "Member added to the organization successfully")
            }
            AddMemberOutcome::RoleUpdated(member) => (member, "Member role updated successfully"),
            AddMemberOutcome::Invited {
                invitation,
                refreshed,
                ..
            } => {
                return Self {
                    member_id: None,
                    member_email: invitation.email,
                    member_role: invitation.role.as_str(),
                    message: if refreshed {
                        "Invitation refreshed and sent successfully"
                    } else {
                        "Invitation sent successfully"
                    }
                    .to_string(),
                    expires_at: Some(invitation.expires_at.to_rfc3339()),
                }
            }
        };
        Self {
            member_id: Some(member.user.id.to_string()),
            member_email: member.user.email,
            member_role: member.role.as_str(),
            message: message.to_string(),
            expires_at: None,
        }
    }
}

/// A project of an organization.
#[derive(Serialize, ToSchema)]
pub struct ProjectResponse {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub org_id: String,
    pub name: String,
    pub description: String,
    #[schema(value_type = schema::ResourceState)]
    pub status: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
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

/// Project member details.
#[derive(Serialize, ToSchema)]
pub struct ProjectMemberResponse {
    /// The member's user id.
    #[schema(format = Uuid)]
    pub member_id: String,
    #[schema(value_type = schema::ProjectRole)]
    pub member_role: &'static str,
    #[schema(format = Email)]
    pub member_email: String,
    #[schema(format = DateTime)]
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

/// The project membership after adding (or re-roling) a member.
#[derive(Serialize, ToSchema)]
pub struct AddProjectMemberResponse {
    #[schema(format = Uuid)]
    pub member_id: String,
    #[schema(value_type = schema::ProjectRole)]
    pub member_role: &'static str,
    pub message: String,
}

/// A typed reference: who acted, or what was acted on.
#[derive(Serialize, ToSchema)]
pub struct Reference {
    /// `user` or `api_key` for an actor; the kind of resource for a target.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// One change in an organization.
#[derive(Serialize, ToSchema)]
pub struct AuditEventResponse {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub org_id: String,
    pub actor: Reference,
    pub action: String,
    pub target: Reference,
    pub summary: String,
    pub request_id: String,
    #[schema(format = DateTime)]
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
#[derive(Serialize, ToSchema)]
pub struct InvitationResponse {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub org_id: String,
    #[schema(format = Email)]
    pub email: String,
    #[schema(value_type = schema::OrganizationRole)]
    pub role: &'static str,
    pub message: String,
    #[schema(value_type = schema::InvitationStatus)]
    pub status: &'static str,
    pub project_assignments: Vec<ProjectAssignment>,
    /// The inviting user (null when an API key invited).
    #[schema(format = Uuid)]
    pub created_by: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
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
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProjectAssignment {
    #[schema(format = Uuid)]
    pub project_id: String,
    #[schema(value_type = schema::ProjectRole)]
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
#[derive(Serialize, ToSchema)]
pub struct ListResponse<T> {
    /// This page's items.
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
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

/// Generic success response containing a message.
#[derive(Serialize, ToSchema)]
pub struct SuccessResponse {
    pub message: String,
}

impl SuccessResponse {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// `limit` and `cursor` as they came, parsed by the core.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

crate::extract::keyset_query!(PageParams, MemberListParams);

/// Member list query: paging plus `q` and `role`.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberListParams {
    /// Page size (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Search by email, username or name.
    pub q: Option<String>,
    /// Only members with this role.
    #[param(value_type = Option<schema::OrganizationRole>)]
    pub role: Option<String>,
}
