//! SQL for invitations. At most one invitation per org and address is open
//! (pending or sent): the partial unique index `invitations_open_email`
//! enforces it, and a second one is a `Conflict` with code
//! `invitation_exists`. The rate limits count the invitation emails of the
//! outbox, which keeps a delivered email's row (without its body).

use roster_core::error::Result;
use roster_core::ids::{InvitationId, OrgId};
use roster_core::model::{Invitation, InvitationFilter, InvitationStatus};
use roster_core::store::{InvitationsRead, InvitationsWrite};
use roster_core::time::Timestamp;

use super::decode::{decode, encode_assignments, insert_into, params};
use super::{Row, SqlTx, Value};

/// The columns `invitation` decodes, from `invitations`.
macro_rules! invitation_columns {
    () => {
        "id, org_id, email, role, message, status, project_assignments, token_hash, created_by, \
         created_at, expires_at"
    };
}

fn invitation(row: &Row) -> Result<Invitation> {
    decode! { row, 0, Invitation {
        id, org_id, email, role, message, status, project_assignments, token_hash, created_by,
        created_at, expires_at,
    } }
}

/// The invitations matching the condition `$where_`.
macro_rules! select_invitations {
    ($where_:literal) => {
        concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE ",
            $where_
        )
    };
}

impl InvitationsRead for SqlTx<'_> {
    fn open_invitation(&mut self, org: OrgId, email: &str) -> Result<Option<Invitation>> {
        // The predicate matches the partial index's own WHERE clause, so
        // the lookup uses that index.
        let sql =
            select_invitations!("org_id = $1 AND email = $2 AND status IN ('pending', 'sent')");
        self.query_opt(sql, &params! { org, email }, invitation)
    }

    fn has_open_invitation(&mut self, email: &str, now: Timestamp) -> Result<bool> {
        let sql = "SELECT 1 FROM invitations WHERE email = $1 AND status IN ('pending', 'sent') \
                   AND expires_at > $2 LIMIT 1";
        Ok(self
            .query_opt(sql, &params! { email, now }, |_| Ok(()))?
            .is_some())
    }

    fn invitation(&mut self, id: InvitationId) -> Result<Option<Invitation>> {
        self.query_opt(select_invitations!("id = $1"), &params! { id }, invitation)
    }

    fn invitation_by_token_hash(&mut self, hash: &str) -> Result<Option<Invitation>> {
        let sql = select_invitations!("token_hash = $1");
        self.query_opt(sql, &params! { hash }, invitation)
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
        let base = select_invitations!("org_id = $1 AND id > $2");
        let mut params = vec![org.into(), Value::after(after)];
        let condition = match filter.status {
            None => "",
            Some(status @ (InvitationStatus::Pending | InvitationStatus::Sent)) => {
                params.extend(params! { status, filter.now });
                " AND status = $3 AND expires_at > $4"
            }
            Some(InvitationStatus::Expired) => {
                params.push(filter.now.into());
                " AND (status = 'expired' OR (status IN ('pending', 'sent') AND expires_at <= $3))"
            }
            Some(other) => {
                params.push(other.into());
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
        let sql = select_invitations!(
            "email = $1 AND status IN ('pending', 'sent') AND expires_at > $2 AND id > $3 \
             ORDER BY id LIMIT $4"
        );
        let params = params! { email, now, Value::after(after), Value::limit(limit) };
        self.query_all(sql, &params, invitation)
    }

    fn list_open_invitations_offset(
        &mut self,
        org: OrgId,
        now: Timestamp,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Invitation>> {
        let sql = select_invitations!(
            "org_id = $1 AND status IN ('pending', 'sent') AND expires_at > $2 \
             ORDER BY id LIMIT $3 OFFSET $4"
        );
        let params = params! { org, now, Value::limit(limit), Value::limit(offset) };
        self.query_all(sql, &params, invitation)
    }

    fn count_invitation_emails_since(&mut self, org: OrgId, since: Timestamp) -> Result<u64> {
        let sql = "SELECT COUNT(*) FROM outbox_emails o JOIN invitations i \
                   ON i.id = o.invitation_id WHERE i.org_id = $1 AND o.created_at >= $2";
        self.query_one(sql, &params! { org, since })?.count(0)
    }

    /// Uses the `outbox_emails_recipient` index.
    fn count_invitation_emails_to_since(
        &mut self,
        recipient: &str,
        since: Timestamp,
    ) -> Result<(u64, Option<Timestamp>)> {
        let sql = "SELECT COUNT(*), MIN(created_at) FROM outbox_emails \
                   WHERE recipient = $1 AND invitation_id IS NOT NULL AND created_at >= $2";
        let row = self.query_one(sql, &params! { recipient, since })?;
        Ok((row.count(0)?, row.get(1)?))
    }
}

impl InvitationsWrite for SqlTx<'_> {
    fn insert_invitation(&mut self, invitation: &Invitation) -> Result<()> {
        let sql = insert_into!(
            "invitations",
            concat!(invitation_columns!(), ", updated_at"),
            "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10"
        );
        let i = invitation;
        let params = params! {
            i.id, i.org_id, &i.email, i.role, &i.message, i.status,
            encode_assignments(&i.project_assignments), &i.token_hash, i.created_by, i.created_at,
            i.expires_at,
        };
        self.run(sql, &params)
    }

    /// Rewrites everything but the id, org, creator and creation time.
    fn update_invitation(&mut self, invitation: &Invitation, at: Timestamp) -> Result<()> {
        let sql = "UPDATE invitations SET email = $1, role = $2, message = $3, status = $4, \
                   project_assignments = $5, token_hash = $6, expires_at = $7, updated_at = $8 \
                   WHERE id = $9 AND org_id = $10";
        let i = invitation;
        let params = params! {
            &i.email, i.role, &i.message, i.status, encode_assignments(&i.project_assignments),
            &i.token_hash, i.expires_at, at, i.id, i.org_id,
        };
        self.run(sql, &params)
    }
}
