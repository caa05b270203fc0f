//! `/metrics`: off by default, behind a bearer token or on a listener of its
//! own; requests counted by route template and status, a latency
//! histogram, pool occupancy and the outbox backlog. Each scenario runs a
//! real `roster serve` on the scenario's fresh database, configured through
//! the environment as an operator would.

use crate::on_both_backends;
use crate::servers::serve;

const TOKEN: &str = "metrics-token-0123456789abcdef";

async fn scrape(client: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("scrape");
    let status = response.status().as_u16();
    (status, response.text().await.expect("scrape body"))
}

/// The value of the one sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

on_both_backends! {
    async fn metrics_are_off_unless_configured(app) {
        let server = serve(app.database.url(), &[]).await;
        let (status, body) = scrape(&app.client, &format!("{}/metrics", server.base_url()), Some(TOKEN)).await;
        assert_eq!(status, 404, "{body}");
        let body: serde_json::Value = serde_json::from_str(&body).expect("JSON 404");
        assert_eq!(body["code"], "not_found");
    }
}

on_both_backends! {
    async fn metrics_need_the_token_and_count_requests_by_route_template(app) {
        // Email delivery fails (nothing listens on port 1), so the
        // verification emails of the signups stay in the outbox.
        let env = [("ROSTER_METRICS_TOKEN", TOKEN), ("ROSTER_SMTP_URL", "smtp://127.0.0.1:1")];
        let server = serve(app.database.url(), &env).await;
        let mut app = app;
        app.base = server.base_url().to_string();
        let url = format!("{}/metrics", app.base);

        // No token, a wrong token, a token in another scheme: 401 JSON.
        for token in [None, Some("metrics-token-0123456789abcdeX")] {
            let (status, body) = scrape(&app.client, &url, token).await;
            assert_eq!(status, 401, "{body}");
            let body: serde_json::Value = serde_json::from_str(&body).expect("JSON 401");
            assert_eq!(body["code"], "unauthenticated");
        }
        let basic = app
            .client
            .get(&url)
            .header("authorization", format!("Basic {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(basic.status().as_u16(), 401);

        let owner = app.user("metrics-owner@example.com").await;
        let org = app.org(&owner, "Metered").await;
        for _ in 0..3 {
            app.get(&format!("/orgs/{org}"), &owner.token).await.expect(200);
        }
        let missing = uuid::Uuid::now_v7();
        app.get(&format!("/orgs/{missing}"), &owner.token).await.expect(404);
        let stray = app.client.get(format!("{}/no/such/path", app.base)).send().await.unwrap();
        assert_eq!(stray.status().as_u16(), 404);

        let response = app.client.get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        let text = response.text().await.unwrap();

        let route = r#"method="GET",route="/api/v1/orgs/{org_id}""#;
        assert_eq!(sample(&text, &format!("roster_http_requests_total{{{route},status=\"200\"}}")), Some(3.0), "{text}");
        assert_eq!(sample(&text, &format!("roster_http_requests_total{{{route},status=\"404\"}}")), Some(1.0), "{text}");
        assert_eq!(sample(&text, r#"roster_http_requests_total{method="POST",route="/api/v1/orgs",status="201"}"#), Some(1.0), "{text}");
        assert_eq!(sample(&text, r#"roster_http_requests_total{method="GET",route="unmatched",status="404"}"#), Some(1.0), "{text}");
        assert!(!text.contains(&org) && !text.contains(&missing.to_string()), "raw ids never become labels:\n{text}");
        assert_eq!(sample(&text, &format!("roster_http_request_duration_seconds_count{{{route}}}")), Some(4.0), "{text}");
        assert_eq!(sample(&text, &format!("roster_http_request_duration_seconds_bucket{{{route},le=\"+Inf\"}}")), Some(4.0), "{text}");
        assert!(text.contains("# TYPE roster_http_request_duration_seconds histogram"));

        // Pools: the backend's own, each with its size.
        let pools: &[(&str, f64)] = match app.backend {
            roster_testkit::Backend::Sqlite => &[("writer", 1.0), ("readers", 4.0)],
            roster_testkit::Backend::Postgres => &[("primary", 16.0)],
        };
        for (pool, max) in pools {
            assert_eq!(sample(&text, &format!("roster_db_pool_connections_max{{pool=\"{pool}\"}}")), Some(*max), "{text}");
            let idle = sample(&text, &format!("roster_db_pool_connections_idle{{pool=\"{pool}\"}}")).expect("idle");
            let in_use = sample(&text, &format!("roster_db_pool_connections_in_use{{pool=\"{pool}\"}}")).expect("in use");
            assert!(idle + in_use <= *max, "{text}");
        }
        assert_eq!(sample(&text, "roster_database_up"), Some(1.0));

        // The owner's verification email cannot be delivered: it waits.
        let pending = sample(&text, "roster_outbox_pending_emails").expect("backlog");
        assert!(pending >= 1.0, "{text}");
        let age = sample(&text, "roster_outbox_oldest_pending_age_seconds").expect("age");
        assert!((0.0..600.0).contains(&age), "{text}");

        // The scrape itself is counted too, under its route.
        let (_, again) = scrape(&app.client, &url, Some(TOKEN)).await;
        assert_eq!(sample(&again, r#"roster_http_requests_total{method="GET",route="/metrics",status="200"}"#), Some(1.0), "{again}");
        drop(server);
    }
}

on_both_backends! {
    async fn a_metrics_listener_serves_metrics_only_and_the_main_listener_none(app) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let metrics_base = format!("http://127.0.0.1:{port}");
        let listen = format!("127.0.0.1:{port}");
        let server = serve(app.database.url(), &[("ROSTER_METRICS_LISTEN", &listen)]).await;
        let mut app = app;
        // The helpers read the server's mail from its log.
        app.use_server(server);

        let (status, _) = scrape(&app.client, &format!("{}/metrics", app.base), None).await;
        assert_eq!(status, 404, "the main listener does not serve /metrics");
        let (status, _) = scrape(&app.client, &format!("{metrics_base}/api/v1/me"), None).await;
        assert_eq!(status, 404, "the metrics listener serves nothing else");

        app.user("listener@example.com").await;
        // No token configured: the private listener is open.
        let (status, text) = scrape(&app.client, &format!("{metrics_base}/metrics"), None).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(sample(&text, r#"roster_http_requests_total{method="POST",route="/api/v1/auth/signup",status="201"}"#), Some(1.0), "{text}");
    }
}
