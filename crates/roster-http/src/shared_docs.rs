//! Pieces of the OpenAPI descriptions that many operations share, written
//! once: the path parameters of each kind of route, and the sets of error
//! answers that whole groups of operations give. A handler names them in
//! its `#[utoipa::path]` (`params(OrgPath)`, `responses(…, OrgErrors)`);
//! what differs per operation stays written at the operation.
//!
//! The sets are types with no values (they only describe), so each is an
//! empty enum implementing utoipa's `IntoParams` or `IntoResponses`.

use std::collections::BTreeMap;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{KnownFormat, SchemaFormat};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type};

/// An error answer: `description`, with the surface's error body (the
/// component schema `schema`) as JSON.
pub(crate) fn error_answer(schema: &str, description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
}

fn error_answers(schema: &str, answers: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    answers
        .iter()
        .map(|(status, description)| (status.to_string(), error_answer(schema, description).into()))
        .collect()
}

/// A required path parameter: a UUID, or any text.
fn path_parameter(name: &str, description: &str, uuid: bool) -> Parameter {
    let mut schema = ObjectBuilder::new().schema_type(Type::String);
    if uuid {
        schema = schema.format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
    }
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .description(Some(description))
        .required(Required::True)
        .schema(Some(schema))
        .build()
}

/// Declares a set of error answers with the given error schema.
macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident, $schema:expr, [$(($status:literal, $description:literal)),+ $(,)?]) => {
        $(#[$doc])*
        pub(crate) enum $name {}

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                error_answers($schema, &[$(($status, $description)),+])
            }
        }
    };
}

/// Declares the path parameters of a kind of route: name, description,
/// and whether the value is a UUID.
macro_rules! path_set {
    ($(#[$doc:meta])* $name:ident, [$(($param:literal, $description:literal, $uuid:literal)),+ $(,)?]) => {
        $(#[$doc])*
        pub(crate) enum $name {}

        impl utoipa::IntoParams for $name {
            fn into_params(
                _parameter_in_provider: impl Fn() -> Option<ParameterIn>,
            ) -> Vec<Parameter> {
                vec![$(path_parameter($param, $description, $uuid)),+]
            }
        }
    };
}

const ERROR: &str = "ErrorResponse";
const ANGO_ERROR: &str = "AngoError";

path_set!(
    /// `/orgs/{org_id}…`
    OrgPath,
    [("org_id", "Organization ID", true)]
);
path_set!(
    /// `/orgs/{org_id}/projects/{project_id}…`
    OrgProjectPath,
    [
        ("org_id", "Organization ID", true),
        ("project_id", "Project ID", true),
    ]
);
path_set!(
    /// `/orgs/{org_id}/projects/{project_id}/members/{member_id}`
    OrgProjectMemberPath,
    [
        ("org_id", "Organization ID", true),
        ("project_id", "Project ID", true),
        ("member_id", "The member's user id", true),
    ]
);
path_set!(
    /// `/orgs/{org_id}/members/{member_id}`
    OrgMemberPath,
    [
        ("org_id", "Organization ID", true),
        ("member_id", "The member's user id", true),
    ]
);
path_set!(
    /// `/orgs/{org_id}/invitations/{invitation_id}…`
    OrgInvitationPath,
    [
        ("org_id", "Organization ID", true),
        ("invitation_id", "Invitation ID", true),
    ]
);
path_set!(
    /// `/me/invitations/{invitation_id}/…`
    InvitationPath,
    [("invitation_id", "Invitation ID", true)]
);
path_set!(
    /// The Organization API's `/v2/organization/{orgId}/…`
    AngoOrgPath,
    [("orgId", "Organization ID", false)]
);

error_set!(
    /// An org's resource, for an admin (or a key with the scope).
    OrgErrors,
    ERROR,
    [
        (403, "Insufficient permissions"),
        (404, "Organization not found"),
    ]
);
error_set!(
    /// A project, or what is in one.
    ProjectErrors,
    ERROR,
    [
        (403, "Insufficient permissions"),
        (404, "Organization or project not found"),
    ]
);
error_set!(
    /// One member of an org.
    MemberErrors,
    ERROR,
    [
        (403, "Insufficient permissions"),
        (404, "Organization or member not found"),
    ]
);
error_set!(
    /// One open invitation of an org.
    OpenInvitationErrors,
    ERROR,
    [
        (403, "Insufficient permissions"),
        (404, "Organization or invitation not found"),
        (409, "The invitation is no longer open"),
    ]
);
error_set!(
    /// The caller answering an invitation to its own address.
    MyInvitationErrors,
    ERROR,
    [
        (
            403,
            "The caller's email is not verified, or the caller is an API key"
        ),
        (404, "No such invitation to the caller"),
        (409, "The invitation was already used"),
        (410, "The invitation has expired or was revoked"),
    ]
);
error_set!(
    /// Every operation of the Organization API.
    AngoErrors,
    ANGO_ERROR,
    [
        (403, "Insufficient permissions or scope"),
        (404, "Organization not found"),
    ]
);
