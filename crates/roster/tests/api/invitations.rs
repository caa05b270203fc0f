//! Email verification and the invitation lifecycle: create, email, list,
//! revoke, resend, decline, expire, accept by token and by id.

use reqwest::Method;
use roster_core::CoreConfig;
use serde_json::{json, Value};

use crate::{on_both_backends, test_config, TestApp, TestUser, PASSWORD};

/// Signs up and logs in, the address not yet verified (the invitee's
/// first step).
async fn signup(app: &TestApp, email: &str) -> TestUser {
    app.unverified_user(email).await
}

async fn invite(app: &TestApp, admin: &TestUser, org: &str, email: &str, role: &str) -> Value {
    app.add_member(&admin.token, org, email, role)
        .await
        .expect(201)
}

async fn invitations(app: &TestApp, org: &str, token: &str, query: &str) -> Vec<Value> {
    app.get(&format!("/orgs/{org}/invitations{query}"), token)
        .await
        .expect(200)["data"]
        .as_array()
        .unwrap()
        .clone()
}

on_both_backends! {
    async fn signup_sends_a_verification_link_that_verifies_once(app) {
        let user = signup(&app, "ver@example.com").await;
        let emails = app.outbox("ver@example.com").await;
        assert_eq!(emails.len(), 1);
        assert!(emails[0].text_body.contains("http://roster.test/console/verify-email?token=ver_"), "{}", emails[0].text_body);
        let token = app.token_from_email("ver@example.com", "verify-email").await;
        let verified = app.call(Method::POST, "/auth/verify-email", None, Some(json!({"token": token}))).await.expect(200);
        assert_eq!(verified["email_verified"], true);
        assert_eq!(app.get("/me", &user.token).await.expect(200)["email_verified"], true);
        app.call(Method::POST, "/auth/verify-email", None, Some(json!({"token": token})))
            .await
            .expect_error(409, "verification_already_used");
        app.call(Method::POST, "/auth/verify-email", None, Some(json!({"token": "ver_unknown"})))
            .await
            .expect_error(404, "verification_not_found");
        app.call(Method::POST, "/auth/verify-email/resend", Some(&user.token), None)
            .await
            .expect_error(409, "email_already_verified");
    }
}

on_both_backends! {
    async fn an_invited_address_signs_up_and_accepts_by_the_emailed_token(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme <Rockets> & Co").await;
        let pid = app.project(&owner, &org, "Apollo").await;
        app.post(
            &format!("/orgs/{org}/members"),
            &owner.token,
            json!({"member_email": "new@example.com", "member_role": "admin", "message": "<b>hi</b>",
                   "project_assignments": [{"project_id": pid, "role": "admin"}]}),
        )
        .await
        .expect(201);

        let email = &app.outbox("new@example.com").await[0];
        assert!(email.subject.contains("Acme <Rockets> & Co"));
        assert!(email.html_body.contains("Acme &lt;Rockets&gt; &amp; Co"), "org name escaped in HTML");
        assert!(email.html_body.contains("&lt;b&gt;hi&lt;/b&gt;"), "message escaped in HTML");
        assert!(!email.html_body.contains("<b>hi</b>"));
        let token = app.token_from_email("new@example.com", "accept-invite").await;
        assert!(token.starts_with("inv_") && token.len() >= 40);

        let invitee = signup(&app, "new@example.com").await;
        let accepted = app.call(Method::POST, &format!("/invitations/{token}/accept"), Some(&invitee.token), None).await.expect(200);
        assert_eq!(accepted["org_id"], org.as_str());
        assert_eq!(accepted["member_id"], invitee.id.as_str());
        assert_eq!(accepted["member_role"], "admin");
        assert_eq!(app.get("/me", &invitee.token).await.expect(200)["email_verified"], true, "the token proves the address");
        let members = app.get(&format!("/orgs/{org}/projects/{pid}/members"), &invitee.token).await.expect(200);
        assert_eq!(members["data"][0]["member_id"], invitee.id.as_str());
        assert_eq!(members["data"][0]["member_role"], "admin");

        let listed = invitations(&app, &org, &owner.token, "").await;
        assert_eq!(listed[0]["status"], "accepted");
        app.call(Method::POST, &format!("/invitations/{token}/accept"), Some(&invitee.token), None)
            .await
            .expect_error(409, "invitation_already_used");
        app.call(Method::POST, "/invitations/inv_nonsense/accept", Some(&invitee.token), None)
            .await
            .expect_error(404, "invitation_not_found");
        let actions = app.audit_actions(&org, &owner.token).await;
        assert_eq!(actions.last().unwrap(), "invitation.accepted");
    }
}

on_both_backends! {
    async fn accepting_needs_the_invited_address(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        invite(&app, &owner, &org, "target@example.com", "member").await;
        let token = app.token_from_email("target@example.com", "accept-invite").await;
        let intruder = signup(&app, "intruder@example.com").await;
        app.call(Method::POST, &format!("/invitations/{token}/accept"), Some(&intruder.token), None)
            .await
            .expect_error(403, "invitation_email_mismatch");
        app.call(Method::POST, &format!("/invitations/{token}/accept"), None, None).await.expect_error(401, "unauthenticated");
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1);
    }
}

on_both_backends! {
    async fn accepting_by_id_needs_a_verified_email(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let invitee = signup(&app, "inv@example.com").await;
        // A registered user is added at once; invite before signing up instead.
        let other = "later@example.com";
        invite(&app, &owner, &org, other, "member").await;
        let later = signup(&app, other).await;
        app.get("/me/invitations", &later.token).await.expect_error(403, "email_not_verified");
        let id = invitations(&app, &org, &owner.token, "").await[0]["id"].as_str().unwrap().to_string();
        app.call(Method::POST, &format!("/me/invitations/{id}/accept"), Some(&later.token), None)
            .await
            .expect_error(403, "email_not_verified");
        let verify = app.token_from_email(other, "verify-email").await;
        app.call(Method::POST, "/auth/verify-email", None, Some(json!({"token": verify}))).await.expect(200);
        let mine = app.get("/me/invitations", &later.token).await.expect(200);
        assert_eq!(mine["data"][0]["id"], id.as_str());
        assert_eq!(mine["data"][0]["org_name"], "Acme");
        // Someone else's invitation is not found by id.
        app.call(Method::POST, &format!("/me/invitations/{id}/accept"), Some(&invitee.token), None)
            .await
            .expect_error(404, "invitation_not_found");
        let accepted = app.call(Method::POST, &format!("/me/invitations/{id}/accept"), Some(&later.token), None).await.expect(200);
        assert_eq!(accepted["member_role"], "member");
        assert_eq!(app.get("/me/invitations", &later.token).await.expect(200)["data"], json!([]));
    }
}

on_both_backends! {
    async fn revoked_resent_and_declined_invitations_behave(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        invite(&app, &owner, &org, "a@example.com", "member").await;
        invite(&app, &owner, &org, "b@example.com", "member").await;
        let all = invitations(&app, &org, &owner.token, "").await;
        let (a, b) = (all[0]["id"].as_str().unwrap().to_string(), all[1]["id"].as_str().unwrap().to_string());
        let a_token = app.token_from_email("a@example.com", "accept-invite").await;

        // Revoke a: its link is dead.
        app.delete(&format!("/orgs/{org}/invitations/{a}"), &owner.token).await.expect(200);
        app.delete(&format!("/orgs/{org}/invitations/{a}"), &owner.token).await.expect_error(410, "invitation_revoked");
        let user_a = signup(&app, "a@example.com").await;
        app.call(Method::POST, &format!("/invitations/{a_token}/accept"), Some(&user_a.token), None)
            .await
            .expect_error(410, "invitation_revoked");
        assert_eq!(invitations(&app, &org, &owner.token, "?status=revoked").await.len(), 1);

        // Resend b: the old link dies, the new one works.
        let b_old = app.token_from_email("b@example.com", "accept-invite").await;
        let resent = app.post(&format!("/orgs/{org}/invitations/{b}/resend"), &owner.token, json!({})).await.expect(200);
        assert_eq!(resent["status"], "pending");
        let b_new = app.token_from_email("b@example.com", "accept-invite").await;
        assert_ne!(b_old, b_new);
        assert_eq!(app.outbox("b@example.com").await.len(), 2);
        let user_b = signup(&app, "b@example.com").await;
        app.call(Method::POST, &format!("/invitations/{b_old}/accept"), Some(&user_b.token), None)
            .await
            .expect_error(404, "invitation_not_found");

        // Decline b (verified), then it can no longer be accepted.
        let verify = app.token_from_email("b@example.com", "verify-email").await;
        app.call(Method::POST, "/auth/verify-email", None, Some(json!({"token": verify}))).await.expect(200);
        let declined = app.call(Method::POST, &format!("/me/invitations/{b}/decline"), Some(&user_b.token), None).await.expect(200);
        assert_eq!(declined["status"], "declined");
        app.call(Method::POST, &format!("/invitations/{b_new}/accept"), Some(&user_b.token), None)
            .await
            .expect_error(409, "invitation_already_used");
        app.post(&format!("/orgs/{org}/invitations/{b}/resend"), &owner.token, json!({}))
            .await
            .expect_error(409, "invitation_already_used");
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1);

        let actions = app.audit_actions(&org, &owner.token).await;
        assert_eq!(&actions[1..], ["invitation.created", "invitation.created", "invitation.revoked", "invitation.resent", "invitation.declined"]);

        // Members may not manage invitations (a verified address is added at once).
        app.verify("a@example.com").await;
        app.add(&owner, &org, &user_a, "member").await;
        app.get(&format!("/orgs/{org}/invitations"), &user_a.token).await.expect_error(403, "forbidden");
        app.get(&format!("/orgs/{org}/invitations?status=nope"), &owner.token).await.expect_error(400, "invalid_request");
    }
}

on_both_backends! {
    async fn expiry_and_rate_limit(app with CoreConfig { invitation_ttl_secs: 1, invitation_emails_per_hour: 3, ..test_config() }) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        invite(&app, &owner, &org, "late@example.com", "member").await;
        let token = app
            .token_from_email("late@example.com", "accept-invite")
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let late = signup(&app, "late@example.com").await;
        app.call(
            Method::POST,
            &format!("/invitations/{token}/accept"),
            Some(&late.token),
            None,
        )
        .await
        .expect_error(410, "invitation_expired");
        let expired = invitations(&app, &org, &owner.token, "?status=expired").await;
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0]["status"], "expired");
        assert!(invitations(&app, &org, &owner.token, "?status=pending")
            .await
            .is_empty());

        // Resending revives it with a fresh link (second email of the hour).
        let id = expired[0]["id"].as_str().unwrap();
        app.post(
            &format!("/orgs/{org}/invitations/{id}/resend"),
            &owner.token,
            json!({}),
        )
        .await
        .expect(200);
        let fresh = app
            .token_from_email("late@example.com", "accept-invite")
            .await;
        app.call(
            Method::POST,
            &format!("/invitations/{fresh}/accept"),
            Some(&late.token),
            None,
        )
        .await
        .expect(200);

        // Third email of the hour is fine, the fourth is refused.
        invite(&app, &owner, &org, "c@example.com", "member").await;
        let limited = app.add_member(&owner.token, &org, "d@example.com", "member").await;
        assert!(limited.headers.get("retry-after").is_some());
        limited.expect_error(429, "rate_limited");
        assert!(
            app.outbox("d@example.com").await.is_empty(),
            "a refused invitation queues no email"
        );
    }
}

on_both_backends! {
    async fn concurrent_accepts_of_one_invitation_make_one_membership(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        invite(&app, &owner, &org, "race@example.com", "member").await;
        let token = app.token_from_email("race@example.com", "accept-invite").await;
        let invitee = signup(&app, "race@example.com").await;
        // Several sessions of the same person accept at once.
        let mut sessions = vec![invitee.token.clone()];
        for _ in 0..5 {
            let login = app.login("race@example.com", PASSWORD).await.expect(200);
            sessions.push(login["access_token"].as_str().unwrap().to_string());
        }
        let mut tasks = Vec::new();
        for session in sessions {
            let client = app.client.clone();
            let url = format!("{}/api/v1/invitations/{token}/accept", app.base);
            tasks.push(tokio::spawn(async move { client.post(url).bearer_auth(session).send().await.unwrap().status().as_u16() }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses, vec![200, 409, 409, 409, 409, 409]);
        assert_eq!(app.roles(&org, &owner.token).await.len(), 2);
        let accepted = app.audit_actions(&org, &owner.token).await.iter().filter(|a| *a == "invitation.accepted").count();
        assert_eq!(accepted, 1);
    }
}

on_both_backends! {
    async fn an_admin_cannot_reissue_an_owner_invitation_at_a_lower_role(app) {
        let owner = app.user("inv-owner@example.com").await;
        let (org, [admin]) = app.org_with(&owner, "Owner Invites", [("inv-admin@example.com", "admin")]).await;
        invite(&app, &owner, &org, "future-owner@example.com", "owner").await;
        let before = app.outbox("future-owner@example.com").await.len();

        // Re-inviting the address refreshes its open invitation: an admin
        // may not rewrite an owner invitation that way, on any surface path.
        for role in ["member", "admin", "guest"] {
            app.add_member(&admin.token, &org, "future-owner@example.com", role).await
                .expect_error(403, "forbidden");
        }
        // Nor resend it (a new token it could read is never mailed).
        let open = invitations(&app, &org, &owner.token, "").await;
        let owner_invite = open.iter().find(|i| i["email"] == "future-owner@example.com").unwrap();
        assert_eq!(owner_invite["role"], "owner");
        app.post(&format!("/orgs/{org}/invitations/{}/resend", owner_invite["id"].as_str().unwrap()), &admin.token, json!({}))
            .await
            .expect_error(403, "forbidden");

        let after = invitations(&app, &org, &owner.token, "").await;
        let still = after.iter().find(|i| i["email"] == "future-owner@example.com").unwrap();
        assert_eq!(still["role"], "owner", "the invitation keeps its role");
        assert_eq!(still["id"], owner_invite["id"]);
        assert_eq!(app.outbox("future-owner@example.com").await.len(), before, "no new email went out");
        // An admin still manages lesser invitations as before.
        invite(&app, &admin, &org, "someone@example.com", "member").await;
        invite(&app, &admin, &org, "someone@example.com", "guest").await;
    }
}

on_both_backends! {
    async fn invitation_flood(app with CoreConfig {
        invitation_emails_per_recipient_per_day: 3,
        invitation_emails_per_account_per_hour: 5,
        orgs_per_account_per_day: 2,
        ..test_config()
    }) {
        let attacker = app.user("flooder@example.com").await;
        // Orgs per account per day: every org would bring its own budget.
        let first = app.org(&attacker, "Flood 1").await;
        let second = app.org(&attacker, "Flood 2").await;
        let refused = app
            .post("/orgs", &attacker.token, json!({"name": "Flood 3"}))
            .await;
        let retry: u64 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 3600 && retry <= 86_400, "{retry}");
        refused.expect_error(429, "rate_limited");

        // Per recipient per day, across orgs and accounts.
        invite(&app, &attacker, &first, "victim@example.com", "member").await;
        invite(&app, &attacker, &first, "victim@example.com", "guest").await; // a refresh mails again
        invite(&app, &attacker, &second, "victim@example.com", "member").await;
        let refused = app.add_member(&attacker.token, &second, "victim@example.com", "guest").await;
        let retry: u64 = refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 3600 && retry <= 86_400, "{retry}");
        refused.expect_error(429, "rate_limited");
        let someone_else = app.user("other-owner@example.com").await;
        let elsewhere = app.org(&someone_else, "Unrelated").await;
        app.add_member(&someone_else.token, &elsewhere, "victim@example.com", "member").await
        .expect_error(429, "rate_limited");
        assert_eq!(
            app.outbox("victim@example.com").await.len(),
            3,
            "three emails reached the inbox"
        );

        // Per account per hour, whatever the addresses.
        invite(&app, &attacker, &first, "a@example.com", "member").await;
        invite(&app, &attacker, &second, "b@example.com", "member").await;
        let refused = app.add_member(&attacker.token, &first, "c@example.com", "member").await;
        assert!(refused.headers.contains_key("retry-after"));
        refused.expect_error(429, "rate_limited");
        assert!(app.outbox("c@example.com").await.is_empty());
        // Another account is not held back by the attacker's budget.
        invite(&app, &someone_else, &elsewhere, "c@example.com", "member").await;
    }
}
