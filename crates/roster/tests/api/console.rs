//! The web console over HTTP: security headers, CSRF, cookie flags,
//! escaping, role-based hiding backed by server refusal, and the sign-up,
//! login and invitation flows. A small cookie-keeping client plays the
//! browser; redirects are not followed, so each answer is checked as sent.

use std::collections::HashMap;

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::{on_both_backends, TestApp, PASSWORD};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// One browser: its own cookie jar.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// One answer of the console.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `Set-Cookie` line of cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self::at(&app.base)
    }

    /// A browser for the server at `base`.
    pub fn at(base: &str) -> Self {
        Self {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        for line in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = line.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || line.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        let body = response.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("request");
        self.finish(response).await
    }

    /// Posts a form as is (no CSRF field added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .expect("request");
        self.finish(response).await
    }

    /// The CSRF token the console's forms carry for this browser and its
    /// current session, read from a page with a form.
    pub async fn form_token(&mut self) -> String {
        if self.cookies.contains_key("roster_session") {
            if let Some(token) = form_token(&self.get("/console/orgs").await.body) {
                return token;
            }
        }
        form_token(&self.get("/console/login").await.body).expect("the login page has a form")
    }

    /// Posts a form with the CSRF token of this browser's session, as the
    /// console's own forms do (read from a page first).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.form_token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &csrf));
        self.post_raw(path, &all).await
    }

    /// Logs in `email` with the suite's password.
    pub async fn login(&mut self, email: &str) {
        let page = self
            .post(
                "/console/login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "login: {}", page.body);
    }
}

/// The CSRF token a page's forms carry.
fn form_token(body: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker)? + marker.len();
    Some(body[start..].split('"').next()?.to_string())
}

on_both_backends! {
    async fn pages_forbid_inline_script_and_framing(app) {
        let mut browser = Browser::new(&app);
        let page = browser.get("/console/login").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.headers["content-security-policy"], CSP);
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert_eq!(page.headers["cache-control"], "no-store");
        assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        // Every script is a file; no inline script, style or handler.
        assert_eq!(page.body.matches("<script").count(), page.body.matches("<script src=\"/console/assets/").count());
        assert!(!page.body.contains("<style"));
        assert!(!page.body.contains(" style="));
        assert!(!page.body.contains(" onclick="));
        // Every input of the form has a label.
        for id in ["email", "password"] {
            assert!(page.body.contains(&format!("<label for=\"{id}\"")), "no label for {id}");
        }
        // The embedded assets are served with cache headers.
        let script = page.body.split("<script src=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let asset = browser.get(&script).await;
        assert_eq!(asset.status, StatusCode::OK);
        assert!(asset.headers["cache-control"].to_str().unwrap().contains("max-age="));
        assert!(asset.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
        assert!(asset.body.contains("Working…"));
        assert_eq!(browser.get("/console/assets/nothing.js").await.status, StatusCode::NOT_FOUND);
        // The console's root, with or without the slash, leads to the login.
        assert_eq!(browser.get("/console/").await.location(), "/console");
        assert_eq!(browser.get("/console").await.location(), "/console/login");
    }
}

on_both_backends! {
    async fn session_and_csrf_cookies_are_http_only_same_site_and_secure_over_https(app) {
        app.user("owner@example.com").await;
        let mut browser = Browser::new(&app);
        let form = browser.get("/console/login").await;
        let csrf = form.set_cookie("roster_csrf").expect("csrf cookie");
        assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict") && csrf.contains("Path=/console"), "{csrf}");
        assert!(!csrf.contains("Secure"), "plain http gets no Secure flag: {csrf}");
        let token = form_token(&form.body).expect("the form carries a token");
        assert_ne!(token, browser.cookies["roster_csrf"], "the form never shows the cookie's secret");

        let login = browser.post("/console/login", &[("email", "owner@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER);
        assert_eq!(login.location(), "/console/orgs");
        for name in ["roster_session", "roster_refresh"] {
            let line = login.set_cookie(name).expect("session cookie");
            assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.contains("Path=/console"), "{line}");
        }

        // Behind a TLS-terminating proxy, every cookie is Secure.
        let response = reqwest::Client::new()
            .get(format!("{}/console/login", app.base))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        let line = response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).find(|l| l.starts_with("roster_csrf=")).unwrap();
        assert!(line.contains("; Secure"), "{line}");
    }
}

on_both_backends! {
    async fn a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(app) {
        let owner = app.user("owner@example.com").await;
        let mut browser = Browser::new(&app);
        browser.login("owner@example.com").await;

        let missing = browser.post_raw("/console/orgs", &[("name", "Sneaky")]).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN);
        assert!(missing.body.contains("security token"), "{}", missing.body);
        let wrong = browser.post_raw("/console/orgs", &[("name", "Sneaky"), ("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]).await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        // A matching token from another site's page is refused by Origin.
        let csrf = browser.form_token().await;
        let foreign = browser.client
            .post(format!("{}/console/orgs", app.base))
            .header("cookie", browser.cookie_header())
            .header("origin", "https://evil.example")
            .form(&[("name", "Sneaky"), ("csrf", csrf.as_str())])
            .send().await.unwrap();
        assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
        let orgs = app.get("/orgs", &owner.token).await.expect(200);
        assert_eq!(orgs["data"].as_array().unwrap().len(), 0, "a refused POST created something");

        // Logging out needs the token too.
        let logout = browser.post_raw("/console/logout", &[]).await;
        assert_eq!(logout.status, StatusCode::FORBIDDEN);
        assert_eq!(browser.get("/console/orgs").await.status, StatusCode::OK);

        let created = browser.post("/console/orgs", &[("name", "Acme")]).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        let orgs = app.get("/orgs", &owner.token).await.expect(200);
        assert_eq!(orgs["data"][0]["name"], "Acme");
    }
}

on_both_backends! {
    async fn a_csrf_token_of_one_console_session_is_refused_in_another(app) {
        let alice = app.user("alice@example.com").await;
        app.user("mallory@example.com").await;
        // Mallory logs in and reads the token of her own session's forms.
        let mut mallory = Browser::new(&app);
        mallory.login("mallory@example.com").await;
        let minted = mallory.form_token().await;
        // Alice's browser holds the very same CSRF cookie (planted, say,
        // from a sibling subdomain) but her own session.
        let mut alice_browser = Browser::new(&app);
        alice_browser.cookies.insert("roster_csrf".to_string(), mallory.cookies["roster_csrf"].clone());
        alice_browser.login("alice@example.com").await;
        let forged = alice_browser.post_raw("/console/orgs", &[("name", "Forged"), ("csrf", minted.as_str())]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        assert_eq!(app.get("/orgs", &alice.token).await.expect(200)["data"].as_array().unwrap().len(), 0, "the forged form created an org");
        // A token minted before logging in is refused after, too.
        let mut fresh = Browser::new(&app);
        let anonymous = fresh.form_token().await;
        fresh.login("alice@example.com").await;
        let stale = fresh.post_raw("/console/orgs", &[("name", "Stale"), ("csrf", anonymous.as_str())]).await;
        assert_eq!(stale.status, StatusCode::FORBIDDEN);
        // Her own session's token works.
        let created = alice_browser.post("/console/orgs", &[("name", "Mine")]).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        assert_eq!(app.get("/orgs", &alice.token).await.expect(200)["data"][0]["name"], "Mine");
    }
}

on_both_backends! {
    async fn user_supplied_strings_are_escaped(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        app.signup(json!({
            "email": "mallory@example.com", "password": PASSWORD, "name": "<script>alert(1)</script>"
        })).await.expect(201);
        app.verify("mallory@example.com").await;
        app.add_member(&owner.token, &org, "mallory@example.com", "member").await.expect(201);
        app.patch(&format!("/orgs/{org}"), &owner.token, json!({"description": "\"><img src=x onerror=alert(2)>"})).await.expect(200);

        let mut browser = Browser::new(&app);
        browser.login("owner@example.com").await;
        let members = browser.get(&format!("/console/orgs/{org}/members")).await;
        assert_eq!(members.status, StatusCode::OK);
        assert!(members.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", members.body);
        assert!(!members.body.contains("<script>alert(1)"));
        let overview = browser.get(&format!("/console/orgs/{org}")).await;
        assert!(overview.body.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"), "{}", overview.body);
        assert!(!overview.body.contains("<img src=x"));
        // A search term comes back in the search box, escaped.
        let search = browser.get(&format!("/console/orgs/{org}/members?q=%22%3E%3Cb%3Ex")).await;
        assert_eq!(search.status, StatusCode::OK);
        assert!(search.body.contains("value=\"&quot;&gt;&lt;b&gt;x\""), "{}", search.body);
        // A notice code that the console does not know shows nothing.
        let crafted = browser.get(&format!("/console/orgs/{org}?done=%3Cb%3Ehello")).await;
        assert!(!crafted.body.contains("hello"));
    }
}

on_both_backends! {
    async fn actions_a_role_may_not_take_are_hidden_and_refused(app) {
        let owner = app.user("owner@example.com").await;
        let (org, [_admin, member, _guest]) = app.org_with(&owner, "Acme", [("admin@example.com", "admin"), ("member@example.com", "member"), ("guest@example.com", "guest")]).await;

        let mut as_member = Browser::new(&app);
        as_member.login("member@example.com").await;
        let page = as_member.get(&format!("/console/orgs/{org}/members")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("owner@example.com"));
        assert!(!page.body.contains("Invite someone"));
        assert!(!page.body.contains("Change role"));
        assert!(!page.body.contains("/remove\""));
        assert!(!page.body.contains("/invitations\""), "members see no invitations tab");
        let overview = as_member.get(&format!("/console/orgs/{org}")).await;
        assert!(!overview.body.contains("Save settings"));
        assert!(!overview.body.contains("/delete\""));
        // …and the server refuses them anyway.
        let invite = as_member.post(&format!("/console/orgs/{org}/members"), &[("email", "new@example.com"), ("role", "member")]).await;
        assert_eq!(invite.status, StatusCode::FORBIDDEN);
        assert!(invite.body.contains("Only admins and owners"), "{}", invite.body);
        let demote = as_member.post(&format!("/console/orgs/{org}/members/{}/role", owner.id), &[("role", "guest")]).await;
        assert_eq!(demote.status, StatusCode::FORBIDDEN);
        let delete = as_member.post(&format!("/console/orgs/{org}/delete"), &[]).await;
        assert_eq!(delete.status, StatusCode::FORBIDDEN);
        assert_eq!(app.roles(&org, &owner.token).await.len(), 4);
        let invitations = app.get(&format!("/orgs/{org}/invitations"), &owner.token).await.expect(200);
        assert!(invitations["data"].as_array().unwrap().is_empty());

        // An admin may manage members, but not owners, and cannot grant owner.
        let mut as_admin = Browser::new(&app);
        as_admin.login("admin@example.com").await;
        let page = as_admin.get(&format!("/console/orgs/{org}/members")).await;
        assert!(page.body.contains("Invite someone"));
        assert!(page.body.contains(&format!("/members/{}/remove", member.id)));
        assert!(!page.body.contains(&format!("/members/{}/remove", owner.id)));
        assert!(!page.body.contains("<option value=\"owner\""));
        let promote = as_admin.post(&format!("/console/orgs/{org}/members/{}/role", member.id), &[("role", "owner")]).await;
        assert_eq!(promote.status, StatusCode::FORBIDDEN);
        let removal = as_admin.post(&format!("/console/orgs/{org}/members/{}/remove", owner.id), &[]).await;
        assert_eq!(removal.status, StatusCode::FORBIDDEN);

        // A guest sees the org but not its directory.
        let mut as_guest = Browser::new(&app);
        as_guest.login("guest@example.com").await;
        let overview = as_guest.get(&format!("/console/orgs/{org}")).await;
        assert_eq!(overview.status, StatusCode::OK);
        assert!(!overview.body.contains("/members\""));
        assert_eq!(as_guest.get(&format!("/console/orgs/{org}/members")).await.status, StatusCode::FORBIDDEN);

        // Someone outside the org learns nothing.
        app.user("stranger@example.com").await;
        let mut stranger = Browser::new(&app);
        stranger.login("stranger@example.com").await;
        let page = stranger.get(&format!("/console/orgs/{org}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(!page.body.contains("Acme"));
    }
}

on_both_backends! {
    async fn owner_manages_members_from_the_console(app) {
        let owner = app.user("owner@example.com").await;
        let bob = app.user("bob@example.com").await;
        let mut browser = Browser::new(&app);
        browser.login("owner@example.com").await;
        let created = browser.post("/console/orgs", &[("name", "Acme"), ("description", "Rockets")]).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        let org = created.location().trim_start_matches("/console/orgs/").split('?').next().unwrap().to_string();

        let added = browser.post(&format!("/console/orgs/{org}/members"), &[("email", "bob@example.com"), ("role", "member"), ("message", "")]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER);
        assert!(added.location().ends_with("done=member_added"));
        let page = browser.get(added.location()).await;
        assert!(page.body.contains("Member added."));
        assert!(page.body.contains("bob@example.com"));

        let changed = browser.post(&format!("/console/orgs/{org}/members/{}/role", bob.id), &[("role", "admin")]).await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER);
        assert!(app.roles(&org, &owner.token).await.contains(&("bob@example.com".into(), "admin".into())));

        // Search narrows the table.
        let found = browser.get(&format!("/console/orgs/{org}/members?q=bob")).await;
        assert!(found.body.contains("bob@example.com") && !found.body.contains("owner@example.com</td>"));

        // Removal asks first, then removes.
        let confirm = browser.get(&format!("/console/orgs/{org}/members/{}/remove", bob.id)).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm.body.contains("Remove this member?"));
        let removed = browser.post(&format!("/console/orgs/{org}/members/{}/remove", bob.id), &[]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1);

        // The last owner cannot leave: a clear 409, nothing changes.
        let leave = browser.post(&format!("/console/orgs/{org}/leave"), &[]).await;
        assert_eq!(leave.status, StatusCode::CONFLICT);
        assert!(leave.body.contains("at least one owner"), "{}", leave.body);
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1);
    }
}

on_both_backends! {
    async fn bad_input_gets_a_clear_4xx_page(app) {
        app.user("owner@example.com").await;
        let mut browser = Browser::new(&app);
        // Logged out: protected pages send to login and come back.
        let redirect = browser.get("/console/orgs").await;
        assert_eq!(redirect.status, StatusCode::SEE_OTHER);
        assert_eq!(redirect.location(), "/console/login?next=%2Fconsole%2Forgs");
        let wrong = browser.post("/console/login", &[("email", "owner@example.com"), ("password", "not the password")]).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("Invalid email or password"), "{}", wrong.body);
        assert!(wrong.body.contains("value=\"owner@example.com\""));

        browser.login("owner@example.com").await;
        let not_uuid = browser.get("/console/orgs/not-an-id").await;
        assert_eq!(not_uuid.status, StatusCode::NOT_FOUND);
        assert!(not_uuid.body.contains("no such organization"));
        let unknown = browser.get("/console/no-such-page").await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let empty_name = browser.post("/console/orgs", &[("name", "")]).await;
        assert_eq!(empty_name.status, StatusCode::BAD_REQUEST);
        assert!(empty_name.body.contains("name"), "{}", empty_name.body);
        let missing_field = browser.post("/console/orgs", &[]).await;
        assert_eq!(missing_field.status, StatusCode::BAD_REQUEST);
        let bad_cursor = browser.get("/console/orgs?cursor=%%%").await;
        assert_eq!(bad_cursor.status, StatusCode::BAD_REQUEST);
        let no_token = browser.get("/console/verify-email").await;
        assert_eq!(no_token.status, StatusCode::BAD_REQUEST);
        let dead_token = browser.post("/console/verify-email", &[("token", "nope")]).await;
        assert!(dead_token.status.is_client_error(), "{:?}", dead_token.status);
        let huge = "x".repeat(20_000);
        let too_large = browser.post("/console/orgs", &[("name", huge.as_str())]).await;
        assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}

on_both_backends! {
    async fn signup_verify_login_and_logout_in_the_console(app) {
        let mut browser = Browser::new(&app);
        let form = browser.get("/console/signup").await;
        assert_eq!(form.status, StatusCode::OK);
        let signed_up = browser.post("/console/signup", &[("email", "new@example.com"), ("password", PASSWORD), ("name", "New Person"), ("username", "")]).await;
        assert_eq!(signed_up.status, StatusCode::SEE_OTHER, "{}", signed_up.body);
        let orgs = browser.get("/console/orgs").await;
        assert_eq!(orgs.status, StatusCode::OK);
        assert!(orgs.body.contains("new@example.com"));
        assert!(orgs.body.contains("not verified"));

        let token = app.token_from_email("new@example.com", "verify-email").await;
        let page = browser.get(&format!("/console/verify-email?token={token}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Verify my email address"), "{}", page.body);
        let verified = browser.post("/console/verify-email", &[("token", token.as_str())]).await;
        assert_eq!(verified.status, StatusCode::SEE_OTHER);
        let orgs = browser.get(verified.location()).await;
        assert!(orgs.body.contains("Your email address is verified."));
        assert!(!orgs.body.contains("not verified"));

        let old_session = browser.cookies.clone();
        let out = browser.post("/console/logout", &[]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(out.set_cookie("roster_session").unwrap().contains("Max-Age=0"));
        assert_eq!(browser.get("/console/orgs").await.status, StatusCode::SEE_OTHER);
        // The session is dead in the core too: the old cookies no longer work.
        browser.cookies = old_session;
        assert_eq!(browser.get("/console/orgs").await.status, StatusCode::SEE_OTHER);

        // Taken addresses get a clear 409 on the form.
        let mut other = Browser::new(&app);
        let taken = other.post("/console/signup", &[("email", "new@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        assert!(taken.body.contains("already exists"));
    }
}

on_both_backends! {
    async fn an_invitation_link_leads_a_newcomer_through_signup_into_the_org(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let mut browser = Browser::new(&app);
        browser.login("owner@example.com").await;
        let invited = browser.post(&format!("/console/orgs/{org}/members"), &[("email", "newbie@example.com"), ("role", "admin"), ("message", "Welcome <aboard>")]).await;
        assert_eq!(invited.status, StatusCode::SEE_OTHER);
        assert!(invited.location().ends_with("done=member_invited"));
        let token = app.token_from_email("newbie@example.com", "accept-invite").await;

        let mut newcomer = Browser::new(&app);
        let landing = newcomer.get(&format!("/console/accept-invite?token={token}")).await;
        assert_eq!(landing.status, StatusCode::OK);
        assert!(landing.body.contains("Sign up and accept"));
        let signed_up = newcomer.post("/console/signup", &[("email", "newbie@example.com"), ("password", PASSWORD), ("invite", &token)]).await;
        assert_eq!(signed_up.status, StatusCode::SEE_OTHER);
        assert!(signed_up.location().starts_with("/console/accept-invite?token="));
        let confirm = newcomer.get(signed_up.location()).await;
        assert!(confirm.body.contains("Accept invitation"));
        let accepted = newcomer.post("/console/accept-invite", &[("token", &token)]).await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
        assert_eq!(accepted.location(), format!("/console/orgs/{org}?done=invitation_accepted"));
        assert!(app.roles(&org, &owner.token).await.contains(&("newbie@example.com".into(), "admin".into())));
        // Used once: a second accept is a clear 409.
        let again = newcomer.post("/console/accept-invite", &[("token", &token)]).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
    }
}

on_both_backends! {
    async fn invitations_projects_keys_and_audit_from_the_console(app) {
        let owner = app.user("owner@example.com").await;
        let (org, [bob]) = app.org_with(&owner, "Acme", [("bob@example.com", "member")]).await;
        let mut browser = Browser::new(&app);
        browser.login("owner@example.com").await;

        // Invitations: listed with status, resent, revoked after a confirm page.
        browser.post(&format!("/console/orgs/{org}/members"), &[("email", "eve@example.com"), ("role", "member")]).await;
        let list = browser.get(&format!("/console/orgs/{org}/invitations")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("eve@example.com"));
        let invitation = app.get(&format!("/orgs/{org}/invitations"), &owner.token).await.expect(200)["data"][0]["id"].as_str().unwrap().to_string();
        let resent = browser.post(&format!("/console/orgs/{org}/invitations/{invitation}/resend"), &[]).await;
        assert_eq!(resent.status, StatusCode::SEE_OTHER, "{}", resent.body);
        assert!(browser.get(&format!("/console/orgs/{org}/invitations/{invitation}/revoke")).await.body.contains("Revoke this invitation?"));
        let revoked = browser.post(&format!("/console/orgs/{org}/invitations/{invitation}/revoke"), &[]).await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        let after = app.get(&format!("/orgs/{org}/invitations"), &owner.token).await.expect(200);
        assert_eq!(after["data"][0]["status"], "revoked");
        assert_eq!(browser.get(&format!("/console/orgs/{org}/invitations?status=bogus")).await.status, StatusCode::BAD_REQUEST);
        let open_only = browser.get(&format!("/console/orgs/{org}/invitations?status=pending")).await;
        assert!(!open_only.body.contains("eve@example.com"));

        // Projects: create, add a member, who as project admin may manage it.
        let created = browser.post(&format!("/console/orgs/{org}/projects"), &[("name", "Rocket"), ("description", "")]).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        let project_page = created.location().split('?').next().unwrap().to_string();
        let project = project_page.rsplit('/').next().unwrap().to_string();
        let added = browser.post(&format!("{project_page}/members"), &[("email", "bob@example.com"), ("role", "admin")]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let members = app.get(&format!("/orgs/{org}/projects/{project}/members"), &owner.token).await.expect(200);
        assert_eq!(members["data"][0]["member_role"], "admin");
        let not_member = browser.post(&format!("{project_page}/members"), &[("email", "nobody@example.com"), ("role", "member")]).await;
        assert_eq!(not_member.status, StatusCode::NOT_FOUND);
        let mut as_bob = Browser::new(&app);
        as_bob.login("bob@example.com").await;
        let bobs_view = as_bob.get(&project_page).await;
        assert!(bobs_view.body.contains("Save project"), "a project admin manages the project");
        let renamed = as_bob.post(&project_page, &[("name", "Rocket 2"), ("description", "faster")]).await;
        assert_eq!(renamed.status, StatusCode::SEE_OTHER);
        assert!(!as_bob.get(&format!("/console/orgs/{org}/projects")).await.body.contains("Create a project"));
        let removed = browser.post(&format!("{project_page}/members/{}/remove", bob.id), &[]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert!(!as_bob.get(&project_page).await.body.contains("Save project"), "no longer a project admin");

        // API keys: the secret is shown once, works, and dies when revoked.
        let key_page = browser.post(&format!("/console/orgs/{org}/api-keys"), &[("name", "billing"), ("scopes", "members:read"), ("scopes", "org:read"), ("expires_in_days", "30")]).await;
        assert_eq!(key_page.status, StatusCode::OK);
        assert_eq!(key_page.headers["cache-control"], "no-store");
        let secret = key_page.body.split("id=\"new-key\">").nth(1).unwrap().split('<').next().unwrap().to_string();
        assert!(secret.starts_with(roster_core::service::API_KEY_PREFIX));
        app.call_apikey(reqwest::Method::GET, &format!("/api/v1/orgs/{org}/members"), &secret, None).await.expect(200);
        let keys = browser.get(&format!("/console/orgs/{org}/api-keys")).await;
        assert!(keys.body.contains("billing") && !keys.body.contains(&secret), "the list never shows the secret");
        let no_scope = browser.post(&format!("/console/orgs/{org}/api-keys"), &[("name", "x")]).await;
        assert_eq!(no_scope.status, StatusCode::BAD_REQUEST);
        let key_id = app.get(&format!("/orgs/{org}/api-keys"), &owner.token).await.expect(200)["data"][0]["id"].as_str().unwrap().to_string();
        let revoked = browser.post(&format!("/console/orgs/{org}/api-keys/{key_id}/revoke"), &[]).await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        app.call_apikey(reqwest::Method::GET, &format!("/api/v1/orgs/{org}/members"), &secret, None).await.expect(401);

        // Audit: everything above is there, filterable by actor and action.
        let audit = browser.get(&format!("/console/orgs/{org}/audit")).await;
        assert_eq!(audit.status, StatusCode::OK);
        for action in ["invitation.revoked", "project.created", "project_member.added", "api_key.created", "api_key.revoked"] {
            assert!(audit.body.contains(&format!("<code>{action}</code>")), "audit lacks {action}");
        }
        let by_bob = browser.get(&format!("/console/orgs/{org}/audit?actor=bob%40example.com&action=")).await;
        assert!(by_bob.body.contains("<code>project.updated</code>"));
        assert!(!by_bob.body.contains("<code>api_key.created</code>"));
        let keys_only = browser.get(&format!("/console/orgs/{org}/audit?actor=&action=api_key.revoked")).await;
        assert!(keys_only.body.contains("<code>api_key.revoked</code>") && !keys_only.body.contains("<code>project.created</code>"));
        // Members cannot read it.
        let mut as_member = Browser::new(&app);
        app.user("carol@example.com").await;
        app.add_member(&owner.token, &org, "carol@example.com", "member").await.expect(201);
        as_member.login("carol@example.com").await;
        assert_eq!(as_member.get(&format!("/console/orgs/{org}/audit")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(as_member.get(&format!("/console/orgs/{org}/api-keys")).await.status, StatusCode::FORBIDDEN);
    }
}

/// `roster demo`: one command gives a populated console and a login that
/// works. SQLite only, by design: the demo makes its own SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roster_demo_prints_a_login_that_opens_a_populated_console() {
    use std::io::BufRead;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("demo.db");
    // A leftover demo file is replaced, not reused.
    std::fs::write(&file, b"SQLite format 3\0 but stale").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["demo", "--listen", "127.0.0.1:0", "--file"])
        .arg(&file)
        .env("RUST_LOG", "warn")
        .env_remove("ROSTER_SMTP_URL")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start roster demo");
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("listening on");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    })
    .await
    .unwrap();
    let value = |key: &str| {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
    };
    let url = value("open");
    let base = url.trim_end_matches("/console/login").to_string();
    let (email, password) = (value("email"), value("password"));
    assert!(password.len() >= 12);

    let mut browser = Browser::at(&base);
    let login = browser
        .post(
            "/console/login",
            &[("email", &email), ("password", &password)],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let orgs = browser.get("/console/orgs").await;
    assert!(orgs.body.contains("Demo Corp"));
    let org_link = orgs
        .body
        .split("href=\"/console/orgs/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let members = browser
        .get(&format!("/console/orgs/{org_link}/members"))
        .await;
    for who in [
        "ada@demo.example",
        "grace@demo.example",
        "linus@demo.example",
    ] {
        assert!(members.body.contains(who), "demo lacks {who}");
    }
    let projects = browser
        .get(&format!("/console/orgs/{org_link}/projects"))
        .await;
    assert!(projects.body.contains("Website") && projects.body.contains("Mobile app"));
    let invitations = browser
        .get(&format!("/console/orgs/{org_link}/invitations"))
        .await;
    assert!(invitations.body.contains("newcomer@demo.example"));
    child.kill().unwrap();
    child.wait().unwrap();
}
