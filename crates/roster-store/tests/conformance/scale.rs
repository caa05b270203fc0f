//! A manual check that member pages cost the same at any depth: one org of
//! 1,000,000 members, bulk-loaded with SQL, then the first page and pages
//! deep in the list are timed on each backend. Ignored by default (it takes
//! a minute); run with
//! `cargo test -p roster-store --test conformance scale -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use roster_core::ids::{OrgId, UserId};
use roster_core::model::MemberFilter;
use roster_core::role::OrgRole;
use roster_core::store::{self, Store};

const MEMBERS: i64 = 1_000_000;

/// The user id of row `i`: a valid UUID whose text sorts by `i`.
fn id_of(i: i64) -> UserId {
    UserId::parse(&format!("00000000-0000-7000-8000-{i:012x}")).unwrap()
}

const SQLITE_LOAD: &str = "
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
    INSERT INTO users (id, number, email, username, name, email_verified, status, search, created_at, updated_at)
    SELECT printf('00000000-0000-7000-8000-%012x', i), i, 'u' || i || '@example.com', 'u' || i,
           CASE WHEN i % 1000 = 0 THEN 'needle' ELSE 'hay' END, 0, 'active',
           'u' || i || '@example.com u' || i || CASE WHEN i % 1000 = 0 THEN ' needle' ELSE ' hay' END, 0, 0
    FROM n;
    INSERT INTO memberships (org_id, user_id, role, labels, created_at)
    SELECT ?1, id, CASE WHEN number % 10 = 0 THEN 'admin' ELSE 'member' END, '[]', 0 FROM users;";

const POSTGRES_LOAD: &str = "
    INSERT INTO users (id, number, email, username, name, email_verified, status, search, created_at, updated_at)
    SELECT '00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), i, 'u' || i || '@example.com', 'u' || i,
           CASE WHEN i % 1000 = 0 THEN 'needle' ELSE 'hay' END, false, 'active',
           'u' || i || '@example.com u' || i || CASE WHEN i % 1000 = 0 THEN ' needle' ELSE ' hay' END, 0, 0
    FROM generate_series(1, 1000000) AS i;
    INSERT INTO memberships (org_id, user_id, role, labels, created_at)
    SELECT '{org}', id, CASE WHEN number % 10 = 0 THEN 'admin' ELSE 'member' END, '[]', 0 FROM users;
    ANALYZE;";

fn time_page(
    store: &dyn Store,
    org: OrgId,
    filter: &MemberFilter,
    after: Option<UserId>,
) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let page = store::read(store, |tx| tx.list_members(org, filter, after, 100)).unwrap();
        best = best.min(start.elapsed());
        assert!(!page.is_empty());
    }
    best
}

fn report(store: &dyn Store, org: OrgId) {
    let filters = [
        ("all", MemberFilter::default()),
        (
            "admins",
            MemberFilter {
                role: Some(OrgRole::Admin),
                query: None,
            },
        ),
        (
            "search",
            MemberFilter {
                role: None,
                query: Some("needle".into()),
            },
        ),
    ];
    for (name, filter) in &filters {
        let first = time_page(store, org, filter, None);
        let middle = time_page(store, org, filter, Some(id_of(MEMBERS / 2)));
        let deep = time_page(store, org, filter, Some(id_of(MEMBERS - 200_000)));
        println!(
            "{} {name}: first {first:?}, middle {middle:?}, deep {deep:?}",
            store.backend()
        );
        assert!(
            deep < first * 5 + Duration::from_millis(20),
            "deep page much slower than the first"
        );
    }
}

fn new_org(store: &dyn Store) -> OrgId {
    crate::support::org(store, "Huge").id
}

#[test]
#[ignore]
fn scale_member_pages_cost_the_same_at_any_depth_sqlite() {
    let db = crate::support::sqlite();
    let org = new_org(db.store());
    let path = db.url.trim_start_matches("sqlite://").to_string();
    let conn = rusqlite::Connection::open(path).unwrap();
    let load = SQLITE_LOAD.replace("?1", &format!("'{org}'"));
    conn.execute_batch(&format!("BEGIN; {load} COMMIT;"))
        .unwrap();
    report(db.store(), org);
}

#[test]
#[ignore]
fn scale_member_pages_cost_the_same_at_any_depth_postgres() {
    let db = crate::support::postgres();
    let org = new_org(db.store());
    let mut client = ::postgres::Client::connect(&db.url, ::postgres::NoTls).unwrap();
    client
        .batch_execute(&POSTGRES_LOAD.replace("{org}", &org.to_string()))
        .unwrap();
    report(db.store(), org);
}
