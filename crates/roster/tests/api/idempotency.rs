//! `Idempotency-Key`: a retry gets the first answer and changes nothing;
//! another request under the same key is refused; concurrent retries make
//! one change and get one answer.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{on_both_backends, TestApp, PASSWORD};

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    key: &str,
    body: Value,
) -> (u16, Value, bool) {
    let mut request = app
        .client
        .request(method, format!("{}/api/v1{path}", app.base))
        .header("idempotency-key", key)
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        replayed,
    )
}

on_both_backends! {
    async fn a_retry_gets_the_first_answer_and_changes_nothing(app) {
        let owner = app.user("o@example.com").await;
        let (status, first, replayed) = send(&app, Method::POST, "/orgs", Some(&owner.token), "create-acme-1", json!({"name": "Acme"})).await;
        assert_eq!((status, replayed), (201, false));
        let (status, again, replayed) = send(&app, Method::POST, "/orgs", Some(&owner.token), "create-acme-1", json!({"name": "Acme"})).await;
        assert_eq!((status, replayed), (201, true));
        assert_eq!(first, again);
        assert_eq!(app.get("/orgs", &owner.token).await.expect(200)["data"].as_array().unwrap().len(), 1);

        let org = first["id"].as_str().unwrap();
        let bob = app.user("b@example.com").await;
        app.add(&owner, org, &bob, "member").await;
        let path = format!("/orgs/{org}/members/{}", bob.id);
        let (one, _, _) = send(&app, Method::DELETE, &path, Some(&owner.token), "remove-bob", Value::Null).await;
        let (two, _, replayed) = send(&app, Method::DELETE, &path, Some(&owner.token), "remove-bob", Value::Null).await;
        assert_eq!((one, two, replayed), (200, 200, true), "the retry is not a 404");
        let removals = app.audit_actions(org, &owner.token).await.iter().filter(|a| *a == "member.removed").count();
        assert_eq!(removals, 1);

        // Errors are answers too: the retry of a refused request is refused alike.
        let (status, refused, _) = send(&app, Method::DELETE, &format!("/orgs/{org}/members/{}", owner.id), Some(&owner.token), "leave", Value::Null).await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("last_owner")));
        let (status, _, replayed) = send(&app, Method::DELETE, &format!("/orgs/{org}/members/{}", owner.id), Some(&owner.token), "leave", Value::Null).await;
        assert_eq!((status, replayed), (409, true));
    }
}

on_both_backends! {
    async fn the_same_key_with_another_request_is_refused(app) {
        let owner = app.user("o@example.com").await;
        send(&app, Method::POST, "/orgs", Some(&owner.token), "k1", json!({"name": "Acme"})).await;
        let (status, body, _) = send(&app, Method::POST, "/orgs", Some(&owner.token), "k1", json!({"name": "Other"})).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("idempotency_key_reused")));
        let (status, body, _) = send(&app, Method::POST, "/orgs", Some(&owner.token), "bad key", json!({"name": "Other"})).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")));
        // Keys belong to their credential: another user may use "k1".
        let other = app.user("x@example.com").await;
        let (status, _, replayed) = send(&app, Method::POST, "/orgs", Some(&other.token), "k1", json!({"name": "Other"})).await;
        assert_eq!((status, replayed), (201, false));
        assert_eq!(app.get("/orgs", &owner.token).await.expect(200)["data"].as_array().unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn concurrent_retries_make_one_change_and_get_one_answer(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (client, url, token) = (app.client.clone(), format!("{}/api/v1/orgs/{org}/projects", app.base), owner.token.clone());
            tasks.push(tokio::spawn(async move {
                let response = client.post(url).bearer_auth(token).header("idempotency-key", "one-project").json(&json!({"name": "Apollo"})).send().await.unwrap();
                (response.status().as_u16(), response.json::<Value>().await.unwrap())
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        assert!(answers.iter().all(|(status, body)| *status == 201 && body == &answers[0].1), "{answers:?}");
        assert_eq!(app.get(&format!("/orgs/{org}/projects"), &owner.token).await.expect(200)["data"].as_array().unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn answers_that_carry_secrets_are_not_kept(app) {
        app.user("o@example.com").await;
        let login = json!({"email": "o@example.com", "password": PASSWORD});
        let (status, first, _) = send(&app, Method::POST, "/auth/login", None, "login-1", login.clone()).await;
        assert_eq!(status, 200);
        assert!(first["access_token"].is_string());
        let (status, again, _) = send(&app, Method::POST, "/auth/login", None, "login-1", login).await;
        assert_eq!((status, again["code"].as_str()), (409, Some("idempotency_key_used")));
    }
}

/// Like `send`, for a path under the server root.
async fn send_root(
    app: &TestApp,
    method: Method,
    path: &str,
    credential: &str,
    key: &str,
    body: Value,
) -> (u16, Value, bool) {
    let response = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("idempotency-key", key)
        .bearer_auth(credential)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        replayed,
    )
}

on_both_backends! {
    async fn the_members_and_organization_apis_replay_retries_too(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;
        let bob = app.user("b@example.com").await;
        let bob_name = app.get("/me", &bob.token).await.expect(200)["username"].as_str().unwrap().to_string();

        let body = json!({"username": bob_name});
        let (first, added, _) = send_root(&app, Method::POST, "/v1/members", &key, "spice-add", body.clone()).await;
        let (second, again, replayed) = send_root(&app, Method::POST, "/v1/members", &key, "spice-add", body).await;
        assert_eq!((first, second, replayed), (201, 201, true), "the retry is not a 409");
        assert_eq!(added, again);

        let invite = json!({"to": ["carol@example.com", "dan@example.com"], "organizationRole": "Member"});
        let path = format!("/v2/organization/{org}/invites");
        let (first, sent, _) = send_root(&app, Method::POST, &path, &key, "ango-invite", invite.clone()).await;
        let (second, again, replayed) = send_root(&app, Method::POST, &path, &key, "ango-invite", invite).await;
        assert_eq!((first, second, replayed), (200, 200, true));
        assert_eq!(sent, again);
        assert_eq!(app.outbox("carol@example.com").await.len(), 1, "one email, not two");
        let other = json!({"to": ["erin@example.com"], "organizationRole": "Member"});
        let (status, refused, _) = send_root(&app, Method::POST, &path, &key, "ango-invite", other).await;
        assert_eq!((status, refused["code"].as_str()), (422, Some("idempotency_key_reused")));
        assert_eq!(refused["status"], "error", "the Organization API's envelope holds for every error");
    }
}
