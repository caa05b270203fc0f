//! `roster backup` while writes go on, `roster restore` into a fresh
//! database, a server on the restored copy: every write acknowledged before
//! the backup began is there. And restore's refusals: a database that holds
//! data (without --force), a file that is not a Roster backup.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use roster_testkit::TestDatabase;
use serde_json::json;

use crate::servers::{printed, run_roster, serve};
use crate::{on_both_backends, PASSWORD};

on_both_backends! {
    async fn a_backup_taken_under_writes_restores_every_acknowledged_write(app) {
        let owner = app.user("backup-owner@example.com").await;
        let org = app.org(&owner, "Backed up").await;

        // A writer creating projects until told to stop; each 201 is recorded.
        let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (client, base, token) = (app.client.clone(), app.base.clone(), owner.token.clone());
            let (acknowledged, stop, org) = (acknowledged.clone(), stop.clone(), org.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let response = client
                        .post(format!("{base}/api/v1/orgs/{org}/projects"))
                        .bearer_auth(&token)
                        .json(&json!({"name": format!("project {n}")}))
                        .send()
                        .await
                        .expect("create project");
                    assert_eq!(response.status().as_u16(), 201);
                    let body: serde_json::Value = response.json().await.unwrap();
                    acknowledged.lock().unwrap().push(body["id"].as_str().unwrap().to_string());
                }
            })
        };
        while acknowledged.lock().unwrap().len() < 20 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("roster.backup");
        let file_arg = file.to_str().unwrap();
        let before_backup: Vec<String> = acknowledged.lock().unwrap().clone();
        let backed_up = run_roster(app.database.url(), &["backup", file_arg]).await;
        let after_backup = acknowledged.lock().unwrap().len();
        // Keep writing a little longer, then stop.
        while acknowledged.lock().unwrap().len() < after_backup + 5 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::Relaxed);
        writer.await.expect("writer");
        assert!(backed_up.status.success(), "{}", printed(&backed_up));
        assert!(file.is_file());
        if app.backend == roster_testkit::Backend::Sqlite {
            assert!(printed(&backed_up).contains("integrity check: ok"), "{}", printed(&backed_up));
        }
        let again = run_roster(app.database.url(), &["backup", file_arg]).await;
        assert!(!again.status.success(), "a backup never overwrites a file");
        assert!(printed(&again).contains("already exists"), "{}", printed(&again));

        // Restore into a fresh database and serve it.
        let backend = app.backend;
        let restored = tokio::task::spawn_blocking(move || TestDatabase::new(backend).unwrap())
            .await
            .unwrap();
        let out = run_roster(restored.url(), &["restore", file_arg]).await;
        assert!(out.status.success(), "{}", printed(&out));
        assert!(printed(&out).contains("passes `roster check`"), "{}", printed(&out));

        let mut served = app;
        served.use_server(serve(restored.url(), &[]).await);
        let login = served.login(&owner.email, PASSWORD).await.expect(200);
        let token = login["access_token"].as_str().unwrap().to_string();
        for id in &before_backup {
            served.get(&format!("/orgs/{org}/projects/{id}"), &token).await.expect(200);
        }
        let listed: Vec<String> = served
            .all_pages(&format!("/orgs/{org}/projects"), &token)
            .await
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        let all_acknowledged = acknowledged.lock().unwrap().clone();
        assert!(listed.len() >= before_backup.len(), "{} < {}", listed.len(), before_backup.len());
        assert!(
            listed.iter().all(|id| all_acknowledged.contains(id)),
            "the backup holds only projects that were created"
        );

        // The restored database now holds data: restore refuses it unless forced.
        served.stop_servers().await;
        // The original database is still open in the in-process server: in use.
        for args in [&["restore", file_arg][..], &["restore", "--force", file_arg][..]] {
            let refused = run_roster(served.database.url(), args).await;
            assert!(!refused.status.success(), "a live database is never overwritten");
            assert!(printed(&refused).contains("in use"), "{}", printed(&refused));
        }
        // (PostgreSQL notices the stopped server's connections are gone a
        // moment after it exits.)
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let refused = loop {
            let refused = run_roster(restored.url(), &["restore", file_arg]).await;
            if !printed(&refused).contains("in use") || std::time::Instant::now() > deadline {
                break refused;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert!(!refused.status.success());
        assert!(printed(&refused).contains("--force"), "{}", printed(&refused));
        let forced = run_roster(restored.url(), &["restore", "--force", file_arg]).await;
        assert!(forced.status.success(), "{}", printed(&forced));

        // A file that is not a backup is refused before anything is touched.
        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"definitely not a database").unwrap();
        let fresh = tokio::task::spawn_blocking(move || TestDatabase::new(backend).unwrap())
            .await
            .unwrap();
        let out = run_roster(fresh.url(), &["restore", junk.to_str().unwrap()]).await;
        assert!(!out.status.success(), "{}", printed(&out));
        assert!(printed(&out).contains("not"), "{}", printed(&out));
    }
}
