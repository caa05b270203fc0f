//! API tests: the real application on a free 127.0.0.1 port, driven over
//! HTTP, every scenario on SQLite and on a throwaway PostgreSQL. One test
//! binary, one module per area.

mod accounts;
mod ango;
mod api_keys;
mod audit;
mod backup;
mod cli;
mod concurrency;
mod console;
mod console_browser;
mod durability;
mod email_ownership;
mod idempotency;
mod input;
mod invitations;
mod isolation;
mod limits;
mod mail;
mod members;
mod metrics;
mod openapi;
mod orgs;
mod projects;
mod replicas;
mod servers;
mod spice;
mod surfaces;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use roster_core::{CoreConfig, Roster};
use roster_testkit::{Backend, RosterProcess, TestDatabase};
use serde_json::{json, Value};

/// Defines one test per backend: `mod name { fn sqlite(); fn postgres(); }`.
/// Attributes before `async fn` (e.g. `#[ignore = "…"]`) go on both. The
/// scenario takes one of:
///
/// - `(app)`: an in-process app with the suite's settings (`test_config`);
/// - `(app with CONFIG)`: the same with other `CoreConfig` settings, e.g.
///   `CoreConfig { auth_rate_per_minute: 10, ..test_config() }`;
/// - `(backend: Backend)`: the backend, for scenarios that start what they
///   need themselves (`roster serve` processes, the `roster` command).
///
/// Tests that measure latency are `#[ignore = "measures latency: …"]`: the rest of the
/// suite, running beside them on a 2-core machine, would decide them.
/// `scripts/test` runs them after the suite, one at a time
/// (`cargo test -p roster --test api -- --ignored --test-threads=1`).
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($backend: roster_testkit::Backend) $body

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                scenario(roster_testkit::Backend::Sqlite).await;
            }

            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                scenario(roster_testkit::Backend::Postgres).await;
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($app:ident with $config:expr) $body:block) => {
        $crate::on_both_backends! {
            $(#[$meta])*
            async fn $name(backend: Backend) {
                let $app = $crate::TestApp::spawn_with(backend, $config).await;
                $body
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $crate::on_both_backends! {
            $(#[$meta])*
            async fn $name($app with $crate::test_config()) $body
        }
    };
}

/// A running application and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    /// Every server's base URL: just `base` for an in-process app, one per
    /// process for `spawn_processes`.
    pub bases: Vec<String>,
    /// Real `roster serve` processes (stopped when dropped, before the
    /// database goes).
    pub servers: Vec<RosterProcess>,
    pub database: TestDatabase,
    /// The database whose outbox the mail helpers read: `database`'s,
    /// unless a test points the app at a server on another database.
    pub mail_database_url: String,
    /// The environment `start_servers` gives `roster serve` processes
    /// besides the suite's own (`servers::SUITE_LIMITS`).
    pub server_env: Vec<(String, String)>,
}

/// A signed-up, logged-in user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

/// An HTTP answer: status and JSON body (Null when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// Reads a response: status, headers, and the body as JSON.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            headers,
        }
    }

    /// Asserts the status and, for errors, that the body is `{code, message}`.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        if status >= 400 {
            assert!(
                self.body["code"].is_string(),
                "error without code: {}",
                self.body
            );
            assert!(
                self.body["message"].is_string(),
                "error without message: {}",
                self.body
            );
        }
        self.body
    }

    /// Asserts an error status and code.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        let body = self.expect(status);
        assert_eq!(body["code"], code, "unexpected error code: {body}");
        body
    }
}

/// Test settings: rate limits high enough not to trip over the suite itself.
pub fn test_config() -> CoreConfig {
    CoreConfig {
        auth_rate_per_minute: 100_000,
        invitation_emails_per_hour: 100_000,
        invitation_emails_per_recipient_per_day: 100_000,
        // Direct adds share this budget per actor; scenarios that test it
        // set their own lower value.
        invitation_emails_per_account_per_hour: 100_000,
        orgs_per_account_per_day: 100_000,
        public_url: "http://roster.test".to_string(),
        ..CoreConfig::default()
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, test_config()).await
    }

    /// Starts the production router over a fresh database of `backend`.
    pub async fn spawn_with(backend: Backend, config: CoreConfig) -> Self {
        // Blocking work (the sync PostgreSQL client runs its own runtime).
        let (database, roster) = tokio::task::spawn_blocking(move || {
            let database = TestDatabase::new(backend).expect("test database");
            let store = roster_store::open(database.url()).expect("open store");
            (
                database,
                Roster::new(store, config, None).expect("build roster"),
            )
        })
        .await
        .expect("start-up thread");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let app = roster_http::app(Arc::new(roster));
        // The production server loop, with its limits.
        tokio::spawn(roster_http::server::serve(
            listener,
            app,
            roster_http::HttpOptions::default().client_timeout,
            std::future::pending(),
        ));
        let base = format!("http://{addr}");
        Self {
            bases: vec![base.clone()],
            base,
            client: reqwest::Client::new(),
            backend,
            servers: Vec::new(),
            mail_database_url: database.url().to_string(),
            server_env: Vec::new(),
            database,
        }
    }

    /// A request to a path under the server root.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// Sends a request under `/api/v1`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.call_raw(method, &format!("/api/v1{path}"), token, body)
            .await
    }

    /// Sends a request to a path under the server root.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Answer::read(request.send().await.expect("request sent")).await
    }

    /// Sends a request to a path under the server root with a credential
    /// in the `apikey` header.
    pub async fn call_apikey(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.request(method, path).header("apikey", key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Answer::read(request.send().await.expect("request sent")).await
    }

    /// Creates an API key of `org` with `scopes` and answers the secret.
    pub async fn api_key(&self, owner: &TestUser, org: &str, scopes: &[&str]) -> String {
        let created = self
            .post(
                &format!("/orgs/{org}/api-keys"),
                &owner.token,
                json!({"name": "test key", "scopes": scopes}),
            )
            .await
            .expect(201);
        created["key"].as_str().expect("key").to_string()
    }

    /// Every scope an API key can hold.
    pub const ALL_SCOPES: [&'static str; 9] = [
        "org:read",
        "org:write",
        "members:read",
        "members:write",
        "projects:read",
        "projects:write",
        "invitations:read",
        "invitations:write",
        "audit:read",
    ];

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Signs up `email` (password `correct horse battery`), verifies the
    /// address the way a person does — the token from the verification
    /// email the server queued, posted to `/auth/verify-email` — and logs
    /// in. Most scenarios need a verified person: an unverified one may not
    /// create orgs, invite or create API keys.
    pub async fn user(&self, email: &str) -> TestUser {
        let user = self.unverified_user(email).await;
        self.verify(email).await;
        user
    }

    /// `POST /auth/signup` with `body` (an email and a password, and
    /// whatever else the scenario sends).
    pub async fn signup(&self, body: Value) -> Answer {
        self.call(Method::POST, "/auth/signup", None, Some(body))
            .await
    }

    /// `POST /auth/login` with `email` and `password`.
    pub async fn login(&self, email: &str, password: &str) -> Answer {
        let body = json!({"email": email, "password": password});
        self.call(Method::POST, "/auth/login", None, Some(body))
            .await
    }

    /// Signs up `email` and logs in, leaving the address unverified.
    pub async fn unverified_user(&self, email: &str) -> TestUser {
        let user = self
            .signup(json!({"email": email, "password": PASSWORD}))
            .await
            .expect(201);
        let tokens = self.login(email, PASSWORD).await.expect(200);
        TestUser {
            id: user["id"].as_str().expect("user id").to_string(),
            email: email.to_string(),
            token: tokens["access_token"]
                .as_str()
                .expect("access token")
                .to_string(),
            refresh_token: tokens["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_string(),
        }
    }

    /// Verifies `email` with the link of the newest verification email to it.
    pub async fn verify(&self, email: &str) {
        let token = self.token_from_email(email, "verify-email").await;
        self.call(
            Method::POST,
            "/auth/verify-email",
            None,
            Some(json!({"token": token})),
        )
        .await
        .expect(200);
    }

    /// Creates an org owned by `owner` and answers its id.
    pub async fn org(&self, owner: &TestUser, name: &str) -> String {
        let org = self
            .post("/orgs", &owner.token, json!({"name": name}))
            .await
            .expect(201);
        org["id"].as_str().expect("org id").to_string()
    }

    /// Creates a project in `org` as `admin` and answers its id.
    pub async fn project(&self, admin: &TestUser, org: &str, name: &str) -> String {
        let project = self
            .post(
                &format!("/orgs/{org}/projects"),
                &admin.token,
                json!({"name": name}),
            )
            .await
            .expect(201);
        project["id"].as_str().expect("project id").to_string()
    }

    /// Creates an org owned by `owner` with a new, verified person per
    /// `(email, role)` added to it; answers the org's id and those people.
    pub async fn org_with<const N: usize>(
        &self,
        owner: &TestUser,
        name: &str,
        people: [(&str, &str); N],
    ) -> (String, [TestUser; N]) {
        let org = self.org(owner, name).await;
        let mut added = Vec::with_capacity(N);
        for (email, role) in people {
            let person = self.user(email).await;
            self.add(owner, &org, &person, role).await;
            added.push(person);
        }
        (org, added.try_into().expect("one person per entry"))
    }

    /// Adds a registered user to an org with a role, as `admin`.
    pub async fn add(&self, admin: &TestUser, org: &str, user: &TestUser, role: &str) {
        self.add_member(&admin.token, org, &user.email, role)
            .await
            .expect(201);
    }

    /// Asks, as the holder of `token`, to add `email` to `org` with `role`
    /// (`POST /orgs/{org}/members`: an add, or an invitation for an address
    /// without a verified account); answers what the server said.
    pub async fn add_member(&self, token: &str, org: &str, email: &str, role: &str) -> Answer {
        self.post(
            &format!("/orgs/{org}/members"),
            token,
            json!({"member_email": email, "member_role": role}),
        )
        .await
    }

    /// The member list's `member_id -> member_role`.
    pub async fn roles(&self, org: &str, token: &str) -> Vec<(String, String)> {
        let body = self
            .get(&format!("/orgs/{org}/members?limit=1000"), token)
            .await
            .expect(200);
        body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|m| {
                (
                    m["member_email"].as_str().unwrap().to_string(),
                    m["member_role"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Emails queued to `to`, newest first, straight from the outbox table.
    pub async fn outbox(&self, to: &str) -> Vec<roster_core::model::OutboxEmail> {
        outbox_of(&self.mail_database_url, to).await
    }

    /// The token of the newest email to `to` whose link points at `page`:
    /// from the outbox for an in-process app (it runs no mail worker, so
    /// the email waits there) and for `roster serve` processes that send
    /// over SMTP (the test reads it before delivery: a delivered email's
    /// body is cleared from the outbox), from the servers' logs for
    /// processes that deliver to their log (at once).
    pub async fn token_from_email(&self, to: &str, page: &str) -> String {
        let over_smtp = self.server_env.iter().any(|(k, _)| k == "ROSTER_SMTP_URL");
        if self.servers.is_empty() || over_smtp {
            token_in_outbox(&self.mail_database_url, to, page).await
        } else {
            token_in_logs(&self.servers, to, page).await
        }
    }

    /// Every item of a paginated list under `/api/v1`, page by page.
    pub async fn all_pages(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self
                .get(&format!("{path}?limit=1000{cursor}"), token)
                .await
                .expect(200);
            items.extend(page["data"].as_array().expect("data").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return items,
            }
        }
    }

    /// The org's audit actions, oldest first.
    pub async fn audit_actions(&self, org: &str, token: &str) -> Vec<String> {
        let body = self
            .get(&format!("/orgs/{org}/audit-events?limit=1000"), token)
            .await
            .expect(200);
        let mut actions: Vec<String> = body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect();
        actions.reverse();
        actions
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// Emails queued to `to` in the database at `url`, newest first: the
/// outbox the server writes every email to before delivering it.
pub async fn outbox_of(url: &str, to: &str) -> Vec<roster_core::model::OutboxEmail> {
    let (url, to) = (url.to_string(), to.to_string());
    tokio::task::spawn_blocking(move || {
        let store = roster_store::open(&url).expect("open store");
        roster_core::store::read(&*store, |tx| tx.list_outbox_emails(Some(&to), 100))
            .expect("outbox")
    })
    .await
    .expect("outbox thread")
}

/// The token of the newest email to `to` whose link points at `page`.
pub async fn token_in_outbox(url: &str, to: &str, page: &str) -> String {
    let marker = format!("/console/{page}?token=");
    for email in outbox_of(url, to).await {
        if let Some(start) = email.text_body.find(&marker) {
            let rest = &email.text_body[start + marker.len()..];
            return rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    }
    panic!("no {page} email to {to}");
}

/// The token of the newest email to `to` whose link points at `page`,
/// delivered to the log of one of `servers` (waits up to 15 s for the mail
/// worker).
pub async fn token_in_logs(servers: &[RosterProcess], to: &str, page: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(token) = servers.iter().find_map(|s| s.mailed_token(to, page)) {
            return token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {page} email to {to} in the servers' logs"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

on_both_backends! {
    async fn health_and_readiness_answer(app) {
        let health = app.call_raw(Method::GET, "/healthz", None, None).await;
        assert_eq!(health.status, 200);
        let ready = app.call_raw(Method::GET, "/readyz", None, None).await;
        assert_eq!(ready.status, 200);
        assert_eq!(ready.body["status"], "ready");
        assert!(ready.headers.contains_key("x-request-id"));
    }
}

on_both_backends! {
    async fn unknown_routes_answer_json_404_and_wrong_methods_405(app) {
        app.call_raw(Method::GET, "/api/v1/nope", None, None).await.expect_error(404, "not_found");
        app.call_raw(Method::PUT, "/api/v1/orgs", None, None).await.expect_error(405, "method_not_allowed");
    }
}

on_both_backends! {
    async fn the_tenant_api_is_served_under_both_prefixes(app) {
        let owner = app.user("prefix@example.com").await;
        let org = app.org(&owner, "Prefixed").await;
        let via_tenant = app.call_raw(Method::GET, &format!("/tenant/api/v1/orgs/{org}"), Some(&owner.token), None).await.expect(200);
        assert_eq!(via_tenant["name"], "Prefixed");
    }
}

on_both_backends! {
    async fn every_answer_carries_the_security_headers_and_no_cors(app) {
        let owner = app.user("headers@example.com").await;
        let answers = [
            app.call_raw(Method::GET, "/healthz", None, None).await,
            app.call_raw(Method::GET, "/api/v1/me", Some(&owner.token), None).await,
            app.call_raw(Method::GET, "/api/v1/me", None, None).await,
            app.call_raw(Method::GET, "/api/v1/nope", None, None).await,
            app.call_raw(Method::GET, "/v1/members", None, None).await,
        ];
        for answer in answers {
            let h = &answer.headers;
            assert_eq!(h["x-content-type-options"], "nosniff");
            assert_eq!(h["x-frame-options"], "DENY");
            assert_eq!(h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
            assert_eq!(h["referrer-policy"], "no-referrer");
            assert_eq!(h["cache-control"], "no-store");
            assert!(!h.contains_key("access-control-allow-origin"), "CORS is off");
        }
        // A cross-origin preflight gets no CORS grant either.
        let preflight = app.client.request(Method::OPTIONS, format!("{}/api/v1/me", app.base))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "GET")
            .send().await.unwrap();
        assert!(!preflight.headers().contains_key("access-control-allow-origin"));
    }
}
