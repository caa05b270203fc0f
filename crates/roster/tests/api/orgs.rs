//! Organizations: create, list, read, update, delete, transfer ownership.

use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn a_user_in_no_org_lists_an_empty_page(app) {
        let user = app.user("lonely@example.com").await;
        let body = app.get("/orgs", &user.token).await.expect(200);
        assert_eq!(body, json!({"data": [], "next_cursor": null}));
    }
}

on_both_backends! {
    async fn the_creator_owns_the_new_org_and_sees_it_in_its_list(app) {
        let owner = app.user("owner@example.com").await;
        let org = app.post("/orgs", &owner.token, json!({"name": "Acme", "description": "Rockets"})).await.expect(201);
        assert_eq!(org["name"], "Acme");
        assert_eq!(org["description"], "Rockets");
        assert_eq!(org["status"], "active");
        assert_eq!(org["role"], "owner");
        assert!(org["referral_code"].as_str().unwrap().len() >= 8);
        let id = org["id"].as_str().unwrap();

        let list = app.get("/orgs", &owner.token).await.expect(200);
        assert_eq!(list["data"].as_array().unwrap().len(), 1);
        assert_eq!(list["data"][0]["id"], id);
        let fetched = app.get(&format!("/orgs/{id}"), &owner.token).await.expect(200);
        assert_eq!(fetched["name"], "Acme");
        assert_eq!(app.roles(id, &owner.token).await, vec![("owner@example.com".into(), "owner".into())]);
    }
}

on_both_backends! {
    async fn org_lists_page_by_cursor(app) {
        let owner = app.user("many@example.com").await;
        for i in 0..5 {
            app.org(&owner, &format!("Org {i}")).await;
        }
        let first = app.get("/orgs?limit=2", &owner.token).await.expect(200);
        assert_eq!(first["data"].as_array().unwrap().len(), 2);
        let mut seen: Vec<String> = first["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().into()).collect();
        let mut cursor = first["next_cursor"].as_str().unwrap().to_string();
        loop {
            let page = app.get(&format!("/orgs?limit=2&cursor={cursor}"), &owner.token).await.expect(200);
            seen.extend(page["data"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_string(),
                None => break,
            }
        }
        assert_eq!(seen, (0..5).map(|i| format!("Org {i}")).collect::<Vec<_>>());
    }
}

on_both_backends! {
    async fn non_members_get_404_and_cannot_tell_an_org_exists(app) {
        let owner = app.user("o@example.com").await;
        let stranger = app.user("s@example.com").await;
        let org = app.org(&owner, "Private").await;
        let hidden = app.get(&format!("/orgs/{org}"), &stranger.token).await.expect_error(404, "org_not_found");
        let missing = app
            .get(&format!("/orgs/{}", uuid::Uuid::now_v7()), &stranger.token)
            .await
            .expect_error(404, "org_not_found");
        assert_eq!(hidden, missing);
        app.patch(&format!("/orgs/{org}"), &stranger.token, json!({"name": "Mine"})).await.expect_error(404, "org_not_found");
        app.get(&format!("/orgs/{org}/members"), &stranger.token).await.expect_error(404, "org_not_found");
    }
}

on_both_backends! {
    async fn admins_update_the_org_and_members_may_not(app) {
        let owner = app.user("o@example.com").await;
        let (org, [admin, member]) = app.org_with(&owner, "Before", [("a@example.com", "admin"), ("m@example.com", "member")]).await;

        let updated = app.patch(&format!("/orgs/{org}"), &admin.token, json!({"name": "After"})).await.expect(200);
        assert_eq!(updated["name"], "After");
        let described = app.patch(&format!("/orgs/{org}"), &admin.token, json!({"description": "Now described"})).await.expect(200);
        assert_eq!(described["name"], "After", "omitted name is preserved");
        let cleared = app.patch(&format!("/orgs/{org}"), &admin.token, json!({"description": ""})).await.expect(200);
        assert_eq!(cleared["description"], "");

        app.patch(&format!("/orgs/{org}"), &member.token, json!({"name": "Nope"})).await.expect_error(403, "forbidden");
        app.patch(&format!("/orgs/{org}"), &owner.token, json!({})).await.expect_error(400, "invalid_request");
        app.patch(&format!("/orgs/{org}"), &owner.token, json!({"name": ""})).await.expect_error(400, "invalid_request");
        app.patch(&format!("/orgs/{org}"), &owner.token, json!({"name": "x".repeat(101)})).await.expect_error(400, "invalid_request");
        let unchanged = app.get(&format!("/orgs/{org}"), &member.token).await.expect(200);
        assert_eq!(unchanged["name"], "After");
    }
}

on_both_backends! {
    async fn only_an_owner_deletes_an_org(app) {
        let owner = app.user("o@example.com").await;
        let (org, [admin]) = app.org_with(&owner, "Doomed", [("a@example.com", "admin")]).await;
        app.delete(&format!("/orgs/{org}"), &admin.token).await.expect_error(403, "forbidden");
        let gone = app.delete(&format!("/orgs/{org}"), &owner.token).await.expect(200);
        assert!(gone["message"].is_string());
        app.get(&format!("/orgs/{org}"), &owner.token).await.expect_error(404, "org_not_found");
        let list = app.get("/orgs", &admin.token).await.expect(200);
        assert_eq!(list["data"], json!([]));
    }
}

on_both_backends! {
    async fn transferring_ownership_swaps_owner_and_admin_in_one_step(app) {
        let owner = app.user("o@example.com").await;
        let (org, [heir]) = app.org_with(&owner, "Legacy", [("h@example.com", "member")]).await;
        app.post(&format!("/orgs/{org}/transfer-ownership"), &heir.token, json!({"member_id": owner.id}))
            .await
            .expect_error(403, "forbidden");
        app.post(&format!("/orgs/{org}/transfer-ownership"), &owner.token, json!({"member_id": uuid::Uuid::now_v7().to_string()}))
            .await
            .expect_error(404, "member_not_found");
        app.post(&format!("/orgs/{org}/transfer-ownership"), &owner.token, json!({"member_id": heir.id})).await.expect(200);
        let mut roles = app.roles(&org, &heir.token).await;
        roles.sort();
        assert_eq!(roles, vec![("h@example.com".into(), "owner".into()), ("o@example.com".into(), "admin".into())]);
    }
}
