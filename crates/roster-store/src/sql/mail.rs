//! SQL for email-verification tokens and the persistent outbox. A worker
//! claims an email by pushing its `next_attempt_at` forward by a lease in
//! one conditional UPDATE, so two workers never hold the same email.

use roster_core::error::Result;
use roster_core::ids::OutboxEmailId;
use roster_core::model::{EmailVerification, OutboxEmail};
use roster_core::time::Timestamp;

use super::decode::{id, opt_id, opt_ts, ts};
use super::{Row, SqlTx, Value};

pub fn insert_email_verification(
    tx: &mut SqlTx,
    hash: &str,
    verification: &EmailVerification,
    at: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO email_verifications (hash, user_id, email, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            Value::text(hash),
            Value::text(verification.user_id),
            Value::text(&verification.email),
            Value::Int(at.0),
            Value::Int(verification.expires_at.0),
            Value::opt_int(verification.used_at.map(|t| t.0)),
        ],
    )?;
    Ok(())
}

pub fn email_verification(tx: &mut SqlTx, hash: &str) -> Result<Option<EmailVerification>> {
    let row = tx.query_opt(
        "SELECT user_id, email, expires_at, used_at FROM email_verifications WHERE hash = $1",
        &[Value::text(hash)],
    )?;
    row.map(|row| {
        Ok(EmailVerification {
            user_id: id(&row, 0, "email_verifications.user_id")?,
            email: row.text(1)?,
            expires_at: ts(&row, 2)?,
            used_at: opt_ts(&row, 3)?,
        })
    })
    .transpose()
}

pub fn use_email_verification(tx: &mut SqlTx, hash: &str, at: Timestamp) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE email_verifications SET used_at = $2 WHERE hash = $1 AND used_at IS NULL",
        &[Value::text(hash), Value::Int(at.0)],
    )?;
    Ok(changed > 0)
}

macro_rules! outbox_cols {
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

pub fn insert_outbox_email(tx: &mut SqlTx, email: &OutboxEmail) -> Result<()> {
    tx.execute(
        concat!(
            "INSERT INTO outbox_emails (",
            outbox_cols!(),
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
    )?;
    Ok(())
}

pub fn due_outbox_emails(tx: &mut SqlTx, now: Timestamp, limit: usize) -> Result<Vec<OutboxEmail>> {
    let rows = tx.query(
        concat!(
            "SELECT ",
            outbox_cols!(),
            " FROM outbox_emails WHERE sent_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2"
        ),
        &[Value::Int(now.0), Value::limit(limit)],
    )?;
    rows.iter().map(outbox_email).collect()
}

pub fn claim_outbox_email(
    tx: &mut SqlTx,
    email: OutboxEmailId,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE outbox_emails SET next_attempt_at = $3 \
         WHERE id = $1 AND sent_at IS NULL AND next_attempt_at <= $2",
        &[
            Value::text(email),
            Value::Int(now.0),
            Value::Int(lease_until.0),
        ],
    )?;
    Ok(changed > 0)
}

pub fn mark_outbox_email_sent(tx: &mut SqlTx, email: OutboxEmailId, at: Timestamp) -> Result<()> {
    // A delivered email's body holds a live secret (an invitation,
    // verification or reset link) that only the recipient should have:
    // the row keeps who, what and when, and forgets the body.
    tx.execute(
        "UPDATE outbox_emails SET sent_at = $2, attempts = attempts + 1, last_error = NULL, \
         text_body = '', html_body = '' \
         WHERE id = $1 AND sent_at IS NULL",
        &[Value::text(email), Value::Int(at.0)],
    )?;
    // The invitation this email carried has now been sent (if nothing
    // else happened to it meanwhile).
    tx.execute(
        "UPDATE invitations SET status = 'sent', updated_at = $2 \
         WHERE status = 'pending' AND id = (SELECT invitation_id FROM outbox_emails WHERE id = $1)",
        &[Value::text(email), Value::Int(at.0)],
    )?;
    Ok(())
}

pub fn mark_outbox_email_failed(
    tx: &mut SqlTx,
    email: OutboxEmailId,
    attempts: u32,
    next_attempt_at: Timestamp,
    error: &str,
) -> Result<()> {
    let error: String = error.chars().take(1000).collect();
    tx.execute(
        "UPDATE outbox_emails SET attempts = $2, next_attempt_at = $3, last_error = $4 \
         WHERE id = $1 AND sent_at IS NULL",
        &[
            Value::text(email),
            Value::Int(i64::from(attempts)),
            Value::Int(next_attempt_at.0),
            Value::text(error),
        ],
    )?;
    Ok(())
}

pub fn outbox_backlog(tx: &mut SqlTx) -> Result<u64> {
    let row = tx.query_one(
        "SELECT COUNT(*) FROM outbox_emails WHERE sent_at IS NULL",
        &[],
    )?;
    Ok(u64::try_from(row.int(0)?).unwrap_or(0))
}

pub fn oldest_undelivered_outbox_email(tx: &mut SqlTx) -> Result<Option<Timestamp>> {
    let row = tx.query_one(
        "SELECT MIN(created_at) FROM outbox_emails WHERE sent_at IS NULL",
        &[],
    )?;
    opt_ts(&row, 0)
}

pub fn list_outbox_emails(
    tx: &mut SqlTx,
    to: Option<&str>,
    limit: usize,
) -> Result<Vec<OutboxEmail>> {
    let rows = match to {
        Some(to) => tx.query(
            concat!(
                "SELECT ",
                outbox_cols!(),
                " FROM outbox_emails WHERE recipient = $1 ORDER BY id DESC LIMIT $2"
            ),
            &[Value::text(to), Value::limit(limit)],
        )?,
        None => tx.query(
            concat!(
                "SELECT ",
                outbox_cols!(),
                " FROM outbox_emails ORDER BY id DESC LIMIT $1"
            ),
            &[Value::limit(limit)],
        )?,
    };
    rows.iter().map(outbox_email).collect()
}
