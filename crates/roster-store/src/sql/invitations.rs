//! SQL for invitations. At most one invitation per org and address is open
//! (pending or sent): the partial unique index `invitations_open_email`
//! enforces it, and a second one is a `Conflict` with code
//! `invitation_exists`.

use roster_core::error::Result;
use roster_core::ids::OrgId;
use roster_core::model::Invitation;
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
