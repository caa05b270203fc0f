//! Cases for settings, users, sessions and refresh tokens.

use roster_core::ids::{SessionId, UserId};
use roster_core::model::Session;
use roster_core::store::{self, Store};
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;

use crate::support::{assert_conflict, new_user, user};

pub fn users_get_sequential_numbers_and_read_back(store: &dyn Store) {
    let a = user(store, "ada");
    let b = user(store, "bob");
    let c = user(store, "cy");
    assert!(a.number >= 1, "numbers are positive");
    assert_eq!(
        (b.number, c.number),
        (a.number + 1, a.number + 2),
        "numbers are sequential"
    );
    assert_eq!(a.email, "ada@example.com");
    assert_eq!(a.status, ResourceStatus::Active);
    assert!(!a.email_verified);

    let (by_id, by_email, creds, taken, free, missing) = store::read(store, |tx| {
        Ok((
            tx.user(b.id)?,
            tx.user_by_email("cy@example.com")?,
            tx.user_credentials("ada@example.com")?,
            tx.username_taken("bob")?,
            tx.username_taken("nobody")?,
            tx.user(UserId::new())?,
        ))
    })
    .unwrap();
    assert_eq!(by_id, Some(b));
    assert_eq!(by_email, Some(c));
    let creds = creds.unwrap();
    assert_eq!(creds.user, a);
    assert_eq!(
        creds.password_hash.as_deref(),
        Some("$argon2id$hash-of-ada")
    );
    assert!(taken && !free);
    assert_eq!(missing, None);

    store::write(store, |tx| tx.set_email_verified(a.id, Timestamp(5_000))).unwrap();
    let verified = store::read(store, |tx| tx.user(a.id)).unwrap().unwrap();
    assert!(verified.email_verified);
    assert_eq!(verified.number, a.number);
}

pub fn non_ascii_emails_are_found_and_rewritten(store: &dyn Store) {
    let plain = user(store, "plain");
    let mut unicode = new_user("uni");
    unicode.email = "uni@bücher.example".to_string();
    store::write(store, |tx| tx.insert_user(&unicode).map(|_| ())).unwrap();
    let found = store::read(store, |tx| tx.users_with_non_ascii_email()).unwrap();
    assert_eq!(found, vec![(unicode.id, "uni@bücher.example".to_string())]);
    store::write(store, |tx| {
        tx.set_user_email(
            unicode.id,
            "uni@xn--bcher-kva.example",
            Timestamp(1_800_000_000_000),
        )
    })
    .unwrap();
    let (found, moved, kept) = store::read(store, |tx| {
        Ok((
            tx.users_with_non_ascii_email()?,
            tx.user_by_email("uni@xn--bcher-kva.example")?,
            tx.user(plain.id)?,
        ))
    })
    .unwrap();
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(moved.map(|u| u.id), Some(unicode.id));
    assert_eq!(kept, Some(plain));
}

pub fn users_without_password_read_back_none(store: &dyn Store) {
    let mut new = new_user("sso");
    new.password_hash = None;
    new.email_verified = true;
    store::write(store, |tx| tx.insert_user(&new)).unwrap();
    let creds = store::read(store, |tx| tx.user_credentials("sso@example.com"))
        .unwrap()
        .unwrap();
    assert_eq!(creds.password_hash, None);
    assert!(creds.user.email_verified);
}

pub fn duplicate_email_and_username_are_conflicts(store: &dyn Store) {
    let first = user(store, "ada");

    let mut same_email = new_user("other");
    same_email.email = first.email.clone();
    let err = store::write(store, |tx| tx.insert_user(&same_email)).unwrap_err();
    assert_conflict(&err, "email_taken");
    assert!(
        !format!("{err:?}").contains("hash-of"),
        "no parameter values in errors"
    );

    let mut same_username = new_user("another");
    same_username.username = first.username.clone();
    let err = store::write(store, |tx| tx.insert_user(&same_username)).unwrap_err();
    assert_conflict(&err, "username_taken");

    // The store is fine afterwards, and the failed inserts left nothing.
    let next = user(store, "next");
    assert!(next.number > first.number);
    let found = store::read(store, |tx| tx.user_by_email("other@example.com")).unwrap();
    assert_eq!(found, None);
}

pub fn settings_keep_the_first_value(store: &dyn Store) {
    store::write(store, |tx| {
        tx.insert_setting_if_absent("instance_id", "first")
    })
    .unwrap();
    store::write(store, |tx| {
        tx.insert_setting_if_absent("instance_id", "second")
    })
    .unwrap();
    let (value, missing) = store::read(store, |tx| {
        Ok((tx.setting("instance_id")?, tx.setting("nope")?))
    })
    .unwrap();
    assert_eq!(value.as_deref(), Some("first"));
    assert_eq!(missing, None);
}

fn session_of(user: UserId) -> Session {
    Session {
        id: SessionId::new(),
        user_id: user,
        created_at: Timestamp(1_000),
        expires_at: Timestamp(9_000),
        revoked_at: None,
    }
}

pub fn sessions_revoke_once(store: &dyn Store) {
    let ada = user(store, "ada");
    let session = session_of(ada.id);
    store::write(store, |tx| tx.insert_session(&session)).unwrap();
    assert_eq!(
        store::read(store, |tx| tx.session(session.id)).unwrap(),
        Some(session.clone())
    );

    store::write(store, |tx| tx.revoke_session(session.id, Timestamp(2_000))).unwrap();
    store::write(store, |tx| tx.revoke_session(session.id, Timestamp(3_000))).unwrap();
    let revoked = store::read(store, |tx| tx.session(session.id))
        .unwrap()
        .unwrap();
    assert_eq!(
        revoked.revoked_at,
        Some(Timestamp(2_000)),
        "the first revocation time stays"
    );
    assert_eq!(
        store::read(store, |tx| tx.session(SessionId::new())).unwrap(),
        None
    );
}

pub fn refresh_tokens_are_single_use(store: &dyn Store) {
    let ada = user(store, "ada");
    let session = session_of(ada.id);
    store::write(store, |tx| {
        tx.insert_session(&session)?;
        tx.insert_refresh_token("hash-1", session.id, Timestamp(1_000))
    })
    .unwrap();
    let fresh = store::read(store, |tx| tx.refresh_token("hash-1"))
        .unwrap()
        .unwrap();
    assert_eq!((fresh.session_id, fresh.used_at), (session.id, None));

    assert!(store::write(store, |tx| tx.use_refresh_token("hash-1", Timestamp(2_000))).unwrap());
    assert!(!store::write(store, |tx| tx.use_refresh_token("hash-1", Timestamp(3_000))).unwrap());
    assert!(!store::write(store, |tx| tx
        .use_refresh_token("unknown", Timestamp(3_000)))
    .unwrap());
    let used = store::read(store, |tx| tx.refresh_token("hash-1"))
        .unwrap()
        .unwrap();
    assert_eq!(used.used_at, Some(Timestamp(2_000)));

    // A token for a session that does not exist is a conflict.
    let err = store::write(store, |tx| {
        tx.insert_refresh_token("hash-2", SessionId::new(), Timestamp(1))
    })
    .unwrap_err();
    assert_conflict(&err, "conflict");
}

pub fn concurrent_refresh_token_uses_succeed_once(store: &dyn Store) {
    let ada = user(store, "ada");
    let session = session_of(ada.id);
    store::write(store, |tx| {
        tx.insert_session(&session)?;
        tx.insert_refresh_token("race", session.id, Timestamp(1_000))
    })
    .unwrap();
    let wins: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                scope.spawn(move || {
                    store::write(store, |tx| {
                        tx.use_refresh_token("race", Timestamp(2_000 + i))
                    })
                    .unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    });
    assert_eq!(wins, 1);
}

pub fn only_an_unverified_account_in_no_org_is_deleted(store: &dyn Store) {
    let squatter = user(store, "squatter");
    let verified = user(store, "verified");
    let member = user(store, "member");
    store::write(store, |tx| {
        tx.set_email_verified(verified.id, Timestamp(5_000))
    })
    .unwrap();
    let org = crate::support::org(store, "Acme");
    crate::support::join(store, org.id, member.id, roster_core::role::OrgRole::Member);
    let now = Timestamp::now();
    let session = Session {
        id: SessionId::new(),
        user_id: squatter.id,
        created_at: now,
        expires_at: now.plus_secs(60),
        revoked_at: None,
    };
    store::write(store, |tx| tx.insert_session(&session)).unwrap();

    let deleted = store::write(store, |tx| {
        Ok((
            tx.delete_unverified_user(verified.id)?,
            tx.delete_unverified_user(member.id)?,
            tx.delete_unverified_user(squatter.id)?,
            tx.delete_unverified_user(squatter.id)?,
        ))
    })
    .unwrap();
    assert_eq!(deleted, (false, false, true, false));
    let (gone, session_gone, kept, still_member) = store::read(store, |tx| {
        Ok((
            tx.user(squatter.id)?,
            tx.session(session.id)?,
            tx.user(verified.id)?,
            tx.membership(org.id, member.id)?,
        ))
    })
    .unwrap();
    assert_eq!(gone, None);
    assert!(session_gone.is_none(), "its sessions go with it");
    assert!(kept.is_some() && still_member.is_some());
    // The address is free again.
    let again = user(store, "squatter");
    assert_ne!(again.id, squatter.id);
}
