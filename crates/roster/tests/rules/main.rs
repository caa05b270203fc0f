//! The rules, in process: the core's commands called directly on a real
//! store (a fresh SQLite file, and a fresh database on the throwaway
//! PostgreSQL cluster), without HTTP. Fast, and they say what the product
//! promises in the core's own words; the HTTP suite (`tests/api`) checks
//! the same rules through each surface.

use std::sync::Arc;

use roster_core::ids::{OrgId, UserId};
use roster_core::model::{Actor, Org, User};
use roster_core::role::OrgRole;
use roster_core::service::{
    Action, AddMemberOutcome, IfMember, MemberChange, MemberRef, NewAccount, NewMember,
    OwnerPolicy, RoleChangeOutcome,
};
use roster_core::{CoreConfig, Ctx, DomainError, Roster};
use roster_testkit::{Backend, TestDatabase};

/// A Roster on a fresh database of one backend.
struct World {
    roster: Arc<Roster>,
    _db: TestDatabase,
}

impl World {
    fn new(backend: Backend) -> Self {
        let db = TestDatabase::new(backend).expect("test database");
        let store = roster_store::open(db.url()).expect("open store");
        let config = CoreConfig {
            auth_rate_per_minute: 10_000,
            invitation_emails_per_hour: 10_000,
            invitation_emails_per_recipient_per_day: 10_000,
            invitation_emails_per_account_per_hour: 10_000,
            orgs_per_account_per_day: 10_000,
            ..CoreConfig::default()
        };
        let roster = Roster::new(store, config, Some(vec![7; 32])).expect("roster");
        Self {
            roster: Arc::new(roster),
            _db: db,
        }
    }

    /// A person with a verified address.
    fn person(&self, name: &str) -> (User, Ctx) {
        let email = format!("{name}@example.com");
        let user = self
            .roster
            .create_account(
                NewAccount {
                    email: &email,
                    password: "correct horse battery staple 42",
                    username: Some(name),
                    name: None,
                },
                true,
            )
            .expect("account");
        let ctx = as_user(user.id);
        (user, ctx)
    }

    /// An org owned by `owner`, with an admin, a member and a guest.
    fn org(&self, owner: &Ctx) -> (Org, [(User, Ctx); 3]) {
        let org = self
            .roster
            .create_org(owner, "Acme", None)
            .expect("create org");
        let people = [
            ("admin", OrgRole::Admin),
            ("member", OrgRole::Member),
            ("guest", OrgRole::Guest),
        ]
        .map(|(name, role)| {
            let (user, ctx) = self.person(&format!("{name}-{}", &org.id.to_string()[..8]));
            let added = self
                .roster
                .add_member(owner, org.id, &new_member(&user.email, role))
                .expect("add");
            assert!(matches!(added, AddMemberOutcome::Added(_)), "{added:?}");
            (user, ctx)
        });
        (org, people)
    }
}

fn as_user(user: UserId) -> Ctx {
    Ctx {
        actor: Actor::User(user),
        session: None,
        api_key: None,
        org_scope: None,
        request_id: "test".into(),
    }
}

fn new_member(email: &str, role: OrgRole) -> NewMember<'static> {
    NewMember::by_email(email, role).expect("email")
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, DomainError>) {
    assert!(
        matches!(result, Err(DomainError::Forbidden(_))),
        "expected 403, got {result:?}"
    );
}

fn on_both(case: fn(&World)) {
    for backend in Backend::ALL {
        case(&World::new(backend));
    }
}

#[test]
fn the_grant_a_page_renders_from_is_what_the_commands_accept() {
    on_both(|w| {
        let (_, owner) = w.person("owner");
        let (org, [(_, admin), (_, member), (_, guest)]) = w.org(&owner);
        for (ctx, role) in [
            (&owner, OrgRole::Owner),
            (&admin, OrgRole::Admin),
            (&member, OrgRole::Member),
            (&guest, OrgRole::Guest),
        ] {
            let (_, grant) = w.roster.get_org(ctx, org.id).expect("get org");
            assert_eq!(grant.role, role);
            let page = roster_core::pagination::PageRequest::parse(None, None, 100).unwrap();
            let filter = Default::default();
            let listed = w.roster.list_members(ctx, org.id, &filter, &page);
            assert_eq!(grant.allows(Action::ListMembers), listed.is_ok(), "{role}");
            let audit = w.roster.list_audit_events(ctx, org.id, &page);
            assert_eq!(grant.allows(Action::ReadAudit), audit.is_ok(), "{role}");
        }
        // Someone who is not a member learns nothing: the org does not exist.
        let (_, stranger) = w.person("stranger");
        assert!(matches!(
            w.roster.get_org(&stranger, org.id),
            Err(DomainError::NotFound { .. })
        ));
    });
}

#[test]
fn a_guest_sees_itself_and_learns_nothing_of_others() {
    on_both(|w| {
        let (_, owner) = w.person("owner");
        let (org, [(admin, _), _, (guest, guest_ctx)]) = w.org(&owner);
        let own = w
            .roster
            .get_member(&guest_ctx, org.id, &MemberRef::Id(guest.id))
            .expect("own membership");
        assert_eq!(own.role, OrgRole::Guest);
        // Another member and nobody at all answer alike.
        forbidden(
            w.roster
                .get_member(&guest_ctx, org.id, &MemberRef::Id(admin.id)),
        );
        forbidden(
            w.roster
                .get_member(&guest_ctx, org.id, &MemberRef::Id(UserId::new())),
        );
        let nobody = MemberRef::email("nobody@example.com").unwrap();
        forbidden(w.roster.get_member(&guest_ctx, org.id, &nobody));
        forbidden(
            w.roster
                .remove_member(&guest_ctx, org.id, &nobody, OwnerPolicy::Manage),
        );
        let admin_ref = MemberRef::email(&admin.email).unwrap();
        forbidden(
            w.roster
                .remove_member(&guest_ctx, org.id, &admin_ref, OwnerPolicy::Manage),
        );
        // Leaving is removing oneself, whatever names oneself.
        let me = MemberRef::email(&guest.email).unwrap();
        w.roster
            .remove_member(&guest_ctx, org.id, &me, OwnerPolicy::Manage)
            .expect("leave");
    });
}

#[test]
fn owners_are_touched_only_by_owners_and_the_last_one_stays() {
    on_both(|w| {
        let (owner_user, owner) = w.person("owner");
        let (org, [(admin_user, admin), (member_user, _), _]) = w.org(&owner);
        let owner_ref = MemberRef::Id(owner_user.id);
        forbidden(w.roster.change_member(
            &admin,
            org.id,
            &owner_ref,
            &MemberChange::role(OrgRole::Member),
            OwnerPolicy::Manage,
        ));
        forbidden(
            w.roster
                .remove_member(&admin, org.id, &owner_ref, OwnerPolicy::Manage),
        );
        // An admin cannot make anyone an owner, not even by inviting.
        forbidden(w.roster.change_member(
            &admin,
            org.id,
            &MemberRef::Id(member_user.id),
            &MemberChange::role(OrgRole::Owner),
            OwnerPolicy::Manage,
        ));
        forbidden(w.roster.add_member(
            &admin,
            org.id,
            &new_member("someone@example.com", OrgRole::Owner),
        ));
        // The last owner can neither leave nor be demoted, by any surface.
        for policy in [OwnerPolicy::Manage, OwnerPolicy::ShownAsAdmin] {
            assert!(matches!(
                w.roster.remove_member(&owner, org.id, &owner_ref, policy),
                Err(DomainError::LastOwner)
            ));
        }
        assert!(matches!(
            w.roster.change_member(
                &owner,
                org.id,
                &owner_ref,
                &MemberChange::role(OrgRole::Member),
                OwnerPolicy::Manage
            ),
            Err(DomainError::LastOwner)
        ));
        // Where owners show as admins, "make the owner an admin" is no change.
        let unchanged = w
            .roster
            .change_member(
                &owner,
                org.id,
                &owner_ref,
                &MemberChange::role(OrgRole::Admin),
                OwnerPolicy::ShownAsAdmin,
            )
            .expect("shown as admin");
        assert!(matches!(unchanged, RoleChangeOutcome::Unchanged(m) if m.role == OrgRole::Owner));
        // Where owners are refused, they stay out of reach even of owners.
        forbidden(w.roster.change_member(
            &owner,
            org.id,
            &owner_ref,
            &MemberChange::role(OrgRole::Admin),
            OwnerPolicy::Refuse,
        ));
        // An admin manages other admins.
        let (other_admin, _) = w.person("other-admin");
        w.roster
            .add_member(
                &owner,
                org.id,
                &new_member(&other_admin.email, OrgRole::Admin),
            )
            .expect("add admin");
        w.roster
            .remove_member(
                &admin,
                org.id,
                &MemberRef::Id(other_admin.id),
                OwnerPolicy::Manage,
            )
            .expect("admin removes admin");
        assert!(w
            .roster
            .get_member(&owner, org.id, &MemberRef::Id(admin_user.id))
            .is_ok());
    });
}

#[test]
fn adding_an_existing_member_changes_the_role_or_refuses_as_the_surface_asks() {
    on_both(|w| {
        let (_, owner) = w.person("owner");
        let (org, [_, (member, _), _]) = w.org(&owner);
        let again = new_member(&member.email, OrgRole::Member);
        assert!(matches!(
            w.roster.add_member(&owner, org.id, &again),
            Err(DomainError::Conflict {
                code: "already_member",
                ..
            })
        ));
        let promote = new_member(&member.email, OrgRole::Admin);
        assert!(matches!(
            w.roster.add_member(&owner, org.id, &promote),
            Ok(AddMemberOutcome::RoleUpdated(m)) if m.role == OrgRole::Admin
        ));
        let by_username = NewMember {
            who: MemberRef::Username(member.username.clone()),
            if_member: IfMember::Refuse,
            ..new_member(&member.email, OrgRole::Guest)
        };
        assert!(matches!(
            w.roster.add_member(&owner, org.id, &by_username),
            Err(DomainError::Conflict {
                code: "already_member",
                ..
            })
        ));
        // A username is never invited: an unknown one is not found.
        let unknown = NewMember {
            who: MemberRef::Username("nobody-here".into()),
            ..by_username
        };
        assert!(matches!(
            w.roster.add_member(&owner, org.id, &unknown),
            Err(DomainError::NotFound { .. })
        ));
        // An address without an account is invited.
        assert!(matches!(
            w.roster.add_member(
                &owner,
                org.id,
                &new_member("new@example.com", OrgRole::Member)
            ),
            Ok(AddMemberOutcome::Invited {
                refreshed: false,
                ..
            })
        ));
    });
}

#[test]
fn an_api_key_acts_within_its_scopes_and_its_creators_role() {
    on_both(|w| {
        let (_, owner) = w.person("owner");
        let (org, [(admin_user, admin), (member, _), _]) = w.org(&owner);
        let (_, secret) = w
            .roster
            .create_api_key(&admin, org.id, "reader", &["members:read".into()], None)
            .expect("key");
        let key_ctx = |roster: &Roster| {
            let (id, grant) = roster.authenticate_api_key(&secret).expect("key works");
            Ctx {
                actor: Actor::ApiKey(id),
                session: None,
                api_key: Some(grant),
                org_scope: None,
                request_id: "test".into(),
            }
        };
        let key = key_ctx(&w.roster);
        let who = MemberRef::Id(member.id);
        assert!(w.roster.get_member(&key, org.id, &who).is_ok());
        assert!(matches!(
            w.roster
                .remove_member(&key, org.id, &who, OwnerPolicy::Manage),
            Err(DomainError::Denied {
                code: "insufficient_scope",
                ..
            })
        ));
        // People-only actions refuse keys; another org does not exist for it.
        forbidden(
            w.roster
                .create_api_key(&key, org.id, "k", &["org:read".into()], None),
        );
        let other = w.roster.create_org(&owner, "Other", None).unwrap();
        assert!(matches!(
            w.roster.get_member(&key, other.id, &who),
            Err(DomainError::NotFound { .. })
        ));
        // Once its creator is no longer an admin, the key stops working.
        w.roster
            .change_member(
                &owner,
                org.id,
                &MemberRef::Id(admin_user.id),
                &MemberChange::role(OrgRole::Member),
                OwnerPolicy::Manage,
            )
            .unwrap();
        assert!(matches!(
            w.roster.get_member(&key, org.id, &who),
            Err(DomainError::Unauthenticated)
        ));
    });
}

#[test]
fn concurrent_demotions_of_two_owners_leave_one() {
    on_both(|w| {
        let (first_user, first) = w.person("first");
        let org = w.roster.create_org(&first, "Acme", None).unwrap();
        let (second_user, second) = w.person("second");
        w.roster
            .add_member(
                &first,
                org.id,
                &new_member(&second_user.email, OrgRole::Admin),
            )
            .unwrap();
        w.roster
            .change_member(
                &first,
                org.id,
                &MemberRef::Id(second_user.id),
                &MemberChange::role(OrgRole::Owner),
                OwnerPolicy::Manage,
            )
            .unwrap();
        let demote = |roster: Arc<Roster>, ctx: Ctx, org: OrgId, who: UserId| {
            std::thread::spawn(move || {
                roster.change_member(
                    &ctx,
                    org,
                    &MemberRef::Id(who),
                    &MemberChange::role(OrgRole::Admin),
                    OwnerPolicy::Manage,
                )
            })
        };
        let a = demote(w.roster.clone(), first.clone(), org.id, second_user.id);
        let b = demote(w.roster.clone(), second.clone(), org.id, first_user.id);
        let results = [a.join().unwrap(), b.join().unwrap()];
        let succeeded = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(succeeded, 1, "{results:?}");
        let page = roster_core::pagination::PageRequest::parse(None, None, 100).unwrap();
        let filter = roster_core::model::MemberFilter {
            query: None,
            role: Some(OrgRole::Owner),
        };
        let owners = w.roster.list_members(&first, org.id, &filter, &page);
        let owners = owners.or_else(|_| w.roster.list_members(&second, org.id, &filter, &page));
        assert_eq!(owners.unwrap().items.len(), 1);
    });
}
