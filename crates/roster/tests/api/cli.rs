//! The binary's subcommands: `migrate`, `user create`, and `serve` with a
//! signing key from a file.

use std::process::Command;

use roster_testkit::{Backend, RosterProcess, TestDatabase};
use serde_json::json;

use crate::PASSWORD;

fn roster(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("ROSTER_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run roster")
}

async fn created_users_are_verified_and_can_log_in(backend: Backend) {
    let (database, server) = tokio::task::spawn_blocking(move || {
        let database = TestDatabase::new(backend).unwrap();
        let migrated = roster(database.url(), &["migrate"]);
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        let created = roster(
            database.url(),
            &[
                "user",
                "create",
                "--email",
                "Op@Example.com",
                "--password",
                PASSWORD,
                "--name",
                "Operator",
            ],
        );
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
        assert!(String::from_utf8_lossy(&created.stdout).contains("op@example.com"));
        let again = roster(
            database.url(),
            &[
                "user",
                "create",
                "--email",
                "op@example.com",
                "--password",
                PASSWORD,
            ],
        );
        assert!(!again.status.success(), "a duplicate email is refused");
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
        let weak = roster(
            database.url(),
            &[
                "user",
                "create",
                "--email",
                "weak@example.com",
                "--password",
                "short",
            ],
        );
        assert!(!weak.status.success(), "a weak password is refused");
        let server = RosterProcess::spawn(
            std::path::Path::new(env!("CARGO_BIN_EXE_roster")),
            database.url(),
            &[],
        )
        .unwrap();
        (database, server)
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let tokens: serde_json::Value = client
        .post(format!("{}/api/v1/auth/login", server.base_url()))
        .json(&json!({"email": "op@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me: serde_json::Value = client
        .get(format!("{}/api/v1/me", server.base_url()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["name"], "Operator");
    tokio::task::spawn_blocking(move || {
        server.terminate();
        drop(database);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_create_makes_a_verified_account_on_sqlite() {
    created_users_are_verified_and_can_log_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_create_makes_a_verified_account_on_postgres() {
    created_users_are_verified_and_can_log_in(Backend::Postgres).await;
}

#[test]
fn a_short_secret_key_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "too short").unwrap();
    let database = TestDatabase::new(Backend::Sqlite).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("serve")
        .env("ROSTER_DATABASE_URL", database.url())
        .env("ROSTER_LISTEN", "127.0.0.1:0")
        .env("ROSTER_SECRET_KEY_FILE", &key)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 32 bytes"));
}
