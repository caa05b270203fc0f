//! Cases for transaction boundaries: rollback on error and on panic, a
//! failed operation aborting the rest of its transaction, reads beside
//! writes, and the org row lock that serialises concurrent writers. (That a
//! read cannot write is checked by the compiler: `store::read` hands out a
//! `ReadTx`, which has no write method; see its doc test.)

use std::panic::{catch_unwind, AssertUnwindSafe};

use roster_core::error::DomainError;
use roster_core::ids::UserId;
use roster_core::role::OrgRole;
use roster_core::store::{self, Store};

use crate::support::{join, membership, new_org, new_user, org, user};

pub fn failed_write_leaves_no_trace(store: &dyn Store) {
    let acme = new_org("Acme");
    let new = new_user("ada");
    let err = store::write(store, |tx| {
        tx.insert_org(&acme)?;
        let ada = tx.insert_user(&new)?;
        tx.insert_membership(&membership(acme.id, ada.id, OrgRole::Owner))?;
        Err::<(), _>(DomainError::LastOwner)
    })
    .unwrap_err();
    assert!(
        matches!(err, DomainError::LastOwner),
        "the closure's error comes back: {err:?}"
    );
    let (org, user) = store::read(store, |tx| Ok((tx.org(acme.id)?, tx.user(new.id)?))).unwrap();
    assert_eq!((org, user), (None, None));
    // The same records can be written afterwards.
    store::write(store, |tx| {
        tx.insert_org(&acme)?;
        tx.insert_user(&new).map(drop)
    })
    .unwrap();
}

pub fn panicking_write_rolls_back_and_the_store_carries_on(store: &dyn Store) {
    let acme = new_org("Acme");
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _ = store::write::<()>(store, |tx| {
            tx.insert_org(&acme)?;
            panic!("boom");
        });
    }));
    assert!(outcome.is_err());
    assert_eq!(store::read(store, |tx| tx.org(acme.id)).unwrap(), None);
    let ada = user(store, "ada");
    assert_eq!(store::read(store, |tx| tx.user(ada.id)).unwrap(), Some(ada));
}

/// PostgreSQL aborts a transaction at its first failed statement; both
/// backends refuse to go on after a failed operation, and the write does
/// not commit even when the closure swallows the error.
pub fn a_failed_operation_aborts_its_transaction(store: &dyn Store) {
    let ada = user(store, "ada");
    let acme = new_org("Acme");
    let mut dup = new_user("other");
    dup.email = ada.email.clone();
    let mut after_failure = None;
    let err = store::write(store, |tx| {
        let first = tx.insert_user(&dup);
        assert!(matches!(
            first,
            Err(DomainError::Conflict {
                code: "email_taken",
                ..
            })
        ));
        after_failure = Some(tx.insert_org(&acme));
        Ok(())
    })
    .unwrap_err();
    assert!(matches!(err, DomainError::Internal(_)), "{err:?}");
    assert!(
        matches!(after_failure, Some(Err(DomainError::Internal(_)))),
        "{after_failure:?}"
    );
    assert_eq!(store::read(store, |tx| tx.org(acme.id)).unwrap(), None);
}

/// Only a write can hold an org against changes: in a read (which the
/// authorisation check may run in) the lock is an error on both backends.
pub fn reads_cannot_lock_an_org(store: &dyn Store) {
    let acme = org(store, "Acme");
    let err = store::read(store, |tx| tx.lock_org(acme.id)).unwrap_err();
    assert!(matches!(err, DomainError::Internal(_)), "{err:?}");
    let locked = store::write(store, |tx| tx.lock_org(acme.id)).unwrap();
    assert_eq!(locked, Some(acme));
}

/// Reads run beside a long write and see only committed data.
pub fn reads_do_not_wait_for_writes(store: &dyn Store) {
    let acme = org(store, "Acme").id;
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (finish_tx, finish_rx) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            store::write(store, |tx| {
                let ada = tx.insert_user(&new_user("ada"))?;
                tx.insert_membership(&membership(acme, ada.id, OrgRole::Owner))?;
                started_tx.send(()).unwrap();
                finish_rx.recv().unwrap();
                Ok(())
            })
        });
        started_rx.recv().unwrap();
        let owners = store::read(store, |tx| tx.count_owners(acme)).unwrap();
        assert_eq!(owners, 0, "the write is not committed yet");
        finish_tx.send(()).unwrap();
        writer.join().unwrap().unwrap();
    });
    assert_eq!(store::read(store, |tx| tx.count_owners(acme)).unwrap(), 1);
}

/// The last-owner rule under contention: every writer locks the org, counts
/// the owners and demotes one of them only if another would remain.
pub fn concurrent_demotions_leave_exactly_one_owner(store: &dyn Store) {
    let acme = org(store, "Acme");
    let owners: Vec<UserId> = (0..2)
        .map(|i| user(store, &format!("owner-{i}")).id)
        .collect();
    for id in &owners {
        join(store, acme.id, *id, OrgRole::Owner);
    }
    let demotions: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let target = owners[i % 2];
                scope.spawn(move || {
                    store::write(store, |tx| {
                        tx.lock_org(acme.id)?.expect("org exists");
                        let count = tx.count_owners(acme.id)?;
                        // Widen the race window: the other writers are
                        // queued on the lock, not reading a stale count.
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        if count > 1 {
                            tx.update_membership_role(acme.id, target, OrgRole::Admin)?;
                            return Ok(1usize);
                        }
                        Ok(0)
                    })
                    .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(demotions, 1);
    assert_eq!(
        store::read(store, |tx| tx.count_owners(acme.id)).unwrap(),
        1
    );
}
