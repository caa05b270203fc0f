//! Crash durability: a server killed with SIGKILL in the middle of a load of
//! writes loses none it acknowledged, keeps every change whole (a project
//! is never there without its audit event), and leaves a database that
//! `roster check` finds sound — on SQLite and on PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use roster_testkit::{Backend, RosterProcess, TestDatabase};
use serde_json::{json, Value};

use crate::PASSWORD;

const ENV: [(&str, &str); 5] = [
    ("ROSTER_AUTH_RATE_PER_MINUTE", "100000"),
    ("ROSTER_INVITATIONS_PER_RECIPIENT_PER_DAY", "100000"),
    ("ROSTER_INVITATIONS_PER_ACCOUNT_PER_HOUR", "100000"),
    ("ROSTER_ORGS_PER_ACCOUNT_PER_DAY", "100000"),
    ("ROSTER_INVITATION_RATE_PER_HOUR", "100000"),
];

fn bin() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_roster"))
}

async fn start(url: String) -> RosterProcess {
    tokio::task::spawn_blocking(move || RosterProcess::spawn(bin(), &url, &ENV).expect("server"))
        .await
        .expect("start-up thread")
}

/// Runs `roster check` on the database and answers (success, stdout).
async fn roster_check(url: String) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new(bin())
            .arg("check")
            .env("ROSTER_DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run roster check");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    })
    .await
    .expect("check thread")
}

/// On PostgreSQL, installs amcheck so `roster check` verifies every index
/// too (the test cluster's user may create extensions).
async fn enable_amcheck(backend: Backend, url: &str) {
    if backend != Backend::Postgres {
        return;
    }
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS amcheck")
            .expect("create amcheck");
    })
    .await
    .expect("amcheck thread");
}

/// Signs up `email`, verifies it with the link `server` delivered to its
/// log (an unverified account may not create orgs), and logs in.
async fn signup_and_login(client: &reqwest::Client, server: &RosterProcess, email: &str) -> String {
    let base = server.base_url();
    let signup = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("signup");
    assert_eq!(signup.status(), 201);
    crate::verify_address(client, server, email).await;
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    login["access_token"].as_str().expect("token").to_string()
}

/// Every item of a paginated Tenant API list.
async fn all_pages(client: &reqwest::Client, base: &str, path: &str, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1{path}?limit=1000");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("list body");
        items.extend(page["data"].as_array().expect("data").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
}

/// What the load got a 2xx for.
#[derive(Default)]
struct Acknowledged {
    projects: Vec<String>,
    invitations: Vec<String>,
}

async fn acknowledged_writes_survive_sigkill(backend: Backend) {
    let database = tokio::task::spawn_blocking(move || TestDatabase::new(backend).expect("db"))
        .await
        .expect("database thread");
    let url = database.url().to_string();
    let server = start(url.clone()).await;
    let base = server.base_url().to_string();
    let client = reqwest::Client::new();
    let token = signup_and_login(&client, &server, "owner@example.com").await;
    let org: Value = client
        .post(format!("{base}/api/v1/orgs"))
        .bearer_auth(&token)
        .json(&json!({"name": "Durable"}))
        .send()
        .await
        .expect("create org")
        .json()
        .await
        .expect("org body");
    let org = org["id"].as_str().expect("org id").to_string();

    // Eight writers: projects (a row and its audit event) and invitations
    // (a row, an outbox email and an audit event), as fast as they go.
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (client, base, token, org) = (client.clone(), base.clone(), token.clone(), org.clone());
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let invite = n % 3 == 2;
                let request = if invite {
                    client
                        .post(format!("{base}/api/v1/orgs/{org}/members"))
                        .json(&json!({"member_email": format!("w{writer}-{n}@example.com"), "member_role": "member"}))
                } else {
                    client
                        .post(format!("{base}/api/v1/orgs/{org}/projects"))
                        .json(&json!({"name": format!("w{writer}-{n}")}))
                };
                let response = match request.bearer_auth(&token).send().await {
                    Ok(response) => response,
                    // The server is gone: the kill happened.
                    Err(_) => break,
                };
                let status = response.status();
                let Ok(body) = response.json::<Value>().await else {
                    break;
                };
                assert!(status.is_success(), "write failed before the kill: {status} {body}");
                let mut acknowledged = acknowledged.lock().unwrap();
                if invite {
                    acknowledged.invitations.push(format!("w{writer}-{n}@example.com"));
                } else {
                    acknowledged.projects.push(body["id"].as_str().expect("project id").to_string());
                }
            }
        }));
    }
    // Let the load run, then kill the server in the middle of it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tokio::task::spawn_blocking(move || server.kill())
        .await
        .expect("kill thread");
    for writer in writers {
        writer.await.expect("writer");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(
        acknowledged.projects.len() + acknowledged.invitations.len() >= 20,
        "the load made enough writes to mean something"
    );

    // A new process on the same database sees every acknowledged write.
    let server = start(url.clone()).await;
    let base = server.base_url().to_string();
    let projects = all_pages(&client, &base, &format!("/orgs/{org}/projects"), &token).await;
    let project_ids: std::collections::HashSet<&str> =
        projects.iter().filter_map(|p| p["id"].as_str()).collect();
    for id in &acknowledged.projects {
        assert!(
            project_ids.contains(id.as_str()),
            "acknowledged project {id} was lost"
        );
    }
    let invitations = all_pages(&client, &base, &format!("/orgs/{org}/invitations"), &token).await;
    let invited: std::collections::HashSet<&str> = invitations
        .iter()
        .filter_map(|i| i["email"].as_str())
        .collect();
    for email in &acknowledged.invitations {
        assert!(
            invited.contains(email.as_str()),
            "acknowledged invitation of {email} was lost"
        );
    }
    // Each change is whole: one audit event per project and per invitation
    // that exists, none for one that does not.
    let events = all_pages(&client, &base, &format!("/orgs/{org}/audit-events"), &token).await;
    let count = |action: &str| events.iter().filter(|e| e["action"] == action).count();
    assert_eq!(
        count("project.created"),
        projects.len(),
        "project rows and audit events match"
    );
    assert_eq!(
        count("invitation.created"),
        invitations.len(),
        "invitation rows and audit events match"
    );
    tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("stop thread");

    enable_amcheck(backend, &url).await;
    let (sound, report) = roster_check(url).await;
    assert!(sound, "roster check after the crash:\n{report}");
    assert!(report.contains("the database is sound"), "{report}");
    if backend == Backend::Postgres {
        assert!(report.contains("amcheck bt_index_check"), "{report}");
    } else {
        assert!(report.contains("integrity_check"), "{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_loses_no_acknowledged_write_to_sigkill() {
    acknowledged_writes_survive_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_loses_no_acknowledged_write_to_sigkill() {
    acknowledged_writes_survive_sigkill(Backend::Postgres).await;
}

/// `roster check` is not vacuous: an org whose owner row was deleted behind
/// Roster's back is reported, and the command fails.
async fn check_reports_an_org_without_an_owner(backend: Backend) {
    let database = tokio::task::spawn_blocking(move || TestDatabase::new(backend).expect("db"))
        .await
        .expect("database thread");
    let url = database.url().to_string();
    let server = start(url.clone()).await;
    let client = reqwest::Client::new();
    let token = signup_and_login(&client, &server, "owner@example.com").await;
    let created = client
        .post(format!("{}/api/v1/orgs", server.base_url()))
        .bearer_auth(&token)
        .json(&json!({"name": "Orphaned"}))
        .send()
        .await
        .expect("create org");
    assert_eq!(created.status(), 201);
    tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("stop thread");
    let (sound, report) = roster_check(url.clone()).await;
    assert!(sound, "{report}");

    let sql = "DELETE FROM memberships WHERE role = 'owner'";
    let target = url.clone();
    tokio::task::spawn_blocking(move || match backend {
        Backend::Sqlite => {
            let path = target.strip_prefix("sqlite://").expect("sqlite url");
            rusqlite::Connection::open(path)
                .expect("open")
                .execute(sql, [])
                .expect("delete");
        }
        Backend::Postgres => {
            postgres::Client::connect(&target, postgres::NoTls)
                .expect("connect")
                .execute(sql, &[])
                .expect("delete");
        }
    })
    .await
    .expect("tamper thread");
    let (sound, report) = roster_check(url).await;
    assert!(
        !sound,
        "an org without an owner must fail the check:\n{report}"
    );
    assert!(report.contains("has no owner"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn check_finds_an_org_without_an_owner_on_sqlite() {
    check_reports_an_org_without_an_owner(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn check_finds_an_org_without_an_owner_on_postgres() {
    check_reports_an_org_without_an_owner(Backend::Postgres).await;
}
