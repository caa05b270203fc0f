//! SQL for the persistent mail outbox. A worker claims an email by pushing
//! its `next_attempt_at` forward by a lease in one conditional UPDATE, so
//! two workers never hold the same email.

use roster_core::error::Result;
use roster_core::ids::OutboxEmailId;
use roster_core::model::OutboxEmail;
use roster_core::store::{OutboxRead, OutboxWrite};
use roster_core::time::Timestamp;

use super::decode::{id, opt_id, opt_ts, ts};
use super::{Row, SqlTx, Value};

/// The columns `outbox_email` decodes, from `outbox_emails`.
macro_rules! outbox_email_columns {
    () => {
        "id, recipient, subject, text_body, html_body, invitation_id, attempts, \
         next_attempt_at, last_error, created_at, sent_at"
    };
}

fn outbox_email(row: &Row) -> Result<OutboxEmail> {
    Ok(OutboxEmail {
        id: id(row, 0, "outbox_emails.id")?,
        to: row.text(1)?,
        subject: row.text(2)?,
        text_body: row.text(3)?,
        html_body: row.text(4)?,
        invitation_id: opt_id(row, 5, "outbox_emails.invitation_id")?,
        attempts: u32::try_from(row.int(6)?).unwrap_or(u32::MAX),
        next_attempt_at: ts(row, 7)?,
        last_error: row.opt_text(8)?,
        created_at: ts(row, 9)?,
        sent_at: opt_ts(row, 10)?,
    })
}

impl OutboxRead for SqlTx<'_> {
    fn due_outbox_emails(&mut self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEmail>> {
        self.query_all(
            concat!(
                "SELECT ",
                outbox_email_columns!(),
                " FROM outbox_emails WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                 ORDER BY next_attempt_at, id LIMIT $2"
            ),
            &[Value::Int(now.0), Value::limit(limit)],
            outbox_email,
        )
    }

    fn outbox_backlog(&mut self) -> Result<u64> {
        self.query_one(
            "SELECT COUNT(*) FROM outbox_emails WHERE sent_at IS NULL",
            &[],
        )?
        .count(0)
    }

    fn oldest_undelivered_outbox_email(&mut self) -> Result<Option<Timestamp>> {
        let row = self.query_one(
            "SELECT MIN(created_at) FROM outbox_emails WHERE sent_at IS NULL",
            &[],
        )?;
        opt_ts(&row, 0)
    }

    fn list_outbox_emails(&mut self, to: Option<&str>, limit: usize) -> Result<Vec<OutboxEmail>> {
        match to {
            Some(to) => self.query_all(
                concat!(
                    "SELECT ",
                    outbox_email_columns!(),
                    " FROM outbox_emails WHERE recipient = $1 ORDER BY id DESC LIMIT $2"
                ),
                &[Value::text(to), Value::limit(limit)],
                outbox_email,
            ),
            None => self.query_all(
                concat!(
                    "SELECT ",
                    outbox_email_columns!(),
                    " FROM outbox_emails ORDER BY id DESC LIMIT $1"
                ),
                &[Value::limit(limit)],
                outbox_email,
            ),
        }
    }
}

impl OutboxWrite for SqlTx<'_> {
    fn insert_outbox_email(&mut self, email: &OutboxEmail) -> Result<()> {
        self.run(
            concat!(
                "INSERT INTO outbox_emails (",
                outbox_email_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ),
            &[
                Value::text(email.id),
                Value::text(&email.to),
                Value::text(&email.subject),
                Value::text(&email.text_body),
                Value::text(&email.html_body),
                Value::opt_text(email.invitation_id),
                Value::Int(i64::from(email.attempts)),
                Value::Int(email.next_attempt_at.0),
                Value::opt_text(email.last_error.as_deref()),
                Value::Int(email.created_at.0),
                Value::opt_int(email.sent_at.map(|t| t.0)),
            ],
        )
    }

    fn claim_outbox_email(
        &mut self,
        id: OutboxEmailId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool> {
        self.changed(
            "UPDATE outbox_emails SET next_attempt_at = $1 \
             WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
            &[
                Value::Int(lease_until.0),
                Value::text(id),
                Value::Int(now.0),
            ],
        )
    }

    fn mark_outbox_email_sent(&mut self, id: OutboxEmailId, at: Timestamp) -> Result<()> {
        let params = [Value::Int(at.0), Value::text(id)];
        // A delivered email's body holds a live secret (an invitation,
        // verification or reset link) that only the recipient should have:
        // the row keeps who, what and when, and forgets the body.
        self.run(
            "UPDATE outbox_emails SET sent_at = $1, attempts = attempts + 1, last_error = NULL, \
             text_body = '', html_body = '' \
             WHERE id = $2 AND sent_at IS NULL",
            &params,
        )?;
        // The invitation this email carried has now been sent (if nothing
        // else happened to it meanwhile).
        self.run(
            "UPDATE invitations SET status = 'sent', updated_at = $1 WHERE status = 'pending' \
             AND id = (SELECT invitation_id FROM outbox_emails WHERE id = $2)",
            &params,
        )
    }

    fn mark_outbox_email_failed(
        &mut self,
        id: OutboxEmailId,
        attempts: u32,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        let error: String = error.chars().take(1000).collect();
        self.run(
            "UPDATE outbox_emails SET attempts = $1, next_attempt_at = $2, last_error = $3 \
             WHERE id = $4 AND sent_at IS NULL",
            &[
                Value::Int(i64::from(attempts)),
                Value::Int(next_attempt_at.0),
                Value::Text(error),
                Value::text(id),
            ],
        )
    }
}
