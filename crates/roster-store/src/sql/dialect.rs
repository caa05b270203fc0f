//! Every statement whose text differs between SQLite and PostgreSQL, each
//! with why. Everything else in `sql` runs the same text on both.

use crate::Backend;

use super::decode::select;

use super::accounts::user_columns;
use super::orgs::{member_columns, org_columns};

/// The advisory lock PostgreSQL migrations hold ("roster" in ASCII).
pub const MIGRATION_LOCK: i64 = 0x726f_7374_6572;

/// What a migration step runs first to keep a second process out until it
/// commits. SQLite: nothing, as its migration transaction already holds the
/// write lock (`BEGIN IMMEDIATE`). PostgreSQL: a transaction-scoped
/// advisory lock (`$1` is `MIGRATION_LOCK`).
pub fn migration_lock(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some("SELECT pg_advisory_xact_lock($1)"),
    }
}

/// Inserts a user, answering its `number`. PostgreSQL: an identity column
/// (a sequence; concurrent inserts never collide, a rolled-back insert
/// leaves a gap). SQLite: MAX + 1, race-free because the write transaction
/// holds the database's write lock from BEGIN IMMEDIATE on; the UNIQUE
/// index on `number` makes MAX a lookup.
pub fn insert_user(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "INSERT INTO users (id, email, username, name, password_hash, email_verified, status, \
             search, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING number"
        }
        Backend::Sqlite => {
            "INSERT INTO users (id, email, username, name, password_hash, email_verified, status, \
             search, created_at, updated_at, number) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, \
             (SELECT COALESCE(MAX(number), 0) + 1 FROM users)) RETURNING number"
        }
    }
}

/// Reads an org and holds it until commit. PostgreSQL takes a row lock
/// (FOR UPDATE) that serialises every org-changing transaction on this org
/// across server processes; SQLite has no row locks and needs none, as the
/// write transaction already holds the database's write lock.
pub fn lock_org(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => select!(org_columns!(), " FROM orgs o WHERE o.id = $1 FOR UPDATE"),
        Backend::Sqlite => select!(org_columns!(), " FROM orgs o WHERE o.id = $1"),
    }
}

/// Counts search matches through the search index, up to `$2`: SQLite's is
/// the trigram table `users_search`; PostgreSQL's a trigram index on
/// `users.search` (when the server has pg_trgm), and PostgreSQL wants its
/// subquery named.
pub fn count_search_hits(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM (SELECT 1 FROM users_search WHERE search LIKE $1 LIMIT $2)"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE search LIKE $1 LIMIT $2) hits"
        }
    }
}

/// The members of org `$1` after user `$2` whose search text is LIKE `$3`,
/// found from the matching users first and then their memberships (the
/// caller appends filters, order and limit). SQLite: `CROSS JOIN` fixes
/// that join order. PostgreSQL: the matches are a materialised CTE, found
/// by the trigram index when the server has one.
pub fn members_by_search(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => select!(
            member_columns!(),
            " FROM users_search s \
             CROSS JOIN users u ON u.number = s.rowid \
             CROSS JOIN memberships m ON m.org_id = $1 AND m.user_id = u.id \
             WHERE u.id > $2 AND s.search LIKE $3"
        ),
        Backend::Postgres => concat!(
            "WITH hits AS MATERIALIZED (SELECT id FROM users WHERE search LIKE $3) SELECT ",
            member_columns!(),
            " FROM hits h JOIN users u ON u.id = h.id \
             JOIN memberships m ON m.org_id = $1 AND m.user_id = u.id WHERE u.id > $2"
        ),
    }
}
