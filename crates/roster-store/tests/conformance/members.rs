//! Cases for orgs, memberships and the member lists.

use std::collections::HashSet;

use roster_core::ids::{OrgId, UserId};
use roster_core::model::{Member, MemberFilter, NewUser};
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::store::{self, Store};
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;

use crate::support::{assert_conflict, join, membership, new_org, new_user, org, user, walk_pages};

pub fn orgs_insert_update_and_read(store: &dyn Store) {
    let mut acme = org(store, "Acme");
    assert_eq!(
        store::read(store, |tx| tx.org(acme.id)).unwrap(),
        Some(acme.clone())
    );
    acme.name = "Acme Inc".into();
    acme.description = "makes anvils".into();
    acme.status = ResourceStatus::Suspended;
    acme.updated_at = Timestamp(1_800_000_000_000);
    store::write(store, |tx| tx.update_org(&acme)).unwrap();
    let (read, locked) =
        store::write(store, |tx| Ok((tx.org(acme.id)?, tx.lock_org(acme.id)?))).unwrap();
    assert_eq!(read, Some(acme.clone()));
    assert_eq!(locked, Some(acme.clone()));
    assert_eq!(
        store::write(store, |tx| tx.lock_org(OrgId::new())).unwrap(),
        None
    );

    let mut twin = new_org("Twin");
    twin.referral_code = acme.referral_code.clone();
    let err = store::write(store, |tx| tx.insert_org(&twin)).unwrap_err();
    assert_conflict(&err, "conflict");
}

pub fn memberships_crud_and_count_owners(store: &dyn Store) {
    let acme = org(store, "Acme");
    let (ada, bob) = (user(store, "ada"), user(store, "bob"));
    let mut m = membership(acme.id, ada.id, OrgRole::Owner);
    m.labels = vec!["billing".into(), "on-call".into()];
    store::write(store, |tx| tx.insert_membership(&m)).unwrap();
    join(store, acme.id, bob.id, OrgRole::Member);

    assert_eq!(
        store::read(store, |tx| tx.membership(acme.id, ada.id)).unwrap(),
        Some(m.clone())
    );
    assert_eq!(
        store::read(store, |tx| tx.count_owners(acme.id)).unwrap(),
        1
    );

    store::write(store, |tx| {
        tx.update_membership_role(acme.id, bob.id, OrgRole::Owner)
    })
    .unwrap();
    assert_eq!(
        store::read(store, |tx| tx.count_owners(acme.id)).unwrap(),
        2
    );

    let member = store::read(store, |tx| tx.member(acme.id, ada.id))
        .unwrap()
        .unwrap();
    assert_eq!(member.user, ada);
    assert_eq!(
        (member.role, member.labels.clone(), member.joined_at),
        (OrgRole::Owner, m.labels, m.created_at)
    );

    let err = store::write(store, |tx| {
        tx.insert_membership(&membership(acme.id, ada.id, OrgRole::Guest))
    })
    .unwrap_err();
    assert_conflict(&err, "already_member");
    let err = store::write(store, |tx| {
        tx.insert_membership(&membership(acme.id, UserId::new(), OrgRole::Guest))
    })
    .unwrap_err();
    assert_conflict(&err, "conflict"); // an unknown user

    store::write(store, |tx| tx.delete_membership(acme.id, ada.id)).unwrap();
    assert_eq!(
        store::read(store, |tx| tx.membership(acme.id, ada.id)).unwrap(),
        None
    );
    assert_eq!(
        store::read(store, |tx| tx.member(acme.id, ada.id)).unwrap(),
        None
    );
    assert_eq!(
        store::read(store, |tx| tx.count_owners(acme.id)).unwrap(),
        1
    );
}

pub fn delete_membership_removes_only_that_orgs_projects(store: &dyn Store) {
    let (acme, other) = (org(store, "Acme"), org(store, "Other"));
    let (ada, bob) = (user(store, "ada"), user(store, "bob"));
    for (o, u) in [(acme.id, ada.id), (acme.id, bob.id), (other.id, ada.id)] {
        join(store, o, u, OrgRole::Member);
    }
    let p1 = crate::projects::project(store, acme.id, "one");
    let p2 = crate::projects::project(store, acme.id, "two");
    let q = crate::projects::project(store, other.id, "elsewhere");
    store::write(store, |tx| {
        for (p, u) in [
            (p1.id, ada.id),
            (p2.id, ada.id),
            (p1.id, bob.id),
            (q.id, ada.id),
        ] {
            tx.insert_project_member(p, u, ProjectRole::Member, Timestamp(1))?;
        }
        Ok(())
    })
    .unwrap();

    store::write(store, |tx| tx.delete_membership(acme.id, ada.id)).unwrap();
    let left = store::read(store, |tx| {
        Ok([
            tx.project_member(p1.id, ada.id)?.is_some(),
            tx.project_member(p2.id, ada.id)?.is_some(),
            tx.project_member(p1.id, bob.id)?.is_some(),
            tx.project_member(q.id, ada.id)?.is_some(),
            tx.membership(other.id, ada.id)?.is_some(),
        ])
    })
    .unwrap();
    assert_eq!(left, [false, false, true, true, true]);
}

fn page_all(store: &dyn Store, org: OrgId, filter: &MemberFilter, limit: usize) -> Vec<Member> {
    let page = |after| store::read(store, |tx| tx.list_members(org, filter, after, limit));
    walk_pages(limit, page, |m| m.user.id)
}

pub fn list_members_walks_every_member_once_in_order(store: &dyn Store) {
    let acme = org(store, "Acme");
    let stranger = org(store, "Stranger");
    let mut expected = Vec::new();
    store::write(store, |tx| {
        expected.clear();
        for i in 0..250 {
            let mut new: NewUser = new_user(&format!("member-{i:03}"));
            new.name = if i % 10 == 0 {
                format!("Needle {i}")
            } else {
                format!("Hay {i}")
            };
            let u = tx.insert_user(&new)?;
            let role = match i % 5 {
                0 => OrgRole::Admin,
                1 => OrgRole::Guest,
                _ => OrgRole::Member,
            };
            tx.insert_membership(&membership(acme.id, u.id, role))?;
            if i % 2 == 0 {
                tx.insert_membership(&membership(stranger.id, u.id, OrgRole::Owner))?;
            }
            expected.push((u.id, role, i));
        }
        Ok(())
    })
    .unwrap();
    expected.sort_by_key(|(id, _, _)| *id);

    let all = page_all(store, acme.id, &MemberFilter::default(), 7);
    let ids: Vec<UserId> = all.iter().map(|m| m.user.id).collect();
    assert_eq!(
        ids,
        expected.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(),
        "each once, in id order"
    );
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 250);
    assert!(ids.windows(2).all(|w| w[0].to_string() < w[1].to_string()));

    let admins = page_all(
        store,
        acme.id,
        &MemberFilter {
            role: Some(OrgRole::Admin),
            query: None,
        },
        4,
    );
    let want: Vec<UserId> = expected
        .iter()
        .filter(|(_, r, _)| *r == OrgRole::Admin)
        .map(|(id, _, _)| *id)
        .collect();
    assert_eq!(admins.iter().map(|m| m.user.id).collect::<Vec<_>>(), want);
    assert!(admins.iter().all(|m| m.role == OrgRole::Admin));

    let needles = page_all(
        store,
        acme.id,
        &MemberFilter {
            role: None,
            query: Some("needle".into()),
        },
        6,
    );
    assert_eq!(needles.len(), 25);
    let both = MemberFilter {
        role: Some(OrgRole::Admin),
        query: Some("needle".into()),
    };
    assert_eq!(
        page_all(store, acme.id, &both, 3).len(),
        25,
        "i % 10 == 0 are admins too"
    );
    let by_email = MemberFilter {
        role: Some(OrgRole::Guest),
        query: Some("member-00".into()),
    };
    assert_eq!(
        page_all(store, acme.id, &by_email, 100).len(),
        2,
        "member-001 and member-006"
    );
    assert_eq!(
        page_all(
            store,
            acme.id,
            &MemberFilter {
                role: None,
                query: Some("zzz".into())
            },
            5
        ),
        vec![]
    );
}

pub fn member_search_takes_wildcards_literally(store: &dyn Store) {
    let acme = org(store, "Acme");
    let names = [
        "100% sure",
        "1000 sure",
        "snake_case",
        "snakeXcase",
        "back\\slash",
        "backslash",
    ];
    store::write(store, |tx| {
        for (i, name) in names.iter().enumerate() {
            let mut new = new_user(&format!("wild-{i}"));
            new.name = name.to_string();
            let u = tx.insert_user(&new)?;
            tx.insert_membership(&membership(acme.id, u.id, OrgRole::Member))?;
        }
        Ok(())
    })
    .unwrap();
    let search = |q: &str| -> Vec<String> {
        let filter = MemberFilter {
            role: None,
            query: Some(q.to_string()),
        };
        let found = store::read(store, |tx| tx.list_members(acme.id, &filter, None, 100)).unwrap();
        found.into_iter().map(|m| m.user.name).collect()
    };
    assert_eq!(search("0%"), vec!["100% sure"]);
    assert_eq!(search("e_c"), vec!["snake_case"]);
    assert_eq!(search("k\\s"), vec!["back\\slash"]);
    assert_eq!(search("%").len(), 1);
    assert_eq!(search("_").len(), 1);
    assert_eq!(
        search("SNAKE").len(),
        2,
        "search text and query are matched lowercase"
    );
}

pub fn list_user_orgs_pages_in_org_id_order(store: &dyn Store) {
    let ada = user(store, "ada");
    let bob = user(store, "bob");
    let mut mine = Vec::new();
    for i in 0..12 {
        let o = org(store, &format!("Org {i}"));
        let role = if i % 3 == 0 {
            OrgRole::Owner
        } else {
            OrgRole::Guest
        };
        join(store, o.id, ada.id, role);
        if i % 2 == 0 {
            join(store, o.id, bob.id, OrgRole::Member);
        }
        mine.push((o, role));
    }
    org(store, "Not mine");
    mine.sort_by_key(|(o, _)| o.id);

    let page = |after| store::read(store, |tx| tx.list_user_orgs(ada.id, after, 5));
    let seen = walk_pages(5, page, |(o, _)| o.id);
    assert_eq!(seen, mine);
    assert_eq!(
        store::read(store, |tx| tx.list_user_orgs(bob.id, None, 100))
            .unwrap()
            .len(),
        6
    );
    assert_eq!(
        store::read(store, |tx| tx.list_user_orgs(UserId::new(), None, 100)).unwrap(),
        vec![]
    );
}
