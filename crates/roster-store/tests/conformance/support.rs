//! Test databases — a fresh SQLite file per test, and a fresh database per
//! test on the throwaway PostgreSQL cluster of `roster-testkit` — and
//! record fixtures.

use std::sync::Arc;

use roster_core::error::DomainError;
use roster_core::ids::{OrgId, UserId};
use roster_core::model::{Membership, NewUser, Org, User};
use roster_core::role::OrgRole;
use roster_core::store::{self, Store};
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;

/// A store on a fresh database, with whatever keeps that database alive.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("roster.db").display());
    let store = roster_store::open(&url).expect("open sqlite");
    TestDb {
        store,
        url,
        _dir: Some(dir),
    }
}

pub fn postgres() -> TestDb {
    let url = roster_testkit::fresh_postgres_database();
    let store = roster_store::open(&url).expect("open postgres");
    TestDb {
        store,
        url,
        _dir: None,
    }
}

/// Asserts that `err` is a conflict with the code `code`.
pub fn assert_conflict(err: &DomainError, code: &str) {
    let found = matches!(err, DomainError::Conflict { code: c, .. } if *c == code);
    assert!(found, "expected conflict {code}: {err:?}");
}

/// Every item of a keyset-paged list, read `limit` at a time: `page` reads
/// the page after (or before) a bound, `bound` names an item's bound.
pub fn walk_pages<T, B: Copy>(
    limit: usize,
    page: impl Fn(Option<B>) -> roster_core::Result<Vec<T>>,
    bound: impl Fn(&T) -> B,
) -> Vec<T> {
    let mut all = Vec::new();
    let mut next = None;
    loop {
        let rows = page(next).expect("read a page");
        assert!(rows.len() <= limit, "a page holds at most its limit");
        let done = rows.len() < limit;
        next = rows.last().map(&bound).or(next);
        all.extend(rows);
        if done {
            return all;
        }
    }
}

// --- fixtures ---

pub fn new_user(tag: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: format!("{tag}@example.com"),
        username: tag.to_string(),
        name: format!("User {tag}"),
        password_hash: Some(format!("$argon2id$hash-of-{tag}")),
        email_verified: false,
        created_at: Timestamp(1_700_000_000_000),
    }
}

pub fn user(store: &dyn Store, tag: &str) -> User {
    let new = new_user(tag);
    store::write(store, |tx| tx.insert_user(&new)).expect("insert user")
}

pub fn new_org(name: &str) -> Org {
    let id = OrgId::new();
    Org {
        id,
        name: name.to_string(),
        description: String::new(),
        referral_code: format!("ref-{id}"),
        status: ResourceStatus::Active,
        created_at: Timestamp(1_700_000_000_000),
        updated_at: Timestamp(1_700_000_000_000),
    }
}

pub fn org(store: &dyn Store, name: &str) -> Org {
    let org = new_org(name);
    store::write(store, |tx| tx.insert_org(&org)).expect("insert org");
    org
}

pub fn membership(org: OrgId, user: UserId, role: OrgRole) -> Membership {
    Membership {
        org_id: org,
        user_id: user,
        role,
        labels: Vec::new(),
        created_at: Timestamp(1_700_000_000_000),
    }
}

pub fn join(store: &dyn Store, org: OrgId, user: UserId, role: OrgRole) {
    let m = membership(org, user, role);
    store::write(store, |tx| tx.insert_membership(&m)).expect("insert membership");
}
