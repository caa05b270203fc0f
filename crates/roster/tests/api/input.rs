//! Bad input: every malformed request gets a 4xx `{code, message}` and
//! changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn malformed_bodies_get_clear_4xx_and_change_nothing(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let url = format!("{}/api/v1/orgs/{org}/members", app.base);
        let send = |body: &'static str, content_type: Option<&'static str>| {
            let mut request = app.client.post(&url).bearer_auth(&owner.token).body(body);
            if let Some(ct) = content_type {
                request = request.header("content-type", ct);
            }
            request.send()
        };
        let syntax = send("{not json", Some("application/json")).await.unwrap();
        assert_eq!(syntax.status(), 400);
        assert_eq!(syntax.json::<serde_json::Value>().await.unwrap()["code"], "invalid_json");
        let types = send(r#"{"member_email": 42, "member_role": "member"}"#, Some("application/json")).await.unwrap();
        assert_eq!(types.status(), 400);
        assert_eq!(types.json::<serde_json::Value>().await.unwrap()["code"], "invalid_request");
        let missing = send(r#"{"member_role": "member"}"#, Some("application/json")).await.unwrap();
        assert_eq!(missing.status(), 400);
        let no_type = send(r#"{"member_email": "a@example.com", "member_role": "member"}"#, None).await.unwrap();
        assert_eq!(no_type.status(), 415);
        assert_eq!(no_type.json::<serde_json::Value>().await.unwrap()["code"], "unsupported_media_type");

        app.add_member(&owner.token, &org, "not an email", "member").await
            .expect_error(400, "invalid_request");
        app.add_member(&owner.token, &org, "a@example.com", "emperor").await
            .expect_error(400, "invalid_request");
        app.post(&format!("/orgs/{org}/members"), &owner.token, json!({"member_email": "a@example.com", "member_role": "member", "message": "x".repeat(501)}))
            .await
            .expect_error(400, "invalid_request");
        app.post("/orgs", &owner.token, json!({"name": "x".repeat(101)})).await.expect_error(400, "invalid_request");
        app.post("/orgs", &owner.token, json!({"name": 7})).await.expect_error(400, "invalid_request");

        let huge = "x".repeat(70 * 1024);
        let oversized = app.post("/orgs", &owner.token, json!({"name": "Big", "description": huge})).await;
        oversized.expect_error(413, "payload_too_large");

        // Nothing changed: one org, one member, one audit event.
        assert_eq!(app.get("/orgs", &owner.token).await.expect(200)["data"].as_array().unwrap().len(), 1);
        assert_eq!(app.roles(&org, &owner.token).await.len(), 1);
        assert_eq!(app.audit_actions(&org, &owner.token).await, vec!["org.created"]);
    }
}

on_both_backends! {
    async fn malformed_ids_limits_and_cursors_get_400(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        app.get("/orgs/not-a-uuid", &owner.token).await.expect_error(400, "invalid_request");
        app.get("/orgs/not-a-uuid/members", &owner.token).await.expect_error(400, "invalid_request");
        app.delete(&format!("/orgs/{org}/members/42"), &owner.token).await.expect_error(400, "invalid_request");
        app.get(&format!("/orgs/{org}/projects/nope/members"), &owner.token).await.expect_error(400, "invalid_request");
        for limit in ["0", "1001", "-5", "many"] {
            app.get(&format!("/orgs/{org}/members?limit={limit}"), &owner.token).await.expect_error(400, "invalid_request");
        }
        app.get(&format!("/orgs/{org}/members?cursor=garbage!"), &owner.token).await.expect_error(400, "invalid_request");
        app.get(&format!("/orgs/{org}/members?role=emperor"), &owner.token).await.expect_error(400, "invalid_request");
        app.get("/orgs?limit=abc", &owner.token).await.expect_error(400, "invalid_request");
    }
}

on_both_backends! {
    async fn an_empty_logout_body_is_fine_and_a_malformed_one_is_400(app) {
        let user = app.user("u@example.com").await;
        let response = app.client.post(format!("{}/api/v1/auth/logout", app.base)).bearer_auth(&user.token).body("{oops").send().await.unwrap();
        assert_eq!(response.status(), 400);
        app.call(Method::POST, "/auth/logout", Some(&user.token), None).await.expect(200);
    }
}

on_both_backends! {
    async fn every_tenant_endpoint_answers_401_without_a_valid_token(app) {
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let id = uuid::Uuid::now_v7();
        let endpoints = [
            (Method::GET, "/orgs".to_string()),
            (Method::POST, "/orgs".to_string()),
            (Method::GET, format!("/orgs/{org}")),
            (Method::PATCH, format!("/orgs/{org}")),
            (Method::DELETE, format!("/orgs/{org}")),
            (Method::POST, format!("/orgs/{org}/transfer-ownership")),
            (Method::GET, format!("/orgs/{org}/members")),
            (Method::POST, format!("/orgs/{org}/members")),
            (Method::GET, format!("/orgs/{org}/members/{id}")),
            (Method::PATCH, format!("/orgs/{org}/members/{id}")),
            (Method::DELETE, format!("/orgs/{org}/members/{id}")),
            (Method::GET, format!("/orgs/{org}/projects")),
            (Method::POST, format!("/orgs/{org}/projects")),
            (Method::GET, format!("/orgs/{org}/projects/{id}")),
            (Method::PATCH, format!("/orgs/{org}/projects/{id}")),
            (Method::DELETE, format!("/orgs/{org}/projects/{id}")),
            (Method::GET, format!("/orgs/{org}/projects/{id}/members")),
            (Method::POST, format!("/orgs/{org}/projects/{id}/members")),
            (Method::DELETE, format!("/orgs/{org}/projects/{id}/members/{id}")),
            (Method::GET, format!("/orgs/{org}/audit-events")),
            (Method::GET, "/me".to_string()),
            (Method::POST, "/auth/logout".to_string()),
        ];
        for (method, path) in endpoints {
            for token in [None, Some("garbage"), Some(owner.refresh_token.as_str())] {
                let answer = app.call(method.clone(), &path, token, Some(json!({}))).await;
                assert_eq!(answer.status, 401, "{method} {path} with {token:?}: {}", answer.body);
                assert_eq!(answer.body["code"], "unauthenticated");
                assert_eq!(answer.headers["www-authenticate"], "Bearer");
            }
        }
        // Nothing changed.
        assert_eq!(app.get(&format!("/orgs/{org}"), &owner.token).await.expect(200)["name"], "Acme");
    }
}

on_both_backends! {
    async fn a_guest_sees_only_the_projects_it_belongs_to(app) {
        let owner = app.user("o@example.com").await;
        let (org, [guest]) = app.org_with(&owner, "Acme", [("g@example.com", "guest")]).await;
        let pid = app.project(&owner, &org, "Apollo").await;
        app.get(&format!("/orgs/{org}/projects"), &guest.token).await.expect_error(403, "forbidden");
        app.get(&format!("/orgs/{org}/projects/{pid}"), &guest.token).await.expect_error(403, "forbidden");
        app.get(&format!("/orgs/{org}/projects/{pid}/members"), &guest.token).await.expect_error(403, "forbidden");
        app.post(&format!("/orgs/{org}/projects/{pid}/members"), &owner.token, json!({"member_id": guest.id, "member_role": "member"}))
            .await
            .expect(201);
        app.get(&format!("/orgs/{org}/projects/{pid}"), &guest.token).await.expect(200);
        app.get(&format!("/orgs/{org}/projects/{pid}/members"), &guest.token).await.expect(200);
        app.post(&format!("/orgs/{org}/projects/{pid}/members"), &guest.token, json!({"member_id": owner.id, "member_role": "member"}))
            .await
            .expect_error(403, "forbidden");
    }
}

on_both_backends! {
    async fn a_client_request_id_is_kept_only_when_short_and_visible_ascii(app) {
        let echo = |value: Vec<u8>| {
            let request = app.client.get(format!("{}/healthz", app.base)).header(
                "x-request-id",
                reqwest::header::HeaderValue::from_bytes(&value).expect("a header value"),
            );
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.headers()["x-request-id"].as_bytes().to_vec()
            }
        };
        for kept in ["req-1234".to_string(), "a".repeat(128)] {
            assert_eq!(echo(kept.clone().into_bytes()).await, kept.into_bytes());
        }
        for replaced in ["a".repeat(129).into_bytes(), "x".repeat(4000).into_bytes(), b"a\tb".to_vec(), b"a b".to_vec(), "caf\u{e9}".as_bytes().to_vec()] {
            let answered = echo(replaced.clone()).await;
            assert_ne!(answered, replaced);
            assert!(roster_http::fit_request_id(&answered), "{:?}", String::from_utf8_lossy(&answered));
            assert_eq!(answered.len(), 36, "a generated UUID");
        }
    }
}

on_both_backends! {
    /// A newline in text that reaches the log (here an invitation's personal
    /// message, in the email the log transport prints) cannot start a forged
    /// log line: the server's log writer escapes it.
    async fn a_newline_in_logged_text_cannot_forge_a_log_line(backend: Backend) {
        let app = crate::TestApp::spawn_processes_with_env(backend, 1, &[("RUST_LOG", "info")]).await;
        let owner = app.user("o@example.com").await;
        let org = app.org(&owner, "Acme").await;
        let forged = "FORGED-ENTRY  INFO roster: the audit log was cleared by the owner";
        app.post(
            &format!("/orgs/{org}/members"),
            &owner.token,
            json!({"member_email": "newcomer@example.com", "member_role": "member", "message": format!("hello\n{forged}")}),
        )
        .await
        .expect(201);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        let log = loop {
            let log = app.servers[0].stderr_tail();
            if log.contains("FORGED-ENTRY") {
                break log;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the invitation email was never logged:\n{log}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert!(
            log.lines()
                .all(|line| !line.trim_start().starts_with("FORGED-ENTRY")),
            "a message started its own log line:\n{log}"
        );
        assert!(log.contains("hello\\nFORGED-ENTRY"), "{log}");
    }
}
