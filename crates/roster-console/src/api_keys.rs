//! An org's API keys (admin and up): create (the secret is shown once,
//! with a copy button), list, revoke.

use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use maud::html;
use roster_core::ids::{ApiKeyId, OrgId};
use roster_core::scope::Scope;
use roster_core::time::Timestamp;

use crate::actions::{notice, Confirm, Notice};
use crate::error::PageError;
use crate::forms::{table_page, Form, ListQuery, Query};
use crate::layout::{self, csrf_field, when, Section};
use crate::org_page::OrgRequest;
use crate::paths::OrgPaths;

/// `GET /console/orgs/{org}/api-keys`.
pub async fn list(
    request: OrgRequest<OrgId>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::api_keys).await?;
    let cursor = query.cursor.clone();
    let keys = page
        .run(move |r, ctx, org| r.list_api_keys(ctx, org, &table_page(cursor)?))
        .await?;
    let paths = page.paths();
    let now = Timestamp::now();
    let content = html! {
        h1 { "API keys" }
        (notice(query.done.as_deref()))
        p { "A key acts in this organization only, with admin powers limited to its scopes." }
        (layout::paged_table(&keys, "No API keys yet.", &["Name", "Scopes", "Created", "Last used", "Expires", "Actions"], &paths.api_keys(), &[], |key| html! {
            @let revoked = key.revoked_at.is_some();
            @let expired = key.expires_at.is_some_and(|at| at <= now);
            tr {
                td data-label="Name" { (key.name) }
                td data-label="Scopes" {
                    @for scope in &key.scopes { span.badge { (scope.as_str()) } " " }
                }
                td data-label="Created" { (when(key.created_at)) }
                td data-label="Last used" { (key.last_used_at.map(when).unwrap_or_else(|| "never".into())) }
                td data-label="Expires" { (key.expires_at.map(when).unwrap_or_else(|| "never".into())) }
                td data-label="Actions" {
                    @if revoked { "revoked" }
                    @else if expired { "expired" }
                    @else { a href=(paths.api_key_revoke(key.id)) { "Revoke" } }
                }
            }
        }))
        section.card aria-labelledby="create-key" {
            h2 #create-key { "Create an API key" }
            form method="post" action=(paths.api_keys()) {
                (csrf_field(&page.visit))
                label for="key-name" { "Name" }
                input #key-name type="text" name="name" required maxlength="100" aria-describedby="key-name-hint";
                p.hint #key-name-hint { "Say what uses it, e.g. \"billing sync\"." }
                fieldset {
                    legend { "Scopes" }
                    @for scope in Scope::ALL {
                        @let id = format!("scope-{}", scope.as_str().replace(':', "-"));
                        div {
                            input id=(id) type="checkbox" name="scopes" value=(scope.as_str()) checked[scope.as_str().ends_with(":read")];
                            " "
                            label.inline for=(id) { (scope.as_str()) }
                        }
                    }
                }
                label for="key-expiry" { "Expires after" }
                select #key-expiry name="expires_in_days" {
                    option value="" { "never" }
                    option value="30" { "30 days" }
                    option value="90" selected { "90 days" }
                    option value="365" { "1 year" }
                }
                button type="submit" { "Create API key" }
            }
        }
    };
    Ok(page.render(Section::ApiKeys, "API keys", content))
}

/// `POST /console/orgs/{org}/api-keys`: creates the key and shows its
/// secret this one time (the answer is not cached: `no-store`).
pub async fn create(
    request: OrgRequest<OrgId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (page, _) = request.page(OrgPaths::api_keys).await?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let name = field("name").unwrap_or_default();
    let scopes: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "scopes")
        .map(|(_, v)| v.clone())
        .collect();
    let expires_at = match field("expires_in_days").as_deref().map(str::trim) {
        None | Some("") => None,
        Some(days) => {
            let days: i64 = days
                .parse()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| {
                    PageError::Status(
                        StatusCode::BAD_REQUEST,
                        "The expiry must be a number of days from 1 to 3650.".into(),
                    )
                })?;
            Some(Timestamp::now().plus_secs(days * 86_400))
        }
    };
    if scopes.is_empty() {
        return Err(PageError::Status(
            StatusCode::BAD_REQUEST,
            "Choose at least one scope for the key.".into(),
        ));
    }
    let (key, secret) = page
        .run(move |r, ctx, org| r.create_api_key(ctx, org, &name, &scopes, expires_at))
        .await?;
    let content = html! {
        h1 { "API key created" }
        div.card {
            p { "This is the key " strong { (key.name) } ". Copy it now: it is shown only once and cannot be recovered." }
            code.secret #new-key { (secret) }
            button.secondary type="button" data-copy="new-key" hidden { "Copy to clipboard" }
            p { a href=(page.paths().api_keys()) { "Done, back to API keys" } }
        }
    };
    Ok(page.render(Section::ApiKeys, "API key created", content))
}

/// `GET /console/orgs/{org}/api-keys/{id}/revoke`: asks first.
pub async fn confirm_revoke(request: OrgRequest<(OrgId, ApiKeyId)>) -> Result<Response, PageError> {
    let (page, (_, id)) = request.page(OrgPaths::api_keys).await?;
    let paths = page.paths();
    Ok(page.confirm(Confirm {
        section: Section::ApiKeys,
        question: "Revoke this API key?",
        detail: html! { p { "Every program using it stops working at once. This cannot be undone." } },
        action: paths.api_key_revoke(id),
        button: "Revoke key",
        cancel: paths.api_keys(),
    }))
}

/// `POST /console/orgs/{org}/api-keys/{id}/revoke`.
pub async fn revoke(request: OrgRequest<(OrgId, ApiKeyId)>) -> Result<Redirect, PageError> {
    request
        .act(
            OrgPaths::api_keys,
            Notice::KeyRevoked,
            |r, ctx, (org, id)| r.revoke_api_key(ctx, org, id),
        )
        .await
}
