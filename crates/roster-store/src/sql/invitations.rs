//! SQL for invitations. At most one invitation per org and address is open
//! (pending or sent): the partial unique index `invitations_open_email`
//! enforces it, and a second one is a `Conflict` with code
//! `invitation_exists`.

use roster_core::error::Result;
use roster_core::ids::{InvitationId, OrgId};
use roster_core::model::{Invitation, InvitationFilter, InvitationStatus};
use roster_core::time::Timestamp;

use super::decode::{self, invitation_cols};
use super::{SqlTx, Value};

pub fn open_invitation(tx: &mut SqlTx, org: OrgId, email: &str) -> Result<Option<Invitation>> {
    // The predicate matches the partial index's own WHERE clause, so the
    // lookup uses that index.
    let sql = concat!(
        "SELECT ",
        invitation_cols!(),
        " FROM invitations WHERE org_id = $1 AND email = $2 AND status IN ('pending', 'sent')"
    );
    let row = tx.query_opt(sql, &[Value::text(org), Value::text(email)])?;
    row.map(|row| decode::invitation(&row)).transpose()
}

/// Any open invitation of this address, to any org, still valid at `now`.
pub fn has_open_invitation(tx: &mut SqlTx, email: &str, now: Timestamp) -> Result<bool> {
    let row = tx.query_opt(
        "SELECT 1 FROM invitations WHERE email = $1 AND status IN ('pending', 'sent') \
         AND expires_at > $2 LIMIT 1",
        &[Value::text(email), Value::Int(now.0)],
    )?;
    Ok(row.is_some())
}

pub fn insert_invitation(tx: &mut SqlTx, invitation: &Invitation) -> Result<()> {
    tx.execute(
        concat!(
            "INSERT INTO invitations (",
            invitation_cols!(),
            ", updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10)"
        ),
        &[
            Value::text(invitation.id),
            Value::text(invitation.org_id),
            Value::text(&invitation.email),
            Value::text(invitation.role.as_str()),
            Value::text(&invitation.message),
            Value::text(invitation.status.as_str()),
            Value::Text(decode::encode_assignments(&invitation.project_assignments)),
            Value::text(&invitation.token_hash),
            Value::opt_text(invitation.created_by),
            Value::Int(invitation.created_at.0),
            Value::Int(invitation.expires_at.0),
        ],
    )?;
    Ok(())
}

/// Rewrites everything but the id, org, creator and creation time. The
/// record carries no `updated_at`, so that column is the store's clock.
pub fn update_invitation(tx: &mut SqlTx, invitation: &Invitation) -> Result<()> {
    tx.execute(
        "UPDATE invitations SET email = $3, role = $4, message = $5, status = $6, \
         project_assignments = $7, token_hash = $8, expires_at = $9, updated_at = $10 \
         WHERE id = $1 AND org_id = $2",
        &[
            Value::text(invitation.id),
            Value::text(invitation.org_id),
            Value::text(&invitation.email),
            Value::text(invitation.role.as_str()),
            Value::text(&invitation.message),
            Value::text(invitation.status.as_str()),
            Value::Text(decode::encode_assignments(&invitation.project_assignments)),
            Value::text(&invitation.token_hash),
            Value::Int(invitation.expires_at.0),
            Value::Int(Timestamp::now().0),
        ],
    )?;
    Ok(())
}

pub fn invitation(tx: &mut SqlTx, id: InvitationId) -> Result<Option<Invitation>> {
    let sql = concat!(
        "SELECT ",
        invitation_cols!(),
        " FROM invitations WHERE id = $1"
    );
    let row = tx.query_opt(sql, &[Value::text(id)])?;
    row.map(|row| decode::invitation(&row)).transpose()
}

pub fn invitation_by_token_hash(tx: &mut SqlTx, hash: &str) -> Result<Option<Invitation>> {
    let sql = concat!(
        "SELECT ",
        invitation_cols!(),
        " FROM invitations WHERE token_hash = $1"
    );
    let row = tx.query_opt(sql, &[Value::text(hash)])?;
    row.map(|row| decode::invitation(&row)).transpose()
}

/// An org's invitations by keyset page. Expiry is judged at `filter.now`:
/// an open invitation past its `expires_at` counts as expired, not open.
pub fn list_invitations(
    tx: &mut SqlTx,
    org: OrgId,
    filter: &InvitationFilter,
    after: Option<InvitationId>,
    limit: usize,
) -> Result<Vec<Invitation>> {
    let base = concat!(
        "SELECT ",
        invitation_cols!(),
        " FROM invitations WHERE org_id = $1 AND id > $2"
    );
    let mut params = vec![Value::text(org), Value::after(after), Value::limit(limit)];
    let condition = match filter.status {
        None => "",
        Some(InvitationStatus::Pending | InvitationStatus::Sent) => {
            params.push(Value::text(
                filter.status.map(|s| s.as_str()).unwrap_or_default(),
            ));
            params.push(Value::Int(filter.now.0));
            " AND status = $4 AND expires_at > $5"
        }
        Some(InvitationStatus::Expired) => {
            params.push(Value::Int(filter.now.0));
            " AND (status = 'expired' OR (status IN ('pending', 'sent') AND expires_at <= $4))"
        }
        Some(other) => {
            params.push(Value::text(other.as_str()));
            " AND status = $4"
        }
    };
    let sql = format!("{base}{condition} ORDER BY id LIMIT $3");
    let rows = tx.query(&sql, &params)?;
    rows.iter().map(decode::invitation).collect()
}

pub fn list_open_invitations_for_email(
    tx: &mut SqlTx,
    email: &str,
    now: Timestamp,
    after: Option<InvitationId>,
    limit: usize,
) -> Result<Vec<Invitation>> {
    let sql = concat!(
        "SELECT ",
        invitation_cols!(),
        " FROM invitations WHERE email = $1 AND status IN ('pending', 'sent') \
         AND expires_at > $2 AND id > $3 ORDER BY id LIMIT $4"
    );
    let rows = tx.query(
        sql,
        &[
            Value::text(email),
            Value::Int(now.0),
            Value::after(after),
            Value::limit(limit),
        ],
    )?;
    rows.iter().map(decode::invitation).collect()
}

pub fn count_invitation_emails_since(tx: &mut SqlTx, org: OrgId, since: Timestamp) -> Result<u64> {
    let row = tx.query_one(
        "SELECT COUNT(*) FROM outbox_emails o JOIN invitations i ON i.id = o.invitation_id \
         WHERE i.org_id = $1 AND o.created_at >= $2",
        &[Value::text(org), Value::Int(since.0)],
    )?;
    Ok(u64::try_from(row.int(0)?).unwrap_or(0))
}

/// Uses the `outbox_emails_recipient` index; a delivered email keeps its
/// row (without its body), so the count survives delivery.
pub fn count_invitation_emails_to_since(
    tx: &mut SqlTx,
    recipient: &str,
    since: Timestamp,
) -> Result<(u64, Option<Timestamp>)> {
    let row = tx.query_one(
        "SELECT COUNT(*), MIN(created_at) FROM outbox_emails \
         WHERE recipient = $1 AND invitation_id IS NOT NULL AND created_at >= $2",
        &[Value::text(recipient), Value::Int(since.0)],
    )?;
    Ok((
        u64::try_from(row.int(0)?).unwrap_or(0),
        decode::opt_ts(&row, 1)?,
    ))
}

pub fn list_open_invitations_offset(
    tx: &mut SqlTx,
    org: OrgId,
    now: Timestamp,
    offset: usize,
    limit: usize,
) -> Result<Vec<Invitation>> {
    let sql = concat!(
        "SELECT ",
        invitation_cols!(),
        " FROM invitations WHERE org_id = $1 AND status IN ('pending', 'sent') \
         AND expires_at > $2 ORDER BY id LIMIT $3 OFFSET $4"
    );
    let rows = tx.query(
        sql,
        &[
            Value::text(org),
            Value::Int(now.0),
            Value::limit(limit),
            Value::limit(offset),
        ],
    )?;
    rows.iter().map(decode::invitation).collect()
}
