//! The binary's subcommands: `migrate`, `user create`, and `serve` with a
//! signing key from a file.

use crate::servers::{printed, refused_at_start, run_roster};
use crate::{on_both_backends, TestApp, PASSWORD};

on_both_backends! {
    async fn user_create_makes_a_verified_account(backend: Backend) {
        let mut app = TestApp::without_server(backend, &[]).await;
        let url = app.database.url().to_string();
        let migrated = run_roster(&url, &["migrate"]).await;
        assert!(migrated.status.success(), "{}", printed(&migrated));
        let created = run_roster(&url, &["user", "create", "--email", "Op@Example.com", "--password", PASSWORD, "--name", "Operator"]).await;
        assert!(created.status.success(), "{}", printed(&created));
        assert!(String::from_utf8_lossy(&created.stdout).contains("op@example.com"));
        let again = run_roster(&url, &["user", "create", "--email", "op@example.com", "--password", PASSWORD]).await;
        assert!(!again.status.success(), "a duplicate email is refused");
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
        let weak = run_roster(&url, &["user", "create", "--email", "weak@example.com", "--password", "short"]).await;
        assert!(!weak.status.success(), "a weak password is refused");

        app.start_servers(1).await;
        let tokens = app.login("op@example.com", PASSWORD).await.expect(200);
        let me = app.get("/me", tokens["access_token"].as_str().unwrap()).await.expect(200);
        assert_eq!(me["email_verified"], true);
        assert_eq!(me["name"], "Operator");
        app.stop_servers().await;
    }
}

#[tokio::test]
async fn a_short_secret_key_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "too short").unwrap();
    let stderr = refused_at_start(&[("ROSTER_SECRET_KEY_FILE", key.to_str().unwrap())]).await;
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
}
