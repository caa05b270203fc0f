//! The Organization API (Ango-style, `/v2/organization/{orgId}/…`): every
//! endpoint with its successes and failures, bulk items reported one by
//! one, every success body checked against `ango-organization.openapi.json`
//! by a JSON-schema validator (the spec documents no error statuses; errors
//! keep the surface's envelope, `{status: "error", code, message}`).

use std::sync::OnceLock;

use reqwest::Method;
use roster_testkit::Spec;
use serde_json::{json, Value};

use crate::{on_both_backends, Answer, TestApp};

fn spec() -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("ango-organization"))
        .as_ref()
}

const USERS: &str = "/organization/{orgId}/users";
const INVITES: &str = "/organization/{orgId}/invites";

/// Calls the Organization API with the `apikey` header and checks the
/// answer: a 200 against the spec, an error against the envelope.
pub async fn ango(
    app: &TestApp,
    method: Method,
    path: &str,
    template: &str,
    key: &str,
    body: Option<Value>,
) -> Answer {
    let answer = app
        .call_apikey(method.clone(), &format!("/v2{path}"), key, body)
        .await;
    if answer.status == 200 {
        assert_eq!(answer.body["status"], "success", "{}", answer.body);
        if let Some(spec) = spec() {
            if let Err(e) = spec.check(method.as_str(), template, 200, &answer.body) {
                panic!("{e}");
            }
        }
    } else {
        assert_eq!(
            answer.body["status"], "error",
            "error outside the envelope: {}",
            answer.body
        );
    }
    answer
}

pub async fn users(app: &TestApp, org: &str, key: &str, query: &str) -> Answer {
    ango(
        app,
        Method::GET,
        &format!("/organization/{org}/users{query}"),
        USERS,
        key,
        None,
    )
    .await
}

pub async fn update(app: &TestApp, org: &str, key: &str, body: Value) -> Answer {
    ango(
        app,
        Method::POST,
        &format!("/organization/{org}/users"),
        USERS,
        key,
        Some(body),
    )
    .await
}

pub async fn remove(app: &TestApp, org: &str, key: &str, body: Value) -> Answer {
    ango(
        app,
        Method::DELETE,
        &format!("/organization/{org}/users"),
        USERS,
        key,
        Some(body),
    )
    .await
}

pub async fn invites(app: &TestApp, org: &str, key: &str, query: &str) -> Answer {
    ango(
        app,
        Method::GET,
        &format!("/organization/{org}/invites{query}"),
        INVITES,
        key,
        None,
    )
    .await
}

pub async fn invite(app: &TestApp, org: &str, key: &str, body: Value) -> Answer {
    ango(
        app,
        Method::POST,
        &format!("/organization/{org}/invites"),
        INVITES,
        key,
        Some(body),
    )
    .await
}

pub async fn uninvite(app: &TestApp, org: &str, key: &str, body: Value) -> Answer {
    ango(
        app,
        Method::DELETE,
        &format!("/organization/{org}/invites"),
        INVITES,
        key,
        Some(body),
    )
    .await
}

fn emails(list: &Value) -> Vec<String> {
    list["data"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

fn statuses(results: &Value) -> Vec<String> {
    results
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

on_both_backends! {
    async fn members_are_listed_by_page_and_searched(app) {
        let owner = app.user("owner@example.com").await;
        let (org, _) = app.org_with(&owner, "Ango", [("ada@example.com", "admin"), ("bob@example.com", "member"), ("cy@example.com", "guest")]).await;
        let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;

        let all = users(&app, &org, &key, "").await.expect(200);
        let list = all["data"]["users"].as_array().unwrap();
        assert_eq!(list.len(), 4);
        let role_of = |email: &str| list.iter().find(|u| u["email"] == email).unwrap()["organizationRole"].clone();
        assert_eq!(role_of("owner@example.com"), "Admin", "an owner shows as Admin");
        assert_eq!(role_of("ada@example.com"), "Admin");
        assert_eq!(role_of("bob@example.com"), "Member");
        assert_eq!(role_of("cy@example.com"), "Guest");

        let first = users(&app, &org, &key, "?page=1&limit=3").await.expect(200);
        let second = users(&app, &org, &key, "?page=2&limit=3").await.expect(200);
        let beyond = users(&app, &org, &key, "?page=3&limit=3").await.expect(200);
        let mut paged = emails(&first);
        paged.extend(emails(&second));
        assert_eq!(emails(&first).len(), 3);
        assert_eq!(emails(&beyond).len(), 0);
        paged.sort();
        assert_eq!(paged, ["ada@example.com", "bob@example.com", "cy@example.com", "owner@example.com"]);

        assert_eq!(emails(&users(&app, &org, &key, "?search=BOB").await.expect(200)), ["bob@example.com"]);
        assert_eq!(emails(&users(&app, &org, &key, "?search=nobody").await.expect(200)).len(), 0);

        for query in ["?limit=101", "?limit=0", "?page=0", "?limit=x", "?page=-1"] {
            users(&app, &org, &key, query).await.expect_error(400, "invalid_request");
        }
        users(&app, &org, &key, "?limit=100").await.expect(200);
        // Any whole page number is valid: far past the data, an empty page.
        for query in ["?page=5990066", "?page=99999999999999999999999"] {
            assert_eq!(emails(&users(&app, &org, &key, query).await.expect(200)).len(), 0);
        }
    }
}

on_both_backends! {
    async fn bulk_role_changes_are_checked_and_reported_item_by_item(app) {
        let owner = app.user("owner@example.com").await;
        let (org, _) = app.org_with(&owner, "Ango", [("ada@example.com", "member"), ("bob@example.com", "member"), ("cy@example.com", "guest")]).await;
        let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;

        let answer = update(&app, &org, &key, json!({"users": [
            {"email": "ada@example.com", "organizationRole": "Admin"},
            {"email": "bob@example.com", "organizationRole": "Guest"},
            {"email": "cy@example.com", "organizationRole": "Guest"},
            {"email": "nobody@example.com", "organizationRole": "Member"},
            {"email": "ada@example.com", "organizationRole": "Owner"},
            {"email": "not-an-email", "organizationRole": "Member"},
            {"email": "owner@example.com", "organizationRole": "Admin"},
            {"email": "owner@example.com", "organizationRole": "Member"}
        ]})).await.expect(200);
        let data = &answer["data"]["users"];
        assert_eq!(statuses(&data["results"]), ["updated", "updated", "unchanged", "failed", "failed", "failed", "unchanged", "failed"]);
        assert_eq!(data["updated"], 4);
        assert_eq!(data["failed"], 4);
        let results = data["results"].as_array().unwrap();
        assert_eq!(results[3]["code"], "member_not_found");
        assert_eq!(results[4]["code"], "invalid_request");
        assert_eq!(results[5]["code"], "invalid_request");
        // An API key never changes an owner.
        assert_eq!(results[7]["httpStatus"], 403);

        let mut roles = app.roles(&org, &owner.token).await;
        roles.sort();
        assert_eq!(roles, [
            ("ada@example.com".to_string(), "admin".to_string()),
            ("bob@example.com".to_string(), "guest".to_string()),
            ("cy@example.com".to_string(), "guest".to_string()),
            ("owner@example.com".to_string(), "owner".to_string()),
        ]);
        // Exactly one audit event per change made.
        let changes = app.audit_actions(&org, &owner.token).await.into_iter().filter(|a| a == "member.role_changed").count();
        assert_eq!(changes, 2);

        // The last owner cannot be demoted, even by itself.
        let owner_answer = app.client.post(format!("{}/v2/organization/{org}/users", app.base))
            .bearer_auth(&owner.token)
            .json(&json!({"users": [{"email": "owner@example.com", "organizationRole": "Member"}]}))
            .send().await.unwrap();
        assert_eq!(owner_answer.status(), 200);
        let body: Value = owner_answer.json().await.unwrap();
        assert_eq!(body["data"]["users"]["results"][0]["code"], "last_owner");

        // An empty list is nothing to do (the spec sets no minimum).
        let nothing = update(&app, &org, &key, json!({"users": []})).await.expect(200);
        assert_eq!(nothing["data"]["users"]["updated"], 0);
        assert_eq!(nothing["data"]["users"]["failed"], 0);
        // Whole-request errors: body shape, size, role.
        update(&app, &org, &key, json!({})).await.expect_error(400, "invalid_request");
        update(&app, &org, &key, json!({"users": [{"email": "ada@example.com"}]})).await.expect_error(400, "invalid_request");
        let too_many: Vec<Value> = (0..1001).map(|i| json!({"email": format!("u{i}@example.com"), "organizationRole": "Member"})).collect();
        update(&app, &org, &key, json!({"users": too_many})).await.expect_error(400, "invalid_request");
    }
}

on_both_backends! {
    async fn bulk_removal_by_email_reports_each_address(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Ango").await;
        for email in ["ada@example.com", "bob@example.com"] {
            let user = app.user(email).await;
            app.add(&owner, &org, &user, "member").await;
        }
        let project = app.project(&owner, &org, "P").await;
        let ada = app.get(&format!("/orgs/{org}/members?q=ada"), &owner.token).await.expect(200)["data"][0]["member_id"].as_str().unwrap().to_string();
        app.post(&format!("/orgs/{org}/projects/{project}/members"), &owner.token, json!({"member_id": ada, "member_role": "member"})).await.expect(201);
        let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;

        let answer = remove(&app, &org, &key, json!({"users": ["ada@example.com", "nobody@example.com", "owner@example.com", "ada@example.com"]})).await.expect(200);
        assert_eq!(answer["data"]["deleted"], 1);
        assert_eq!(answer["data"]["failed"], 3);
        assert_eq!(statuses(&answer["data"]["results"]), ["deleted", "failed", "failed", "failed"]);
        assert_eq!(answer["data"]["results"][2]["httpStatus"], 403, "a key never removes an owner");

        let mut roles = app.roles(&org, &owner.token).await;
        roles.sort();
        assert_eq!(roles, [("bob@example.com".to_string(), "member".to_string()), ("owner@example.com".to_string(), "owner".to_string())]);
        // Leaving the org took the project membership with it.
        let members = app.get(&format!("/orgs/{org}/projects/{project}/members"), &owner.token).await.expect(200);
        assert_eq!(members["data"].as_array().unwrap().len(), 0);

        // 1,000 items are accepted and each is answered.
        let many: Vec<String> = (0..1000).map(|i| format!("ghost{i}@example.com")).collect();
        let answer = remove(&app, &org, &key, json!({"users": many})).await.expect(200);
        assert_eq!(answer["data"]["failed"], 1000);
        assert_eq!(answer["data"]["results"].as_array().unwrap().len(), 1000);
        remove(&app, &org, &key, json!({"users": "ada@example.com"})).await.expect_error(400, "invalid_request");
    }
}

on_both_backends! {
    async fn invitations_are_sent_listed_accepted_with_projects_and_deleted(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Ango").await;
        let member = app.user("member@example.com").await;
        app.add(&owner, &org, &member, "member").await;
        let project = app.project(&owner, &org, "Labeling").await;
        let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;

        let sent = invite(&app, &org, &key, json!({
            "to": ["new1@example.com", "new2@example.com", "member@example.com", "bad address"],
            "organizationRole": "Member",
            "projectAssignments": [{"projectId": project, "projectRole": "admin"}],
            "organizationRoleAssignments": {"new2@example.com": "Guest"}
        })).await.expect(200);
        let data = &sent["data"];
        assert_eq!(data["sent"], 2);
        assert_eq!(data["failed"], 2);
        assert_eq!(statuses(&data["results"]), ["sent", "sent", "failed", "failed"]);
        assert_eq!(data["results"][2]["code"], "already_member");
        let created = data["invites"].as_array().unwrap();
        assert_eq!(created.len(), 2);
        assert_eq!(created[0]["to"], "new1@example.com");
        assert_eq!(created[0]["organizationRole"], "Member");
        assert_eq!(created[1]["organizationRole"], "Guest");

        // Inviting an address again refreshes its open invitation (with the
        // new role and assignments).
        let again = invite(&app, &org, &key, json!({
            "to": ["new1@example.com"],
            "organizationRole": "Admin",
            "projectRoleAssignments": {project.clone(): "admin"}
        })).await.expect(200);
        assert_eq!(statuses(&again["data"]["results"]), ["refreshed"]);
        assert_eq!(again["data"]["invites"][0]["_id"], created[0]["_id"]);

        let open = invites(&app, &org, &key, "").await.expect(200);
        assert_eq!(open["data"]["invites"].as_array().unwrap().len(), 2);
        assert_eq!(invites(&app, &org, &key, "?page=2&limit=1").await.expect(200)["data"]["invites"].as_array().unwrap().len(), 1);
        invites(&app, &org, &key, "?limit=500").await.expect_error(400, "invalid_request");

        // The invitee signs up and accepts from the email: the project
        // assignment is applied.
        let invitee = app.user("new1@example.com").await;
        let token = app.token_from_email("new1@example.com", "accept-invite").await;
        app.post(&format!("/invitations/{token}/accept"), &invitee.token, json!({})).await.expect(200);
        let project_members = app.get(&format!("/orgs/{org}/projects/{project}/members"), &owner.token).await.expect(200);
        assert_eq!(project_members["data"][0]["member_id"], invitee.id.as_str());
        assert_eq!(project_members["data"][0]["member_role"], "admin");
        assert!(app.roles(&org, &owner.token).await.contains(&("new1@example.com".to_string(), "admin".to_string())));

        // Bulk deletion: one open, one accepted (gone from the list), one
        // unknown id, one malformed.
        let open = invites(&app, &org, &key, "").await.expect(200);
        let remaining = open["data"]["invites"].as_array().unwrap();
        assert_eq!(remaining.len(), 1);
        let id = remaining[0]["_id"].as_str().unwrap().to_string();
        let deleted = uninvite(&app, &org, &key, json!({"invites": [id, created[0]["_id"], "0190a3c0-0000-7000-8000-000000000000", "nope"]})).await.expect(200);
        assert_eq!(deleted["data"]["deleted"], 1);
        assert_eq!(deleted["data"]["failed"], 3);
        assert_eq!(invites(&app, &org, &key, "").await.expect(200)["data"]["invites"].as_array().unwrap().len(), 0);

        // Whole-request errors.
        invite(&app, &org, &key, json!({"to": [], "organizationRole": "Member"})).await.expect_error(400, "invalid_request");
        invite(&app, &org, &key, json!({"to": ["x@example.com"], "organizationRole": "Owner"})).await.expect_error(400, "invalid_request");
        // A bad project fails each address it would apply to, in `results`.
        let bad_project = invite(&app, &org, &key, json!({"to": ["x@example.com"], "organizationRole": "Member", "projectAssignments": [{"projectId": "nope", "projectRole": "admin"}]})).await.expect(200);
        assert_eq!(bad_project["data"]["sent"], 0);
        assert_eq!(bad_project["data"]["failed"], 1);
        assert_eq!(bad_project["data"]["results"][0]["code"], "invalid_request");
        assert_eq!(bad_project["data"]["results"][0]["email"], "x@example.com");
        uninvite(&app, &org, &key, json!({})).await.expect_error(400, "invalid_request");
    }
}

on_both_backends! {
    async fn callers_are_authenticated_scoped_and_kept_in_their_org(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Ango").await;
        let other_owner = app.user("other@example.com").await;
        let other = app.org(&other_owner, "Other").await;
        let other_key = app.api_key(&other_owner, &other, &TestApp::ALL_SCOPES).await;
        let read_only = app.api_key(&owner, &org, &["members:read"]).await;
        let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;
        let member = app.user("member@example.com").await;
        app.add(&owner, &org, &member, "member").await;

        // No key, a bad key, the `apikey <key>` value form.
        let none = app.call_raw(Method::GET, &format!("/v2/organization/{org}/users"), None, None).await;
        assert_eq!(none.status, 401);
        assert_eq!(none.body["status"], "error");
        users(&app, &org, "rsk_nope", "").await.expect_error(401, "unauthenticated");
        users(&app, &org, &format!("apikey {key}"), "").await.expect(200);

        // Another org's key: 404, and nothing changes.
        users(&app, &org, &other_key, "").await.expect_error(404, "org_not_found");
        update(&app, &org, &other_key, json!({"users": [{"email": "member@example.com", "organizationRole": "Guest"}]})).await.expect_error(404, "org_not_found");
        remove(&app, &org, &other_key, json!({"users": ["member@example.com"]})).await.expect_error(404, "org_not_found");
        invites(&app, &org, &other_key, "").await.expect_error(404, "org_not_found");
        users(&app, "not-an-id", &key, "").await.expect_error(400, "invalid_request");

        // Missing scopes: 403 for the whole request.
        update(&app, &org, &read_only, json!({"users": [{"email": "member@example.com", "organizationRole": "Guest"}]})).await.expect_error(403, "insufficient_scope");
        remove(&app, &org, &read_only, json!({"users": ["member@example.com"]})).await.expect_error(403, "insufficient_scope");
        invites(&app, &org, &read_only, "").await.expect_error(403, "insufficient_scope");
        invite(&app, &org, &read_only, json!({"to": ["x@example.com"], "organizationRole": "Member"})).await.expect_error(403, "insufficient_scope");
        uninvite(&app, &org, &read_only, json!({"invites": ["x"]})).await.expect_error(403, "insufficient_scope");
        assert_eq!(app.roles(&org, &owner.token).await.len(), 2);

        // A plain member, by access token: may read and leave, not manage.
        let as_member = |method: Method, path: String, body: Option<Value>| {
            let app = &app;
            let token = member.token.clone();
            async move { app.call_raw(method, &format!("/v2{path}"), Some(&token), body).await }
        };
        assert_eq!(as_member(Method::GET, format!("/organization/{org}/users"), None).await.status, 200);
        let denied = as_member(Method::POST, format!("/organization/{org}/users"), Some(json!({"users": [{"email": "owner@example.com", "organizationRole": "Guest"}]}))).await;
        assert_eq!(denied.status, 403);
        assert_eq!(as_member(Method::GET, format!("/organization/{org}/invites"), None).await.status, 403);
        let others = as_member(Method::DELETE, format!("/organization/{org}/users"), Some(json!({"users": ["owner@example.com"]}))).await;
        assert_eq!(others.body["data"]["results"][0]["httpStatus"], 403);
        let left = as_member(Method::DELETE, format!("/organization/{org}/users"), Some(json!({"users": ["member@example.com"]}))).await;
        assert_eq!(left.body["data"]["deleted"], 1, "{}", left.body);
        assert_eq!(app.roles(&org, &owner.token).await, [("owner@example.com".to_string(), "owner".to_string())]);
    }
}
