//! Projects and project members.

use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn admins_create_read_update_list_and_delete_projects(app) {
        let owner = app.user("o@example.com").await;
        let (org, [member]) = app.org_with(&owner, "Acme", [("m@example.com", "member")]).await;
        let created = app
            .post(&format!("/orgs/{org}/projects"), &owner.token, json!({"name": "Apollo", "description": "Moon"}))
            .await
            .expect(201);
        assert_eq!(created["org_id"], org.as_str());
        assert_eq!(created["status"], "active");
        let id = created["id"].as_str().unwrap();
        app.post(&format!("/orgs/{org}/projects"), &member.token, json!({"name": "Nope"})).await.expect_error(403, "forbidden");

        let listed = app.get(&format!("/orgs/{org}/projects"), &member.token).await.expect(200);
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        let fetched = app.get(&format!("/orgs/{org}/projects/{id}"), &member.token).await.expect(200);
        assert_eq!(fetched["description"], "Moon");
        let updated = app
            .patch(&format!("/orgs/{org}/projects/{id}"), &owner.token, json!({"name": "Artemis", "status": "archived"}))
            .await
            .expect(200);
        assert_eq!(updated["name"], "Artemis");
        assert_eq!(updated["status"], "archived");
        app.patch(&format!("/orgs/{org}/projects/{id}"), &owner.token, json!({"status": "exploded"})).await.expect_error(400, "invalid_request");
        app.patch(&format!("/orgs/{org}/projects/{id}"), &member.token, json!({"name": "Mine"})).await.expect_error(403, "forbidden");
        app.delete(&format!("/orgs/{org}/projects/{id}"), &member.token).await.expect_error(403, "forbidden");
        app.delete(&format!("/orgs/{org}/projects/{id}"), &owner.token).await.expect(200);
        app.get(&format!("/orgs/{org}/projects/{id}"), &owner.token).await.expect_error(404, "project_not_found");
        let actions = app.audit_actions(&org, &owner.token).await;
        assert_eq!(&actions[2..], ["project.created", "project.updated", "project.deleted"]);
    }
}

on_both_backends! {
    async fn project_members_must_be_org_members(app) {
        let owner = app.user("o@example.com").await;
        let outsider = app.user("x@example.com").await;
        let (org, [member]) = app.org_with(&owner, "Acme", [("m@example.com", "member")]).await;
        let pid = app.project(&owner, &org, "Apollo").await;
        let path = format!("/orgs/{org}/projects/{pid}/members");

        app.post(&path, &owner.token, json!({"member_id": outsider.id, "member_role": "member"})).await.expect_error(404, "member_not_found");
        let added = app.post(&path, &owner.token, json!({"member_id": member.id, "member_role": "member"})).await.expect(201);
        assert_eq!(added["member_id"], member.id.as_str());
        assert_eq!(added["member_role"], "member");
        assert!(added["message"].is_string());
        app.post(&path, &owner.token, json!({"member_id": member.id, "member_role": "member"})).await.expect_error(409, "already_project_member");
        let promoted = app.post(&path, &owner.token, json!({"member_id": member.id, "member_role": "admin"})).await.expect(201);
        assert_eq!(promoted["member_role"], "admin");
        app.post(&path, &owner.token, json!({"member_id": member.id, "member_role": "owner"})).await.expect_error(400, "invalid_request");

        let listed = app.get(&path, &member.token).await.expect(200);
        assert_eq!(listed["data"], json!([{"member_id": member.id, "member_role": "admin", "member_email": "m@example.com", "added_at": listed["data"][0]["added_at"]}]));

        app.delete(&format!("{path}/{}", outsider.id), &owner.token).await.expect_error(404, "member_not_found");
        app.delete(&format!("{path}/{}", member.id), &owner.token).await.expect(200);
        assert_eq!(app.get(&path, &owner.token).await.expect(200)["data"], json!([]));
        let missing = uuid::Uuid::now_v7();
        app.get(&format!("/orgs/{org}/projects/{missing}/members"), &owner.token).await.expect_error(404, "project_not_found");
    }
}

on_both_backends! {
    async fn a_project_admin_manages_its_project_but_not_others(app) {
        let owner = app.user("o@example.com").await;
        let (org, [lead, dev]) = app.org_with(&owner, "Acme", [("lead@example.com", "member"), ("dev@example.com", "member")]).await;
        let (mine, other) = (app.project(&owner, &org, "Mine").await, app.project(&owner, &org, "Other").await);
        app.post(&format!("/orgs/{org}/projects/{mine}/members"), &owner.token, json!({"member_id": lead.id, "member_role": "admin"}))
            .await
            .expect(201);

        app.post(&format!("/orgs/{org}/projects/{mine}/members"), &lead.token, json!({"member_id": dev.id, "member_role": "member"}))
            .await
            .expect(201);
        app.patch(&format!("/orgs/{org}/projects/{mine}"), &lead.token, json!({"description": "led by lead"})).await.expect(200);
        app.post(&format!("/orgs/{org}/projects/{other}/members"), &lead.token, json!({"member_id": dev.id, "member_role": "member"}))
            .await
            .expect_error(403, "forbidden");
        app.delete(&format!("/orgs/{org}/projects/{mine}/members/{}", dev.id), &lead.token).await.expect(200);
    }
}
