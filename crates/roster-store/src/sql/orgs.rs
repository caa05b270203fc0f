//! SQL for organizations and their memberships, including the member list
//! (keyset pagination on the user id, optional role filter and search).

use roster_core::error::Result;
use roster_core::ids::{OrgId, UserId};
use roster_core::model::{Member, MemberFilter, Membership, Org};
use roster_core::role::OrgRole;

use super::decode::{self, org_cols, user_cols, USER_WIDTH};
use super::{contains_pattern, Dialect, SqlTx, Value};

pub fn insert_org(tx: &mut SqlTx, org: &Org) -> Result<()> {
    tx.execute(
        "INSERT INTO orgs (id, name, description, referral_code, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Value::text(org.id),
            Value::text(&org.name),
            Value::text(&org.description),
            Value::text(&org.referral_code),
            Value::text(org.status.as_str()),
            Value::Int(org.created_at.0),
            Value::Int(org.updated_at.0),
        ],
    )?;
    Ok(())
}

/// Reads an org; with `lock`, holds it until commit.
pub fn org(tx: &mut SqlTx, id: OrgId, lock: bool) -> Result<Option<Org>> {
    // Backends differ: PostgreSQL takes a row lock (FOR UPDATE) that
    // serialises every org-changing transaction on this org across server
    // processes; SQLite has no row locks and needs none, as the write
    // transaction already holds the database's write lock.
    let sql = match (lock, tx.dialect()) {
        (true, Dialect::Postgres) => concat!(
            "SELECT ",
            org_cols!(),
            " FROM orgs o WHERE o.id = $1 FOR UPDATE"
        ),
        _ => concat!("SELECT ", org_cols!(), " FROM orgs o WHERE o.id = $1"),
    };
    let row = tx.query_opt(sql, &[Value::text(id)])?;
    row.map(|row| decode::org(&row)).transpose()
}

pub fn update_org(tx: &mut SqlTx, org: &Org) -> Result<()> {
    tx.execute(
        "UPDATE orgs SET name = $2, description = $3, referral_code = $4, status = $5, \
         updated_at = $6 WHERE id = $1",
        &[
            Value::text(org.id),
            Value::text(&org.name),
            Value::text(&org.description),
            Value::text(&org.referral_code),
            Value::text(org.status.as_str()),
            Value::Int(org.updated_at.0),
        ],
    )?;
    Ok(())
}

/// Memberships, projects (with their members) and invitations go by
/// `ON DELETE CASCADE`; audit events have no foreign key and stay.
pub fn delete_org(tx: &mut SqlTx, id: OrgId) -> Result<()> {
    tx.execute("DELETE FROM orgs WHERE id = $1", &[Value::text(id)])?;
    Ok(())
}

pub fn list_user_orgs(
    tx: &mut SqlTx,
    user: UserId,
    after: Option<OrgId>,
    limit: usize,
) -> Result<Vec<(Org, OrgRole)>> {
    // `o.id > $2` repeats the bound on the joined side (see `list_members`).
    let sql = concat!(
        "SELECT ",
        org_cols!(),
        ", m.role FROM memberships m JOIN orgs o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND m.org_id > $2 AND o.id > $2 ORDER BY m.org_id LIMIT $3"
    );
    let rows = tx.query(
        sql,
        &[Value::text(user), Value::after(after), Value::limit(limit)],
    )?;
    rows.iter()
        .map(|row| Ok((decode::org(row)?, decode::org_role(row, 7)?)))
        .collect()
}

pub fn membership(tx: &mut SqlTx, org: OrgId, user: UserId) -> Result<Option<Membership>> {
    let sql = "SELECT org_id, user_id, role, labels, created_at FROM memberships \
               WHERE org_id = $1 AND user_id = $2";
    let Some(row) = tx.query_opt(sql, &[Value::text(org), Value::text(user)])? else {
        return Ok(None);
    };
    Ok(Some(Membership {
        org_id: decode::id(&row, 0, "memberships.org_id")?,
        user_id: decode::id(&row, 1, "memberships.user_id")?,
        role: decode::org_role(&row, 2)?,
        labels: decode::decode_labels(&row.text(3)?)?,
        created_at: decode::ts(&row, 4)?,
    }))
}

pub fn insert_membership(tx: &mut SqlTx, membership: &Membership) -> Result<()> {
    tx.execute(
        "INSERT INTO memberships (org_id, user_id, role, labels, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            Value::text(membership.org_id),
            Value::text(membership.user_id),
            Value::text(membership.role.as_str()),
            Value::Text(decode::encode_labels(&membership.labels)),
            Value::Int(membership.created_at.0),
        ],
    )?;
    Ok(())
}

pub fn update_membership_role(
    tx: &mut SqlTx,
    org: OrgId,
    user: UserId,
    role: OrgRole,
) -> Result<()> {
    tx.execute(
        "UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2",
        &[
            Value::text(org),
            Value::text(user),
            Value::text(role.as_str()),
        ],
    )?;
    Ok(())
}

/// The membership and the user's memberships of this org's projects (the
/// same user's memberships of other orgs' projects stay).
pub fn delete_membership(tx: &mut SqlTx, org: OrgId, user: UserId) -> Result<()> {
    let params = [Value::text(org), Value::text(user)];
    tx.execute(
        "DELETE FROM project_members WHERE user_id = $2 \
         AND project_id IN (SELECT id FROM projects WHERE org_id = $1)",
        &params,
    )?;
    tx.execute(
        "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
        &params,
    )?;
    Ok(())
}

pub fn count_owners(tx: &mut SqlTx, org: OrgId) -> Result<u64> {
    let row = tx.query_one(
        "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = $2",
        &[Value::text(org), Value::text(OrgRole::Owner.as_str())],
    )?;
    Ok(u64::try_from(row.int(0)?).unwrap_or(0))
}

/// The columns `member_from` decodes: the user, then the membership.
macro_rules! member_select {
    () => {
        concat!(
            "SELECT ",
            user_cols!(),
            ", m.role, m.labels, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id "
        )
    };
}

fn member_from(row: &super::Row) -> Result<Member> {
    Ok(Member {
        user: decode::user(row, 0)?,
        role: decode::org_role(row, USER_WIDTH)?,
        labels: decode::decode_labels(&row.text(USER_WIDTH + 1)?)?,
        joined_at: decode::ts(row, USER_WIDTH + 2)?,
    })
}

pub fn member(tx: &mut SqlTx, org: OrgId, user: UserId) -> Result<Option<Member>> {
    let sql = concat!(member_select!(), "WHERE m.org_id = $1 AND m.user_id = $2");
    let row = tx.query_opt(sql, &[Value::text(org), Value::text(user)])?;
    row.map(|row| member_from(&row)).transpose()
}

/// One page of members in user-id order. The scan walks the primary key
/// (org_id, user_id), or (org_id, role, user_id) with a role filter, from
/// `after` on, so a page deep in a huge org costs what the first one does;
/// the search is checked on each joined user until the page is full.
/// `u.id > $2` repeats the bound on the joined side: without it PostgreSQL
/// may merge-join against the users index from its start, and a deep page
/// then reads every user before the bound.
pub fn list_members(
    tx: &mut SqlTx,
    org: OrgId,
    filter: &MemberFilter,
    after: Option<UserId>,
    limit: usize,
) -> Result<Vec<Member>> {
    if let Some(needle) = indexed_needle(filter) {
        let pattern = format!("%{needle}%");
        // The probe counts matches through the index, up to one past the
        // bound: cheap when few match, and bounded when many do.
        let probe = match tx.dialect() {
            Dialect::Sqlite => {
                "SELECT COUNT(*) FROM \
                 (SELECT 1 FROM users_search WHERE search LIKE $1 LIMIT $2)"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE search LIKE $1 LIMIT $2) hits"
            }
        };
        let hits = tx
            .query_one(
                probe,
                &[
                    Value::Text(pattern.clone()),
                    Value::Int(INDEXED_SEARCH_MAX + 1),
                ],
            )?
            .int(0)?;
        if hits <= INDEXED_SEARCH_MAX {
            return list_members_by_search(tx, org, filter.role, pattern, after, limit);
        }
    }
    let mut sql = String::from(concat!(
        member_select!(),
        "WHERE m.org_id = $1 AND m.user_id > $2 AND u.id > $2"
    ));
    let mut params = vec![Value::text(org), Value::after(after)];
    push_member_filter(&mut sql, &mut params, filter);
    params.push(Value::limit(limit));
    sql.push_str(&format!(" ORDER BY m.user_id LIMIT ${}", params.len()));
    let rows = tx.query(&sql, &params)?;
    rows.iter().map(member_from).collect()
}

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

/// `list_members` for a selective search, driven by the search index: the
/// matching users first, then their memberships of `org`. SQLite:
/// `CROSS JOIN` fixes that join order. PostgreSQL: the matches are a
/// materialised CTE, found by the trigram index when the server has one.
fn list_members_by_search(
    tx: &mut SqlTx,
    org: OrgId,
    role: Option<OrgRole>,
    pattern: String,
    after: Option<UserId>,
    limit: usize,
) -> Result<Vec<Member>> {
    let mut sql = String::from(match tx.dialect() {
        Dialect::Sqlite => concat!(
            "SELECT ",
            user_cols!(),
            ", m.role, m.labels, m.created_at FROM users_search s \
             CROSS JOIN users u ON u.number = s.rowid \
             CROSS JOIN memberships m ON m.org_id = $1 AND m.user_id = u.id \
             WHERE s.search LIKE $3 AND u.id > $2"
        ),
        Dialect::Postgres => concat!(
            "WITH hits AS MATERIALIZED (SELECT id FROM users WHERE search LIKE $3) SELECT ",
            user_cols!(),
            ", m.role, m.labels, m.created_at FROM hits h JOIN users u ON u.id = h.id \
             JOIN memberships m ON m.org_id = $1 AND m.user_id = u.id WHERE u.id > $2"
        ),
    });
    let mut params = vec![Value::text(org), Value::after(after), Value::Text(pattern)];
    if let Some(role) = role {
        params.push(Value::text(role.as_str()));
        sql.push_str(&format!(" AND m.role = ${}", params.len()));
    }
    params.push(Value::limit(limit));
    sql.push_str(&format!(" ORDER BY u.id LIMIT ${}", params.len()));
    let rows = tx.query(&sql, &params)?;
    rows.iter().map(member_from).collect()
}

/// The same order as `list_members`, by offset: for page-numbered surfaces.
pub fn list_members_offset(
    tx: &mut SqlTx,
    org: OrgId,
    filter: &MemberFilter,
    offset: usize,
    limit: usize,
) -> Result<Vec<Member>> {
    let mut sql = String::from(concat!(member_select!(), "WHERE m.org_id = $1"));
    let mut params = vec![Value::text(org)];
    push_member_filter(&mut sql, &mut params, filter);
    params.push(Value::limit(limit));
    params.push(Value::limit(offset));
    sql.push_str(&format!(
        " ORDER BY m.user_id LIMIT ${} OFFSET ${}",
        params.len() - 1,
        params.len()
    ));
    let rows = tx.query(&sql, &params)?;
    rows.iter().map(member_from).collect()
}

fn push_member_filter(sql: &mut String, params: &mut Vec<Value>, filter: &MemberFilter) {
    if let Some(role) = filter.role {
        params.push(Value::text(role.as_str()));
        sql.push_str(&format!(" AND m.role = ${}", params.len()));
    }
    if let Some(query) = filter.query.as_deref().filter(|q| !q.is_empty()) {
        // Lowercased again so both backends match alike: SQLite's LIKE
        // ignores ASCII case, PostgreSQL's does not; `search` is lowercase.
        params.push(Value::Text(contains_pattern(&query.to_lowercase())));
        sql.push_str(&format!(" AND u.search LIKE ${} ESCAPE '\\'", params.len()));
    }
}

pub fn update_membership_labels(
    tx: &mut SqlTx,
    org: OrgId,
    user: UserId,
    labels: &[String],
) -> Result<()> {
    tx.execute(
        "UPDATE memberships SET labels = $3 WHERE org_id = $1 AND user_id = $2",
        &[
            Value::text(org),
            Value::text(user),
            Value::Text(decode::encode_labels(labels)),
        ],
    )?;
    Ok(())
}
