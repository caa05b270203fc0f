//! `Idempotency-Key`: a retry gets the first answer and changes nothing;
//! another request under the same key is refused; concurrent retries make
//! one change and get one answer.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{on_both_backends, Answer, TestApp, PASSWORD};

/// Sends `body` with an `Idempotency-Key` to a path under the server
/// root: answers the status, the body, and whether the answer is a replay.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    key: &str,
    body: Value,
) -> (u16, Value, bool) {
    let mut request = app
        .request(method, path)
        .header("idempotency-key", key)
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = Answer::read(request.send().await.unwrap()).await;
    let replayed = answer.headers.contains_key("idempotent-replayed");
    (answer.status.as_u16(), answer.body, replayed)
}

on_both_backends! {
    async fn a_retry_gets_the_first_answer_and_changes_nothing(app) {
        let owner = app.user("o@example.com").await;
        let (status, first, replayed) = send(&app, Method::POST, "/api/v1/orgs", Some(&owner.token), "create-acme-1", json!({"name": "Acme"})).await;
        assert_eq!((status, replayed), (201, false));
        let (status, again, replayed) = send(&app, Method::POST, "/api/v1/orgs", Some(&owner.token), "create-acme-1", json!({"name": "Acme"})).await;
        assert_eq!((status, replayed), (201, true));
        assert_eq!(first, again);
        assert_eq!(app.get("/orgs", &owner.token).await.expect(200)["data"].as_array().unwrap().len(), 1);

        let org = first["id"].as_str().unwrap();
        let bob = app.user("b@example.com").await;
        app.add(&owner, org, &bob, "member").await;
        let path = format!("/api/v1/orgs/{org}/members/{}", bob.id);
        let (one, _, _) = send(&app, Method::DELETE, &path, Some(&owner.token), "remove-bob", Value::Null).await;
        let (two, _, replayed) = send(&app, Method::DELETE, &path, Some(&owner.token), "remove-bob", Value::Null).await;
        assert_eq!((one, two, replayed), (200, 200, true), "the retry is not a 404");
        let removals = app.audit_actions(org, &owner.token).await.iter().filter(|a| *a == "member.removed").count();
        assert_eq!(removals, 1);

        // Errors are answers too: the retry of a refused request is refused alike.
        let (status, refused, _) = send(&app, Method::DELETE, &format!("/api/v1/orgs/{org}/members/{}", owner.id), Some(&owner.token), "leave", Value::Null).await;
        assert_eq!((status, refused["code"].as_str()), (409, Some("last_owner")));
        let (status, _, replayed) = send(&app, Method::DELETE, &format!("/api/v1/orgs/{org}/members/{}", owner.id), Some(&owner.token), "leave", Value::Null).await;
        assert_eq!((status, replayed), (409, true));
    }
}

on_both_backends! {
    async fn the_same_key_with_another_request_is_refused(app) {
        let owner = app.user("o@example.com").await;
        send(&app, Method::POST, "/api/v1/orgs", Some(&owner.token), "k1", json!({"name": "Acme"})).await;
        let (status, body, _) = send(&app, Method::POST, "/api/v1/orgs", Some(&owner.token), "k1", json!({"name": "Other"})).await;
        assert_eq!((status, body["code"].as_str()), (422, Some("idempotency_key_reused")));
        let (status, body, _) = send(&app, Method::POST, "/api/v1/orgs", Some(&owner.token), "bad key", json!({"name": "Other"})).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_request")));
        // Keys belong to their credential: another user may use "k1".
        let other = app.user("x@example.com").await;
        let (status, _, replayed) = send(&app, Method::POST, "/api/v1/orgs", Some(&other.token), "k1", json!({"name": "Other"})).await;
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
    async fn answers_that_carry_secrets_are_never_stored(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;

        // A new API key: the retry runs nothing and says why.
        let body = json!({"name": "ci", "scopes": ["org:read"]});
        let (status, created, _) = send(&app, Method::POST, &format!("/api/v1/orgs/{org}/api-keys"), Some(&owner.token), "key-1", body.clone()).await;
        assert_eq!(status, 201);
        let secret = created["key"].as_str().unwrap().to_string();
        let (status, again, replayed) = send(&app, Method::POST, &format!("/api/v1/orgs/{org}/api-keys"), Some(&owner.token), "key-1", body).await;
        assert_eq!((status, again["code"].as_str(), replayed), (409, Some("idempotency_secret"), false), "{again}");
        assert_eq!(app.get(&format!("/orgs/{org}/api-keys"), &owner.token).await.expect(200)["data"].as_array().unwrap().len(), 1, "one key, not two");

        // An org access token, likewise.
        let (status, issued, _) = send(&app, Method::POST, &format!("/api/v1/orgs/{org}/access-token"), Some(&owner.token), "token-1", json!({})).await;
        assert_eq!(status, 201);
        let token = issued["access_token"].as_str().unwrap().to_string();
        let (status, again, _) = send(&app, Method::POST, &format!("/api/v1/orgs/{org}/access-token"), Some(&owner.token), "token-1", json!({})).await;
        assert_eq!((status, again["code"].as_str()), (409, Some("idempotency_secret")), "{again}");

        // The records keep the status only, never the secret.
        let rows = idempotency_rows(&app).await;
        assert_eq!(rows.len(), 2, "the key and token requests: {rows:?}");
        assert!(rows.iter().all(|(_, _, response)| response.as_deref().is_none_or(|r| !r.contains(&secret) && !r.contains(&token))), "{rows:?}");
        let withheld = rows.iter().filter(|(_, status, response)| *status == Some(201) && response.is_none()).count();
        assert_eq!(withheld, 2, "{rows:?}");
    }
}

on_both_backends! {
    async fn unauthenticated_requests_never_write_a_record(app) {
        let owner = app.user("o@example.com").await;
        // No credential, a junk one, an unknown key: each answered as
        // without the header, and nothing stored.
        for (token, key) in [(None, "anon-1"), (Some("junk"), "anon-2"), (Some("rsk_forged"), "anon-3")] {
            let (status, body, replayed) = send(&app, Method::POST, "/api/v1/orgs", token, key, json!({"name": "Junk"})).await;
            assert_eq!((status, body["code"].as_str(), replayed), (401, Some("unauthenticated"), false), "{body}");
        }
        // Public endpoints run as usual: a login retried logs in again.
        let login = json!({"email": owner.email, "password": PASSWORD});
        for _ in 0..2 {
            let (status, tokens, replayed) = send(&app, Method::POST, "/api/v1/auth/login", None, "login-1", login.clone()).await;
            assert_eq!((status, replayed), (200, false));
            assert!(tokens["access_token"].is_string());
        }
        assert_eq!(idempotency_rows(&app).await, Vec::new());
    }
}

on_both_backends! {
    async fn ended_credentials_get_no_replay(app) {
        let owner = app.user("o@example.com").await;
        let tokens = app.login(&owner.email, PASSWORD).await.expect(200);
        let session = tokens["access_token"].as_str().unwrap().to_string();
        let (status, _, _) = send(&app, Method::POST, "/api/v1/orgs", Some(&session), "org-1", json!({"name": "Acme"})).await;
        assert_eq!(status, 201);
        app.post("/auth/logout", &session, json!({})).await.expect(200);
        let (status, body, replayed) = send(&app, Method::POST, "/api/v1/orgs", Some(&session), "org-1", json!({"name": "Acme"})).await;
        assert_eq!((status, body["code"].as_str(), replayed), (401, Some("unauthenticated"), false), "a logged-out token gets no replay: {body}");

        let org = app.org(&owner, "Keys").await;
        let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;
        let path = format!("/api/v1/orgs/{org}/projects");
        let (status, _, _) = send(&app, Method::POST, &path, Some(&key), "project-1", json!({"name": "Apollo"})).await;
        assert_eq!(status, 201);
        let keys = app.get(&format!("/orgs/{org}/api-keys"), &owner.token).await.expect(200);
        let key_id = keys["data"][0]["id"].as_str().unwrap().to_string();
        app.delete(&format!("/orgs/{org}/api-keys/{key_id}"), &owner.token).await.expect(200);
        let (status, body, replayed) = send(&app, Method::POST, &path, Some(&key), "project-1", json!({"name": "Apollo"})).await;
        assert_eq!((status, replayed), (401, false), "a revoked key gets no replay: {body}");
    }
}

on_both_backends! {
    async fn keys_belong_to_one_principal_and_one_route(app) {
        // Two orgs' keys sending the same unrelated Authorization header
        // (the key itself in `apikey`) and the same Idempotency-Key: each
        // acts in its own org.
        let alice = app.user("a@example.com").await;
        let bob = app.user("b@example.com").await;
        let carol = app.user("c@example.com").await;
        let carol_name = app.get("/me", &carol.token).await.expect(200)["username"].as_str().unwrap().to_string();
        let org_a = app.org(&alice, "A").await;
        let org_b = app.org(&bob, "B").await;
        let key_a = app.api_key(&alice, &org_a, &TestApp::ALL_SCOPES).await;
        let key_b = app.api_key(&bob, &org_b, &TestApp::ALL_SCOPES).await;
        for key in [&key_a, &key_b] {
            let response = app.client.post(format!("{}/v1/members", app.base))
                .header("authorization", "Basic c2hhcmVkOnNoYXJlZA==")
                .header("apikey", key.as_str())
                .header("idempotency-key", "add-carol")
                .json(&json!({"username": carol_name}))
                .send().await.unwrap();
            assert_eq!(response.status().as_u16(), 201);
            assert!(response.headers().get("idempotent-replayed").is_none(), "one org's key got another's answer");
        }
        assert!(app.roles(&org_a, &alice.token).await.iter().any(|(email, _)| email == &carol.email));
        assert!(app.roles(&org_b, &bob.token).await.iter().any(|(email, _)| email == &carol.email));

        // One user, one key, two routes: two requests, not a reuse.
        let (one, _, _) = send(&app, Method::POST, &format!("/api/v1/orgs/{org_a}/projects"), Some(&alice.token), "p", json!({"name": "P"})).await;
        let org_c = app.org(&alice, "C").await;
        let (two, body, replayed) = send(&app, Method::POST, &format!("/api/v1/orgs/{org_c}/projects"), Some(&alice.token), "p", json!({"name": "P"})).await;
        assert_eq!((one, two, replayed), (201, 201, false), "{body}");
    }
}

/// Every idempotency record: (scope, status, response).
async fn idempotency_rows(app: &TestApp) -> Vec<(String, Option<i64>, Option<String>)> {
    let url = app.database.url().to_string();
    let sql = "SELECT scope, status, response FROM idempotency_keys ORDER BY created_at, scope";
    tokio::task::spawn_blocking(move || match url.strip_prefix("sqlite://") {
        Some(path) => {
            let connection = rusqlite::Connection::open(path).expect("open");
            let mut statement = connection.prepare(sql).expect("prepare");
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .expect("query");
            rows.map(|row| row.expect("row")).collect()
        }
        None => postgres::Client::connect(&url, postgres::NoTls)
            .expect("connect")
            .query(sql, &[])
            .expect("query")
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect(),
    })
    .await
    .expect("read thread")
}

on_both_backends! {
    async fn the_members_and_organization_apis_replay_retries_too(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;
        let bob = app.user("b@example.com").await;
        let bob_name = app.get("/me", &bob.token).await.expect(200)["username"].as_str().unwrap().to_string();

        let body = json!({"username": bob_name});
        let (first, added, _) = send(&app, Method::POST, "/v1/members", Some(&key), "spice-add", body.clone()).await;
        let (second, again, replayed) = send(&app, Method::POST, "/v1/members", Some(&key), "spice-add", body).await;
        assert_eq!((first, second, replayed), (201, 201, true), "the retry is not a 409");
        assert_eq!(added, again);

        let invite = json!({"to": ["carol@example.com", "dan@example.com"], "organizationRole": "Member"});
        let path = format!("/v2/organization/{org}/invites");
        let (first, sent, _) = send(&app, Method::POST, &path, Some(&key), "ango-invite", invite.clone()).await;
        let (second, again, replayed) = send(&app, Method::POST, &path, Some(&key), "ango-invite", invite).await;
        assert_eq!((first, second, replayed), (200, 200, true));
        assert_eq!(sent, again);
        assert_eq!(app.outbox("carol@example.com").await.len(), 1, "one email, not two");
        let other = json!({"to": ["erin@example.com"], "organizationRole": "Member"});
        let (status, refused, _) = send(&app, Method::POST, &path, Some(&key), "ango-invite", other).await;
        assert_eq!((status, refused["code"].as_str()), (422, Some("idempotency_key_reused")));
        assert_eq!(refused["status"], "error", "the Organization API's envelope holds for every error");
    }
}
