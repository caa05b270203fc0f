//! Email end to end: the real `roster serve` binary delivering to a real
//! SMTP server (the testkit's sink) — links that work, escaped HTML, and no
//! mail lost or doubled across an SMTP outage and a SIGKILL restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use roster_testkit::{Backend, ReceivedMail, SmtpSink};
use serde_json::json;

use crate::{on_both_backends, TestApp};

/// An SMTP sink shared with the blocking threads that wait on it.
struct Sink(Arc<Mutex<SmtpSink>>);

impl Sink {
    fn start() -> Self {
        Sink(Arc::new(Mutex::new(SmtpSink::start().unwrap())))
    }

    fn url(&self) -> String {
        self.0.lock().unwrap().url()
    }

    /// Runs `f` on the sink off the async threads (it waits on sockets).
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut SmtpSink) -> T + Send + 'static,
    ) -> T {
        let sink = self.0.clone();
        tokio::task::spawn_blocking(move || f(&mut sink.lock().unwrap()))
            .await
            .unwrap()
    }

    /// Waits for the sink to hold `count` messages.
    async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        self.with(move |sink| sink.wait_for(count, timeout).unwrap())
            .await
    }
}

/// A `roster serve` on a fresh database of `backend` whose mail goes to
/// `sink`, with links to `http://roster.test`.
async fn served_with_mail(backend: Backend, sink: &Sink) -> TestApp {
    let smtp = sink.url();
    let env = [
        ("ROSTER_SMTP_URL", smtp.as_str()),
        ("ROSTER_PUBLIC_URL", "http://roster.test"),
    ];
    TestApp::spawn_processes_with_env(backend, 1, &env).await
}

fn token_in(mail: &ReceivedMail, page: &str) -> String {
    let text = mail.text_part().expect("text part");
    let marker = format!("http://roster.test/console/{page}?token=");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no {page} link in {text}"))
        + marker.len();
    text[start..].split_whitespace().next().unwrap().to_string()
}

fn mail_to<'a>(messages: &'a [ReceivedMail], to: &str) -> Vec<&'a ReceivedMail> {
    messages
        .iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .collect()
}

on_both_backends! {
    async fn an_invitee_joins_through_the_links_of_real_emails(backend: Backend) {
        let sink = Sink::start();
        let mut app = served_with_mail(backend, &sink).await;

        // The owner verifies through the emailed link.
        let owner = app.unverified_user("owner@example.com").await;
        let messages = sink.wait_for(1, Duration::from_secs(15)).await;
        let verify = token_in(mail_to(&messages, "owner@example.com")[0], "verify-email");
        let user = app.call(Method::POST, "/auth/verify-email", None, Some(json!({"token": verify}))).await.expect(200);
        assert_eq!(user["email_verified"], true);

        let org = app.org(&owner, "Acme <b>&</b> Co").await;
        let project = app.project(&owner, &org, "Apollo").await;
        app.post(
            &format!("/orgs/{org}/members"),
            &owner.token,
            json!({"member_email": "new@example.com", "member_role": "member", "message": "<script>x</script>",
                   "project_assignments": [{"project_id": project, "role": "member"}]}),
        )
        .await
        .expect(201);

        let messages = sink.wait_for(2, Duration::from_secs(15)).await;
        let invitation = mail_to(&messages, "new@example.com")[0];
        assert!(invitation.header("subject").unwrap().contains("Acme"));
        let html = invitation.html_part().expect("html part");
        assert!(
            html.contains("Acme &lt;b&gt;&amp;&lt;/b&gt; Co")
                && html.contains("&lt;script&gt;x&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
        let token = token_in(invitation, "accept-invite");

        // Delivered: the invitation is now "sent". The sink has the message as
        // soon as the SMTP transaction ends, a moment before the worker commits
        // the new status, so poll for it (bounded).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let listed = app.get(&format!("/orgs/{org}/invitations"), &owner.token).await.body;
            if listed["data"][0]["status"] == "sent" {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the invitation never became sent: {listed}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let invitee = app.unverified_user("new@example.com").await;
        app.call(Method::POST, &format!("/invitations/{token}/accept"), Some(&invitee.token), None)
            .await
            .expect(200);
        let members = app.get(&format!("/orgs/{org}/projects/{project}/members"), &owner.token).await.body;
        assert_eq!(members["data"][0]["member_email"], "new@example.com");
        app.stop_servers().await;
    }
}

on_both_backends! {
    async fn mail_survives_an_smtp_outage_and_a_killed_server(backend: Backend) {
        let sink = Sink::start();
        sink.with(|sink| sink.stop()).await;
        let mut app = served_with_mail(backend, &sink).await;
        let owner = app.unverified_user("owner@example.com").await;
        // The SMTP server is down: the owner reads the link from the outbox
        // (the verification email is still delivered, later, exactly once).
        app.verify("owner@example.com").await;
        let org = app.org(&owner, "Acme").await;
        for i in 0..3 {
            app.post(
                &format!("/orgs/{org}/members"),
                &owner.token,
                json!({"member_email": format!("guest{i}@example.com"), "member_role": "guest"}),
            )
            .await
            .expect(201);
        }
        // Let the first server try (and fail) to deliver, then kill it hard.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        app.kill_servers().await;
        app.start_servers(1).await;
        sink.with(|sink| sink.restart().unwrap()).await;
        // One verification email and three invitations, each exactly once.
        sink.wait_for(4, Duration::from_secs(40)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let messages = sink.with(|sink| sink.messages()).await;
        let mut per_recipient: HashMap<String, usize> = HashMap::new();
        for mail in &messages {
            for to in &mail.to {
                *per_recipient.entry(to.clone()).or_default() += 1;
            }
        }
        assert_eq!(per_recipient.len(), 4, "{per_recipient:?}");
        assert!(
            per_recipient.values().all(|n| *n == 1),
            "no duplicates: {per_recipient:?}"
        );
        app.stop_servers().await;
    }
}

/// Every byte of the SQLite database, after folding the write-ahead log
/// into the main file (as a checkpoint eventually does by itself).
fn sqlite_file_bytes(url: &str) -> Vec<u8> {
    let path = url.trim_start_matches("sqlite://");
    let conn = rusqlite::Connection::open(path).expect("open the database file");
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    drop(conn);
    let mut bytes = std::fs::read(path).expect("read the database file");
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

on_both_backends! {
    async fn a_delivered_email_leaves_no_live_token_in_the_database(app) {
        let owner = app.user("sealed-owner@example.com").await;
        // Someone whose verification link is still to be used.
        app.unverified_user("sealed-newcomer@example.com").await;
        let org = app.org(&owner, "Sealed").await;
        app.add_member(&owner.token, &org, "sealed-invitee@example.com", "member").await
            .expect(201);
        // Before delivery the outbox holds the links (it must, to send them).
        let invite_token = app.token_from_email("sealed-invitee@example.com", "accept-invite").await;
        let verify_token = app.token_from_email("sealed-newcomer@example.com", "verify-email").await;

        let url = app.database.url().to_string();
        let store = tokio::task::spawn_blocking(move || roster_store::open(&url).expect("store"))
            .await
            .unwrap();
        let transport = roster_mail::Transport::from_config(&roster_mail::MailConfig {
            smtp_url: None,
            from: "Roster <noreply@roster.test>".into(),
        })
        .unwrap();
        let worker = roster_mail::spawn_worker(
            store,
            transport,
            roster_mail::RetryPolicy { poll_interval: Duration::from_millis(50), ..Default::default() },
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let mut emails = app.outbox("sealed-invitee@example.com").await;
            emails.extend(app.outbox("sealed-owner@example.com").await);
            emails.extend(app.outbox("sealed-newcomer@example.com").await);
            if emails.iter().all(|e| e.sent_at.is_some()) {
                for email in &emails {
                    assert!(email.text_body.is_empty() && email.html_body.is_empty(), "body kept after delivery: {email:?}");
                }
                break;
            }
            assert!(std::time::Instant::now() < deadline, "emails were not delivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        worker.shutdown().await;

        match app.backend {
            Backend::Sqlite => {
                let url = app.database.url().to_string();
                let bytes = tokio::task::spawn_blocking(move || sqlite_file_bytes(&url)).await.unwrap();
                for token in [&invite_token, &verify_token] {
                    assert!(!contains(&bytes, token), "a live token is still in the database file");
                }
            }
            Backend::Postgres => {
                let url = app.database.url().to_string();
                let tokens = [invite_token.clone(), verify_token.clone()];
                let found: i64 = tokio::task::spawn_blocking(move || {
                    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                    let mut found = 0;
                    for token in tokens {
                        let row = client
                            .query_one(
                                "SELECT COUNT(*) FROM outbox_emails WHERE strpos(text_body || html_body || subject, $1) > 0",
                                &[&token],
                            )
                            .expect("query");
                        found += row.get::<_, i64>(0);
                    }
                    found
                })
                .await
                .unwrap();
                assert_eq!(found, 0, "a live token is still in the outbox");
            }
        }
        // The tokens were live: the recipients' links still work.
        app.call(reqwest::Method::POST, "/auth/verify-email", None, Some(json!({"token": verify_token})))
            .await
            .expect(200);
        let invitee = app.user("sealed-invitee@example.com").await;
        app.call(reqwest::Method::POST, &format!("/invitations/{invite_token}/accept"), Some(&invitee.token), None)
            .await
            .expect(200);
    }
}
