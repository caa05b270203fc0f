//! The outbox worker against a real SMTP server (the testkit's sink) and a
//! real store, on SQLite and on PostgreSQL: delivery, an outage, a restart
//! mid-backlog, and two workers at once — every email exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use roster_core::ids::OutboxEmailId;
use roster_core::model::OutboxEmail;
use roster_core::store::{self, Store};
use roster_core::time::Timestamp;
use roster_mail::{spawn_worker, MailConfig, RetryPolicy, Transport};
use roster_testkit::{Backend, SmtpSink, TestDatabase};

fn fast() -> RetryPolicy {
    RetryPolicy {
        poll_interval: Duration::from_millis(50),
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(400),
        lease: Duration::from_secs(2),
        batch: 5,
    }
}

async fn open(backend: Backend) -> (TestDatabase, Arc<dyn Store>) {
    tokio::task::spawn_blocking(move || {
        let database = TestDatabase::new(backend).expect("database");
        let store = roster_store::open(database.url()).expect("store");
        (database, store)
    })
    .await
    .expect("thread")
}

fn smtp(sink: &SmtpSink) -> Transport {
    Transport::from_config(&MailConfig {
        smtp_url: Some(sink.url()),
        from: "Roster <noreply@roster.test>".into(),
    })
    .unwrap()
}

async fn queue(store: &Arc<dyn Store>, count: usize) -> Vec<OutboxEmailId> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut ids = Vec::new();
        for i in 0..count {
            let now = Timestamp::now();
            let email = OutboxEmail {
                id: OutboxEmailId::new(),
                to: format!("person{i}@example.com"),
                subject: format!("message {i}"),
                text_body: format!(
                    "Hello {i}, your link: http://roster.test/console/verify-email?token=ver_{i}"
                ),
                html_body: format!("<p>Hello {i}</p>"),
                invitation_id: None,
                attempts: 0,
                next_attempt_at: now,
                last_error: None,
                created_at: now,
                sent_at: None,
            };
            store::write(&*store, |tx| tx.insert_outbox_email(&email)).unwrap();
            ids.push(email.id);
        }
        ids
    })
    .await
    .unwrap()
}

async fn outbox(store: &Arc<dyn Store>) -> Vec<OutboxEmail> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        store::read(&*store, |tx| tx.list_outbox_emails(None, 1000)).unwrap()
    })
    .await
    .unwrap()
}

/// Subjects received, with how often each arrived.
fn received_counts(sink: &SmtpSink) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for mail in sink.messages() {
        *counts
            .entry(mail.header("subject").unwrap_or_default())
            .or_default() += 1;
    }
    counts
}

async fn wait_until_sent(store: &Arc<dyn Store>, count: usize) {
    // Generous: returns as soon as the count is reached, and a loaded
    // machine (the suite runs its tests in parallel) can slow the worker.
    for _ in 0..1200 {
        if outbox(store)
            .await
            .iter()
            .filter(|e| e.sent_at.is_some())
            .count()
            >= count
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} emails were not all recorded as sent");
}

/// Waits until `count` emails are recorded as sent, then a moment longer
/// (a duplicate would arrive late), and checks the sink got each of them
/// exactly once.
async fn assert_each_delivered_once(store: &Arc<dyn Store>, sink: &SmtpSink, count: usize) {
    wait_until_sent(store, count).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = received_counts(sink);
    assert_eq!(counts.len(), count);
    assert!(
        counts.values().all(|n| *n == 1),
        "each exactly once: {counts:?}"
    );
}

macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(roster_testkit::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(roster_testkit::Backend::Postgres).await;
            }
        }
    };
}

async fn delivers_text_and_html_and_records_it(backend: Backend) {
    let (_db, store) = open(backend).await;
    let sink = SmtpSink::start().unwrap();
    let worker = spawn_worker(store.clone(), smtp(&sink), fast());
    queue(&store, 1).await;
    worker.waker().wake();
    let mail = tokio::task::spawn_blocking(move || {
        let mail = sink.wait_for(1, Duration::from_secs(10)).unwrap().remove(0);
        drop(sink);
        mail
    })
    .await
    .unwrap();
    assert_eq!(mail.to, vec!["person0@example.com"]);
    assert!(mail
        .text_part()
        .unwrap_or_else(|| panic!("{}", mail.data))
        .contains("verify-email?token=ver_0"));
    assert!(mail.html_part().unwrap().contains("<p>Hello 0</p>"));
    wait_until_sent(&store, 1).await;
    let backlog = {
        let s = store.clone();
        tokio::task::spawn_blocking(move || store::read(&*s, |tx| tx.outbox_backlog()).unwrap())
            .await
            .unwrap()
    };
    assert_eq!(backlog, 0);
    worker.shutdown().await;
}
on_both_backends!(delivers_text_and_html_and_records_it);

async fn an_outage_delays_mail_and_loses_none(backend: Backend) {
    let (_db, store) = open(backend).await;
    let mut sink = SmtpSink::start().unwrap();
    sink.stop();
    let worker = spawn_worker(store.clone(), smtp(&sink), fast());
    queue(&store, 3).await;
    // While the server is down, attempts fail and are rescheduled.
    let mut failed = Vec::new();
    for _ in 0..1200 {
        failed = outbox(&store).await;
        if failed.iter().all(|e| e.attempts >= 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        failed
            .iter()
            .all(|e| e.attempts >= 2 && e.sent_at.is_none() && e.last_error.is_some()),
        "{failed:?}"
    );
    sink.restart().unwrap();
    assert_each_delivered_once(&store, &sink, 3).await;
    worker.shutdown().await;
}
on_both_backends!(an_outage_delays_mail_and_loses_none);

async fn a_restarted_worker_delivers_the_rest_without_duplicates(backend: Backend) {
    let (_db, store) = open(backend).await;
    let sink = SmtpSink::start().unwrap();
    queue(&store, 12).await;
    let first = spawn_worker(store.clone(), smtp(&sink), fast());
    // Stop it early, mid-backlog: a "process restart".
    tokio::time::sleep(Duration::from_millis(30)).await;
    first.shutdown().await;
    let second = spawn_worker(store.clone(), smtp(&sink), fast());
    assert_each_delivered_once(&store, &sink, 12).await;
    second.shutdown().await;
}
on_both_backends!(a_restarted_worker_delivers_the_rest_without_duplicates);

async fn two_workers_deliver_each_email_once(backend: Backend) {
    let (_db, store) = open(backend).await;
    let sink = SmtpSink::start().unwrap();
    queue(&store, 20).await;
    let one = spawn_worker(store.clone(), smtp(&sink), fast());
    let two = spawn_worker(store.clone(), smtp(&sink), fast());
    assert_each_delivered_once(&store, &sink, 20).await;
    one.shutdown().await;
    two.shutdown().await;
}
on_both_backends!(two_workers_deliver_each_email_once);

#[tokio::test]
async fn the_log_transport_delivers_to_the_log() {
    let transport = Transport::from_config(&MailConfig {
        smtp_url: None,
        from: "Roster <noreply@localhost>".into(),
    })
    .unwrap();
    let now = Timestamp::now();
    let email = OutboxEmail {
        id: OutboxEmailId::new(),
        to: "a@example.com".into(),
        subject: "s".into(),
        text_body: "t".into(),
        html_body: "h".into(),
        invitation_id: None,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
    };
    assert!(transport.send(&email).await.is_ok());
}
