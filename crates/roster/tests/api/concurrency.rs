//! The rules that read then write, under concurrent requests: the last
//! owner in one server on each backend, and every such rule split across
//! two server processes sharing one PostgreSQL (only the database can keep
//! them there): last owner, one membership per address, one open
//! invitation per address, single-use invitations, serialised role changes.

use reqwest::{Method, StatusCode};
use roster_testkit::Backend;
use serde_json::json;

use crate::{on_both_backends, TestApp};

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
    let app = TestApp::spawn_processes(Backend::Postgres, 2).await;
    let bases = app.bases.clone();
    let first = app.user("owner0@example.com").await;
    let org = app.org(&first, "Shared").await;
    let mut owners = vec![(first.id.clone(), first.token.clone())];
    for i in 1..5 {
        let owner = app.user(&format!("owner{i}@example.com")).await;
        app.add(&first, &org, &owner, "owner").await;
        owners.push((owner.id.clone(), owner.token.clone()));
    }

    for round in 0..3 {
        let statuses = owner_burst(&app.client, &bases, &org, &owners).await;
        assert!(
            statuses.iter().all(|s| !s.is_server_error()),
            "round {round}: no 5xx: {statuses:?}"
        );
        // Exactly one owner is left, and only owners who are still members
        // can read the org.
        let mut survivors = Vec::new();
        for (id, token) in &owners {
            if app.get(&format!("/orgs/{org}"), token).await.status == 200 {
                let count = count_owners(&bases[1], &app.client, &org, token).await;
                survivors.push((id.clone(), token.clone(), count));
            }
        }
        let counts: Vec<usize> = survivors.iter().map(|s| s.2).collect();
        assert!(
            !counts.is_empty() && counts.iter().all(|&c| c == 1),
            "round {round}: exactly one owner remains: {counts:?}"
        );
        // Make everyone an owner again for the next round.
        let owner_token = {
            let mut found = None;
            for (id, token, _) in &survivors {
                let owners_now = app
                    .get(&format!("/orgs/{org}/members?role=owner"), token)
                    .await
                    .expect(200);
                if owners_now["data"][0]["member_id"] == id.as_str() {
                    found = Some(token.clone());
                }
            }
            found.expect("the remaining owner is among the survivors")
        };
        for i in 0..5 {
            let answer = app
                .post(
                    &format!("/orgs/{org}/members"),
                    &owner_token,
                    json!({"member_email": format!("owner{i}@example.com"), "member_role": "owner"}),
                )
                .await;
            assert!(
                answer.status == 201 || answer.status == 409,
                "re-grant: {}",
                answer.status
            );
        }
    }
}

/// Sends every request at once, spread over `bases` in turn, and answers
/// `(status, body)` in the order given.
async fn at_once(
    app: &TestApp,
    requests: Vec<(Method, String, String, Option<serde_json::Value>)>,
) -> Vec<(StatusCode, serde_json::Value)> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut tasks = Vec::new();
    for (n, (method, path, token, body)) in requests.into_iter().enumerate() {
        let url = format!("{}/api/v1{path}", app.bases[n % app.bases.len()]);
        let client = app.client.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let mut request = client.request(method, url).bearer_auth(token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            start.wait().await;
            let response = request.send().await.expect("request sent");
            let status = response.status();
            (status, response.json().await.unwrap_or_default())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    answers
}

fn statuses(answers: &[(StatusCode, serde_json::Value)]) -> Vec<u16> {
    answers.iter().map(|(s, _)| s.as_u16()).collect()
}

/// Many admins add the same registered address at once, on two servers:
/// one membership, one `201`, every other answer `409`, one audit event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_of_one_email_on_two_servers_make_one_membership() {
    let app = TestApp::spawn_processes(Backend::Postgres, 2).await;
    let owner = app.user("owner@example.com").await;
    let org = app.org(&owner, "Adds").await;
    for round in 0..3 {
        let email = format!("joiner{round}@example.com");
        app.user(&email).await;
        let requests = (0..8)
            .map(|_| {
                (
                    Method::POST,
                    format!("/orgs/{org}/members"),
                    owner.token.clone(),
                    Some(json!({"member_email": email, "member_role": "member"})),
                )
            })
            .collect();
        let answers = at_once(&app, requests).await;
        let seen = statuses(&answers);
        assert_eq!(
            seen.iter().filter(|&&s| s == 201).count(),
            1,
            "round {round}: {seen:?}"
        );
        assert_eq!(
            seen.iter().filter(|&&s| s == 409).count(),
            7,
            "round {round}: {seen:?}"
        );
        let members = app.roles(&org, &owner.token).await;
        assert_eq!(members.iter().filter(|(e, _)| *e == email).count(), 1);
        let added = app
            .audit_actions(&org, &owner.token)
            .await
            .iter()
            .filter(|a| *a == "member.added")
            .count();
        assert_eq!(added, round + 1, "one audit event per membership");
    }
}

/// The same address with no account, invited at once from two servers:
/// one open invitation (the others refresh it), never two.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invitations_of_one_address_on_two_servers_keep_one_open() {
    let app = TestApp::spawn_processes(Backend::Postgres, 2).await;
    let owner = app.user("owner@example.com").await;
    let org = app.org(&owner, "Invites").await;
    let requests = (0..8)
        .map(|_| {
            (
                Method::POST,
                format!("/orgs/{org}/members"),
                owner.token.clone(),
                Some(json!({"member_email": "nobody-yet@example.com", "member_role": "member"})),
            )
        })
        .collect();
    let answers = at_once(&app, requests).await;
    assert!(
        statuses(&answers).iter().all(|&s| s == 201),
        "{:?}",
        statuses(&answers)
    );
    // One read of every invitation: the mail worker may move the open one
    // from `pending` to `sent` between two filtered reads.
    let all = app
        .get(&format!("/orgs/{org}/invitations?limit=100"), &owner.token)
        .await
        .expect(200);
    let open_count = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "pending" || i["status"] == "sent")
        .count();
    assert_eq!(open_count, 1, "one open invitation: {all}");
}

/// The invitee accepts one invitation many times at once on two servers:
/// one acceptance, one membership, the rest `409 invitation_already_used`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_accepts_of_one_invitation_on_two_servers_make_one_membership() {
    let app = TestApp::spawn_processes(Backend::Postgres, 2).await;
    let owner = app.user("owner@example.com").await;
    let org = app.org(&owner, "Accepts").await;
    for round in 0..3 {
        let email = format!("invitee{round}@example.com");
        app.add_member(&owner.token, &org, &email, "member")
            .await
            .expect(201);
        let token = app.token_from_email(&email, "accept-invite").await;
        let invitee = app.user(&email).await;
        let requests = (0..8)
            .map(|_| {
                (
                    Method::POST,
                    format!("/invitations/{token}/accept"),
                    invitee.token.clone(),
                    None,
                )
            })
            .collect();
        let answers = at_once(&app, requests).await;
        let seen = statuses(&answers);
        assert_eq!(
            seen.iter().filter(|&&s| s == 200).count(),
            1,
            "round {round}: {seen:?}"
        );
        for (status, body) in &answers {
            if *status != StatusCode::OK {
                assert_eq!(*status, StatusCode::CONFLICT, "round {round}: {body}");
                assert_eq!(body["code"], "invitation_already_used");
            }
        }
        let members = app.roles(&org, &owner.token).await;
        assert_eq!(members.iter().filter(|(e, _)| *e == email).count(), 1);
        let accepted = app
            .audit_actions(&org, &owner.token)
            .await
            .iter()
            .filter(|a| *a == "invitation.accepted")
            .count();
        assert_eq!(accepted, round + 1);
    }
}

/// Admins on two servers change one member's role at once, many times:
/// the audit trail of role changes is one unbroken chain (each change
/// starts from the role the previous one left), and the member's final
/// role is the one the newest event names.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_role_changes_on_two_servers_end_in_the_state_the_last_audit_event_names() {
    let app = TestApp::spawn_processes(Backend::Postgres, 2).await;
    let owner = app.user("owner@example.com").await;
    let org = app.org(&owner, "Roles").await;
    let target = app.user("target@example.com").await;
    app.add(&owner, &org, &target, "member").await;
    let roles = ["admin", "member", "guest"];
    for round in 0..3 {
        let requests = (0..12)
            .map(|n| {
                (
                    Method::PATCH,
                    format!("/orgs/{org}/members/{}", target.id),
                    owner.token.clone(),
                    Some(json!({"member_role": roles[(n + round) % roles.len()]})),
                )
            })
            .collect();
        let answers = at_once(&app, requests).await;
        assert!(
            statuses(&answers).iter().all(|&s| s == 200),
            "round {round}: {:?}",
            statuses(&answers)
        );
        let events = app
            .get(
                &format!("/orgs/{org}/audit-events?limit=1000"),
                &owner.token,
            )
            .await
            .expect(200);
        // Oldest first: "target@example.com: member → admin", …
        let changes: Vec<(String, String)> = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .filter(|e| e["action"] == "member.role_changed")
            .map(|e| {
                let summary = e["summary"].as_str().unwrap();
                let (_, change) = summary.split_once(": ").expect("summary names the change");
                let (from, to) = change.split_once(" → ").expect("summary has from → to");
                (from.to_string(), to.to_string())
            })
            .collect();
        let mut current = "member".to_string();
        for (from, to) in &changes {
            assert_eq!(from, &current, "round {round}: broken chain {changes:?}");
            current = to.clone();
        }
        let final_role = app
            .get(&format!("/orgs/{org}/members/{}", target.id), &owner.token)
            .await
            .expect(200);
        assert_eq!(final_role["member_role"], current.as_str(), "round {round}");
    }
}
