//! The data set: an org of N members seeded through the store's bulk path
//! (`roster_store::bulk`), plus the admin who calls, their access token
//! and an API key, obtained through the core services as in production.

use std::time::{Duration, Instant};

use anyhow::Context;
use roster_core::ids::{OrgId, UserId};
use roster_core::model::{Actor, NewUser};
use roster_core::role::OrgRole;
use roster_core::service::NewAccount;
use roster_core::time::Timestamp;
use roster_core::{CoreConfig, Ctx, Roster};
use roster_store::bulk::BulkLoader;

/// Users per bulk transaction.
const BATCH: usize = 50_000;
/// The word that the search scenario looks for; a few members carry it.
pub const SEARCH_WORD: &str = "zebulon";
/// How many members carry `SEARCH_WORD`.
pub const SEARCH_HITS: usize = 5;

pub struct Seeded {
    pub org: OrgId,
    pub access_token: String,
    pub api_key: String,
    /// Every member's id, in id order (the order of the member list).
    pub members: Vec<UserId>,
    /// Users who are not members, one per connection, for the write path.
    pub spares: Vec<(UserId, String)>,
    pub seeding: Duration,
}

pub fn seed(url: &str, members: usize, connections: usize) -> anyhow::Result<Seeded> {
    let store = roster_store::open(url).map_err(anyhow::Error::msg)?;
    let roster = Roster::new(store, CoreConfig::default(), None)?;
    let password = "bench admin password";
    let admin = roster.create_account(
        NewAccount {
            email: "admin@bench.example",
            password,
            username: Some("benchadmin"),
            name: Some("Bench Admin"),
        },
        true,
    )?;
    let pair = roster.login("admin@bench.example", password, "bench")?;
    let who = roster.authenticate_access_token(&pair.access_token)?;
    let ctx = Ctx {
        actor: Actor::User(admin.id),
        session: Some(who.session),
        api_key: None,
        org_scope: None,
        request_id: "bench-seed".into(),
    };
    let org = roster.create_org(&ctx, "Bench", Some("the benchmark org"))?;
    let scopes: Vec<String> = [
        "org:read",
        "org:write",
        "members:read",
        "members:write",
        "projects:read",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (_, api_key) = roster.create_api_key(&ctx, org.id, "bench", &scopes, None)?;

    let began = Instant::now();
    let mut loader = BulkLoader::open(url).map_err(anyhow::Error::msg)?;
    let mut ids = Vec::with_capacity(members + 1);
    ids.push(admin.id);
    // The owner is a member already: seed the other N - 1.
    let to_seed = members.saturating_sub(1);
    let every = (to_seed / SEARCH_HITS).max(1);
    let mut batch = Vec::with_capacity(BATCH.min(to_seed));
    for i in 0..to_seed {
        let name = if i % every == every / 2 {
            format!("Member {i} {}", capitalised(SEARCH_WORD))
        } else {
            format!("Member {i}")
        };
        let user = new_user(format!("member{i:07}"), name);
        ids.push(user.id);
        batch.push(user);
        if batch.len() == BATCH {
            loader
                .insert(&batch, Some((org.id, OrgRole::Member)))
                .map_err(anyhow::Error::msg)?;
            batch.clear();
        }
    }
    loader
        .insert(&batch, Some((org.id, OrgRole::Member)))
        .map_err(anyhow::Error::msg)?;
    let spares: Vec<NewUser> = (0..connections)
        .map(|c| new_user(format!("spare{c:03}"), format!("Spare {c}")))
        .collect();
    loader.insert(&spares, None).map_err(anyhow::Error::msg)?;
    loader.finish().map_err(anyhow::Error::msg)?;
    let seeding = began.elapsed();
    ids.sort();
    Ok(Seeded {
        org: org.id,
        access_token: pair.access_token,
        api_key,
        members: ids,
        spares: spares.into_iter().map(|u| (u.id, u.email)).collect(),
        seeding,
    })
}

fn new_user(username: String, name: String) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: format!("{username}@bench.example"),
        username,
        name,
        password_hash: None,
        email_verified: true,
        created_at: Timestamp::now(),
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .context("empty word")
        .unwrap_or_default()
}
