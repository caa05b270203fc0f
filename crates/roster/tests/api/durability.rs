//! Crash durability: a server killed with SIGKILL in the middle of a load of
//! writes loses none it acknowledged, keeps every change whole (a project
//! is never there without its audit event), and leaves a database that
//! `roster check` finds sound — on SQLite and on PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use roster_testkit::Backend;
use serde_json::{json, Value};

use crate::servers::{printed, run_roster};
use crate::{on_both_backends, TestApp};

/// Runs `roster check` on the database and answers (success, report).
async fn roster_check(url: &str) -> (bool, String) {
    let output = run_roster(url, &["check"]).await;
    (output.status.success(), printed(&output))
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

/// What the load got a 2xx for.
#[derive(Default)]
struct Acknowledged {
    projects: Vec<String>,
    invitations: Vec<String>,
}

on_both_backends! {
    async fn acknowledged_writes_survive_sigkill(backend: Backend) {
        let mut app = TestApp::spawn_processes(backend, 1).await;
        let owner = app.user("owner@example.com").await;
        let org = app.org(&owner, "Durable").await;
        let (client, base, token) = (app.client.clone(), app.base.clone(), owner.token.clone());

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
        app.kill_servers().await;
        for writer in writers {
            writer.await.expect("writer");
        }
        let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
        assert!(
            acknowledged.projects.len() + acknowledged.invitations.len() >= 20,
            "the load made enough writes to mean something"
        );

        // A new process on the same database sees every acknowledged write.
        app.start_servers(1).await;
        let projects = app.all_pages(&format!("/orgs/{org}/projects"), &token).await;
        let project_ids: std::collections::HashSet<&str> =
            projects.iter().filter_map(|p| p["id"].as_str()).collect();
        for id in &acknowledged.projects {
            assert!(
                project_ids.contains(id.as_str()),
                "acknowledged project {id} was lost"
            );
        }
        let invitations = app.all_pages(&format!("/orgs/{org}/invitations"), &token).await;
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
        let events = app.all_pages(&format!("/orgs/{org}/audit-events"), &token).await;
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
        app.stop_servers().await;

        let url = app.database.url();
        enable_amcheck(backend, url).await;
        let (sound, report) = roster_check(url).await;
        assert!(sound, "roster check after the crash:\n{report}");
        assert!(report.contains("the database is sound"), "{report}");
        if backend == Backend::Postgres {
            assert!(report.contains("amcheck bt_index_check"), "{report}");
        } else {
            assert!(report.contains("integrity_check"), "{report}");
        }
    }
}

on_both_backends! {
    /// `roster check` is not vacuous: an org whose owner row was deleted behind
    /// Roster's back is reported, and the command fails.
    async fn check_reports_an_org_without_an_owner(backend: Backend) {
        let mut app = TestApp::spawn_processes(backend, 1).await;
        let owner = app.user("owner@example.com").await;
        app.org(&owner, "Orphaned").await;
        app.stop_servers().await;
        let url = app.database.url().to_string();
        let (sound, report) = roster_check(&url).await;
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
        let (sound, report) = roster_check(&url).await;
        assert!(
            !sound,
            "an org without an owner must fail the check:\n{report}"
        );
        assert!(report.contains("has no owner"), "{report}");
    }
}
