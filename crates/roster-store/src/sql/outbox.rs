//! SQL for the persistent mail outbox. A worker claims an email by pushing
//! its `next_attempt_at` forward by a lease in one conditional UPDATE, so
//! two workers never hold the same email.

use roster_core::error::Result;
use roster_core::ids::OutboxEmailId;
use roster_core::model::OutboxEmail;
use roster_core::store::{OutboxRead, OutboxWrite};
use roster_core::time::Timestamp;

use super::decode::{decode, insert_into, params, select};
use super::{Row, SqlTx, Value};

/// The columns `outbox_email` decodes, from `outbox_emails`.
macro_rules! outbox_email_columns {
    () => {
        "id, recipient, subject, text_body, html_body, invitation_id, attempts, \
         next_attempt_at, last_error, created_at, sent_at"
    };
}

fn outbox_email(row: &Row) -> Result<OutboxEmail> {
    decode! { row, 0, OutboxEmail {
        id, to, subject, text_body, html_body, invitation_id, attempts, next_attempt_at,
        last_error, created_at, sent_at,
    } }
}

impl OutboxRead for SqlTx<'_> {
    fn due_outbox_emails(&mut self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEmail>> {
        self.query_all(
            select!(
                outbox_email_columns!(),
                " FROM outbox_emails WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                 ORDER BY next_attempt_at, id LIMIT $2"
            ),
            &params! { now, Value::limit(limit) },
            outbox_email,
        )
    }

    fn outbox_backlog(&mut self) -> Result<u64> {
        let sql = "SELECT COUNT(*) FROM outbox_emails WHERE sent_at IS NULL";
        self.query_one(sql, &[])?.count(0)
    }

    fn oldest_undelivered_outbox_email(&mut self) -> Result<Option<Timestamp>> {
        let sql = "SELECT MIN(created_at) FROM outbox_emails WHERE sent_at IS NULL";
        self.query_one(sql, &[])?.get(0)
    }

    fn list_outbox_emails(&mut self, to: Option<&str>, limit: usize) -> Result<Vec<OutboxEmail>> {
        match to {
            Some(to) => self.query_all(
                select!(
                    outbox_email_columns!(),
                    " FROM outbox_emails WHERE recipient = $1 ORDER BY id DESC LIMIT $2"
                ),
                &params! { to, Value::limit(limit) },
                outbox_email,
            ),
            None => self.query_all(
                select!(
                    outbox_email_columns!(),
                    " FROM outbox_emails ORDER BY id DESC LIMIT $1"
                ),
                &params! { Value::limit(limit) },
                outbox_email,
            ),
        }
    }
}

impl OutboxWrite for SqlTx<'_> {
    fn insert_outbox_email(&mut self, email: &OutboxEmail) -> Result<()> {
        let sql = insert_into!(
            "outbox_emails",
            outbox_email_columns!(),
            "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11"
        );
        let e = email;
        let params = params! {
            e.id, &e.to, &e.subject, &e.text_body, &e.html_body, e.invitation_id, e.attempts,
            e.next_attempt_at, e.last_error.as_deref(), e.created_at, e.sent_at,
        };
        self.run(sql, &params)
    }

    fn claim_outbox_email(
        &mut self,
        id: OutboxEmailId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool> {
        let sql = "UPDATE outbox_emails SET next_attempt_at = $1 \
                   WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3";
        self.changed(sql, &params! { lease_until, id, now })
    }

    fn mark_outbox_email_sent(&mut self, id: OutboxEmailId, at: Timestamp) -> Result<()> {
        let params = params! { at, id };
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
        let sql = "UPDATE outbox_emails SET attempts = $1, next_attempt_at = $2, last_error = $3 \
                   WHERE id = $4 AND sent_at IS NULL";
        self.run(sql, &params! { attempts, next_attempt_at, error, id })
    }
}
