//! Who owns an email address, and consent to membership (issue 15, points
//! 1 and 2): an account that has not proved its address is not
//! "registered" for adding, may not act, and does not keep the address's
//! owner out; nobody is made owner without accepting; a person added at
//! once is told who added them and how to leave, and adds are budgeted.

use reqwest::{Method, StatusCode};
use roster_core::CoreConfig;
use serde_json::{json, Value};

use crate::console::Browser;
use crate::{on_both_backends, test_config, TestApp, TestUser, PASSWORD};

async fn add(app: &TestApp, admin: &TestUser, org: &str, email: &str, role: &str) -> Value {
    app.add_member(&admin.token, org, email, role)
        .await
        .expect(201)
}

async fn signup(app: &TestApp, email: &str) -> crate::Answer {
    app.signup(json!({"email": email, "password": PASSWORD}))
        .await
}

async fn login(app: &TestApp, email: &str) -> crate::Answer {
    app.login(email, PASSWORD).await
}

/// Makes `user` a member of `org` straight in the database, as an account
/// from before verification was required could be; no API can do it now.
async fn insert_legacy_membership(app: &TestApp, org: &str, user: &str, role: &str) {
    let url = app.database.url().to_string();
    let (org, user, role) = (org.to_string(), user.to_string(), role.to_string());
    tokio::task::spawn_blocking(move || {
        let store = roster_store::open(&url).expect("open store");
        roster_core::store::write(&*store, |tx| {
            tx.insert_membership(&roster_core::model::Membership {
                org_id: roster_core::ids::OrgId::parse(&org)?,
                user_id: roster_core::ids::UserId::parse(&user)?,
                role: roster_core::role::OrgRole::parse(&role)?,
                labels: Vec::new(),
                created_at: roster_core::time::Timestamp::now(),
            })
        })
        .expect("insert membership")
    })
    .await
    .expect("store thread");
}

on_both_backends! {
    async fn an_unverified_account_is_invited_not_added_and_its_address_owner_gets_in(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        // Mallory signs up first with her colleague's address.
        let squatter = app.unverified_user("colleague@example.com").await;

        // Adding the colleague, even as admin, invites the address.
        let answer = add(&app, &owner, &org, "colleague@example.com", "admin").await;
        assert!(answer["member_id"].is_null(), "{answer}");
        assert!(answer["expires_at"].is_string(), "{answer}");
        assert_eq!(answer["message"], "Invitation sent successfully");
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1, "nobody joined");
        app.get(&format!("/orgs/{org}"), &squatter.token).await.expect_error(404, "org_not_found");
        let invitation = app.get(&format!("/orgs/{org}/invitations"), &owner.token).await.expect(200)["data"][0]["id"]
            .as_str().unwrap().to_string();
        app.call(Method::POST, &format!("/me/invitations/{invitation}/accept"), Some(&squatter.token), None)
            .await
            .expect_error(403, "email_not_verified");

        // The real owner of the address signs up: the unverified account
        // does not keep her out, it is replaced, and its session dies.
        let real = signup(&app, "colleague@example.com").await.expect(201);
        assert_ne!(real["id"], squatter.id.as_str());
        assert_eq!(real["email_verified"], false);
        app.get("/me", &squatter.token).await.expect_error(401, "unauthenticated");
        let tokens = login(&app, "colleague@example.com").await.expect(200);
        let token = tokens["access_token"].as_str().unwrap();
        let me = app.get("/me", token).await.expect(200);
        assert_eq!(me["id"], real["id"]);

        // Only the mailbox has the invitation link; it makes her admin.
        let link = app.token_from_email("colleague@example.com", "accept-invite").await;
        let accepted = app.call(Method::POST, &format!("/invitations/{link}/accept"), Some(token), None).await.expect(200);
        assert_eq!(accepted["member_role"], "admin");
        assert_eq!(app.get("/me", token).await.expect(200)["email_verified"], true);
    }
}

on_both_backends! {
    async fn a_verified_or_member_account_keeps_its_address(app) {
        let verified = app.user("taken@example.com").await;
        signup(&app, "taken@example.com").await.expect_error(409, "email_taken");
        app.get("/me", &verified.token).await.expect(200);

        // An unverified account that is already in an org (from before
        // verification was required) is not replaced either.
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let legacy = app.unverified_user("legacy@example.com").await;
        insert_legacy_membership(&app, &org, &legacy.id, "member").await;
        signup(&app, "legacy@example.com").await.expect_error(409, "email_taken");
        app.get("/me", &legacy.token).await.expect(200);
    }
}

on_both_backends! {
    async fn an_unverified_account_may_only_verify_resend_log_out_and_read_itself(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let unverified = app.unverified_user("new@example.com").await;

        app.post("/orgs", &unverified.token, json!({"name": "Mine"}))
            .await
            .expect_error(403, "email_not_verified");
        let me = app.get("/me", &unverified.token).await.expect(200);
        assert_eq!(me["email_verified"], false);
        app.call(Method::POST, "/auth/verify-email/resend", Some(&unverified.token), None)
            .await
            .expect(200);

        // Even as an admin (an account from before verification was
        // required) it can neither add, invite nor create keys.
        insert_legacy_membership(&app, &org, &unverified.id, "admin").await;
        app.add_member(&unverified.token, &org, "x@example.com", "member").await
            .expect_error(403, "email_not_verified");
        app.post(&format!("/orgs/{org}/api-keys"), &unverified.token, json!({"name": "k", "scopes": ["members:read"]}))
            .await
            .expect_error(403, "email_not_verified");
        let access = app.post(&format!("/orgs/{org}/access-token"), &unverified.token, json!({})).await.expect(201);
        let org_token = access["access_token"].as_str().unwrap();
        app.call_raw(Method::POST, "/v1/members", Some(org_token), Some(json!({"username": "owner"})))
            .await
            .expect_error(403, "email_not_verified");
        app.call_raw(Method::POST, &format!("/v2/organization/{org}/invites"), Some(&unverified.token), Some(json!({"to": ["y@example.com"], "organizationRole": "Member"})))
            .await
            .expect(200)["data"]["results"][0]["code"]
            .as_str()
            .map(|code| assert_eq!(code, "email_not_verified"))
            .expect("a failed item with a code");
        assert!(app.outbox("x@example.com").await.is_empty());
        assert!(app.outbox("y@example.com").await.is_empty());

        // Once verified, the same account may.
        app.verify("new@example.com").await;
        app.post("/orgs", &unverified.token, json!({"name": "Mine"})).await.expect(201);
        app.add_member(&unverified.token, &org, "x@example.com", "member").await
            .expect(201);
        app.call(Method::POST, "/auth/logout", Some(&unverified.token), None).await.expect(200);
    }
}

on_both_backends! {
    async fn the_members_api_answers_404_for_an_unverified_username(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let key = app.api_key(&owner, &org, &["members:read", "members:write"]).await;
        let unverified = app.unverified_user("pending@example.com").await;
        let username = app.get("/me", &unverified.token).await.expect(200)["username"].as_str().unwrap().to_string();
        crate::spice::add(&app, &key, json!({"username": username})).await.expect_error(404, "user_not_found");
        crate::spice::add(&app, &key, json!({"username": "nobody-at-all"})).await.expect_error(404, "user_not_found");
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1);

        app.verify("pending@example.com").await;
        let added = crate::spice::add(&app, &key, json!({"username": username, "roles": ["admin"]})).await.expect(201);
        assert_eq!(added["roles"], json!(["admin"]));
        let notice = &app.outbox("pending@example.com").await[0];
        assert!(notice.subject.contains("added you to Acme"), "{}", notice.subject);
        assert!(notice.text_body.contains(&format!("http://roster.test/console/orgs/{org}/leave")), "{}", notice.text_body);
    }
}

on_both_backends! {
    async fn nobody_is_made_owner_without_accepting(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let bob = app.user("bob@example.com").await;

        // Owner for a non-member: an invitation, even to a verified account.
        let answer = add(&app, &owner, &org, "bob@example.com", "owner").await;
        assert!(answer["member_id"].is_null(), "{answer}");
        assert_eq!(answer["member_role"], "owner");
        assert!(answer["expires_at"].is_string());
        app.get(&format!("/orgs/{org}"), &bob.token).await.expect_error(404, "org_not_found");
        let link = app.token_from_email("bob@example.com", "accept-invite").await;
        app.call(Method::POST, &format!("/invitations/{link}/accept"), Some(&bob.token), None).await.expect(200);
        assert!(app.roles(&org, &owner.token).await.contains(&("bob@example.com".into(), "owner".into())));

        // A member may be promoted to owner directly: they are already in.
        let carol = app.user("carol@example.com").await;
        add(&app, &owner, &org, "carol@example.com", "member").await;
        let promoted = add(&app, &owner, &org, "carol@example.com", "owner").await;
        assert_eq!(promoted["member_id"], carol.id.as_str());
        assert_eq!(promoted["member_role"], "owner");
    }
}

on_both_backends! {
    async fn a_person_added_at_once_is_told_who_added_them_and_how_to_leave(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme <Rockets>").await;
        let dave = app.user("dave@example.com").await;
        let before = app.outbox("dave@example.com").await.len();
        let answer = add(&app, &owner, &org, "dave@example.com", "admin").await;
        assert_eq!(answer["member_id"], dave.id.as_str());
        let emails = app.outbox("dave@example.com").await;
        assert_eq!(emails.len(), before + 1, "one notice");
        let notice = &emails[0];
        assert!(notice.subject.contains("owner@example.com"), "{}", notice.subject);
        assert!(notice.subject.contains("Acme <Rockets>"), "{}", notice.subject);
        assert!(notice.text_body.contains("as admin"), "{}", notice.text_body);
        assert!(notice.text_body.contains("transfer ownership"), "{}", notice.text_body);
        assert!(notice.text_body.contains("delete the organization"), "{}", notice.text_body);
        assert!(notice.html_body.contains("Acme &lt;Rockets&gt;"));
        let leave = format!("http://roster.test/console/orgs/{org}/leave");
        assert!(notice.text_body.contains(&leave), "{}", notice.text_body);

        // The link leads to the console's leave page.
        let mut browser = Browser::new(&app);
        browser.login("dave@example.com").await;
        let page = browser.get(&format!("/console/orgs/{org}/leave")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Leave organization"), "{}", page.body);
    }
}

on_both_backends! {
    async fn a_last_owner_who_tries_to_leave_is_told_the_ways_out(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let refused = app
            .delete(&format!("/orgs/{org}/members/{}", owner.id), &owner.token)
            .await
            .expect_error(409, "last_owner");
        let message = refused["message"].as_str().unwrap();
        assert!(message.contains("transfer-ownership"), "{message}");
        assert!(message.contains("delete the organization"), "{message}");

        let mut browser = Browser::new(&app);
        browser.login("owner@example.com").await;
        let leave = browser.post(&format!("/console/orgs/{org}/leave"), &[]).await;
        assert_eq!(leave.status, StatusCode::CONFLICT);
        assert!(leave.body.contains("delete the organization"), "{}", leave.body);
        assert!(leave.body.contains("owner"), "{}", leave.body);
    }
}

on_both_backends! {
    async fn direct_adds_are_budgeted_per_actor(app with CoreConfig { invitation_emails_per_account_per_hour: 2, ..test_config() }) {
        let owner = app.user("owner@example.com").await;
        let first = app.org(&owner, "First").await;
        let second = app.org(&owner, "Second").await;
        for email in ["a@example.com", "b@example.com", "c@example.com"] {
            app.user(email).await;
        }
        add(&app, &owner, &first, "a@example.com", "member").await;
        add(&app, &owner, &second, "b@example.com", "member").await;
        // The budget is the actor's, across orgs.
        let refused = app.add_member(&owner.token, &first, "c@example.com", "member").await;
        assert!(refused.headers.contains_key("retry-after"));
        refused.expect_error(429, "rate_limited");
        assert_eq!(app.roles(&first, &owner.token).await.len(), 2);
        assert!(app
            .outbox("c@example.com")
            .await
            .iter()
            .all(|m| !m.subject.contains("added you")));
        // Another actor has its own budget.
        let other = app.user("other@example.com").await;
        let third = app.org(&other, "Third").await;
        add(&app, &other, &third, "c@example.com", "member").await;
    }
}

on_both_backends! {
    async fn opening_the_verification_link_verifies_nothing_until_the_button(app) {
        let user = app.unverified_user("scan@example.com").await;
        let token = app.token_from_email("scan@example.com", "verify-email").await;
        // A mail scanner fetches the link.
        let fetched = app.call_raw(Method::GET, &format!("/console/verify-email?token={token}"), None, None).await;
        assert_eq!(fetched.status, StatusCode::OK);
        assert_eq!(app.get("/me", &user.token).await.expect(200)["email_verified"], false);

        // The person presses the button on that page.
        let mut browser = Browser::new(&app);
        let page = browser.get(&format!("/console/verify-email?token={token}")).await;
        assert!(page.body.contains("method=\"post\""), "{}", page.body);
        assert!(page.body.contains("Verify my email address"));
        let done = browser.post("/console/verify-email", &[("token", token.as_str())]).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert!(done.body.contains("is verified"));
        assert_eq!(app.get("/me", &user.token).await.expect(200)["email_verified"], true);
    }
}

on_both_backends! {
    async fn the_console_invite_form_invites_an_unverified_account_and_a_future_owner(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        app.unverified_user("squatted@example.com").await;
        app.user("verified@example.com").await;
        let mut browser = Browser::new(&app);
        browser.login("owner@example.com").await;
        for (email, role) in [("squatted@example.com", "admin"), ("verified@example.com", "owner")] {
            let sent = browser
                .post(&format!("/console/orgs/{org}/members"), &[("email", email), ("role", role), ("message", "")])
                .await;
            assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
            assert!(sent.location().ends_with("done=member_invited"), "{email}: {}", sent.location());
        }
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1, "nobody joined");
        let open = app.get(&format!("/orgs/{org}/invitations?status=pending"), &owner.token).await.expect(200);
        assert_eq!(open["data"].as_array().unwrap().len(), 2);

        // An unverified person's own console refuses creating an org.
        let mut newcomer = Browser::new(&app);
        app.unverified_user("fresh@example.com").await;
        newcomer.login("fresh@example.com").await;
        let refused = newcomer.post("/console/orgs", &[("name", "Mine")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("Verify your email address first."), "{}", refused.body);
    }
}
