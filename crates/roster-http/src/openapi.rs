//! The OpenAPI 3.1 documents of the surfaces, generated from the handlers'
//! `#[utoipa::path]` annotations. Each surface builds its routes with
//! utoipa-axum's `OpenApiRouter` and `routes!`, so a route and its
//! description are registered by the same line and cannot drift apart.
//!
//! What every operation shares (security, the error body, the statuses
//! that the common layers answer, the `Idempotency-Key` header) is added
//! here once, after the routes are collected, rather than on each handler.
//!
//! Also owns `/openapi.json`, `/openapi/{surface}.json`, the offline
//! Swagger UI at `/docs`, and `all_routes()`, the list the isolation
//! matrix checks its table against.

use axum::http::{HeaderName, HeaderValue};
use axum::Router;
use roster_core::service::API_KEY_PREFIX;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, Required, ResponseBuilder, Type};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::AppState;

/// Where the Tenant API is mounted (it is mounted again under
/// [`TENANT_ALIAS_PREFIX`]; the document describes the first).
pub const TENANT_PREFIX: &str = "/api/v1";
/// The second mount of the Tenant API (the seed's gateway path).
pub const TENANT_ALIAS_PREFIX: &str = "/tenant/api/v1";

/// The security scheme of `Authorization: Bearer <access token or API key>`.
pub const BEARER_SCHEME: &str = "BearerAuth";
/// The security scheme of the `apikey: <key>` header.
pub const APIKEY_SCHEME: &str = "ApiKeyAuth";

/// One of the documented HTTP surfaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// The native Tenant API (`/api/v1`).
    Tenant,
    /// The Members API (Spice-style, `/v1/members`).
    Members,
    /// The Organization API (Ango-style, `/v2/organization/{orgId}/…`).
    Organization,
}

impl Surface {
    /// Every documented surface.
    pub const ALL: [Surface; 3] = [Surface::Tenant, Surface::Members, Surface::Organization];

    /// The name used by `roster openapi --surface`.
    pub fn name(self) -> &'static str {
        match self {
            Surface::Tenant => "tenant",
            Surface::Members => "members",
            Surface::Organization => "organization",
        }
    }

    /// Parses a `--surface` value.
    pub fn parse(raw: &str) -> Option<Surface> {
        Surface::ALL.into_iter().find(|s| s.name() == raw)
    }

    /// Where the server serves the surface's document.
    pub fn document_path(self) -> &'static str {
        match self {
            Surface::Tenant => "/openapi.json",
            Surface::Members => "/openapi/members.json",
            Surface::Organization => "/openapi/organization.json",
        }
    }

    /// The surface's OpenAPI document.
    pub fn document(self) -> utoipa::openapi::OpenApi {
        let (router, schemes, error_schema): (_, &[&str], _) = match self {
            Surface::Tenant => (
                tenant_router(),
                &[BEARER_SCHEME, APIKEY_SCHEME],
                "ErrorResponse",
            ),
            Surface::Members => (members_router(), &[BEARER_SCHEME], "ErrorResponse"),
            Surface::Organization => (organization_router(), &[APIKEY_SCHEME], "AngoError"),
        };
        let (_, mut doc) = router.split_for_parts();
        doc.info.version = env!("CARGO_PKG_VERSION").to_string();
        finish(&mut doc, schemes, error_schema);
        doc
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster Tenant API",
        description = "Organizations, projects and memberships: the seed Tenant API plus \
Roster's extensions (accounts, projects, invitations, API keys, audit). Lists take \
`limit` (1-1000, default 100) and `cursor` and answer `{data, next_cursor}`. Errors are \
`{code, message}` with a stable snake_case `code`. Every POST, PATCH and DELETE takes an \
optional `Idempotency-Key` header. The same API is served again under `/tenant/api/v1`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "Accounts", description = "Sign-up, login, sessions and the caller's account"),
        (name = "Organizations", description = "Organizations the caller belongs to"),
        (name = "Organization Members", description = "Members of an organization"),
        (name = "Projects", description = "Projects of an organization"),
        (name = "Project Members", description = "Members of a project"),
        (name = "Invitations", description = "Invitations by email"),
        (name = "API Keys", description = "Organization API keys"),
        (name = "Audit", description = "The audit log of an organization"),
    )
)]
struct TenantDoc;

/// The Tenant API's routes with their descriptions, under `/api/v1`.
pub(crate) fn tenant_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(TenantDoc::openapi()).nest(TENANT_PREFIX, crate::tenant::router())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster Members API",
        description = "The members of the authenticated organization (Spice-style): the \
organization is the one of the API key, or of an org-scoped access token from \
`POST /api/v1/orgs/{org_id}/access-token`. Members are addressed by their user number; \
`roles` is the base role plus free labels. Errors are `{code, message}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags((name = "Members", description = "Members of the authenticated organization"))
)]
struct MembersDoc;

/// The Members API's routes with their descriptions.
pub(crate) fn members_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(MembersDoc::openapi()).merge(crate::spice::router())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster Organization API",
        description = "Members and invitations of an organization by page number and by email, \
with bulk changes (Ango-style): roles `Admin`, `Member`, `Guest`; answers in a \
`{status, data}` envelope; each item of a bulk request succeeds or fails on its own. \
Authenticate with the header `apikey: <key>` (or `apikey: apikey <key>`).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags((name = "Organization", description = "Members and invitations of an organization")),
    // Every operation names its errors through `shared_docs::AngoErrors`,
    // which refers to this schema by name.
    components(schemas(crate::ango::AngoError))
)]
struct OrganizationDoc;

/// The Organization API's routes with their descriptions.
pub(crate) fn organization_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(OrganizationDoc::openapi()).merge(crate::ango::router())
}

/// Adds what every operation of a surface shares: the security schemes
/// (`schemes` are the ones the surface accepts; an operation that declares
/// its own security keeps it), the error schema, and the error statuses that
/// the common layers answer for any route.
fn finish(doc: &mut utoipa::openapi::OpenApi, schemes: &[&str], error_schema: &str) {
    let components = doc.components.get_or_insert_with(Default::default);
    for scheme in schemes {
        let definition = match *scheme {
            BEARER_SCHEME => SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(format!(
                        "An access token from `POST /api/v1/auth/login`, or an API key \
                         (`{API_KEY_PREFIX}…`) from `POST /api/v1/orgs/{{org_id}}/api-keys`."
                    )))
                    .build(),
            ),
            _ => SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "apikey",
                "An API key, as `apikey: <key>` or `apikey: apikey <key>`.",
            ))),
        };
        components
            .security_schemes
            .insert((*scheme).to_string(), definition);
    }
    for item in doc.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.patch, true),
            (&mut item.put, true),
            (&mut item.delete, true),
        ];
        for (operation, writes) in operations {
            if let Some(operation) = operation.as_mut() {
                finish_operation(operation, schemes, error_schema, writes);
            }
        }
    }
}

fn finish_operation(operation: &mut Operation, schemes: &[&str], error_schema: &str, writes: bool) {
    // The first line of a handler's doc comment is its summary: a title,
    // without the sentence's full stop.
    if let Some(summary) = operation.summary.as_mut() {
        if let Some(title) = summary.strip_suffix('.') {
            *summary = title.to_string();
        }
    }
    let secured = operation.security.is_none();
    if secured {
        operation.security = Some(
            schemes
                .iter()
                .map(|scheme| SecurityRequirement::new::<_, _, &str>(*scheme, []))
                .collect(),
        );
    }
    let mut add = |status: &str, description: &str| {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(error_schema)))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(response.into());
    };
    add(
        "400",
        "Invalid input: a malformed id, query parameter or body",
    );
    if secured {
        add("401", "Missing or invalid credentials");
    }
    if operation.request_body.is_some() {
        add("413", "The request body is too large");
        add("415", "The request body is not `application/json`");
    }
    if writes {
        add(
            "409",
            "Conflict (or an `Idempotency-Key` whose first request is still running, or whose \
             first answer carried a secret: `idempotency_secret`)",
        );
        add(
            "422",
            "The `Idempotency-Key` was used before with another request",
        );
    }
    add(
        "500",
        "Internal server error (details are in the server log)",
    );
    if writes {
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "A retry by the same caller (user or API key), to the same method and path, \
                 with the same key and body within 24 hours gets the first answer again and \
                 changes nothing. An answer that carried a secret (a token, an API key) is \
                 never stored: its retry gets 409 `idempotency_secret` and nothing runs again. \
                 Requests without valid credentials ignore the header.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[\\x21-\\x7e]+$")),
            ))
            .build();
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(parameter);
    }
}

/// `/openapi.json`, `/openapi/{surface}.json` and the Swagger UI at `/docs`,
/// whose assets are compiled into the binary (no CDN: it works offline).
pub(crate) fn docs_router() -> Router<AppState> {
    // No validator badge: it would send the document to an outside service.
    let mut ui = SwaggerUi::new("/docs").config(Config::default().validator_url("none"));
    for surface in Surface::ALL {
        ui = ui.url(surface.document_path(), surface.document());
    }
    Router::from(ui).layer(SetResponseHeaderLayer::overriding(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(DOCS_CSP),
    ))
}

/// The page loads its scripts, styles and documents from this server only;
/// Swagger UI sets inline styles and data: images, and nothing may frame it.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

/// A route the server answers: method and path template (`{name}` for a
/// path parameter).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: &'static str,
    pub path: String,
}

/// Routes that are in no OpenAPI document, with their full path (a
/// nested router's routes with its prefix). A module that adds an
/// undocumented route lists it here, and the isolation matrix
/// (`crates/roster/tests/api/isolation.rs`) then asks for a row for it.
const UNDOCUMENTED_ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    // The Swagger UI (`/docs/` and its assets are served by one wildcard
    // route); the documents' own paths are added from `Surface::ALL`.
    ("GET", "/docs"),
    ("GET", "/docs/"),
    ("GET", "/docs/{*rest}"),
    // Operations: served only when metrics are configured (and then on
    // the main listener only with a token).
    ("GET", "/metrics"),
    // The console's root with a slash, redirected to the root.
    ("GET", "/console/"),
    // The console's pages are listed by the console itself
    // (`roster_console::ROUTES`), added in `all_routes`.
];

/// Every route of the server: the documented ones of every surface (the
/// Tenant API under both of its prefixes) and the undocumented ones.
pub fn all_routes() -> Vec<Route> {
    let mut routes = Vec::new();
    for surface in Surface::ALL {
        let doc = surface.document();
        for (path, item) in &doc.paths.paths {
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (method, present) in methods {
                if !present {
                    continue;
                }
                routes.push(Route {
                    method,
                    path: path.clone(),
                });
                if let Some(rest) = path.strip_prefix(TENANT_PREFIX) {
                    if surface == Surface::Tenant {
                        routes.push(Route {
                            method,
                            path: format!("{TENANT_ALIAS_PREFIX}{rest}"),
                        });
                    }
                }
            }
        }
    }
    for surface in Surface::ALL {
        routes.push(Route {
            method: "GET",
            path: surface.document_path().to_string(),
        });
    }
    for (method, path) in UNDOCUMENTED_ROUTES {
        routes.push(Route {
            method,
            path: (*path).to_string(),
        });
    }
    for (method, path) in roster_console::ROUTES {
        routes.push(Route {
            method,
            // axum serves a nested router's `/` at the mount itself.
            path: match *path {
                "/" => roster_console::MOUNT.to_string(),
                _ => format!("{}{path}", roster_console::MOUNT),
            },
        });
    }
    routes.sort();
    routes.dedup();
    routes
}
