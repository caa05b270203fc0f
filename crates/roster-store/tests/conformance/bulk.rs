//! The bulk loader (`roster_store::bulk`) and the search index behind
//! member search (migration 0005): bulk-loaded users read back like any
//! other, and a search answers the same whether it is selective (served by
//! the index) or matches more than the index path takes (served by a walk
//! of the member list).

use roster_core::ids::UserId;
use roster_core::model::{MemberFilter, NewUser};
use roster_core::role::OrgRole;
use roster_core::store;
use roster_core::time::Timestamp;
use roster_store::bulk::BulkLoader;

use crate::support::{self, TestDb};

fn page_all(db: &TestDb, org: roster_core::ids::OrgId, query: &str, page: usize) -> Vec<UserId> {
    let filter = MemberFilter {
        role: None,
        query: Some(query.into()),
    };
    let read = |after| store::read(db.store(), |tx| tx.list_members(org, &filter, after, page));
    let members = support::walk_pages(page, read, |m| m.user.id);
    members.iter().map(|m| m.user.id).collect()
}

pub fn bulk_loaded_members_read_back_and_search_both_ways(db: TestDb) {
    let org = support::org(db.store(), "Bulk");
    let stranger = support::org(db.store(), "Stranger");
    let first = support::user(db.store(), "first");
    // 1,200 "common" members (more than the index path takes), 3 of them
    // also "rare"; and a "rare" user who is not a member.
    let users: Vec<NewUser> = (0..1_200)
        .map(|i| NewUser {
            id: UserId::new(),
            email: format!("bulk{i}@example.com"),
            username: format!("bulk{i}"),
            name: if i % 400 == 7 {
                format!("Common Rare {i}")
            } else {
                format!("Common {i}")
            },
            password_hash: None,
            email_verified: true,
            created_at: Timestamp(1_700_000_000_000),
        })
        .collect();
    let outsider = support::new_user("rare-outsider");
    let mut loader = BulkLoader::open(&db.url).unwrap();
    loader
        .insert(&users[..700], Some((org.id, OrgRole::Member)))
        .unwrap();
    loader
        .insert(&users[700..], Some((org.id, OrgRole::Member)))
        .unwrap();
    loader
        .insert(
            std::slice::from_ref(&outsider),
            Some((stranger.id, OrgRole::Member)),
        )
        .unwrap();
    // Ending the load (statistics, checkpoint) leaves the data as it was.
    loader.finish().unwrap();

    let read = store::read(db.store(), |tx| tx.user(users[5].id))
        .unwrap()
        .unwrap();
    assert_eq!(read.email, "bulk5@example.com");
    assert!(
        read.number > first.number,
        "numbers continue after existing users"
    );
    let last = store::read(db.store(), |tx| tx.user(outsider.id))
        .unwrap()
        .unwrap();
    assert_eq!(last.number, first.number + 1_201);

    let mut rare: Vec<UserId> = users
        .iter()
        .filter(|u| u.name.contains("Rare"))
        .map(|u| u.id)
        .collect();
    rare.sort();
    assert_eq!(
        page_all(&db, org.id, "RARE", 2),
        rare,
        "indexed, paged, other orgs left out"
    );
    let common = page_all(&db, org.id, "common", 500);
    assert_eq!(common.len(), 1_200, "a broad search walks the members");
    assert!(common.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        page_all(&db, org.id, "bulk1199@", 10),
        vec![users[1_199].id]
    );
    assert_eq!(page_all(&db, stranger.id, "rare", 10), vec![outsider.id]);
}

#[test]
fn bulk_loaded_members_read_back_and_search_both_ways_sqlite() {
    bulk_loaded_members_read_back_and_search_both_ways(support::sqlite());
}

#[test]
fn bulk_loaded_members_read_back_and_search_both_ways_postgres() {
    bulk_loaded_members_read_back_and_search_both_ways(support::postgres());
}
