//! Cases for projects, project members, invitations and audit events.

use roster_core::ids::{AuditEventId, InvitationId, OrgId, ProjectId, UserId};
use roster_core::model::{AuditEvent, AuditFilter, Invitation, InvitationStatus, Project};
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::store::{self, Store};
use roster_core::time::Timestamp;
use roster_core::types::ResourceStatus;

use crate::support::{assert_conflict, join, org, user, walk_pages};

/// Inserts a project of `org` (also a fixture for other cases).
pub fn project(store: &dyn Store, org: OrgId, name: &str) -> Project {
    let project = Project {
        id: ProjectId::new(),
        org_id: org,
        name: name.to_string(),
        description: format!("about {name}"),
        status: ResourceStatus::Active,
        created_at: Timestamp(5_000),
        updated_at: Timestamp(5_000),
    };
    store::write(store, |tx| tx.insert_project(&project)).unwrap();
    project
}

pub fn projects_crud_and_pages(store: &dyn Store) {
    let (acme, other) = (org(store, "Acme"), org(store, "Other"));
    let mut made: Vec<Project> = (0..9)
        .map(|i| project(store, acme.id, &format!("p{i}")))
        .collect();
    project(store, other.id, "not listed");

    let mut first = made[0].clone();
    assert_eq!(
        store::read(store, |tx| tx.project(acme.id, first.id)).unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store::read(store, |tx| tx.project(other.id, first.id)).unwrap(),
        None,
        "scoped by org"
    );

    first.name = "renamed".into();
    first.status = ResourceStatus::Archived;
    first.updated_at = Timestamp(6_000);
    store::write(store, |tx| tx.update_project(&first)).unwrap();
    made[0] = first.clone();
    assert_eq!(
        store::read(store, |tx| tx.project(acme.id, first.id)).unwrap(),
        Some(first.clone())
    );

    let page = |after| store::read(store, |tx| tx.list_projects(acme.id, after, 4));
    let pages = walk_pages(4, page, |p| p.id);
    made.sort_by_key(|p| p.id);
    assert_eq!(pages, made);

    store::write(store, |tx| tx.delete_project(other.id, first.id)).unwrap();
    assert!(
        store::read(store, |tx| tx.project(acme.id, first.id))
            .unwrap()
            .is_some(),
        "wrong org: kept"
    );
    store::write(store, |tx| tx.delete_project(acme.id, first.id)).unwrap();
    assert_eq!(
        store::read(store, |tx| tx.project(acme.id, first.id)).unwrap(),
        None
    );
}

pub fn project_members_crud_and_pages(store: &dyn Store) {
    let acme = org(store, "Acme");
    let p = project(store, acme.id, "p");
    let mut users: Vec<_> = (0..7).map(|i| user(store, &format!("pm-{i}"))).collect();
    store::write(store, |tx| {
        for u in &users {
            tx.insert_project_member(p.id, u.id, ProjectRole::Member, Timestamp(7))?;
        }
        Ok(())
    })
    .unwrap();
    let err = store::write(store, |tx| {
        tx.insert_project_member(p.id, users[0].id, ProjectRole::Admin, Timestamp(8))
    })
    .unwrap_err();
    assert_conflict(&err, "conflict");

    store::write(store, |tx| {
        tx.update_project_member_role(p.id, users[1].id, ProjectRole::Admin)
    })
    .unwrap();
    let pm = store::read(store, |tx| tx.project_member(p.id, users[1].id))
        .unwrap()
        .unwrap();
    assert_eq!(
        (pm.role, pm.email.as_str(), pm.created_at),
        (ProjectRole::Admin, "pm-1@example.com", Timestamp(7))
    );

    store::write(store, |tx| tx.delete_project_member(p.id, users[2].id)).unwrap();
    let removed = users.remove(2);
    assert_eq!(
        store::read(store, |tx| tx.project_member(p.id, removed.id)).unwrap(),
        None
    );

    let first = store::read(store, |tx| tx.list_project_members(p.id, None, 4)).unwrap();
    let rest = store::read(store, |tx| {
        tx.list_project_members(p.id, first.last().map(|m| m.user_id), 4)
    })
    .unwrap();
    users.sort_by_key(|u| u.id);
    let listed: Vec<UserId> = first.iter().chain(&rest).map(|m| m.user_id).collect();
    assert_eq!(listed, users.iter().map(|u| u.id).collect::<Vec<_>>());
}

fn invitation(org: OrgId, email: &str, token: &str) -> Invitation {
    Invitation {
        id: InvitationId::new(),
        org_id: org,
        email: email.to_string(),
        role: OrgRole::Member,
        message: "welcome".into(),
        status: InvitationStatus::Pending,
        project_assignments: vec![(ProjectId::new(), ProjectRole::Admin)],
        token_hash: token.to_string(),
        created_by: None,
        created_at: Timestamp(1_000),
        expires_at: Timestamp(10_000),
    }
}

pub fn one_open_invitation_per_address(store: &dyn Store) {
    let (acme, other) = (org(store, "Acme"), org(store, "Other"));
    let ada = user(store, "ada");
    let mut first = invitation(acme.id, "eve@example.com", "t1");
    first.created_by = Some(ada.id);
    store::write(store, |tx| tx.insert_invitation(&first)).unwrap();
    let open = store::read(store, |tx| tx.open_invitation(acme.id, "eve@example.com")).unwrap();
    assert_eq!(open, Some(first.clone()));

    let err = store::write(store, |tx| {
        tx.insert_invitation(&invitation(acme.id, "eve@example.com", "t2"))
    })
    .unwrap_err();
    assert_conflict(&err, "invitation_exists");
    // The same address may be invited to another org.
    store::write(store, |tx| {
        tx.insert_invitation(&invitation(other.id, "eve@example.com", "t3"))
    })
    .unwrap();

    // Refresh it, then close it: a new one may then be created.
    let mut refreshed = Invitation {
        role: OrgRole::Admin,
        status: InvitationStatus::Sent,
        token_hash: "t4".into(),
        expires_at: Timestamp(20_000),
        project_assignments: vec![],
        ..first.clone()
    };
    store::write(store, |tx| {
        tx.update_invitation(&refreshed, Timestamp(5_000))
    })
    .unwrap();
    assert_eq!(
        store::read(store, |tx| tx.open_invitation(acme.id, "eve@example.com")).unwrap(),
        Some(refreshed.clone())
    );
    refreshed.status = InvitationStatus::Accepted;
    store::write(store, |tx| {
        tx.update_invitation(&refreshed, Timestamp(5_000))
    })
    .unwrap();
    assert_eq!(
        store::read(store, |tx| tx.open_invitation(acme.id, "eve@example.com")).unwrap(),
        None
    );
    store::write(store, |tx| {
        tx.insert_invitation(&invitation(acme.id, "eve@example.com", "t5"))
    })
    .unwrap();

    let err = store::write(store, |tx| {
        tx.insert_invitation(&invitation(acme.id, "zed@example.com", "t5"))
    })
    .unwrap_err();
    assert_conflict(&err, "conflict"); // the same token hash
}

pub fn open_invitations_gate_signup_until_they_expire(store: &dyn Store) {
    let acme = org(store, "Acme");
    let mut declined = invitation(acme.id, "dee@example.com", "d1");
    declined.status = InvitationStatus::Declined;
    store::write(store, |tx| {
        tx.insert_invitation(&invitation(acme.id, "eve@example.com", "e1"))?;
        tx.insert_invitation(&declined)
    })
    .unwrap();
    let check = |email: &str, now: i64| {
        store::read(store, |tx| tx.has_open_invitation(email, Timestamp(now))).unwrap()
    };
    assert!(check("eve@example.com", 9_999));
    assert!(!check("eve@example.com", 10_000), "expired");
    assert!(!check("dee@example.com", 5_000), "not open");
    assert!(!check("nobody@example.com", 5_000));
}

fn event(org: OrgId, n: usize) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        org_id: org,
        actor_type: "user".into(),
        actor_id: UserId::new().to_string(),
        action: "org.updated".into(),
        target_type: "org".into(),
        target_id: org.to_string(),
        summary: format!("event {n}"),
        request_id: format!("req-{n}"),
        created_at: Timestamp(n as i64),
    }
}

pub fn audit_events_page_newest_first(store: &dyn Store) {
    let (acme, other) = (org(store, "Acme"), org(store, "Other"));
    let mut events = Vec::new();
    for n in 0..23 {
        let e = event(acme.id, n);
        store::write(store, |tx| tx.insert_audit_event(&e)).unwrap();
        events.push(e);
        let noise = event(other.id, n);
        store::write(store, |tx| tx.insert_audit_event(&noise)).unwrap();
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.id));
    let page = |before| store::read(store, |tx| tx.list_audit_events(acme.id, before, 5));
    let seen = walk_pages(5, page, |e| e.id);
    assert_eq!(seen, events);
}

pub fn delete_org_cascades_but_keeps_audit_events(store: &dyn Store) {
    let (acme, other) = (org(store, "Acme"), org(store, "Other"));
    let ada = user(store, "ada");
    join(store, acme.id, ada.id, OrgRole::Owner);
    join(store, other.id, ada.id, OrgRole::Owner);
    let p = project(store, acme.id, "p");
    let kept = project(store, other.id, "kept");
    let inv = invitation(acme.id, "eve@example.com", "t1");
    let e = event(acme.id, 1);
    store::write(store, |tx| {
        tx.insert_project_member(p.id, ada.id, ProjectRole::Admin, Timestamp(1))?;
        tx.insert_project_member(kept.id, ada.id, ProjectRole::Admin, Timestamp(1))?;
        tx.insert_invitation(&inv)?;
        tx.insert_audit_event(&e)
    })
    .unwrap();

    store::write(store, |tx| tx.delete_org(acme.id)).unwrap();
    let state = store::read(store, |tx| {
        Ok((
            tx.org(acme.id)?.is_none(),
            tx.membership(acme.id, ada.id)?.is_none(),
            tx.project(acme.id, p.id)?.is_none(),
            tx.project_member(p.id, ada.id)?.is_none(),
            tx.open_invitation(acme.id, "eve@example.com")?.is_none(),
            tx.list_audit_events(acme.id, None, 10)?,
            tx.membership(other.id, ada.id)?.is_some()
                && tx.project_member(kept.id, ada.id)?.is_some(),
            tx.user(ada.id)?.is_some(),
        ))
    })
    .unwrap();
    assert_eq!(state, (true, true, true, true, true, vec![e], true, true));
}

pub fn audit_events_filter_by_actor_and_action_and_page(store: &dyn Store) {
    let (acme, other) = (org(store, "Acme"), org(store, "Other"));
    let (ada, bob) = (UserId::new().to_string(), UserId::new().to_string());
    let mut expected = Vec::new();
    for n in 0..12 {
        let mut e = event(acme.id, n);
        e.actor_id = if n % 2 == 0 { ada.clone() } else { bob.clone() };
        e.action = if n % 3 == 0 {
            "member.added".into()
        } else {
            "org.updated".into()
        };
        store::write(store, |tx| tx.insert_audit_event(&e)).unwrap();
        if e.actor_id == ada && e.action == "member.added" {
            expected.push(e.clone());
        }
        // Same actor and action in another org: never seen from Acme.
        let mut noise = event(other.id, n);
        noise.actor_id = ada.clone();
        noise.action = "member.added".into();
        store::write(store, |tx| tx.insert_audit_event(&noise)).unwrap();
    }
    expected.sort_by_key(|e| std::cmp::Reverse(e.id));
    assert_eq!(expected.len(), 2, "events 0 and 6");
    let both = AuditFilter {
        actor_id: Some(ada.clone()),
        action: Some("member.added".into()),
    };
    // One per page, to walk the keyset with the filters on.
    let page = |before| {
        store::read(store, |tx| {
            tx.list_audit_events_matching(acme.id, &both, before, 1)
        })
    };
    let seen = walk_pages(1, page, |e| e.id);
    assert_eq!(seen, expected);

    let by_actor = AuditFilter {
        actor_id: Some(bob.clone()),
        action: None,
    };
    let bobs = store::read(store, |tx| {
        tx.list_audit_events_matching(acme.id, &by_actor, None, 100)
    })
    .unwrap();
    assert_eq!(bobs.len(), 6);
    assert!(bobs.iter().all(|e| e.actor_id == bob));
    let by_action = AuditFilter {
        actor_id: None,
        action: Some("member.added".into()),
    };
    let added = store::read(store, |tx| {
        tx.list_audit_events_matching(acme.id, &by_action, None, 100)
    })
    .unwrap();
    assert_eq!(added.len(), 4);
    let everything = store::read(store, |tx| {
        tx.list_audit_events_matching(acme.id, &AuditFilter::default(), None, 100)
    })
    .unwrap();
    let unfiltered = store::read(store, |tx| tx.list_audit_events(acme.id, None, 100)).unwrap();
    assert_eq!(everything, unfiltered);
    let nobody = AuditFilter {
        actor_id: Some("nobody".into()),
        action: None,
    };
    assert!(store::read(store, |tx| tx
        .list_audit_events_matching(acme.id, &nobody, None, 100))
    .unwrap()
    .is_empty());
}

pub fn actor_events_are_counted_across_orgs_since_a_time(store: &dyn Store) {
    let (acme, other) = (org(store, "Acme"), org(store, "Other"));
    let (ada, bob) = (UserId::new().to_string(), UserId::new().to_string());
    for (n, org_id, actor, action) in [
        (10, acme.id, &ada, "member.added"),
        (20, other.id, &ada, "member.added"),
        (30, acme.id, &ada, "member.removed"),
        (40, acme.id, &bob, "member.added"),
        (5, acme.id, &ada, "member.added"),
    ] {
        let mut e = event(org_id, n);
        e.actor_id = actor.clone();
        e.action = action.into();
        store::write(store, |tx| tx.insert_audit_event(&e)).unwrap();
    }
    let count = |actor: &str, since: i64| {
        store::read(store, |tx| {
            tx.count_actor_events_since(actor, "member.added", Timestamp(since))
        })
        .unwrap()
    };
    assert_eq!(count(&ada, 0), 3, "every org, only this action");
    assert_eq!(count(&ada, 10), 2, "from `since` on, inclusive");
    assert_eq!(count(&ada, 21), 0);
    assert_eq!(count(&bob, 0), 1);
    assert_eq!(count(&UserId::new().to_string(), 0), 0);
}
