//! `ROSTER_DATABASE_READ_URL`: reads served by a PostgreSQL streaming
//! standby whenever it has replayed everything the primary had written
//! when the read began, so a client always reads back its own writes
//! (and everyone else's acknowledged ones). Each test starts its own
//! primary and standby (`pg_basebackup -R`) on free 127.0.0.1 ports and a
//! real `roster serve` on them. PostgreSQL only: the setting is refused on
//! SQLite.

use std::time::{Duration, Instant};

use roster_testkit::{Backend, ReplicatedPostgres};
use serde_json::json;

use crate::servers::{refused_at_start, spawn_server};
use crate::TestApp;

const TOKEN: &str = "replica-metrics-token-0123456789";

struct Replicated {
    /// Holds the server process in `servers` (the helpers read its mail
    /// from its log).
    app: TestApp,
    pair: ReplicatedPostgres,
}

/// A primary, a standby, and a server reading from the standby; `app`
/// talks to that server.
async fn start() -> Replicated {
    let (pair, server) = tokio::task::spawn_blocking(|| {
        let pair = ReplicatedPostgres::start();
        let env = [
            ("ROSTER_DATABASE_READ_URL", pair.replica_url.as_str()),
            ("ROSTER_METRICS_TOKEN", TOKEN),
        ];
        let server = spawn_server(&pair.primary_url, &env);
        (pair, server)
    })
    .await
    .expect("start-up thread");
    // The helpers of TestApp, pointed at that server.
    let mut app = TestApp::spawn(Backend::Postgres).await;
    app.mail_database_url = pair.primary_url.clone();
    app.use_server(server);
    Replicated { app, pair }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        // The server goes before its databases.
        self.app.servers.clear();
    }
}

/// Transactions each pool has run, from `/metrics`.
async fn transactions(app: &TestApp, pool: &str) -> f64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("roster_db_pool_transactions_total{{pool=\"{pool}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series)?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

fn replica_count(replica_url: &str, sql: &str) -> i64 {
    let mut client = postgres::Client::connect(replica_url, postgres::NoTls).expect("replica");
    let in_recovery: bool = client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .unwrap()
        .get(0);
    assert!(in_recovery, "the read URL is a standby");
    client.query_one(sql, &[]).unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_is_read_back_at_once_and_quiet_reads_go_to_the_replica() {
    let replicated = start().await;
    let app = &replicated.app;
    let owner = app.user("replica-owner@example.com").await;
    let colleague = app.user("replica-colleague@example.com").await;

    // Write, then read back in the very next request: never a 404, never
    // the old value, whatever the standby's lag.
    let mut orgs = Vec::new();
    for round in 0..15 {
        let org = app.org(&owner, &format!("Replicated {round}")).await;
        app.get(&format!("/orgs/{org}"), &owner.token)
            .await
            .expect(200);
        let renamed = format!("Renamed {round}");
        app.patch(
            &format!("/orgs/{org}"),
            &owner.token,
            json!({"name": renamed}),
        )
        .await
        .expect(200);
        let read = app
            .get(&format!("/orgs/{org}"), &owner.token)
            .await
            .expect(200);
        assert_eq!(read["name"], renamed.as_str());

        let project = app
            .post(
                &format!("/orgs/{org}/projects"),
                &owner.token,
                json!({"name": "Apollo"}),
            )
            .await
            .expect(201);
        let project_id = project["id"].as_str().unwrap();
        app.get(&format!("/orgs/{org}/projects/{project_id}"), &owner.token)
            .await
            .expect(200);

        app.add(&owner, &org, &colleague, "member").await;
        let member = app
            .get(
                &format!("/orgs/{org}/members/{}", colleague.id),
                &colleague.token,
            )
            .await
            .expect(200);
        assert_eq!(member["member_role"], "member", "{member}");

        // A key works in the request after its creation.
        let key = app.api_key(&owner, &org, &["members:read"]).await;
        let members = app
            .client
            .get(format!("{}/api/v1/orgs/{org}/members", app.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(members.status().as_u16(), 200);
        orgs.push(org);
    }

    // The standby holds it all (it streams from the primary).
    let replica_url = replicated.pair.replica_url.clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let url = replica_url.clone();
        let count =
            tokio::task::spawn_blocking(move || replica_count(&url, "SELECT COUNT(*) FROM orgs"))
                .await
                .unwrap();
        if count == orgs.len() as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "the standby has {count} orgs");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Once writes pause, reads are served by the standby.
    let before = transactions(app, "replica").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = app.get("/orgs?limit=100", &owner.token).await.expect(200);
        assert_eq!(listed["data"].as_array().unwrap().len(), orgs.len());
        if transactions(app, "replica").await > before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no read ever went to the replica"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_fall_back_to_the_primary_when_the_replica_is_gone() {
    let replicated = start().await;
    let app = &replicated.app;
    let owner = app.user("fallback-owner@example.com").await;
    let org = app.org(&owner, "Before").await;

    let pair = &replicated.pair;
    tokio::task::block_in_place(|| pair.stop_replica());

    // Reads and writes go on, from the primary.
    let started = Instant::now();
    let primary_before = transactions(app, "primary").await;
    for round in 0..5 {
        app.get(&format!("/orgs/{org}"), &owner.token)
            .await
            .expect(200);
        app.get("/orgs", &owner.token).await.expect(200);
        let another = app.org(&owner, &format!("After {round}")).await;
        app.get(&format!("/orgs/{another}"), &owner.token)
            .await
            .expect(200);
    }
    assert!(transactions(app, "primary").await > primary_before);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a dead replica must not stall every read: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_read_url_is_refused_with_sqlite() {
    let read_url = "postgres://reader:secret@127.0.0.1:1/roster";
    let stderr = refused_at_start(&[("ROSTER_DATABASE_READ_URL", read_url)]).await;
    assert!(stderr.contains("ROSTER_DATABASE_READ_URL"), "{stderr}");
    assert!(
        !stderr.contains("secret"),
        "the URL's password is never printed"
    );
}
