//! OpenAPI schemas of the core's enums, as the surfaces write them. Each
//! lists the wire names the core itself produces (`ALL` and `as_str`, or a
//! surface's own naming function), so a variant added to the core appears
//! in the documents without anyone copying it here. Requests still carry
//! plain strings that the core parses; these only describe.
//!
//! Each type has one name, the schema's: `schema::OrganizationRole`
//! documents `roster_core::role::OrgRole` under the name the Tenant API
//! gives it.

use std::borrow::Cow;

use roster_core::model::InvitationStatus as CoreInvitationStatus;
use roster_core::role::{OrgRole, ProjectRole as CoreProjectRole};
use roster_core::scope::Scope;
use roster_core::types::ResourceStatus;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};

/// The description utoipa's derive would give: the doc lines, trimmed,
/// one per line.
fn description(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|line| line.trim())
        .collect::<Vec<_>>()
        .join("\n")
}

fn string_enum(lines: &[&str], values: impl IntoIterator<Item = String>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description(lines)))
        .enum_values(Some(values))
        .into()
}

/// Declares a schema named like the type, a string enum of `values`.
macro_rules! string_enum_schema {
    ($(#[doc = $doc:literal])+ $name:ident = $values:expr) => {
        $(#[doc = $doc])+
        pub enum $name {}

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum(&[$($doc),+], $values)
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

string_enum_schema!(
    /// Role of a member in an organization (`guest` is an extension of the
    /// seed's enum). Documentation only: requests carry strings the core parses.
    OrganizationRole = OrgRole::ALL.map(|role| role.as_str().to_string())
);

string_enum_schema!(
    /// Role of a member in a project.
    ProjectRole = CoreProjectRole::ALL.map(|role| role.as_str().to_string())
);

string_enum_schema!(
    /// The lifecycle state of a resource (user/organization/project).
    ResourceState = ResourceStatus::ALL.map(|status| status.as_str().to_string())
);

string_enum_schema!(
    /// Where an invitation is in its life.
    InvitationStatus = CoreInvitationStatus::ALL.map(|status| status.as_str().to_string())
);

string_enum_schema!(
    /// A permission of an API key.
    ApiKeyScope = Scope::ALL.map(|scope| scope.as_str().to_string())
);

/// The Organization API's name of an invitation status: the core's,
/// capitalized (`Pending`).
pub(crate) fn ango_invitation_status(status: CoreInvitationStatus) -> &'static str {
    match status {
        CoreInvitationStatus::Pending => "Pending",
        CoreInvitationStatus::Sent => "Sent",
        CoreInvitationStatus::Accepted => "Accepted",
        CoreInvitationStatus::Declined => "Declined",
        CoreInvitationStatus::Revoked => "Revoked",
        CoreInvitationStatus::Expired => "Expired",
    }
}

/// The Organization API's name of a role: `Admin` (owner or admin),
/// `Member`, `Guest`.
pub(crate) fn ango_role(role: OrgRole) -> &'static str {
    match role {
        OrgRole::Owner | OrgRole::Admin => "Admin",
        OrgRole::Member => "Member",
        OrgRole::Guest => "Guest",
    }
}

/// The Organization API's roles, in the core's order, each once.
fn ango_roles() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for role in OrgRole::ALL {
        let name = ango_role(role).to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The schemas of the Organization API, whose names for the same things
/// differ (and whose document is separate, so the names do not clash).
pub mod ango {
    use super::*;

    string_enum_schema!(
        /// Where an invitation is in its life.
        InvitationStatus = CoreInvitationStatus::ALL
            .map(|status| ango_invitation_status(status).to_string())
    );

    string_enum_schema!(
        /// A role on this surface.
        OrganizationRole = ango_roles()
    );
}
