//! API keys: shown once, scoped, org-bound, revocable, never owner powers.

use serde_json::{json, Value};

use crate::{on_both_backends, TestApp, TestUser};

async fn create_key(app: &TestApp, owner: &TestUser, org: &str, scopes: &[&str]) -> Value {
    app.post(
        &format!("/orgs/{org}/api-keys"),
        &owner.token,
        json!({"name": "CI bot", "scopes": scopes}),
    )
    .await
    .expect(201)
}

async fn with_apikey_header(app: &TestApp, path: &str, value: &str) -> u16 {
    app.client
        .get(format!("{}/api/v1{path}", app.base))
        .header("apikey", value)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

on_both_backends! {
    async fn a_key_is_shown_once_and_works_as_bearer_and_as_apikey_header(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let created = create_key(&app, &owner, &org, &["members:read", "members:write"]).await;
        let key = created["key"].as_str().unwrap().to_string();
        assert!(key.starts_with(roster_core::service::API_KEY_PREFIX));
        assert_eq!(created["scopes"], json!(["members:read", "members:write"]));

        let listed = app.get(&format!("/orgs/{org}/api-keys"), &owner.token).await.expect(200);
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        assert!(listed["data"][0].get("key").is_none(), "the secret is never listed");
        assert_eq!(listed["data"][0]["last_used_at"], Value::Null);

        let members = app.get(&format!("/orgs/{org}/members"), &key).await.expect(200);
        assert_eq!(members["data"].as_array().unwrap().len(), 1);
        assert_eq!(with_apikey_header(&app, &format!("/orgs/{org}/members"), &key).await, 200);
        assert_eq!(with_apikey_header(&app, &format!("/orgs/{org}/members"), &format!("apikey {key}")).await, 200);
        let used = app.get(&format!("/orgs/{org}/api-keys"), &owner.token).await.expect(200);
        assert!(used["data"][0]["last_used_at"].is_string());

        // A change made with the key is audited with the key as the actor.
        let bob = app.user("bob@example.com").await;
        app.add_member(&key, &org, &bob.email, "member").await.expect(201);
        let audit = app.get(&format!("/orgs/{org}/audit-events?limit=1"), &owner.token).await.expect(200);
        assert_eq!(audit["data"][0]["actor"], json!({"type": "api_key", "id": created["id"]}));
    }
}

on_both_backends! {
    async fn a_key_needs_the_scope_and_stays_in_its_org(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let other = app.org(&owner, "Other").await;
        let reader = create_key(&app, &owner, &org, &["members:read"]).await["key"].as_str().unwrap().to_string();
        app.add_member(&reader, &org, "x@example.com", "member").await
            .expect_error(403, "insufficient_scope");
        app.get(&format!("/orgs/{org}/projects"), &reader).await.expect_error(403, "insufficient_scope");
        app.get(&format!("/orgs/{org}/audit-events"), &reader).await.expect_error(403, "insufficient_scope");
        app.get(&format!("/orgs/{other}/members"), &reader).await.expect_error(404, "org_not_found");
        app.get("/orgs", &reader).await.expect_error(403, "forbidden");
        app.get("/me", &reader).await.expect_error(403, "forbidden");
        // Keys cannot manage keys.
        app.post(&format!("/orgs/{org}/api-keys"), &reader, json!({"name": "x", "scopes": ["members:read"]})).await.expect_error(403, "forbidden");
    }
}

on_both_backends! {
    async fn a_key_never_grants_changes_or_removes_the_owner_role(app) {
        let owner = app.user("o@example.com").await;
        let (org, [second]) = app.org_with(&owner, "Acme", [("s@example.com", "member")]).await;
        let key = create_key(&app, &owner, &org, &["members:read", "members:write", "org:write"]).await["key"].as_str().unwrap().to_string();
        app.patch(&format!("/orgs/{org}/members/{}", second.id), &key, json!({"member_role": "owner"})).await.expect_error(403, "forbidden");
        app.patch(&format!("/orgs/{org}/members/{}", owner.id), &key, json!({"member_role": "admin"})).await.expect_error(403, "forbidden");
        app.delete(&format!("/orgs/{org}/members/{}", owner.id), &key).await.expect_error(403, "forbidden");
        app.add_member(&key, &org, "new@example.com", "owner").await.expect_error(403, "forbidden");
        app.delete(&format!("/orgs/{org}"), &key).await.expect_error(403, "forbidden");
        app.post(&format!("/orgs/{org}/transfer-ownership"), &key, json!({"member_id": second.id})).await.expect_error(403, "forbidden");
        // It does manage ordinary members.
        app.patch(&format!("/orgs/{org}/members/{}", second.id), &key, json!({"member_role": "admin"})).await.expect(200);
    }
}

on_both_backends! {
    async fn revoked_expired_and_unknown_keys_get_401(app) {
        let owner = app.user("o@example.com").await;
        let (org, [member]) = app.org_with(&owner, "Acme", [("m@example.com", "member")]).await;
        let created = create_key(&app, &owner, &org, &["members:read"]).await;
        let (id, key) = (created["id"].as_str().unwrap().to_string(), created["key"].as_str().unwrap().to_string());
        app.delete(&format!("/orgs/{org}/api-keys/{id}"), &member.token).await.expect_error(403, "forbidden");
        app.delete(&format!("/orgs/{org}/api-keys/{id}"), &owner.token).await.expect(200);
        app.get(&format!("/orgs/{org}/members"), &key).await.expect_error(401, "unauthenticated");
        app.delete(&format!("/orgs/{org}/api-keys/{id}"), &owner.token).await.expect_error(410, "api_key_revoked");
        app.get(&format!("/orgs/{org}/members"), "rsk_not_a_key").await.expect_error(401, "unauthenticated");
        assert_eq!(with_apikey_header(&app, &format!("/orgs/{org}/members"), "apikey rsk_nope").await, 401);

        let expiring = app
            .post(&format!("/orgs/{org}/api-keys"), &owner.token, json!({"name": "short", "scopes": ["members:read"], "expires_at": "2000-01-01T00:00:00Z"}))
            .await;
        expiring.expect_error(400, "invalid_request");
        app.post(&format!("/orgs/{org}/api-keys"), &owner.token, json!({"name": "bad", "scopes": ["members:everything"]})).await.expect_error(400, "invalid_request");
        app.post(&format!("/orgs/{org}/api-keys"), &owner.token, json!({"name": "bad", "scopes": []})).await.expect_error(400, "invalid_request");
        app.get(&format!("/orgs/{org}/api-keys"), &member.token).await.expect_error(403, "forbidden");
        let soon = (time::OffsetDateTime::now_utc() + time::Duration::seconds(1)).format(&time::format_description::well_known::Rfc3339).unwrap();
        let short = app
            .post(&format!("/orgs/{org}/api-keys"), &owner.token, json!({"name": "short", "scopes": ["members:read"], "expires_at": soon}))
            .await
            .expect(201);
        let short_key = short["key"].as_str().unwrap();
        app.get(&format!("/orgs/{org}/members"), short_key).await.expect(200);
        tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
        app.get(&format!("/orgs/{org}/members"), short_key).await.expect_error(401, "unauthenticated");
    }
}

// The server caches credential checks in process (roster-core's
// authcache): a key or session that was just used, and so is cached, must
// still be refused by the very next request once it is ended.
on_both_backends! {
    async fn a_cached_key_or_session_is_refused_at_once_when_ended(app) {
        let owner = app.user("cache-o@example.com").await;
        let org = app.org(&owner, "Cached").await;
        let created = create_key(&app, &owner, &org, &["members:read"]).await;
        let (id, key) = (created["id"].as_str().unwrap().to_string(), created["key"].as_str().unwrap().to_string());
        for _ in 0..3 {
            app.get(&format!("/orgs/{org}/members"), &key).await.expect(200);
        }
        app.delete(&format!("/orgs/{org}/api-keys/{id}"), &owner.token).await.expect(200);
        app.get(&format!("/orgs/{org}/members"), &key).await.expect_error(401, "unauthenticated");

        // A key whose org is deleted goes with it.
        let other = app.org(&owner, "Doomed").await;
        let doomed = create_key(&app, &owner, &other, &["members:read"]).await;
        let doomed = doomed["key"].as_str().unwrap().to_string();
        app.get(&format!("/orgs/{other}/members"), &doomed).await.expect(200);
        app.delete(&format!("/orgs/{other}"), &owner.token).await.expect(200);
        app.get(&format!("/orgs/{other}/members"), &doomed).await.expect_error(401, "unauthenticated");

        // A session used a moment ago ends with logout.
        for _ in 0..3 {
            app.get("/me", &owner.token).await.expect(200);
        }
        app.call(reqwest::Method::POST, "/auth/logout", Some(&owner.token), None).await.expect(200);
        app.get("/me", &owner.token).await.expect_error(401, "unauthenticated");
        app.get(&format!("/orgs/{org}/members"), &owner.token).await.expect_error(401, "unauthenticated");
    }
}

on_both_backends! {
    async fn a_key_stops_working_when_its_creator_is_demoted_or_removed(app) {
        let owner = app.user("keyowner@example.com").await;
        let (org, [admin, other_admin]) = app.org_with(&owner, "Key Bounds", [("keyadmin@example.com", "admin"), ("keyadmin2@example.com", "admin")]).await;
        let key = create_key(&app, &admin, &org, &TestApp::ALL_SCOPES).await["key"].as_str().unwrap().to_string();
        let other_key = create_key(&app, &other_admin, &org, &TestApp::ALL_SCOPES).await["key"].as_str().unwrap().to_string();
        let owners_key = create_key(&app, &owner, &org, &TestApp::ALL_SCOPES).await["key"].as_str().unwrap().to_string();
        app.get(&format!("/orgs/{org}/members"), &key).await.expect(200);
        app.get(&format!("/orgs/{org}/members"), &other_key).await.expect(200);

        // Demoted below admin: the key acted with the creator's authority.
        app.patch(&format!("/orgs/{org}/members/{}", admin.id), &owner.token, json!({"member_role": "member"})).await.expect(200);
        // Removed from the org.
        app.delete(&format!("/orgs/{org}/members/{}", other_admin.id), &owner.token).await.expect(200);
        // Within the credential cache's bound (1 s) every process sees it.
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        app.get(&format!("/orgs/{org}/members"), &key).await.expect_error(401, "unauthenticated");
        app.add_member(&key, &org, "new@example.com", "admin").await
            .expect_error(401, "unauthenticated");
        app.get(&format!("/orgs/{org}/members"), &other_key).await.expect_error(401, "unauthenticated");
        assert_eq!(with_apikey_header(&app, &format!("/orgs/{org}/members"), &key).await, 401);
        // The owner's own key is untouched.
        app.get(&format!("/orgs/{org}/members"), &owners_key).await.expect(200);

        // A bound, not a revocation: promoted again, the key works again.
        app.patch(&format!("/orgs/{org}/members/{}", admin.id), &owner.token, json!({"member_role": "admin"})).await.expect(200);
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        app.get(&format!("/orgs/{org}/members"), &key).await.expect(200);
    }
}
