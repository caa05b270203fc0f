//! The isolation matrix: every endpoint of every surface × every kind of
//! caller → the status the rules promise, from one table. A refused caller
//! never gets into an org it does not belong to, and nobody outside an org
//! learns more than "not found".

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use roster_core::crypto::TokenSigner;
use roster_core::ids::{SessionId, UserId};
use serde_json::{json, Value};

use crate::{on_both_backends, TestApp, TestUser, PASSWORD};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    BadToken,
    ExpiredToken,
    OtherOrgOwner,
    Guest,
    Member,
    Admin,
    Owner,
    /// An API key of this org with the scope the endpoint needs.
    Key,
    /// An API key of this org with every scope but that one.
    KeyWithoutScope,
    /// An API key of another org, with every scope.
    OtherOrgKey,
    /// The owner's org-scoped access token for this org
    /// (`POST /orgs/{org}/access-token`).
    OrgToken,
    /// The owner's org-scoped access token for another org the owner also
    /// belongs to.
    OtherOrgToken,
}

const CALLERS: [Caller; 13] = [
    Caller::Anonymous,
    Caller::BadToken,
    Caller::ExpiredToken,
    Caller::OtherOrgOwner,
    Caller::Guest,
    Caller::Member,
    Caller::Admin,
    Caller::Owner,
    Caller::Key,
    Caller::KeyWithoutScope,
    Caller::OtherOrgKey,
    Caller::OrgToken,
    Caller::OtherOrgToken,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Guest,
    Member,
    Admin,
    Owner,
}

/// Who may call an endpoint, as the rules say.
#[derive(Clone, Copy, Debug)]
enum Access {
    /// No credential needed: every caller gets the same status.
    Public,
    /// Any logged-in person (a person's token; keys refused with 403).
    Person,
    /// An org named in the path: this role and up; keys need `scope`
    /// (`None`: keys are refused) and never act above admin.
    Org(Role, Option<&'static str>),
    /// The Members API: the org is the credential's (a key's); people with
    /// a plain token are refused; `other` is what a key of another org gets
    /// (it acts in its own org).
    CredentialOrg(&'static str, u16),
}

/// One row: an endpoint, a request that succeeds for an allowed caller,
/// who is allowed, and the success status.
struct Row {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    access: Access,
    ok: u16,
}

const fn row(
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    access: Access,
    ok: u16,
) -> Row {
    Row {
        method,
        path,
        body,
        access,
        ok,
    }
}

use Access::{CredentialOrg, Org, Person, Public};

/// Placeholders, filled from the fixture: {org} {target} {target_number}
/// {target_email} {member_user} {project} {invitation} {key_id}
/// {newbie_email} {newbie_username} {unique} {asset} {forged_token}.
/// One row a line, so the table reads as one: rustfmt would spread each
/// long row over seven.
#[rustfmt::skip]
fn table() -> Vec<Row> {
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    const PATCH: Method = Method::PATCH;
    const DELETE: Method = Method::DELETE;
    vec![
        // Operations.
        row(GET, "/healthz", None, Public, 200),
        row(GET, "/readyz", None, Public, 200),
        // The API documents and the docs page (`/docs` redirects to
        // `/docs/`; the client follows).
        row(GET, "/openapi.json", None, Public, 200),
        row(GET, "/openapi/members.json", None, Public, 200),
        row(GET, "/openapi/organization.json", None, Public, 200),
        row(GET, "/docs", None, Public, 200),
        row(GET, "/docs/", None, Public, 200),
        row(GET, "/docs/{asset}", None, Public, 200),
        // `/metrics` is off unless configured (tests/api/metrics.rs covers
        // its token); the matrix's server has it off.
        row(GET, "/metrics", None, Public, 404),
        // The console: API credentials (tokens, keys) never open it, so
        // every caller is a visitor without a console session. Its pages
        // lead to the login page (redirect, followed: 200) and every form
        // post without the console's CSRF cookie and field is refused
        // (403) before anything runs. Roles inside the console are checked
        // by tests/api/console.rs.
        row(GET, "/console", None, Public, 200),
        row(GET, "/console/", None, Public, 200),
        row(GET, "/console/signup", None, Public, 200),
        row(GET, "/console/login", None, Public, 200),
        // The verification link only shows a button (a GET verifies
        // nothing); the button's POST carries the CSRF field.
        row(GET, "/console/verify-email?token=ver_forged", None, Public, 200),
        row(POST, "/console/verify-email", None, Public, 403),
        row(GET, "/console/accept-invite?token=inv_forged", None, Public, 200),
        row(GET, "/console/orgs", None, Public, 200),
        row(GET, "/console/orgs/{org}", None, Public, 200),
        row(GET, "/console/orgs/{org}/delete", None, Public, 200),
        row(GET, "/console/orgs/{org}/members", None, Public, 200),
        row(GET, "/console/orgs/{org}/members/{target}/remove", None, Public, 200),
        row(GET, "/console/orgs/{org}/leave", None, Public, 200),
        row(GET, "/console/orgs/{org}/invitations", None, Public, 200),
        row(GET, "/console/orgs/{org}/invitations/{invitation}/revoke", None, Public, 200),
        row(GET, "/console/orgs/{org}/projects", None, Public, 200),
        row(GET, "/console/orgs/{org}/projects/{project}", None, Public, 200),
        row(GET, "/console/orgs/{org}/projects/{project}/delete", None, Public, 200),
        row(GET, "/console/orgs/{org}/projects/{project}/members/{target}/remove", None, Public, 200),
        row(GET, "/console/orgs/{org}/api-keys", None, Public, 200),
        row(GET, "/console/orgs/{org}/api-keys/{key_id}/revoke", None, Public, 200),
        row(GET, "/console/orgs/{org}/audit", None, Public, 200),
        row(GET, "/console/assets/{console_css}", None, Public, 200),
        row(POST, "/console/signup", None, Public, 403),
        row(POST, "/console/login", None, Public, 403),
        row(POST, "/console/logout", None, Public, 403),
        row(POST, "/console/resend-verification", None, Public, 403),
        row(POST, "/console/accept-invite", None, Public, 403),
        row(POST, "/console/orgs", None, Public, 403),
        row(POST, "/console/orgs/{org}", None, Public, 403),
        row(POST, "/console/orgs/{org}/delete", None, Public, 403),
        row(POST, "/console/orgs/{org}/members", None, Public, 403),
        row(POST, "/console/orgs/{org}/members/{target}/role", None, Public, 403),
        row(POST, "/console/orgs/{org}/members/{target}/remove", None, Public, 403),
        row(POST, "/console/orgs/{org}/leave", None, Public, 403),
        row(POST, "/console/orgs/{org}/invitations/{invitation}/resend", None, Public, 403),
        row(POST, "/console/orgs/{org}/invitations/{invitation}/revoke", None, Public, 403),
        row(POST, "/console/orgs/{org}/projects", None, Public, 403),
        row(POST, "/console/orgs/{org}/projects/{project}", None, Public, 403),
        row(POST, "/console/orgs/{org}/projects/{project}/delete", None, Public, 403),
        row(POST, "/console/orgs/{org}/projects/{project}/members", None, Public, 403),
        row(POST, "/console/orgs/{org}/projects/{project}/members/{target}/remove", None, Public, 403),
        row(POST, "/console/orgs/{org}/api-keys", None, Public, 403),
        row(POST, "/console/orgs/{org}/api-keys/{key_id}/revoke", None, Public, 403),
        // Accounts.
        row(POST, "/api/v1/auth/signup", Some(r#"{"email":"{unique}@example.com","password":"correct horse battery"}"#), Public, 201),
        // A new address each time: failed logins slow down per
        // (account, client address), and every caller asks from here.
        row(POST, "/api/v1/auth/login", Some(r#"{"email":"{unique}@example.com","password":"wrong horse battery"}"#), Public, 401),
        row(POST, "/api/v1/auth/refresh", Some(r#"{"refresh_token":"rt_forged"}"#), Public, 401),
        row(POST, "/api/v1/auth/verify-email", Some(r#"{"token":"ev_forged"}"#), Public, 404),
        row(POST, "/api/v1/auth/verify-email/resend", None, Person, 409),
        row(POST, "/api/v1/auth/logout", None, Person, 200),
        row(GET, "/api/v1/me", None, Person, 200),
        row(GET, "/api/v1/me/invitations", None, Person, 200),
        row(POST, "/api/v1/me/invitations/{invitation}/accept", None, Person, 404),
        row(POST, "/api/v1/me/invitations/{invitation}/decline", None, Person, 404),
        row(POST, "/api/v1/invitations/{forged_token}/accept", None, Person, 404),
        // Organizations.
        row(GET, "/api/v1/orgs", None, Person, 200),
        row(POST, "/api/v1/orgs", Some(r#"{"name":"Another"}"#), Person, 201),
        row(GET, "/api/v1/orgs/{org}", None, Org(Role::Guest, Some("org:read")), 200),
        row(PATCH, "/api/v1/orgs/{org}", Some(r#"{"description":"changed"}"#), Org(Role::Admin, Some("org:write")), 200),
        row(DELETE, "/api/v1/orgs/{org}", None, Org(Role::Owner, None), 200),
        row(POST, "/api/v1/orgs/{org}/transfer-ownership", Some(r#"{"member_id":"{target}"}"#), Org(Role::Owner, None), 200),
        row(POST, "/api/v1/orgs/{org}/access-token", None, Org(Role::Guest, None), 201),
        // Members.
        row(GET, "/api/v1/orgs/{org}/members", None, Org(Role::Member, Some("members:read")), 200),
        row(POST, "/api/v1/orgs/{org}/members", Some(r#"{"member_email":"{newbie_email}","member_role":"member"}"#), Org(Role::Admin, Some("members:write")), 201),
        row(GET, "/api/v1/orgs/{org}/members/{target}", None, Org(Role::Member, Some("members:read")), 200),
        row(PATCH, "/api/v1/orgs/{org}/members/{target}", Some(r#"{"member_role":"guest"}"#), Org(Role::Admin, Some("members:write")), 200),
        row(DELETE, "/api/v1/orgs/{org}/members/{target}", None, Org(Role::Admin, Some("members:write")), 200),
        // Projects.
        row(GET, "/api/v1/orgs/{org}/projects", None, Org(Role::Member, Some("projects:read")), 200),
        row(POST, "/api/v1/orgs/{org}/projects", Some(r#"{"name":"New project"}"#), Org(Role::Admin, Some("projects:write")), 201),
        row(GET, "/api/v1/orgs/{org}/projects/{project}", None, Org(Role::Member, Some("projects:read")), 200),
        row(PATCH, "/api/v1/orgs/{org}/projects/{project}", Some(r#"{"name":"Renamed"}"#), Org(Role::Admin, Some("projects:write")), 200),
        row(DELETE, "/api/v1/orgs/{org}/projects/{project}", None, Org(Role::Admin, Some("projects:write")), 200),
        row(GET, "/api/v1/orgs/{org}/projects/{project}/members", None, Org(Role::Member, Some("projects:read")), 200),
        row(POST, "/api/v1/orgs/{org}/projects/{project}/members", Some(r#"{"member_id":"{member_user}","member_role":"member"}"#), Org(Role::Admin, Some("projects:write")), 201),
        row(DELETE, "/api/v1/orgs/{org}/projects/{project}/members/{target}", None, Org(Role::Admin, Some("projects:write")), 200),
        // Invitations.
        row(GET, "/api/v1/orgs/{org}/invitations", None, Org(Role::Admin, Some("invitations:read")), 200),
        row(DELETE, "/api/v1/orgs/{org}/invitations/{invitation}", None, Org(Role::Admin, Some("invitations:write")), 200),
        row(POST, "/api/v1/orgs/{org}/invitations/{invitation}/resend", None, Org(Role::Admin, Some("invitations:write")), 200),
        // API keys: people only.
        row(GET, "/api/v1/orgs/{org}/api-keys", None, Org(Role::Admin, None), 200),
        row(POST, "/api/v1/orgs/{org}/api-keys", Some(r#"{"name":"k","scopes":["org:read"]}"#), Org(Role::Admin, None), 201),
        row(DELETE, "/api/v1/orgs/{org}/api-keys/{key_id}", None, Org(Role::Admin, None), 200),
        // Audit.
        row(GET, "/api/v1/orgs/{org}/audit-events", None, Org(Role::Admin, Some("audit:read")), 200),
        // The Members API.
        row(GET, "/v1/members", None, CredentialOrg("members:read", 200), 200),
        row(POST, "/v1/members", Some(r#"{"username":"{newbie_username}"}"#), CredentialOrg("members:write", 201), 201),
        row(GET, "/v1/members/{target_number}", None, CredentialOrg("members:read", 404), 200),
        row(PATCH, "/v1/members/{target_number}", Some(r#"{"roles":["guest"]}"#), CredentialOrg("members:write", 404), 200),
        row(DELETE, "/v1/members/{target_number}", None, CredentialOrg("members:write", 404), 204),
        // The Organization API. Bulk removal is open to every member (one
        // may leave); the items a caller may not remove fail one by one.
        row(GET, "/v2/organization/{org}/users", None, Org(Role::Member, Some("members:read")), 200),
        row(POST, "/v2/organization/{org}/users", Some(r#"{"users":[{"email":"{target_email}","organizationRole":"Guest"}]}"#), Org(Role::Admin, Some("members:write")), 200),
        row(DELETE, "/v2/organization/{org}/users", Some(r#"{"users":["{target_email}"]}"#), Org(Role::Guest, Some("members:write")), 200),
        row(GET, "/v2/organization/{org}/invites", None, Org(Role::Admin, Some("invitations:read")), 200),
        row(POST, "/v2/organization/{org}/invites", Some(r#"{"to":["{unique}@example.com"],"organizationRole":"Member"}"#), Org(Role::Admin, Some("invitations:write")), 200),
        row(DELETE, "/v2/organization/{org}/invites", Some(r#"{"invites":["{invitation}"]}"#), Org(Role::Admin, Some("invitations:write")), 200),
    ]
}

/// What the rules promise `caller` on `row`.
fn expected(row: &Row, caller: Caller) -> u16 {
    use Caller::*;
    let role = match caller {
        Guest => Some(Role::Guest),
        Member => Some(Role::Member),
        Admin => Some(Role::Admin),
        Owner => Some(Role::Owner),
        _ => None,
    };
    match row.access {
        Public => row.ok,
        _ if matches!(caller, Anonymous | BadToken | ExpiredToken) => 401,
        // An org-scoped token acts (as its owner) on endpoints about its
        // own org only; everything else is 403 `token_scope`.
        Person => match caller {
            OrgToken | OtherOrgToken => 403,
            Key | KeyWithoutScope | OtherOrgKey => 403,
            _ => row.ok,
        },
        Org(_, _) if caller == OrgToken => row.ok,
        Org(_, _) if caller == OtherOrgToken => 403,
        CredentialOrg(_, _) if caller == OrgToken => row.ok,
        CredentialOrg(_, other) if caller == OtherOrgToken => other,
        Org(min, scope) => match caller {
            OtherOrgOwner | OtherOrgKey => 404,
            Key if scope.is_some() && min <= Role::Admin => row.ok,
            Key | KeyWithoutScope => 403,
            _ if role.is_some_and(|r| r >= min) => row.ok,
            _ => 403,
        },
        CredentialOrg(_, other) => match caller {
            Key => row.ok,
            OtherOrgKey => other,
            _ => 403,
        },
    }
}

/// The people of the matrix, shared by every fixture.
struct People {
    owner: TestUser,
    admin: TestUser,
    member: TestUser,
    guest: TestUser,
    target: TestUser,
    other_owner: TestUser,
    other_key: String,
    /// An org the owner of every fixture also owns, for `OtherOrgToken`.
    owner_side_org: String,
    expired: String,
    newbie_email: String,
    newbie_username: String,
}

/// One org with everyone in place.
struct Fixture {
    org: String,
    project: String,
    invitation: String,
    key_id: String,
    target_number: String,
}

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

async fn verified_user(app: &TestApp, email: &str) -> TestUser {
    app.user(email).await
}

async fn people(app: &TestApp) -> People {
    let owner = verified_user(app, "owner@example.com").await;
    let admin = verified_user(app, "admin@example.com").await;
    let member = verified_user(app, "member@example.com").await;
    let guest = verified_user(app, "guest@example.com").await;
    let target = verified_user(app, "target@example.com").await;
    let other_owner = verified_user(app, "other@example.com").await;
    let newbie = app.user("newbie@example.com").await;
    let newbie_username = app.get("/me", &newbie.token).await.expect(200)["username"]
        .as_str()
        .unwrap()
        .to_string();
    let other_org = app.org(&other_owner, "Elsewhere").await;
    let other_key = app
        .api_key(&other_owner, &other_org, &TestApp::ALL_SCOPES)
        .await;
    let owner_side_org = app.org(&owner, "Side").await;
    People {
        owner_side_org,
        expired: expired_token(app, &owner).await,
        owner,
        admin,
        member,
        guest,
        target,
        other_owner,
        other_key,
        newbie_email: newbie.email,
        newbie_username,
    }
}

/// A correctly signed access token of a live session that expired a minute
/// ago (signed with the server's own key, read from its database).
async fn expired_token(app: &TestApp, owner: &TestUser) -> String {
    let url = app.database.url().to_string();
    let key = tokio::task::spawn_blocking(move || {
        let store = roster_store::open(&url).expect("open store");
        roster_core::store::read(&*store, |tx| tx.setting("access_token_signing_key"))
            .expect("read setting")
            .expect("signing key")
    })
    .await
    .unwrap();
    let claims: Value = {
        use base64::Engine;
        let payload = owner.token.split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&json).unwrap()
    };
    let user = UserId::parse(claims["sub"].as_str().unwrap()).unwrap();
    let session = SessionId::parse(claims["sid"].as_str().unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    TokenSigner::new(key.as_bytes()).issue(user, session, None, now - 3600, 60)
}

async fn fixture(app: &TestApp, p: &People) -> Fixture {
    let org = app.org(&p.owner, "Matrix").await;
    app.add(&p.owner, &org, &p.admin, "admin").await;
    app.add(&p.owner, &org, &p.member, "member").await;
    app.add(&p.owner, &org, &p.guest, "guest").await;
    app.add(&p.owner, &org, &p.target, "member").await;
    let project = app
        .post(
            &format!("/orgs/{org}/projects"),
            &p.owner.token,
            json!({"name": "P"}),
        )
        .await
        .expect(201);
    let project = project["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/orgs/{org}/projects/{project}/members"),
        &p.owner.token,
        json!({"member_id": p.target.id, "member_role": "member"}),
    )
    .await
    .expect(201);
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    app.post(
        &format!("/orgs/{org}/members"),
        &p.owner.token,
        json!({"member_email": format!("invitee{n}@example.com"), "member_role": "member"}),
    )
    .await
    .expect(201);
    let invitations = app
        .get(&format!("/orgs/{org}/invitations"), &p.owner.token)
        .await
        .expect(200);
    let invitation = invitations["data"][0]["id"].as_str().unwrap().to_string();
    let spare = app
        .post(
            &format!("/orgs/{org}/api-keys"),
            &p.owner.token,
            json!({"name": "spare", "scopes": ["org:read"]}),
        )
        .await
        .expect(201);
    let target_number = app.get("/me", &p.target.token).await.expect(200)["number"]
        .as_i64()
        .unwrap()
        .to_string();
    Fixture {
        org,
        project,
        invitation,
        key_id: spare["id"].as_str().unwrap().to_string(),
        target_number,
    }
}

fn fill(text: &str, p: &People, f: &Fixture) -> String {
    let unique = format!("u{}", UNIQUE.fetch_add(1, Ordering::Relaxed));
    text.replace("{org}", &f.org)
        .replace("{target_number}", &f.target_number)
        .replace("{target_email}", &p.target.email)
        .replace("{target}", &p.target.id)
        .replace("{member_user}", &p.member.id)
        .replace("{project}", &f.project)
        .replace("{invitation}", &f.invitation)
        .replace("{key_id}", &f.key_id)
        .replace("{newbie_email}", &p.newbie_email)
        .replace("{newbie_username}", &p.newbie_username)
        .replace("{unique}", &unique)
        .replace("{asset}", "swagger-initializer.js")
        .replace(
            "{console_css}",
            &format!("console-{}.css", env!("CARGO_PKG_VERSION")),
        )
        .replace("{forged_token}", "inv_forged")
}

/// A path template with every `{parameter}` segment made anonymous and
/// any query string dropped, so the table's placeholders (`{org}`) meet
/// the router's names (`{org_id}`).
fn route_shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let path = match path.strip_prefix(roster_http::openapi::TENANT_ALIAS_PREFIX) {
        // The second mount of the Tenant API is the same router as the
        // first (`the_tenant_api_is_served_under_both_prefixes`); its rows
        // are the `/api/v1` ones.
        Some(rest) => format!("{}{rest}", roster_http::openapi::TENANT_PREFIX),
        None => path.to_string(),
    };
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_table_has_a_row_for_every_route_of_the_server() {
    let rows: BTreeSet<(String, String)> = table()
        .iter()
        .map(|row| (row.method.to_string(), route_shape(row.path)))
        .collect();
    let routes: BTreeSet<(String, String)> = roster_http::openapi::all_routes()
        .iter()
        .map(|route| (route.method.to_string(), route_shape(&route.path)))
        .collect();
    let missing: Vec<_> = routes.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the isolation table: {missing:#?}"
    );
    let stale: Vec<_> = rows.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "rows for routes the server does not have: {stale:#?}"
    );
}

/// The credential of `caller`, made fresh where using it would spend it
/// (logging out ends a session).
async fn credential(
    app: &TestApp,
    row: &Row,
    caller: Caller,
    p: &People,
    f: &Fixture,
) -> Option<String> {
    let person = |user: &TestUser| user.clone();
    let user = match caller {
        Caller::Anonymous => return None,
        Caller::BadToken => return Some("not-a-token".to_string()),
        Caller::ExpiredToken => return Some(p.expired.clone()),
        Caller::OtherOrgKey => return Some(p.other_key.clone()),
        Caller::OrgToken => return Some(org_token(app, &p.owner, &f.org).await),
        Caller::OtherOrgToken => return Some(org_token(app, &p.owner, &p.owner_side_org).await),
        Caller::Key | Caller::KeyWithoutScope => {
            let needed = match row.access {
                Org(_, Some(scope)) | CredentialOrg(scope, _) => Some(scope),
                _ => None,
            };
            let scopes: Vec<&str> = TestApp::ALL_SCOPES
                .iter()
                .copied()
                .filter(|s| caller == Caller::Key || Some(*s) != needed)
                .collect();
            return Some(app.api_key(&p.owner, &f.org, &scopes).await);
        }
        Caller::OtherOrgOwner => person(&p.other_owner),
        Caller::Guest => person(&p.guest),
        Caller::Member => person(&p.member),
        Caller::Admin => person(&p.admin),
        Caller::Owner => person(&p.owner),
    };
    if row.path.ends_with("/logout") {
        let tokens = app.login(&user.email, PASSWORD).await.expect(200);
        return Some(tokens["access_token"].as_str().unwrap().to_string());
    }
    Some(user.token)
}

/// An org-scoped access token of `user`'s session for `org`.
async fn org_token(app: &TestApp, user: &TestUser, org: &str) -> String {
    let answer = app
        .post(&format!("/orgs/{org}/access-token"), &user.token, json!({}))
        .await
        .expect(201);
    answer["access_token"].as_str().unwrap().to_string()
}

on_both_backends! {
    async fn every_endpoint_answers_every_caller_as_the_rules_say(app) {
        let p = people(&app).await;
        let shared = fixture(&app, &p).await;
        let mut failures = Vec::new();
        let mut cells = 0;
        for row in table() {
            for caller in CALLERS {
                let fresh;
                let f = if row.method == Method::GET {
                    &shared
                } else {
                    fresh = fixture(&app, &p).await;
                    &fresh
                };
                let path = fill(row.path, &p, f);
                let body = row.body.map(|b| serde_json::from_str::<Value>(&fill(b, &p, f)).expect("table body"));
                let credential = credential(&app, &row, caller, &p, f).await;
                let answer = app.call_raw(row.method.clone(), &path, credential.as_deref(), body).await;
                let want = expected(&row, caller);
                cells += 1;
                if answer.status.as_u16() != want {
                    failures.push(format!("{} {} as {caller:?}: {} (expected {want}) {}", row.method, row.path, answer.status.as_u16(), answer.body));
                } else if want == 403
                    && matches!(caller, Caller::OrgToken | Caller::OtherOrgToken)
                    && !row.path.starts_with("/console")
                    && answer.body["code"] != "token_scope"
                    && answer.body["error"]["code"] != "token_scope"
                {
                    failures.push(format!("{} {} as {caller:?}: 403 but not token_scope: {}", row.method, row.path, answer.body));
                } else if want >= 400
                    // The console answers with HTML pages, not JSON errors.
                    && !row.path.starts_with("/console")
                    && !answer.body["code"].is_string()
                {
                    failures.push(format!("{} {} as {caller:?}: {want} without an error code: {}", row.method, row.path, answer.body));
                }
            }
        }
        assert!(failures.is_empty(), "{} of {cells} cells differ from the rules:\n{}", failures.len(), failures.join("\n"));
    }
}
