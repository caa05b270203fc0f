//! The audit log: one event per change, with actor, target and request id.

use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn every_change_writes_one_audit_event_readable_by_admins_only(app) {
        let owner = app.user("o@example.com").await;
        let (org, [bob]) = app.org_with(&owner, "Acme", [("b@example.com", "member")]).await;
        app.patch(&format!("/orgs/{org}/members/{}", bob.id), &owner.token, json!({"member_role": "admin"})).await.expect(200);
        app.patch(&format!("/orgs/{org}"), &owner.token, json!({"name": "Acme 2"})).await.expect(200);
        app.delete(&format!("/orgs/{org}/members/{}", bob.id), &owner.token).await.expect(200);

        let body = app.get(&format!("/orgs/{org}/audit-events"), &owner.token).await.expect(200);
        let events = body["data"].as_array().unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["member.removed", "org.updated", "member.role_changed", "member.added", "org.created"]);
        let removed = &events[0];
        assert_eq!(removed["org_id"], org.as_str());
        assert_eq!(removed["actor"], json!({"type": "user", "id": owner.id}));
        assert_eq!(removed["target"], json!({"type": "user", "id": bob.id}));
        assert!(removed["summary"].as_str().unwrap().contains("b@example.com"));
        assert!(!removed["request_id"].as_str().unwrap().is_empty());
        assert!(removed["created_at"].as_str().unwrap().ends_with('Z'));

        let page = app.get(&format!("/orgs/{org}/audit-events?limit=2"), &owner.token).await.expect(200);
        let next = page["next_cursor"].as_str().unwrap();
        let rest = app.get(&format!("/orgs/{org}/audit-events?limit=10&cursor={next}"), &owner.token).await.expect(200);
        assert_eq!(rest["data"].as_array().unwrap().len(), 3);

        let member = app.user("m@example.com").await;
        app.add(&owner, &org, &member, "member").await;
        app.get(&format!("/orgs/{org}/audit-events"), &member.token).await.expect_error(403, "forbidden");
    }
}

on_both_backends! {
    async fn the_request_id_of_a_change_is_the_one_in_its_audit_event(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let response = app
            .client
            .patch(format!("{}/api/v1/orgs/{org}", app.base))
            .bearer_auth(&owner.token)
            .header("x-request-id", "req-123-abc")
            .json(&json!({"description": "traced"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-request-id"], "req-123-abc");
        let body = app.get(&format!("/orgs/{org}/audit-events?limit=1"), &owner.token).await.expect(200);
        assert_eq!(body["data"][0]["request_id"], "req-123-abc");
    }
}
