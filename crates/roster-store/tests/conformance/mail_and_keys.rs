//! Cases for the outbox, email verification, invitation queries, API keys,
//! labels and the page-numbered member list.

use roster_core::ids::{ApiKeyId, InvitationId, OrgId, OutboxEmailId, ProjectId};
use roster_core::model::{
    ApiKey, EmailVerification, Invitation, InvitationFilter, InvitationStatus, MemberFilter,
    OutboxEmail,
};
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::scope::Scope;
use roster_core::store::{self, Store};
use roster_core::time::Timestamp;

use crate::support::{join, org, user};

fn email(to: &str, invitation: Option<InvitationId>, due: i64) -> OutboxEmail {
    OutboxEmail {
        id: OutboxEmailId::new(),
        to: to.to_string(),
        subject: "Hello".into(),
        text_body: "text".into(),
        html_body: "<p>html</p>".into(),
        invitation_id: invitation,
        attempts: 0,
        next_attempt_at: Timestamp(due),
        last_error: None,
        created_at: Timestamp(due),
        sent_at: None,
    }
}

fn invitation(org: OrgId, email: &str, token: &str, expires_at: i64) -> Invitation {
    Invitation {
        id: InvitationId::new(),
        org_id: org,
        email: email.to_string(),
        role: OrgRole::Member,
        message: String::new(),
        status: InvitationStatus::Pending,
        project_assignments: vec![(ProjectId::new(), ProjectRole::Member)],
        token_hash: token.to_string(),
        created_by: None,
        created_at: Timestamp(1_000),
        expires_at: Timestamp(expires_at),
    }
}

pub fn outbox_emails_are_claimed_once_and_delivery_marks_the_invitation_sent(store: &dyn Store) {
    let acme = org(store, "Acme");
    let invite = invitation(acme.id, "eve@example.com", "tok-1", 100_000);
    let (first, second) = (
        email("eve@example.com", Some(invite.id), 1_000),
        email("bob@example.com", None, 5_000),
    );
    store::write(store, |tx| {
        tx.insert_invitation(&invite)?;
        tx.insert_outbox_email(&first)?;
        tx.insert_outbox_email(&second)
    })
    .unwrap();
    assert_eq!(store::read(store, |tx| tx.outbox_backlog()).unwrap(), 2);
    assert_eq!(
        store::read(store, |tx| tx.oldest_undelivered_outbox_email()).unwrap(),
        Some(first.created_at),
        "the backlog's age is that of its oldest email"
    );
    let due = store::read(store, |tx| tx.due_outbox_emails(Timestamp(2_000), 10)).unwrap();
    assert_eq!(due, vec![first.clone()], "only what is due, oldest first");

    let claim = |now, until| {
        store::write(store, |tx| {
            tx.claim_outbox_email(first.id, Timestamp(now), Timestamp(until))
        })
        .unwrap()
    };
    assert!(claim(2_000, 60_000));
    assert!(!claim(2_001, 60_000), "leased");
    assert!(
        store::read(store, |tx| tx.due_outbox_emails(Timestamp(3_000), 10))
            .unwrap()
            .is_empty()
    );

    store::write(store, |tx| {
        tx.mark_outbox_email_failed(first.id, 1, Timestamp(4_000), "connection refused")
    })
    .unwrap();
    let retried = store::read(store, |tx| tx.due_outbox_emails(Timestamp(4_000), 10)).unwrap();
    assert_eq!(retried[0].attempts, 1);
    assert_eq!(retried[0].last_error.as_deref(), Some("connection refused"));

    store::write(store, |tx| {
        tx.mark_outbox_email_sent(first.id, Timestamp(4_500))
    })
    .unwrap();
    let sent = store::read(store, |tx| {
        tx.list_outbox_emails(Some("eve@example.com"), 10)
    })
    .unwrap();
    assert_eq!(sent[0].sent_at, Some(Timestamp(4_500)));
    assert_eq!(sent[0].attempts, 2);
    assert_eq!(
        store::read(store, |tx| tx.invitation(invite.id))
            .unwrap()
            .unwrap()
            .status,
        InvitationStatus::Sent
    );
    assert!(!claim(999_999, 1_000_000), "sent is final");
    assert_eq!(store::read(store, |tx| tx.outbox_backlog()).unwrap(), 1);
    assert_eq!(
        store::read(store, |tx| tx.oldest_undelivered_outbox_email()).unwrap(),
        Some(second.created_at),
        "a delivered email leaves the backlog"
    );
    assert_eq!(
        store::read(store, |tx| tx.list_outbox_emails(None, 10))
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store::read(store, |tx| tx
            .count_invitation_emails_since(acme.id, Timestamp(0)))
        .unwrap(),
        1
    );
    assert_eq!(
        store::read(store, |tx| tx
            .count_invitation_emails_since(acme.id, Timestamp(1_001)))
        .unwrap(),
        0
    );
}

pub fn concurrent_claims_of_one_email_succeed_once(store: &dyn Store) {
    let queued = email("race@example.com", None, 1_000);
    store::write(store, |tx| tx.insert_outbox_email(&queued)).unwrap();
    let wins = std::thread::scope(|scope| {
        let claims: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    store::write(store, |tx| {
                        tx.claim_outbox_email(queued.id, Timestamp(2_000), Timestamp(9_000))
                    })
                    .unwrap()
                })
            })
            .collect();
        claims
            .into_iter()
            .map(|c| c.join().unwrap())
            .filter(|won| *won)
            .count()
    });
    assert_eq!(wins, 1);
}

pub fn email_verifications_are_single_use(store: &dyn Store) {
    let ada = user(store, "ada");
    let verification = EmailVerification {
        user_id: ada.id,
        email: ada.email.clone(),
        expires_at: Timestamp(9_000),
        used_at: None,
    };
    store::write(store, |tx| {
        tx.insert_email_verification("vh", &verification, Timestamp(1_000))
    })
    .unwrap();
    assert_eq!(
        store::read(store, |tx| tx.email_verification("vh")).unwrap(),
        Some(verification)
    );
    assert!(store::write(store, |tx| tx
        .use_email_verification("vh", Timestamp(2_000)))
    .unwrap());
    assert!(!store::write(store, |tx| tx
        .use_email_verification("vh", Timestamp(3_000)))
    .unwrap());
    assert_eq!(
        store::read(store, |tx| tx.email_verification("vh"))
            .unwrap()
            .unwrap()
            .used_at,
        Some(Timestamp(2_000))
    );
    assert_eq!(
        store::read(store, |tx| tx.email_verification("nope")).unwrap(),
        None
    );
    store::write(store, |tx| tx.set_email_verified(ada.id, Timestamp(5_000))).unwrap();
    assert!(
        store::read(store, |tx| tx.user(ada.id))
            .unwrap()
            .unwrap()
            .email_verified
    );
}

pub fn invitation_lists_judge_expiry_at_the_given_time(store: &dyn Store) {
    let acme = org(store, "Acme");
    let live = invitation(acme.id, "live@example.com", "h-live", 50_000);
    let stale = invitation(acme.id, "stale@example.com", "h-stale", 5_000);
    let mut revoked = invitation(acme.id, "gone@example.com", "h-gone", 50_000);
    revoked.status = InvitationStatus::Revoked;
    store::write(store, |tx| {
        tx.insert_invitation(&live)?;
        tx.insert_invitation(&stale)?;
        tx.insert_invitation(&revoked)
    })
    .unwrap();
    let now = Timestamp(10_000);
    let list = |status| {
        store::read(store, |tx| {
            tx.list_invitations(acme.id, &InvitationFilter { status, now }, None, 10)
        })
        .unwrap()
        .into_iter()
        .map(|i| i.email)
        .collect::<Vec<_>>()
    };
    assert_eq!(list(None).len(), 3);
    assert_eq!(
        list(Some(InvitationStatus::Pending)),
        vec!["live@example.com"]
    );
    assert_eq!(
        list(Some(InvitationStatus::Expired)),
        vec!["stale@example.com"]
    );
    assert_eq!(
        list(Some(InvitationStatus::Revoked)),
        vec!["gone@example.com"]
    );
    assert_eq!(
        store::read(store, |tx| tx.invitation_by_token_hash("h-live"))
            .unwrap()
            .map(|i| i.id),
        Some(live.id)
    );
    let open_for = store::read(store, |tx| {
        tx.list_open_invitations_for_email("stale@example.com", now, None, 10)
    })
    .unwrap();
    assert!(open_for.is_empty(), "expired invitations are not open");
    let page = store::read(store, |tx| {
        tx.list_open_invitations_offset(acme.id, Timestamp(1_000), 1, 10)
    })
    .unwrap();
    assert_eq!(
        page.len(),
        1,
        "two open at t=1000, the second page of size 1 holds one"
    );
}

fn key(org: OrgId, name: &str) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new(),
        org_id: org,
        name: name.to_string(),
        scopes: vec![Scope::MembersRead, Scope::AuditRead],
        created_by: None,
        created_at: Timestamp(1_000),
        last_used_at: None,
        expires_at: Some(Timestamp(99_000)),
        revoked_at: None,
    }
}

pub fn api_keys_are_found_by_hash_listed_touched_and_revoked(store: &dyn Store) {
    let (acme, other) = (org(store, "Acme"), org(store, "Other"));
    let (ci, bot) = (key(acme.id, "ci"), key(acme.id, "bot"));
    store::write(store, |tx| {
        tx.insert_api_key(&ci, "hash-ci")?;
        tx.insert_api_key(&bot, "hash-bot")
    })
    .unwrap();
    assert_eq!(
        store::read(store, |tx| tx.api_key_by_hash("hash-ci")).unwrap(),
        Some(ci.clone())
    );
    assert_eq!(
        store::read(store, |tx| tx.api_key(other.id, ci.id)).unwrap(),
        None,
        "keys are org-bound"
    );
    let listed = store::read(store, |tx| tx.list_api_keys(acme.id, None, 10)).unwrap();
    assert_eq!(listed, vec![ci.clone(), bot.clone()]);
    assert_eq!(
        store::read(store, |tx| tx.list_api_keys(acme.id, Some(ci.id), 10)).unwrap(),
        vec![bot.clone()]
    );
    store::write(store, |tx| {
        tx.touch_api_key(ci.id, Timestamp(2_000))?;
        tx.revoke_api_key(ci.id, Timestamp(3_000))
    })
    .unwrap();
    let read = store::read(store, |tx| tx.api_key(acme.id, ci.id))
        .unwrap()
        .unwrap();
    assert_eq!(
        (read.last_used_at, read.revoked_at),
        (Some(Timestamp(2_000)), Some(Timestamp(3_000)))
    );
    let duplicate = store::write(store, |tx| {
        tx.insert_api_key(&key(acme.id, "dup"), "hash-ci")
    });
    assert!(
        matches!(duplicate, Err(roster_core::DomainError::Conflict { .. })),
        "{duplicate:?}"
    );
}

pub fn labels_usernames_numbers_and_numbered_pages(store: &dyn Store) {
    let acme = org(store, "Acme");
    let users: Vec<_> = (0..5).map(|i| user(store, &format!("user{i}"))).collect();
    for u in &users {
        join(store, acme.id, u.id, OrgRole::Member);
    }
    let labels = vec!["billing".to_string(), "on-call".to_string()];
    store::write(store, |tx| {
        tx.update_membership_labels(acme.id, users[2].id, &labels)
    })
    .unwrap();
    assert_eq!(
        store::read(store, |tx| tx.member(acme.id, users[2].id))
            .unwrap()
            .unwrap()
            .labels,
        labels
    );
    assert_eq!(
        store::read(store, |tx| tx.user_by_username("user3"))
            .unwrap()
            .map(|u| u.id),
        Some(users[3].id)
    );
    assert_eq!(
        store::read(store, |tx| tx.user_by_number(users[4].number))
            .unwrap()
            .map(|u| u.id),
        Some(users[4].id)
    );
    assert_eq!(
        store::read(store, |tx| tx.user_by_number(999_999)).unwrap(),
        None
    );
    let page = |offset| {
        store::read(store, |tx| {
            tx.list_members_offset(acme.id, &MemberFilter::default(), offset, 2)
        })
        .unwrap()
        .into_iter()
        .map(|m| m.user.id)
        .collect::<Vec<_>>()
    };
    assert_eq!(page(0), vec![users[0].id, users[1].id]);
    assert_eq!(page(4), vec![users[4].id]);
    let search = MemberFilter {
        query: Some("user3".into()),
        role: None,
    };
    assert_eq!(
        store::read(store, |tx| tx.list_members_offset(acme.id, &search, 0, 10))
            .unwrap()
            .len(),
        1
    );
}
