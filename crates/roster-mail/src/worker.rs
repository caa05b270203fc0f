//! The outbox worker: takes due emails, claims each for a lease, sends it,
//! and records the delivery or schedules a retry with exponential backoff.
//! A restart or an unreachable server delays mail and never loses it; an
//! email whose delivery was recorded is never sent again. (A crash between
//! the send and its record can resend that one email once the lease ends:
//! delivery is at least once, the only promise SMTP allows.)

use std::sync::Arc;
use std::time::Duration;

use roster_core::model::OutboxEmail;
use roster_core::store::{self, Store};
use roster_core::time::Timestamp;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::transport::Transport;

/// Timing of polls, retries and leases.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// How often to look for due mail when nobody wakes the worker.
    pub poll_interval: Duration,
    /// The delay after the first failure; it doubles with each one.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// How long a claimed email is held before another worker may take it.
    pub lease: Duration,
    /// How many due emails to take per round.
    pub batch: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            lease: Duration::from_secs(60),
            batch: 20,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt number `attempts + 1`.
    pub fn delay_after(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(30));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Wakes the worker, e.g. right after a request queued an email.
#[derive(Clone)]
pub struct MailWaker(Arc<Notify>);

impl MailWaker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// A running worker.
pub struct WorkerHandle {
    waker: MailWaker,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    pub fn waker(&self) -> MailWaker {
        self.waker.clone()
    }

    /// Stops after the email in flight, if any.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts a worker on the current Tokio runtime.
pub fn spawn_worker(
    store: Arc<dyn Store>,
    transport: Transport,
    policy: RetryPolicy,
) -> WorkerHandle {
    let notify = Arc::new(Notify::new());
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run(store, transport, policy, notify.clone(), stopped));
    WorkerHandle {
        waker: MailWaker(notify),
        stop,
        task,
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

async fn run(
    store: Arc<dyn Store>,
    transport: Transport,
    policy: RetryPolicy,
    notify: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    tracing::info!(transport = %transport.describe(), "mail worker started");
    loop {
        if *stopped.borrow() {
            break;
        }
        let delivered = match deliver_due(&store, &transport, &policy, &stopped).await {
            Ok(count) => count,
            Err(error) => {
                tracing::warn!(%error, "mail worker could not read the outbox; retrying");
                0
            }
        };
        if delivered >= policy.batch {
            continue; // more may be due
        }
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep(policy.poll_interval) => {}
            _ = stopped.changed() => {}
        }
    }
    tracing::info!("mail worker stopped");
}

/// One round: answers how many emails it took.
async fn deliver_due(
    store: &Arc<dyn Store>,
    transport: &Transport,
    policy: &RetryPolicy,
    stopped: &watch::Receiver<bool>,
) -> Result<usize, String> {
    let batch = policy.batch;
    let due = blocking(store, move |store| {
        store::read(store, |tx| tx.due_outbox_emails(Timestamp::now(), batch))
    })
    .await?;
    let taken = due.len();
    for email in due {
        if *stopped.borrow() {
            break;
        }
        let lease = millis(policy.lease);
        let id = email.id;
        let claimed = blocking(store, move |store| {
            let now = Timestamp::now();
            store::write(store, |tx| {
                tx.claim_outbox_email(id, now, Timestamp(now.0.saturating_add(lease)))
            })
        })
        .await?;
        if claimed {
            deliver(store, transport, policy, email).await?;
        }
    }
    Ok(taken)
}

async fn deliver(
    store: &Arc<dyn Store>,
    transport: &Transport,
    policy: &RetryPolicy,
    email: OutboxEmail,
) -> Result<(), String> {
    let id = email.id;
    match transport.send(&email).await {
        Ok(()) => {
            blocking(store, move |store| {
                store::write(store, |tx| tx.mark_outbox_email_sent(id, Timestamp::now()))
            })
            .await?;
            tracing::info!(email_id = %id, to = %email.to, "email delivered");
        }
        Err(error) => {
            let attempts = email.attempts.saturating_add(1);
            let delay = millis(policy.delay_after(attempts));
            tracing::warn!(email_id = %id, to = %email.to, attempts, retry_in_ms = delay, %error, "email delivery failed");
            blocking(store, move |store| {
                let next = Timestamp(Timestamp::now().0.saturating_add(delay));
                store::write(store, |tx| {
                    tx.mark_outbox_email_failed(id, attempts, next, &error)
                })
            })
            .await?;
        }
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    store: &Arc<dyn Store>,
    f: impl FnOnce(&dyn Store) -> roster_core::Result<T> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&*store))
        .await
        .map_err(|e| format!("worker thread failed: {e}"))?
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_maximum() {
        let policy = RetryPolicy {
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.delay_after(1), Duration::from_secs(5));
        assert_eq!(policy.delay_after(2), Duration::from_secs(10));
        assert_eq!(policy.delay_after(4), Duration::from_secs(40));
        assert_eq!(policy.delay_after(5), Duration::from_secs(60));
        assert_eq!(policy.delay_after(1000), Duration::from_secs(60));
    }
}
