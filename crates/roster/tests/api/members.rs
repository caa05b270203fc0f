//! Org members: add/re-role/invite, read, change role, remove, leave, the
//! owner rules, and member lists (pagination, search, role filter).

use std::collections::HashSet;

use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn adding_a_registered_user_makes_it_a_member_at_once(app) {
        let owner = app.user("o@example.com").await;
        let bob = app.user("bob@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let added = app.add_member(&owner.token, &org, "BOB@example.com", "admin").await
            .expect(201);
        assert_eq!(added["member_id"], bob.id.as_str());
        assert_eq!(added["member_email"], "bob@example.com");
        assert_eq!(added["member_role"], "admin");
        assert!(added["message"].as_str().unwrap().contains("added"));
        assert!(added.get("expires_at").is_none());
        let member = app.get(&format!("/orgs/{org}/members/{}", bob.id), &owner.token).await.expect(200);
        assert_eq!(member["member_role"], "admin");
        // Bob sees the org in his own list now.
        let orgs = app.get("/orgs", &bob.token).await.expect(200);
        assert_eq!(orgs["data"][0]["role"], "admin");
    }
}

on_both_backends! {
    async fn adding_an_existing_member_changes_its_role_or_conflicts(app) {
        let owner = app.user("o@example.com").await;
        let (org, [bob]) = app.org_with(&owner, "Acme", [("bob@example.com", "member")]).await;
        let updated = app.add_member(&owner.token, &org, &bob.email, "admin").await
            .expect(201);
        assert_eq!(updated["member_id"], bob.id.as_str());
        assert!(updated["message"].as_str().unwrap().contains("updated"));
        app.add_member(&owner.token, &org, &bob.email, "admin").await
            .expect_error(409, "already_member");
    }
}

on_both_backends! {
    async fn adding_an_unknown_address_records_an_invitation_and_refreshes_it(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let invited = app
            .post(&format!("/orgs/{org}/members"), &owner.token, json!({"member_email": "new@example.com", "member_role": "member", "message": "Welcome"}))
            .await
            .expect(201);
        assert!(invited.get("member_id").is_none());
        assert_eq!(invited["member_email"], "new@example.com");
        assert!(invited["message"].as_str().unwrap().contains("Invitation"));
        let expires = invited["expires_at"].as_str().unwrap().to_string();
        assert!(expires.ends_with('Z'));
        let again = app.add_member(&owner.token, &org, "new@example.com", "admin").await
            .expect(201);
        assert_eq!(again["member_role"], "admin");
        assert!(again["message"].as_str().unwrap().contains("refreshed"));
        // Not a member yet.
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1);
        let actions = app.audit_actions(&org, &owner.token).await;
        assert_eq!(actions, vec!["org.created", "invitation.created", "invitation.refreshed"]);
    }
}

on_both_backends! {
    async fn members_and_guests_may_not_manage_members(app) {
        let owner = app.user("o@example.com").await;
        let (org, [member, guest]) = app.org_with(&owner, "Acme", [("m@example.com", "member"), ("g@example.com", "guest")]).await;
        app.add_member(&member.token, &org, "x@example.com", "member").await
            .expect_error(403, "forbidden");
        app.patch(&format!("/orgs/{org}/members/{}", guest.id), &member.token, json!({"member_role": "member"}))
            .await
            .expect_error(403, "forbidden");
        app.delete(&format!("/orgs/{org}/members/{}", guest.id), &member.token).await.expect_error(403, "forbidden");
        // Members see the directory; guests see the org and themselves only.
        assert_eq!(app.roles(&org, &member.token).await.len(), 3);
        app.get(&format!("/orgs/{org}/members"), &guest.token).await.expect_error(403, "forbidden");
        app.get(&format!("/orgs/{org}"), &guest.token).await.expect(200);
        app.get(&format!("/orgs/{org}/members/{}", guest.id), &guest.token).await.expect(200);
        app.get(&format!("/orgs/{org}/members/{}", owner.id), &guest.token).await.expect_error(403, "forbidden");
    }
}

on_both_backends! {
    async fn only_owners_grant_change_or_remove_the_owner_role(app) {
        let owner = app.user("o@example.com").await;
        let (org, [admin, other]) = app.org_with(&owner, "Acme", [("a@example.com", "admin"), ("x@example.com", "member")]).await;
        app.patch(&format!("/orgs/{org}/members/{}", other.id), &admin.token, json!({"member_role": "owner"}))
            .await
            .expect_error(403, "forbidden");
        app.add_member(&admin.token, &org, "new@example.com", "owner").await
            .expect_error(403, "forbidden");
        app.patch(&format!("/orgs/{org}/members/{}", owner.id), &admin.token, json!({"member_role": "member"}))
            .await
            .expect_error(403, "forbidden");
        app.delete(&format!("/orgs/{org}/members/{}", owner.id), &admin.token).await.expect_error(403, "forbidden");
        // An owner may make another owner.
        let promoted = app.patch(&format!("/orgs/{org}/members/{}", other.id), &owner.token, json!({"member_role": "owner"})).await.expect(200);
        assert_eq!(promoted["member_role"], "owner");
        // Admins do manage members and admins.
        app.patch(&format!("/orgs/{org}/members/{}", admin.id), &admin.token, json!({"member_role": "member"})).await.expect(200);
    }
}

on_both_backends! {
    async fn the_last_owner_can_never_be_demoted_or_removed(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        app.patch(&format!("/orgs/{org}/members/{}", owner.id), &owner.token, json!({"member_role": "admin"}))
            .await
            .expect_error(409, "last_owner");
        app.delete(&format!("/orgs/{org}/members/{}", owner.id), &owner.token).await.expect_error(409, "last_owner");
        app.add_member(&owner.token, &org, &owner.email, "member").await
            .expect_error(409, "last_owner");
        assert_eq!(app.roles(&org, &owner.token).await, vec![("o@example.com".into(), "owner".into())]);
        assert_eq!(app.audit_actions(&org, &owner.token).await, vec!["org.created"], "refused requests write no audit event");

        // With a second owner, the first may step down or leave.
        let second = app.user("s@example.com").await;
        app.add(&owner, &org, &second, "member").await;
        app.patch(&format!("/orgs/{org}/members/{}", second.id), &owner.token, json!({"member_role": "owner"}))
            .await
            .expect(200);
        app.delete(&format!("/orgs/{org}/members/{}", owner.id), &owner.token).await.expect(200);
        app.delete(&format!("/orgs/{org}/members/{}", second.id), &second.token).await.expect_error(409, "last_owner");
    }
}

on_both_backends! {
    async fn any_member_may_leave_and_loses_its_project_memberships(app) {
        let owner = app.user("o@example.com").await;
        let (org, [member]) = app.org_with(&owner, "Acme", [("m@example.com", "guest")]).await;
        let project_id = app.project(&owner, &org, "Apollo").await;
        app.post(&format!("/orgs/{org}/projects/{project_id}/members"), &owner.token, json!({"member_id": member.id, "member_role": "member"}))
            .await
            .expect(201);
        app.delete(&format!("/orgs/{org}/members/{}", member.id), &member.token).await.expect(200);
        app.get(&format!("/orgs/{org}"), &member.token).await.expect_error(404, "org_not_found");
        let project_members = app.get(&format!("/orgs/{org}/projects/{project_id}/members"), &owner.token).await.expect(200);
        assert_eq!(project_members["data"], json!([]));
        let actions = app.audit_actions(&org, &owner.token).await;
        assert_eq!(actions.last().unwrap(), "member.left");
    }
}

on_both_backends! {
    async fn removing_an_unknown_member_is_404(app) {
        let owner = app.user("o@example.com").await;
        let stranger = app.user("s@example.com").await;
        let org = app.org(&owner, "Acme").await;
        app.delete(&format!("/orgs/{org}/members/{}", stranger.id), &owner.token).await.expect_error(404, "member_not_found");
        app.get(&format!("/orgs/{org}/members/{}", stranger.id), &owner.token).await.expect_error(404, "member_not_found");
        app.patch(&format!("/orgs/{org}/members/{}", stranger.id), &owner.token, json!({"member_role": "admin"}))
            .await
            .expect_error(404, "member_not_found");
    }
}

on_both_backends! {
    async fn pagination_walks_250_members_exactly_once_and_filters_by_q_and_role(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Big").await;
        // 250 members: the owner plus 249 verified users added by email.
        let mut signups = Vec::new();
        for i in 0..249 {
            let email = format!("user{i:03}@example.com");
            let client = app.client.clone();
            let base = app.base.clone();
            signups.push(tokio::spawn(async move {
                let response = client
                    .post(format!("{base}/api/v1/auth/signup"))
                    .json(&json!({"email": email, "password": crate::PASSWORD, "name": format!("Person {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                email
            }));
        }
        let mut emails = Vec::new();
        for signup in signups {
            emails.push(signup.await.unwrap());
        }
        // Only verified addresses are added at once.
        for email in &emails {
            app.verify(email).await;
        }
        for (i, email) in emails.iter().enumerate() {
            let role = if i % 10 == 0 { "admin" } else { "member" };
            app.add_member(&owner.token, &org, email, role).await
                .expect(201);
        }

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/orgs/{org}/members?limit=40&cursor={c}"),
                None => format!("/orgs/{org}/members?limit=40"),
            };
            let page = app.get(&path, &owner.token).await.expect(200);
            let data = page["data"].as_array().unwrap();
            assert!(data.len() <= 40);
            seen.extend(data.iter().map(|m| m["member_id"].as_str().unwrap().to_string()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 250);
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 250, "no member twice");
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "stable order by member id");

        let admins = app.get(&format!("/orgs/{org}/members?role=admin&limit=1000"), &owner.token).await.expect(200);
        assert_eq!(admins["data"].as_array().unwrap().len(), 25);
        let search = app.get(&format!("/orgs/{org}/members?q=USER01"), &owner.token).await.expect(200);
        let found: Vec<&str> = search["data"].as_array().unwrap().iter().map(|m| m["member_email"].as_str().unwrap()).collect();
        assert_eq!(found.len(), 10, "user010..user019: {found:?}");
        let by_name = app.get(&format!("/orgs/{org}/members?q=person%20248"), &owner.token).await.expect(200);
        assert_eq!(by_name["data"].as_array().unwrap().len(), 1);
        let literal = app.get(&format!("/orgs/{org}/members?q=%25"), &owner.token).await.expect(200);
        assert_eq!(literal["data"], json!([]), "% is matched literally");
    }
}
