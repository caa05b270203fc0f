//! The Members API (Spice-style, `/v1/members`): every endpoint, its
//! success and each documented error status, every answer checked against
//! `spice-members.openapi.json` by a JSON-schema validator.

use std::sync::OnceLock;

use reqwest::Method;
use roster_testkit::Spec;
use serde_json::{json, Value};

use crate::{on_both_backends, Answer, TestApp, TestUser};

fn spec() -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| Spec::load("spice-members")).as_ref()
}

/// Calls the Members API with a bearer credential and checks the answer's
/// status and body against the spec's operation `template`.
pub async fn spice(
    app: &TestApp,
    method: Method,
    path: &str,
    template: &str,
    credential: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let answer = app.call_raw(method.clone(), path, credential, body).await;
    if let Some(spec) = spec() {
        if let Err(e) = spec.check(
            method.as_str(),
            template,
            answer.status.as_u16(),
            &answer.body,
        ) {
            panic!("{e}");
        }
    }
    answer
}

pub async fn list(app: &TestApp, credential: &str) -> Answer {
    spice(
        app,
        Method::GET,
        "/v1/members",
        "/v1/members",
        Some(credential),
        None,
    )
    .await
}

pub async fn add(app: &TestApp, credential: &str, body: Value) -> Answer {
    spice(
        app,
        Method::POST,
        "/v1/members",
        "/v1/members",
        Some(credential),
        Some(body),
    )
    .await
}

pub async fn get(app: &TestApp, credential: &str, id: &str) -> Answer {
    spice(
        app,
        Method::GET,
        &format!("/v1/members/{id}"),
        "/v1/members/{memberId}",
        Some(credential),
        None,
    )
    .await
}

pub async fn patch(app: &TestApp, credential: &str, id: &str, body: Value) -> Answer {
    spice(
        app,
        Method::PATCH,
        &format!("/v1/members/{id}"),
        "/v1/members/{memberId}",
        Some(credential),
        Some(body),
    )
    .await
}

pub async fn delete(app: &TestApp, credential: &str, id: &str) -> Answer {
    spice(
        app,
        Method::DELETE,
        &format!("/v1/members/{id}"),
        "/v1/members/{memberId}",
        Some(credential),
        None,
    )
    .await
}

/// The user's Spice-style `user_id` (its `number`), from `GET /me`.
pub async fn number(app: &TestApp, user: &TestUser) -> String {
    let me = app.get("/me", &user.token).await.expect(200);
    me["number"].as_i64().expect("number").to_string()
}

/// The username of a user, from `GET /me`.
async fn username(app: &TestApp, user: &TestUser) -> String {
    let me = app.get("/me", &user.token).await.expect(200);
    me["username"].as_str().expect("username").to_string()
}

on_both_backends! {
    async fn members_are_listed_added_read_re_roled_and_removed_with_an_api_key(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Spice").await;
        let key = app.api_key(&owner, &org, &["members:read", "members:write"]).await;

        let listed = list(&app, &key).await.expect(200);
        let members = listed["members"].as_array().unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0]["roles"], json!(["owner"]));
        assert_eq!(members[0]["is_owner"], true);
        assert_eq!(members[0]["user_id"].as_i64().unwrap().to_string(), number(&app, &owner).await);

        let ada = app.user("ada@example.com").await;
        let ada_name = username(&app, &ada).await;
        let added = add(&app, &key, json!({"username": ada_name, "roles": ["billing", "admin"]})).await.expect(201);
        assert_eq!(added["roles"], json!(["admin", "billing"]));
        assert_eq!(added["username"], ada_name);
        let ada_id = number(&app, &ada).await;
        assert_eq!(added["user_id"].as_i64().unwrap().to_string(), ada_id);

        // Default roles: ["member"].
        let bob = app.user("bob@example.com").await;
        let bob_added = add(&app, &key, json!({"username": username(&app, &bob).await})).await.expect(201);
        assert_eq!(bob_added["roles"], json!(["member"]));

        let read = get(&app, &key, &ada_id).await.expect(200);
        assert_eq!(read["is_owner"], false);
        assert_eq!(read["roles"], json!(["admin", "billing"]));

        let changed = patch(&app, &key, &ada_id, json!({"roles": ["member", "support"]})).await.expect(200);
        assert_eq!(changed["roles"], json!(["member", "support"]));
        // The Tenant API sees the base role.
        let roles = app.roles(&org, &owner.token).await;
        assert!(roles.contains(&("ada@example.com".to_string(), "member".to_string())), "{roles:?}");

        let removed = delete(&app, &key, &ada_id).await;
        assert_eq!(removed.status, 204);
        get(&app, &key, &ada_id).await.expect_error(404, "member_not_found");
        delete(&app, &key, &ada_id).await.expect_error(404, "member_not_found");
        assert_eq!(list(&app, &key).await.expect(200)["members"].as_array().unwrap().len(), 2);

        // Audited with the key as the actor.
        let audit = app.get(&format!("/orgs/{org}/audit-events?limit=1"), &owner.token).await.expect(200);
        assert_eq!(audit["data"][0]["action"], "member.removed");
        assert_eq!(audit["data"][0]["actor"]["type"], "api_key");
    }
}

on_both_backends! {
    async fn owners_are_neither_modified_nor_removed_and_owner_is_never_granted(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Spice").await;
        let key = app.api_key(&owner, &org, &["members:read", "members:write"]).await;
        let owner_id = number(&app, &owner).await;

        patch(&app, &key, &owner_id, json!({"roles": ["member"]})).await.expect(403);
        delete(&app, &key, &owner_id).await.expect(403);
        let ada = app.user("ada@example.com").await;
        add(&app, &key, json!({"username": username(&app, &ada).await, "roles": ["owner"]})).await.expect(403);
        assert_eq!(list(&app, &key).await.expect(200)["members"].as_array().unwrap().len(), 1);

        // Not even the owner's own org token may touch an owner here.
        let token = app.post(&format!("/orgs/{org}/access-token"), &owner.token, json!({})).await.expect(201);
        let scoped = token["access_token"].as_str().unwrap();
        delete(&app, scoped, &owner_id).await.expect(403);
        patch(&app, scoped, &owner_id, json!({"roles": ["admin"]})).await.expect(403);
        assert_eq!(app.roles(&org, &owner.token).await, vec![("owner@example.com".to_string(), "owner".to_string())]);
    }
}

on_both_backends! {
    async fn every_documented_error_status_is_answered(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Spice").await;
        let key = app.api_key(&owner, &org, &["members:read", "members:write"]).await;
        let read_only = app.api_key(&owner, &org, &["members:read"]).await;
        let ada = app.user("ada@example.com").await;
        let ada_name = username(&app, &ada).await;
        let ada_id = number(&app, &ada).await;

        // 401: no credential, a bad one, a revoked key.
        for (method, path, template, body) in [
            (Method::GET, "/v1/members".to_string(), "/v1/members", None),
            (Method::POST, "/v1/members".to_string(), "/v1/members", Some(json!({"username": ada_name}))),
            (Method::GET, format!("/v1/members/{ada_id}"), "/v1/members/{memberId}", None),
            (Method::PATCH, format!("/v1/members/{ada_id}"), "/v1/members/{memberId}", Some(json!({"roles": []}))),
            (Method::DELETE, format!("/v1/members/{ada_id}"), "/v1/members/{memberId}", None),
        ] {
            spice(&app, method.clone(), &path, template, None, body.clone()).await.expect_error(401, "unauthenticated");
            spice(&app, method, &path, template, Some("rsk_not-a-key"), body).await.expect_error(401, "unauthenticated");
        }
        let doomed = app.post(&format!("/orgs/{org}/api-keys"), &owner.token, json!({"name": "doomed", "scopes": ["members:read"]})).await.expect(201);
        app.delete(&format!("/orgs/{org}/api-keys/{}", doomed["id"].as_str().unwrap()), &owner.token).await.expect(200);
        list(&app, doomed["key"].as_str().unwrap()).await.expect_error(401, "unauthenticated");

        // 403: a missing scope, and a user token that names no org.
        add(&app, &read_only, json!({"username": ada_name})).await.expect_error(403, "insufficient_scope");
        let no_scope = app.api_key(&owner, &org, &["projects:read"]).await;
        list(&app, &no_scope).await.expect_error(403, "insufficient_scope");
        get(&app, &no_scope, &ada_id).await.expect_error(403, "insufficient_scope");
        list(&app, &owner.token).await.expect_error(403, "insufficient_scope");

        // 400: malformed bodies.
        add(&app, &key, json!({})).await.expect_error(400, "invalid_request");
        add(&app, &key, json!({"username": ""})).await.expect_error(400, "invalid_request");
        add(&app, &key, json!({"username": ada_name, "roles": "admin"})).await.expect_error(400, "invalid_request");
        add(&app, &key, json!({"username": ada_name, "roles": [""]})).await.expect_error(400, "invalid_request");

        // 404: unknown username, unknown member.
        add(&app, &key, json!({"username": "nobody-here"})).await.expect_error(404, "user_not_found");
        get(&app, &key, &ada_id).await.expect_error(404, "member_not_found");
        get(&app, &key, "999999").await.expect_error(404, "member_not_found");
        patch(&app, &key, &ada_id, json!({"roles": ["admin"]})).await.expect_error(404, "member_not_found");
        delete(&app, &key, &ada_id).await.expect_error(404, "member_not_found");

        // 409: already a member.
        add(&app, &key, json!({"username": ada_name})).await.expect(201);
        add(&app, &key, json!({"username": ada_name})).await.expect_error(409, "already_member");

        // 400 on PATCH: roles missing or not strings.
        patch(&app, &key, &ada_id, json!({})).await.expect_error(400, "invalid_request");
        patch(&app, &key, &ada_id, json!({"roles": [1]})).await.expect_error(400, "invalid_request");
        // A memberId that is not a user id answers 400 (not in the spec's
        // list for GET, so checked without it).
        let bad = app.call_raw(Method::GET, "/v1/members/abc", Some(&key), None).await;
        bad.expect_error(400, "invalid_request");
        // Any integer is a well-formed id (the spec's type): one no user can
        // have is not found, as the spec documents.
        for number in ["0", "-3", "99999999999999999999999"] {
            let answer = app.call_raw(Method::GET, &format!("/v1/members/{number}"), Some(&key), None).await;
            answer.expect_error(404, "member_not_found");
        }

        // Nothing above changed anything but the one add.
        let members = list(&app, &key).await.expect(200);
        assert_eq!(members["members"].as_array().unwrap().len(), 2);
        assert_eq!(get(&app, &key, &ada_id).await.expect(200)["roles"], json!(["member"]));
    }
}

on_both_backends! {
    async fn a_key_of_another_org_sees_only_its_own_org(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Mine").await;
        let other_owner = app.user("other@example.com").await;
        let other = app.org(&other_owner, "Theirs").await;
        let other_key = app.api_key(&other_owner, &other, &["members:read", "members:write"]).await;
        let ada = app.user("ada@example.com").await;
        app.add(&owner, &org, &ada, "member").await;

        let theirs = list(&app, &other_key).await.expect(200);
        assert_eq!(theirs["members"].as_array().unwrap().len(), 1);
        assert_eq!(theirs["members"][0]["username"], username(&app, &other_owner).await);
        let ada_id = number(&app, &ada).await;
        get(&app, &other_key, &ada_id).await.expect_error(404, "member_not_found");
        delete(&app, &other_key, &ada_id).await.expect_error(404, "member_not_found");
        assert_eq!(app.roles(&org, &owner.token).await.len(), 2);
    }
}

on_both_backends! {
    async fn an_org_access_token_acts_with_the_users_own_role(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Spice").await;
        let admin = app.user("admin@example.com").await;
        let member = app.user("member@example.com").await;
        let guest = app.user("guest@example.com").await;
        app.add(&owner, &org, &admin, "admin").await;
        app.add(&owner, &org, &member, "member").await;
        app.add(&owner, &org, &guest, "guest").await;
        let token_of = |user: TestUser| {
            let app = &app;
            let org = org.clone();
            async move {
                let body = app.post(&format!("/orgs/{org}/access-token"), &user.token, json!({})).await.expect(201);
                assert_eq!(body["org_id"], org.as_str());
                assert_eq!(body["token_type"], "Bearer");
                body["access_token"].as_str().unwrap().to_string()
            }
        };
        let admin_token = token_of(admin.clone()).await;
        let member_token = token_of(member.clone()).await;
        let guest_token = token_of(guest.clone()).await;

        assert_eq!(list(&app, &admin_token).await.expect(200)["members"].as_array().unwrap().len(), 4);
        assert_eq!(list(&app, &member_token).await.expect(200)["members"].as_array().unwrap().len(), 4);
        list(&app, &guest_token).await.expect(403);
        let ada = app.user("ada@example.com").await;
        add(&app, &member_token, json!({"username": username(&app, &ada).await})).await.expect(403);
        add(&app, &admin_token, json!({"username": username(&app, &ada).await, "roles": ["member", "ops"]})).await.expect(201);

        // The scoped token stays in its org on the Tenant API too, and an
        // outsider cannot get one.
        let elsewhere = app.org(&admin, "Elsewhere").await;
        app.get(&format!("/orgs/{elsewhere}"), &admin.token).await.expect(200);
        app.get(&format!("/orgs/{elsewhere}"), &admin_token).await.expect_error(403, "token_scope");
        app.post("/orgs", &admin_token, json!({"name": "Nope"})).await.expect_error(403, "token_scope");
        app.get("/orgs", &admin_token).await.expect_error(403, "token_scope");
        app.post("/auth/logout", &admin_token, json!({})).await.expect_error(403, "token_scope");
        list(&app, &admin_token).await.expect(200);
        let outsider = app.user("outsider@example.com").await;
        app.post(&format!("/orgs/{org}/access-token"), &outsider.token, json!({})).await.expect_error(404, "org_not_found");
        let key = app.api_key(&owner, &org, &["members:read"]).await;
        app.post(&format!("/orgs/{org}/access-token"), &key, json!({})).await.expect(403);

        // Logging out kills the scoped token with its session.
        app.post("/auth/logout", &admin.token, json!({})).await.expect(200);
        list(&app, &admin_token).await.expect_error(401, "unauthenticated");
    }
}

on_both_backends! {
    async fn the_whole_org_is_listed_and_pages_are_an_extension(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Big").await;
        for i in 0..25 {
            let user = app.user(&format!("u{i:02}@example.com")).await;
            app.add(&owner, &org, &user, "member").await;
        }
        let key = app.api_key(&owner, &org, &["members:read"]).await;
        let all = list(&app, &key).await.expect(200);
        assert_eq!(all["members"].as_array().unwrap().len(), 26);
        assert!(all.get("next_cursor").is_none());

        let mut seen = Vec::new();
        let mut path = "/v1/members?limit=10".to_string();
        loop {
            let page = spice(&app, Method::GET, &path, "/v1/members", Some(&key), None).await.expect(200);
            for m in page["members"].as_array().unwrap() {
                seen.push(m["user_id"].as_i64().unwrap());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) if !cursor.is_empty() => path = format!("/v1/members?limit=10&cursor={cursor}"),
                _ => break,
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 26);
    }
}
