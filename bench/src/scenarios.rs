//! The scenarios of the benchmark (issue 7): what each connection sends.

use std::sync::Arc;

use hyper::Method;
use roster_core::pagination::encode_cursor;

use crate::load::{Call, Plan};
use crate::seed::{Seeded, SEARCH_WORD};

pub struct Scenario {
    pub name: &'static str,
    pub plan: Plan,
    /// Whether an iteration is a pair of requests (add then remove).
    pub pair: bool,
    /// Whether only people may do it (API keys have no user, so `GET
    /// /orgs`, the caller's own orgs, answers them 403 by design).
    pub people_only: bool,
}

fn fixed(calls: Vec<Call>) -> Plan {
    Arc::new(move |_, _| calls.clone())
}

/// `/healthz`: the floor every ratio is measured against.
pub fn floor() -> Scenario {
    Scenario {
        name: "/healthz (floor)",
        plan: fixed(vec![Call::get("/healthz")]),
        pair: false,
        people_only: false,
    }
}

/// Members list, first page of 50: also the one-connection latency probe.
pub fn first_page(seeded: &Seeded, limit: usize) -> Scenario {
    let org = seeded.org;
    Scenario {
        name: if limit == 50 {
            "list members, first page, limit=50"
        } else {
            "list members, first page, limit=100"
        },
        plan: fixed(vec![Call::get(format!(
            "/api/v1/orgs/{org}/members?limit={limit}"
        ))]),
        pair: false,
        people_only: false,
    }
}

/// Every scenario; `round` (0 for the access token, 1 for the API key)
/// picks role-change targets that the other round has not touched.
pub fn all(seeded: &Seeded, round: usize) -> Vec<Scenario> {
    let org = seeded.org;
    let members = &seeded.members;
    let deep = members[members.len() * 9 / 10];
    let deep_cursor = encode_cursor(&deep.to_string());
    let one = members[members.len() / 2];
    let spares = Arc::new(seeded.spares.clone());
    // Role changes: each connection flips its own member between member
    // and admin (the owner, first in `members` or not, is never picked).
    let targets: Arc<Vec<String>> = Arc::new(
        (0..seeded.spares.len())
            .map(|c| members[members.len() / 3 + round * seeded.spares.len() + c].to_string())
            .collect(),
    );
    vec![
        first_page(seeded, 50),
        first_page(seeded, 100),
        Scenario {
            name: "list members, page at 90 % (cursor), limit=50",
            plan: fixed(vec![Call::get(format!(
                "/api/v1/orgs/{org}/members?limit=50&cursor={deep_cursor}"
            ))]),
            pair: false,
            people_only: false,
        },
        Scenario {
            name: "search members, q= matching a few",
            plan: fixed(vec![Call::get(format!(
                "/api/v1/orgs/{org}/members?limit=50&q={SEARCH_WORD}"
            ))]),
            pair: false,
            people_only: false,
        },
        Scenario {
            name: "get one member",
            plan: fixed(vec![Call::get(format!("/api/v1/orgs/{org}/members/{one}"))]),
            pair: false,
            people_only: false,
        },
        Scenario {
            name: "get org",
            plan: fixed(vec![Call::get(format!("/api/v1/orgs/{org}"))]),
            pair: false,
            people_only: false,
        },
        Scenario {
            name: "list my orgs",
            plan: fixed(vec![Call::get("/api/v1/orgs")]),
            pair: false,
            people_only: true,
        },
        Scenario {
            name: "add + remove a member (pair)",
            plan: Arc::new(move |connection, _| {
                let (id, email) = &spares[connection % spares.len()];
                vec![
                    Call {
                        method: Method::POST,
                        path: format!("/api/v1/orgs/{org}/members"),
                        body: Some(format!(
                            r#"{{"member_email":"{email}","member_role":"member"}}"#
                        )),
                        expect: 201,
                    },
                    Call {
                        method: Method::DELETE,
                        path: format!("/api/v1/orgs/{org}/members/{id}"),
                        body: None,
                        expect: 200,
                    },
                ]
            }),
            pair: true,
            people_only: false,
        },
        Scenario {
            name: "change a member's role",
            plan: Arc::new(move |connection, iteration| {
                let target = &targets[connection % targets.len()];
                let role = if iteration % 2 == 0 {
                    "admin"
                } else {
                    "member"
                };
                vec![Call {
                    method: Method::PATCH,
                    path: format!("/api/v1/orgs/{org}/members/{target}"),
                    body: Some(format!(r#"{{"member_role":"{role}"}}"#)),
                    expect: 200,
                }]
            }),
            pair: false,
            people_only: false,
        },
    ]
}
