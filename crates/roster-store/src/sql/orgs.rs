//! SQL for organizations and their memberships, including the member list
//! (keyset pagination on the user id, optional role filter and search).

use roster_core::error::{DomainError, Result};
use roster_core::ids::{OrgId, UserId};
use roster_core::model::{Member, MemberFilter, Membership, Org};
use roster_core::role::OrgRole;
use roster_core::store::{OrgsRead, OrgsWrite};

use super::accounts::{self, user_columns, USER_WIDTH};
use super::decode::{decode, encode_labels, insert_into, params, select};
use super::{contains_pattern, dialect, Access, Row, SqlTx, Value};

/// The columns `org` decodes, from `orgs o`.
macro_rules! org_columns {
    () => {
        "o.id, o.name, o.description, o.referral_code, o.status, o.created_at, o.updated_at"
    };
}
pub(crate) use org_columns;

/// How many columns `org_columns!` names.
const ORG_WIDTH: usize = 7;

/// An org from `org_columns!()` starting at column 0.
fn org(row: &Row) -> Result<Org> {
    decode! { row, 0, Org { id, name, description, referral_code, status, created_at, updated_at } }
}

/// The columns `membership` decodes, from `memberships`.
macro_rules! membership_columns {
    () => {
        "org_id, user_id, role, labels, created_at"
    };
}

fn membership(row: &Row) -> Result<Membership> {
    decode! { row, 0, Membership { org_id, user_id, role, labels, created_at } }
}

/// The columns `member` decodes, from `memberships m JOIN users u`: the
/// user, then the membership.
macro_rules! member_columns {
    () => {
        concat!(user_columns!(), ", m.role, m.labels, m.created_at")
    };
}
pub(crate) use member_columns;

fn member(row: &Row) -> Result<Member> {
    let mut membership = row.columns(USER_WIDTH);
    Ok(Member {
        user: accounts::user(row, 0)?,
        role: membership.next()?,
        labels: membership.next()?,
        joined_at: membership.next()?,
    })
}

const MEMBERS_FROM: &str = " FROM memberships m JOIN users u ON u.id = m.user_id ";

/// A search matching at most this many users (in any org) is answered
/// from the search index (migration 0005): the matches, joined to the
/// org's memberships and sorted. One matching more — a common fragment
/// such as the mail domain — walks the member list instead, where a page
/// fills after a few rows.
const INDEXED_SEARCH_MAX: i64 = 1_000;

/// The lowercased search text when the index can answer it: at least three
/// characters (one trigram) and no LIKE wildcard or escape, which SQLite's
/// trigram index cannot take with an ESCAPE clause.
fn indexed_needle(filter: &MemberFilter) -> Option<String> {
    let needle = filter.query.as_deref()?.to_lowercase();
    let plain = !needle.contains(['%', '_', '\\']);
    (plain && needle.chars().count() >= 3).then_some(needle)
}

/// Appends `AND <condition> $n` for the next parameter `value`.
fn push_condition(sql: &mut String, params: &mut Vec<Value>, condition: &str, value: Value) {
    params.push(value);
    sql.push_str(&format!(" AND {condition} ${}", params.len()));
}

fn push_member_filter(sql: &mut String, params: &mut Vec<Value>, filter: &MemberFilter) {
    if let Some(role) = filter.role {
        push_condition(sql, params, "m.role =", role.into());
    }
    if let Some(query) = filter.query.as_deref().filter(|q| !q.is_empty()) {
        // Lowercased again so both backends match alike: SQLite's LIKE
        // ignores ASCII case, PostgreSQL's does not; `search` is lowercase.
        params.push(Value::Text(contains_pattern(&query.to_lowercase())));
        sql.push_str(&format!(" AND u.search LIKE ${} ESCAPE '\\'", params.len()));
    }
}

/// Ends a member query: user-id order (`order_by`, the column of the
/// index the query walks), then `LIMIT` (and `OFFSET`).
fn push_page(
    sql: &mut String,
    params: &mut Vec<Value>,
    order_by: &str,
    limit: usize,
    offset: Option<usize>,
) {
    params.push(Value::limit(limit));
    sql.push_str(&format!(" ORDER BY {order_by} LIMIT ${}", params.len()));
    if let Some(offset) = offset {
        params.push(Value::limit(offset));
        sql.push_str(&format!(" OFFSET ${}", params.len()));
    }
}

impl SqlTx<'_> {
    /// `list_members` for a selective search, driven by the search index:
    /// the matching users first, then their memberships of `org`.
    fn list_members_by_search(
        &mut self,
        org: OrgId,
        role: Option<OrgRole>,
        pattern: String,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>> {
        let mut sql = String::from(dialect::members_by_search(self.backend()));
        let mut params = vec![org.into(), Value::after(after), pattern.into()];
        if let Some(role) = role {
            push_condition(&mut sql, &mut params, "m.role =", role.into());
        }
        push_page(&mut sql, &mut params, "u.id", limit, None);
        self.query_all(&sql, &params, member)
    }
}

impl OrgsRead for SqlTx<'_> {
    fn lock_org(&mut self, id: OrgId) -> Result<Option<Org>> {
        if self.access() == Access::Read {
            return Err(DomainError::Internal(
                "a read transaction cannot lock an org for a change".into(),
            ));
        }
        self.query_opt(dialect::lock_org(self.backend()), &params! { id }, org)
    }

    fn org(&mut self, id: OrgId) -> Result<Option<Org>> {
        let sql = select!(org_columns!(), " FROM orgs o WHERE o.id = $1");
        self.query_opt(sql, &params! { id }, org)
    }

    fn list_user_orgs(
        &mut self,
        user: UserId,
        after: Option<OrgId>,
        limit: usize,
    ) -> Result<Vec<(Org, OrgRole)>> {
        // `o.id > $2` repeats the bound on the joined side (see `list_members`).
        let sql = select!(
            org_columns!(),
            ", m.role FROM memberships m JOIN orgs o ON o.id = m.org_id \
             WHERE m.user_id = $1 AND m.org_id > $2 AND o.id > $2 ORDER BY m.org_id LIMIT $3"
        );
        let params = params! { user, Value::after(after), Value::limit(limit) };
        self.query_all(sql, &params, |row| Ok((org(row)?, row.get(ORG_WIDTH)?)))
    }

    fn membership(&mut self, org: OrgId, user: UserId) -> Result<Option<Membership>> {
        let sql = select!(
            membership_columns!(),
            " FROM memberships WHERE org_id = $1 AND user_id = $2"
        );
        self.query_opt(sql, &params! { org, user }, membership)
    }

    fn count_owners(&mut self, org: OrgId) -> Result<u64> {
        let sql = "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = $2";
        self.query_one(sql, &params! { org, OrgRole::Owner })?
            .count(0)
    }

    fn member(&mut self, org: OrgId, user: UserId) -> Result<Option<Member>> {
        let sql = concat!(
            "SELECT ",
            member_columns!(),
            " FROM memberships m JOIN users u ON u.id = m.user_id ",
            "WHERE m.org_id = $1 AND m.user_id = $2"
        );
        self.query_opt(sql, &params! { org, user }, member)
    }

    /// One page of members in user-id order. The scan walks the primary
    /// key (org_id, user_id), or (org_id, role, user_id) with a role
    /// filter, from `after` on, so a page deep in a huge org costs what the
    /// first one does; the search is checked on each joined user until the
    /// page is full. `u.id > $2` repeats the bound on the joined side:
    /// without it PostgreSQL may merge-join against the users index from
    /// its start, and a deep page then reads every user before the bound.
    fn list_members(
        &mut self,
        org: OrgId,
        filter: &MemberFilter,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<Member>> {
        if let Some(needle) = indexed_needle(filter) {
            let pattern = format!("%{needle}%");
            // The probe counts matches through the index, up to one past
            // the bound: cheap when few match, and bounded when many do.
            let probe = dialect::count_search_hits(self.backend());
            let params = params! { pattern.clone(), INDEXED_SEARCH_MAX + 1 };
            let hits: i64 = self.query_one(probe, &params)?.get(0)?;
            if hits <= INDEXED_SEARCH_MAX {
                return self.list_members_by_search(org, filter.role, pattern, after, limit);
            }
        }
        let mut sql = format!(
            "SELECT {}{MEMBERS_FROM}WHERE m.org_id = $1 AND m.user_id > $2 AND u.id > $2",
            member_columns!()
        );
        let mut params = vec![org.into(), Value::after(after)];
        push_member_filter(&mut sql, &mut params, filter);
        push_page(&mut sql, &mut params, "m.user_id", limit, None);
        self.query_all(&sql, &params, member)
    }

    /// The same order as `list_members`, by offset: for page-numbered
    /// surfaces.
    fn list_members_offset(
        &mut self,
        org: OrgId,
        filter: &MemberFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>> {
        let mut sql = format!(
            "SELECT {}{MEMBERS_FROM}WHERE m.org_id = $1",
            member_columns!()
        );
        let mut params = vec![org.into()];
        push_member_filter(&mut sql, &mut params, filter);
        push_page(&mut sql, &mut params, "m.user_id", limit, Some(offset));
        self.query_all(&sql, &params, member)
    }
}

impl OrgsWrite for SqlTx<'_> {
    fn insert_org(&mut self, org: &Org) -> Result<()> {
        let sql = "INSERT INTO orgs (id, name, description, referral_code, status, created_at, \
                   updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let o = org;
        let params = params! {
            o.id, &o.name, &o.description, &o.referral_code, o.status, o.created_at, o.updated_at,
        };
        self.run(sql, &params)
    }

    fn update_org(&mut self, org: &Org) -> Result<()> {
        let sql = "UPDATE orgs SET name = $1, description = $2, referral_code = $3, status = $4, \
                   updated_at = $5 WHERE id = $6";
        let o = org;
        let params =
            params! { &o.name, &o.description, &o.referral_code, o.status, o.updated_at, o.id };
        self.run(sql, &params)
    }

    /// Memberships, projects (with their members) and invitations go by
    /// `ON DELETE CASCADE`; audit events have no foreign key and stay.
    fn delete_org(&mut self, id: OrgId) -> Result<()> {
        self.run("DELETE FROM orgs WHERE id = $1", &params! { id })
    }

    fn insert_membership(&mut self, membership: &Membership) -> Result<()> {
        let sql = insert_into!("memberships", membership_columns!(), "$1, $2, $3, $4, $5");
        let m = membership;
        let params =
            params! { m.org_id, m.user_id, m.role, encode_labels(&m.labels), m.created_at };
        self.run(sql, &params)
    }

    fn update_membership_role(&mut self, org: OrgId, user: UserId, role: OrgRole) -> Result<()> {
        let sql = "UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3";
        self.run(sql, &params! { role, org, user })
    }

    fn update_membership_labels(
        &mut self,
        org: OrgId,
        user: UserId,
        labels: &[String],
    ) -> Result<()> {
        let sql = "UPDATE memberships SET labels = $1 WHERE org_id = $2 AND user_id = $3";
        self.run(sql, &params! { encode_labels(labels), org, user })
    }

    /// The membership and the user's memberships of this org's projects
    /// (the same user's memberships of other orgs' projects stay).
    fn delete_membership(&mut self, org: OrgId, user: UserId) -> Result<()> {
        let params = params! { org, user };
        self.run(
            "DELETE FROM project_members \
             WHERE project_id IN (SELECT id FROM projects WHERE org_id = $1) AND user_id = $2",
            &params,
        )?;
        self.run(
            "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
            &params,
        )
    }
}
