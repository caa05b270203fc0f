//! The last-owner rule under concurrent requests: in one server on each
//! backend, and split across two server processes sharing one PostgreSQL.

use reqwest::StatusCode;
use roster_testkit::{Backend, RosterProcess, TestDatabase};
use serde_json::json;

use crate::{on_both_backends, PASSWORD};

/// Every owner at once: removes itself and demotes every other owner.
/// Answers the statuses seen.
async fn owner_burst(
    client: &reqwest::Client,
    bases: &[String],
    org: &str,
    owners: &[(String, String)],
) -> Vec<StatusCode> {
    let mut tasks = Vec::new();
    let mut n = 0usize;
    for (id, token) in owners {
        for (other_id, _) in owners {
            let base = bases[n % bases.len()].clone();
            n += 1;
            let client = client.clone();
            let (token, url) = if other_id == id {
                (
                    token.clone(),
                    format!("{base}/api/v1/orgs/{org}/members/{id}"),
                )
            } else {
                (
                    token.clone(),
                    format!("{base}/api/v1/orgs/{org}/members/{other_id}"),
                )
            };
            let demote = other_id != id;
            tasks.push(tokio::spawn(async move {
                let request = if demote {
                    client.patch(url).json(&json!({"member_role": "member"}))
                } else {
                    client.delete(url)
                };
                request
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("request")
                    .status()
            }));
        }
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    statuses
}

async fn count_owners(app_base: &str, client: &reqwest::Client, org: &str, token: &str) -> usize {
    let body: serde_json::Value = client
        .get(format!("{app_base}/api/v1/orgs/{org}/members?role=owner"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"].as_array().unwrap().len()
}

on_both_backends! {
    async fn a_burst_of_demotions_and_removals_leaves_exactly_one_owner(app) {
        let first = app.user("owner0@example.com").await;
        let org = app.org(&first, "Contested").await;
        let mut owners = vec![(first.id.clone(), first.token.clone())];
        for i in 1..5 {
            let owner = app.user(&format!("owner{i}@example.com")).await;
            app.add(&first, &org, &owner, "owner").await;
            owners.push((owner.id.clone(), owner.token.clone()));
        }
        let statuses = owner_burst(&app.client, std::slice::from_ref(&app.base), &org, &owners).await;
        assert!(statuses.iter().all(|s| s.is_success() || s.is_client_error()), "no 5xx: {statuses:?}");
        assert!(statuses.contains(&StatusCode::CONFLICT), "someone hit the last-owner rule: {statuses:?}");
        // Whoever is left as owner can still read the list.
        let mut remaining = 0;
        for (_, token) in &owners {
            let answer = app.get(&format!("/orgs/{org}/members?role=owner"), token).await;
            if answer.status == 200 {
                remaining = answer.body["data"].as_array().unwrap().len();
                break;
            }
        }
        assert_eq!(remaining, 1, "exactly one owner remains");
    }
}

/// Two `roster serve` processes on one PostgreSQL database; the burst is
/// split between them, so only the database can keep the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_owner_rule_holds_across_two_server_processes_on_one_postgres() {
    let (database, one, two) = tokio::task::spawn_blocking(|| {
        let database = TestDatabase::new(Backend::Postgres).expect("database");
        let env = [("ROSTER_AUTH_RATE_PER_MINUTE", "100000")];
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_roster"));
        let one = RosterProcess::spawn(bin, database.url(), &env).expect("first server");
        let two = RosterProcess::spawn(bin, database.url(), &env).expect("second server");
        (database, one, two)
    })
    .await
    .expect("start-up thread");
    let client = reqwest::Client::new();
    let bases = vec![one.base_url().to_string(), two.base_url().to_string()];

    let mut owners = Vec::new();
    for i in 0..5 {
        let email = format!("owner{i}@example.com");
        let base = &bases[i % 2];
        let signup = client
            .post(format!("{base}/api/v1/auth/signup"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(signup.status(), 201);
        let user: serde_json::Value = signup.json().await.unwrap();
        let login: serde_json::Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        owners.push((
            user["id"].as_str().unwrap().to_string(),
            login["access_token"].as_str().unwrap().to_string(),
        ));
    }
    let org: serde_json::Value = client
        .post(format!("{}/api/v1/orgs", bases[0]))
        .bearer_auth(&owners[0].1)
        .json(&json!({"name": "Shared"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = org["id"].as_str().unwrap().to_string();
    for i in 1..5 {
        let added = client
            .post(format!("{}/api/v1/orgs/{org}/members", bases[i % 2]))
            .bearer_auth(&owners[0].1)
            .json(&json!({"member_email": format!("owner{i}@example.com"), "member_role": "owner"}))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 201);
    }

    for round in 0..3 {
        let statuses = owner_burst(&client, &bases, &org, &owners).await;
        assert!(
            statuses.iter().all(|s| !s.is_server_error()),
            "round {round}: no 5xx: {statuses:?}"
        );
        let mut remaining = None;
        for (_, token) in &owners {
            let status = client
                .get(format!("{}/api/v1/orgs/{org}", bases[1]))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status();
            if status == 200 {
                remaining = Some(count_owners(&bases[1], &client, &org, token).await);
                break;
            }
        }
        assert_eq!(
            remaining,
            Some(1),
            "round {round}: exactly one owner remains"
        );
        if round < 2 {
            // Make everyone who is still a member an owner again for the next round.
            let (owner_id, owner_token) = {
                let mut found = None;
                for (id, token) in &owners {
                    let members: serde_json::Value = client
                        .get(format!("{}/api/v1/orgs/{org}/members?role=owner", bases[0]))
                        .bearer_auth(token)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap_or_default();
                    if members["data"]
                        .as_array()
                        .is_some_and(|d| d.iter().any(|m| m["member_id"] == id.as_str()))
                    {
                        found = Some((id.clone(), token.clone()));
                        break;
                    }
                }
                found.expect("an owner remains")
            };
            let _ = owner_id;
            for i in 0..5 {
                let answer = client
                    .post(format!("{}/api/v1/orgs/{org}/members", bases[i % 2]))
                    .bearer_auth(&owner_token)
                    .json(&json!({"member_email": format!("owner{i}@example.com"), "member_role": "owner"}))
                    .send()
                    .await
                    .unwrap();
                assert!(
                    answer.status() == 201 || answer.status() == 409,
                    "re-grant: {}",
                    answer.status()
                );
            }
        }
    }
    tokio::task::spawn_blocking(move || {
        one.terminate();
        two.terminate();
        drop(database);
    })
    .await
    .expect("shutdown thread");
}
