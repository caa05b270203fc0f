//! SQL for invitations. At most one invitation per org and address is open
//! (pending or sent): the partial unique index `invitations_open_email`
//! enforces it, and a second one is a `Conflict` with code
//! `invitation_exists`. The rate limits count the invitation emails of the
//! outbox, which keeps a delivered email's row (without its body).

use roster_core::error::Result;
use roster_core::ids::UserId;
use roster_core::ids::{InvitationId, OrgId};
use roster_core::model::{Invitation, InvitationFilter, InvitationStatus};
use roster_core::store::{InvitationsRead, InvitationsWrite};
use roster_core::time::Timestamp;

use super::decode::{
    corrupt, decode_assignments, encode_assignments, id, opt_id, opt_ts, org_role, ts,
};
use super::{Row, SqlTx, Value};

/// The columns `invitation` decodes, from `invitations`.
macro_rules! invitation_columns {
    () => {
        "id, org_id, email, role, message, status, project_assignments, token_hash, created_by, \
         created_at, expires_at"
    };
}

fn invitation(row: &Row) -> Result<Invitation> {
    Ok(Invitation {
        id: id(row, 0, "invitations.id")?,
        org_id: id(row, 1, "invitations.org_id")?,
        email: row.text(2)?,
        role: org_role(row, 3)?,
        message: row.text(4)?,
        status: InvitationStatus::parse(&row.text(5)?)
            .ok_or_else(|| corrupt("invitations.status", "invitation status"))?,
        project_assignments: decode_assignments(&row.text(6)?)?,
        token_hash: row.text(7)?,
        created_by: opt_id::<UserId>(row, 8, "invitations.created_by")?,
        created_at: ts(row, 9)?,
        expires_at: ts(row, 10)?,
    })
}

impl InvitationsRead for SqlTx<'_> {
    fn open_invitation(&mut self, org: OrgId, email: &str) -> Result<Option<Invitation>> {
        // The predicate matches the partial index's own WHERE clause, so
        // the lookup uses that index.
        let sql = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE org_id = $1 AND email = $2 AND status IN ('pending', 'sent')"
        );
        self.query_opt(sql, &[Value::text(org), Value::text(email)], invitation)
    }

    fn has_open_invitation(&mut self, email: &str, now: Timestamp) -> Result<bool> {
        let sql = "SELECT 1 FROM invitations WHERE email = $1 AND status IN ('pending', 'sent') \
                   AND expires_at > $2 LIMIT 1";
        let found = self.query_opt(sql, &[Value::text(email), Value::Int(now.0)], |_| Ok(()))?;
        Ok(found.is_some())
    }

    fn invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>> {
        let sql = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE id = $1"
        );
        self.query_opt(sql, &[Value::text(id)], invitation)
    }

    fn invitation_by_token_hash(&mut self, hash: &str) -> Result<Option<Invitation>> {
        let sql = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE token_hash = $1"
        );
        self.query_opt(sql, &[Value::text(hash)], invitation)
    }

    /// An org's invitations by keyset page. Expiry is judged at
    /// `filter.now`: an open invitation past its `expires_at` counts as
    /// expired, not open.
    fn list_invitations(
        &mut self,
        org: OrgId,
        filter: &InvitationFilter,
        after: Option<InvitationId>,
        limit: usize,
    ) -> Result<Vec<Invitation>> {
        let base = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE org_id = $1 AND id > $2"
        );
        let mut params = vec![Value::text(org), Value::after(after)];
        let condition = match filter.status {
            None => "",
            Some(status @ (InvitationStatus::Pending | InvitationStatus::Sent)) => {
                params.push(Value::text(status.as_str()));
                params.push(Value::Int(filter.now.0));
                " AND status = $3 AND expires_at > $4"
            }
            Some(InvitationStatus::Expired) => {
                params.push(Value::Int(filter.now.0));
                " AND (status = 'expired' OR (status IN ('pending', 'sent') AND expires_at <= $3))"
            }
            Some(other) => {
                params.push(Value::text(other.as_str()));
                " AND status = $3"
            }
        };
        params.push(Value::limit(limit));
        let sql = format!("{base}{condition} ORDER BY id LIMIT ${}", params.len());
        self.query_all(&sql, &params, invitation)
    }

    fn list_open_invitations_for_email(
        &mut self,
        email: &str,
        now: Timestamp,
        after: Option<InvitationId>,
        limit: usize,
    ) -> Result<Vec<Invitation>> {
        let sql = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE email = $1 AND status IN ('pending', 'sent') \
             AND expires_at > $2 AND id > $3 ORDER BY id LIMIT $4"
        );
        let params = [
            Value::text(email),
            Value::Int(now.0),
            Value::after(after),
            Value::limit(limit),
        ];
        self.query_all(sql, &params, invitation)
    }

    fn list_open_invitations_offset(
        &mut self,
        org: OrgId,
        now: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Invitation>> {
        let sql = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE org_id = $1 AND status IN ('pending', 'sent') \
             AND expires_at > $2 ORDER BY id LIMIT $3 OFFSET $4"
        );
        let params = [
            Value::text(org),
            Value::Int(now.0),
            Value::limit(limit),
            Value::limit(offset),
        ];
        self.query_all(sql, &params, invitation)
    }

    fn count_invitation_emails_since(&mut self, org: OrgId, since: Timestamp) -> Result<u64> {
        self.query_one(
            "SELECT COUNT(*) FROM outbox_emails o JOIN invitations i ON i.id = o.invitation_id \
             WHERE i.org_id = $1 AND o.created_at >= $2",
            &[Value::text(org), Value::Int(since.0)],
        )?
        .count(0)
    }

    /// Uses the `outbox_emails_recipient` index.
    fn count_invitation_emails_to_since(
        &mut self,
        recipient: &str,
        since: Timestamp,
    ) -> Result<(u64, Option<Timestamp>)> {
        let row = self.query_one(
            "SELECT COUNT(*), MIN(created_at) FROM outbox_emails \
             WHERE recipient = $1 AND invitation_id IS NOT NULL AND created_at >= $2",
            &[Value::text(recipient), Value::Int(since.0)],
        )?;
        Ok((row.count(0)?, opt_ts(&row, 1)?))
    }
}

impl InvitationsWrite for SqlTx<'_> {
    fn insert_invitation(&mut self, invitation: &Invitation) -> Result<()> {
        self.run(
            concat!(
                "INSERT INTO invitations (",
                invitation_columns!(),
                ", updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10)"
            ),
            &[
                Value::text(invitation.id),
                Value::text(invitation.org_id),
                Value::text(&invitation.email),
                Value::text(invitation.role.as_str()),
                Value::text(&invitation.message),
                Value::text(invitation.status.as_str()),
                Value::Text(encode_assignments(&invitation.project_assignments)),
                Value::text(&invitation.token_hash),
                Value::opt_text(invitation.created_by),
                Value::Int(invitation.created_at.0),
                Value::Int(invitation.expires_at.0),
            ],
        )
    }

    /// Rewrites everything but the id, org, creator and creation time.
    fn update_invitation(&mut self, invitation: &Invitation, at: Timestamp) -> Result<()> {
        self.run(
            "UPDATE invitations SET email = $1, role = $2, message = $3, status = $4, \
             project_assignments = $5, token_hash = $6, expires_at = $7, updated_at = $8 \
             WHERE id = $9 AND org_id = $10",
            &[
                Value::text(&invitation.email),
                Value::text(invitation.role.as_str()),
                Value::text(&invitation.message),
                Value::text(invitation.status.as_str()),
                Value::Text(encode_assignments(&invitation.project_assignments)),
                Value::text(&invitation.token_hash),
                Value::Int(invitation.expires_at.0),
                Value::Int(at.0),
                Value::text(invitation.id),
                Value::text(invitation.org_id),
            ],
        )
    }
}
