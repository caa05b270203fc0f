//! The three surfaces over one core: a change made through any of them
//! leaves the same state, a member added through one is seen, re-roled and
//! removed through the others, and the owner protections hold on all.

use serde_json::json;

use crate::ango;
use crate::spice;
use crate::{on_both_backends, TestApp, TestUser};

/// What an org looks like from the outside: members with roles, and the
/// audit trail's actions, oldest first.
async fn state(app: &TestApp, org: &str, owner: &TestUser) -> (Vec<(String, String)>, Vec<String>) {
    let mut roles = app.roles(org, &owner.token).await;
    roles.sort();
    (roles, app.audit_actions(org, &owner.token).await)
}

#[derive(Clone, Copy, Debug)]
enum Surface {
    Tenant,
    Spice,
    Ango,
}

/// An org with an owner, a member `ada`, and an API key with every scope.
struct Setup {
    owner: TestUser,
    ada: TestUser,
    org: String,
    key: String,
}

async fn setup(app: &TestApp, n: usize) -> Setup {
    let owner = app.user(&format!("owner{n}@example.com")).await;
    let org = app.org(&owner, "Same").await;
    let ada = app.user(&format!("ada{n}@example.com")).await;
    app.add(&owner, &org, &ada, "member").await;
    let key = app.api_key(&owner, &org, &TestApp::ALL_SCOPES).await;
    Setup {
        owner,
        ada,
        org,
        key,
    }
}

async fn make_guest(app: &TestApp, surface: Surface, s: &Setup) {
    match surface {
        Surface::Tenant => {
            app.patch(
                &format!("/orgs/{}/members/{}", s.org, s.ada.id),
                &s.key,
                json!({"member_role": "guest"}),
            )
            .await
            .expect(200);
        }
        Surface::Spice => {
            let id = spice::number(app, &s.ada).await;
            spice::patch(app, &s.key, &id, json!({"roles": ["guest"]}))
                .await
                .expect(200);
        }
        Surface::Ango => {
            let answer = ango::update(
                app,
                &s.org,
                &s.key,
                json!({"users": [{"email": s.ada.email, "organizationRole": "Guest"}]}),
            )
            .await
            .expect(200);
            assert_eq!(answer["data"]["users"]["updated"], 1);
        }
    }
}

async fn remove(app: &TestApp, surface: Surface, s: &Setup) {
    match surface {
        Surface::Tenant => {
            app.delete(&format!("/orgs/{}/members/{}", s.org, s.ada.id), &s.key)
                .await
                .expect(200);
        }
        Surface::Spice => {
            let id = spice::number(app, &s.ada).await;
            assert_eq!(spice::delete(app, &s.key, &id).await.status, 204);
        }
        Surface::Ango => {
            let answer = ango::remove(app, &s.org, &s.key, json!({"users": [s.ada.email]}))
                .await
                .expect(200);
            assert_eq!(answer["data"]["deleted"], 1);
        }
    }
}

/// A state with the per-org numbers taken out, to compare orgs.
fn normalized(
    state: (Vec<(String, String)>, Vec<String>),
    n: usize,
) -> (Vec<(String, String)>, Vec<String>) {
    let (roles, actions) = state;
    let roles = roles
        .into_iter()
        .map(|(email, role)| (email.replace(&n.to_string(), "#"), role))
        .collect();
    (roles, actions)
}

on_both_backends! {
    async fn the_same_change_through_each_surface_leaves_the_same_state(app) {
        let surfaces = [Surface::Tenant, Surface::Spice, Surface::Ango];
        let mut setups = Vec::new();
        for n in 0..surfaces.len() {
            setups.push(setup(&app, n).await);
        }

        let mut after_role = Vec::new();
        for (n, (surface, s)) in surfaces.iter().zip(&setups).enumerate() {
            make_guest(&app, *surface, s).await;
            after_role.push(normalized(state(&app, &s.org, &s.owner).await, n));
        }
        for (i, other) in after_role.iter().enumerate().skip(1) {
            assert_eq!(&after_role[0], other, "{:?} and {:?} differ after a role change", surfaces[0], surfaces[i]);
        }
        assert_eq!(after_role[0].0, [("ada#@example.com".to_string(), "guest".to_string()), ("owner#@example.com".to_string(), "owner".to_string())]);

        let mut after_removal = Vec::new();
        for (n, (surface, s)) in surfaces.iter().zip(&setups).enumerate() {
            remove(&app, *surface, s).await;
            after_removal.push(normalized(state(&app, &s.org, &s.owner).await, n));
        }
        for (i, other) in after_removal.iter().enumerate().skip(1) {
            assert_eq!(&after_removal[0], other, "{:?} and {:?} differ after a removal", surfaces[0], surfaces[i]);
        }
        assert_eq!(after_removal[0].0.len(), 1);
        assert_eq!(after_removal[0].1.last().map(String::as_str), Some("member.removed"));
    }
}

on_both_backends! {
    async fn a_member_added_through_one_surface_is_seen_re_roled_and_removed_through_the_others(app) {
        let s = setup(&app, 0).await;
        let bob = app.user("bob@example.com").await;
        let bob_name = app.get("/me", &bob.token).await.expect(200)["username"].as_str().unwrap().to_string();
        let bob_id = spice::number(&app, &bob).await;

        // Added through the Members API…
        spice::add(&app, &s.key, json!({"username": bob_name, "roles": ["member", "reviewer"]})).await.expect(201);
        // …seen through the Organization API and the Tenant API…
        let listed = ango::users(&app, &s.org, &s.key, "?search=bob").await.expect(200);
        assert_eq!(listed["data"]["users"][0]["organizationRole"], "Member");
        app.get(&format!("/orgs/{}/members/{}", s.org, bob.id), &s.key).await.expect(200);
        // …re-roled through the Organization API (labels kept)…
        ango::update(&app, &s.org, &s.key, json!({"users": [{"email": "bob@example.com", "organizationRole": "Admin"}]})).await.expect(200);
        assert_eq!(spice::get(&app, &s.key, &bob_id).await.expect(200)["roles"], json!(["admin", "reviewer"]));
        let tenant = app.get(&format!("/orgs/{}/members/{}", s.org, bob.id), &s.key).await.expect(200);
        assert_eq!(tenant["member_role"], "admin");
        // …and removed through the Tenant API.
        app.delete(&format!("/orgs/{}/members/{}", s.org, bob.id), &s.key).await.expect(200);
        spice::get(&app, &s.key, &bob_id).await.expect_error(404, "member_not_found");
        assert_eq!(ango::users(&app, &s.org, &s.key, "?search=bob").await.expect(200)["data"]["users"].as_array().unwrap().len(), 0);

        // The other way round: Tenant adds, Members API re-roles, the
        // Organization API removes.
        app.post(&format!("/orgs/{}/members", s.org), &s.key, json!({"member_email": "bob@example.com", "member_role": "member"})).await.expect(201);
        spice::patch(&app, &s.key, &bob_id, json!({"roles": ["guest"]})).await.expect(200);
        assert_eq!(app.get(&format!("/orgs/{}/members/{}", s.org, bob.id), &s.key).await.expect(200)["member_role"], "guest");
        let removed = ango::remove(&app, &s.org, &s.key, json!({"users": ["bob@example.com"]})).await.expect(200);
        assert_eq!(removed["data"]["deleted"], 1);
        app.get(&format!("/orgs/{}/members/{}", s.org, bob.id), &s.key).await.expect_error(404, "member_not_found");
    }
}

on_both_backends! {
    async fn owner_protections_hold_on_every_surface(app) {
        let s = setup(&app, 0).await;
        let owner_id = spice::number(&app, &s.owner).await;
        let before = state(&app, &s.org, &s.owner).await;

        // An API key never changes or removes an owner, whatever the surface.
        app.patch(&format!("/orgs/{}/members/{}", s.org, s.owner.id), &s.key, json!({"member_role": "member"})).await.expect(403);
        app.delete(&format!("/orgs/{}/members/{}", s.org, s.owner.id), &s.key).await.expect(403);
        app.patch(&format!("/orgs/{}/members/{}", s.org, s.ada.id), &s.key, json!({"member_role": "owner"})).await.expect(403);
        spice::patch(&app, &s.key, &owner_id, json!({"roles": ["member"]})).await.expect(403);
        spice::delete(&app, &s.key, &owner_id).await.expect(403);
        let ada_id = spice::number(&app, &s.ada).await;
        spice::patch(&app, &s.key, &ada_id, json!({"roles": ["owner"]})).await.expect(403);
        let changed = ango::update(&app, &s.org, &s.key, json!({"users": [{"email": s.owner.email, "organizationRole": "Member"}]})).await.expect(200);
        assert_eq!(changed["data"]["users"]["failed"], 1);
        let removed = ango::remove(&app, &s.org, &s.key, json!({"users": [s.owner.email]})).await.expect(200);
        assert_eq!(removed["data"]["failed"], 1);

        // The last owner, by its own hand, on each surface: 409 last_owner
        // (the Members API refuses owners outright: 403).
        app.patch(&format!("/orgs/{}/members/{}", s.org, s.owner.id), &s.owner.token, json!({"member_role": "admin"})).await.expect_error(409, "last_owner");
        app.delete(&format!("/orgs/{}/members/{}", s.org, s.owner.id), &s.owner.token).await.expect_error(409, "last_owner");
        let own = app.client.delete(format!("{}/v2/organization/{}/users", app.base, s.org))
            .bearer_auth(&s.owner.token).json(&json!({"users": [s.owner.email]})).send().await.unwrap();
        let own: serde_json::Value = own.json().await.unwrap();
        assert_eq!(own["data"]["results"][0]["code"], "last_owner");

        assert_eq!(state(&app, &s.org, &s.owner).await, before, "refused requests changed something");
    }
}
