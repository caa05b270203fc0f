//! `/metrics` in the Prometheus text format (version 0.0.4): requests by
//! matched route and status, a latency histogram per route, connection
//! pool occupancy, and the email outbox backlog.
//!
//! The registry is ours, a few dozen lines: the series are fixed and few,
//! and a map behind a mutex (held for an increment) costs nothing next to
//! a database round trip. Routes are axum's matched templates
//! (`/api/v1/orgs/{org_id}`), never raw paths, so ids never become labels
//! and the number of series stays bounded; requests that match no route
//! count under `route="unmatched"`.
//!
//! Off unless configured: a bearer token (compared in constant time, kept
//! only as a hash) and/or a separate listener that serves nothing else.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use roster_core::crypto::sha256_hex;
use roster_core::time::Timestamp;
use roster_core::{store, Roster};
use subtle::ConstantTimeEq;

use crate::error::HttpError;

/// Upper bounds (seconds) of the latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How `/metrics` is exposed.
#[derive(Clone)]
pub struct MetricsConfig {
    /// SHA-256 (hex) of the bearer token every scrape must present; None:
    /// no token (only sensible on a separate, private listener).
    token_hash: Option<String>,
    /// Whether the main listener serves `/metrics` (false when a separate
    /// listener does).
    pub on_main_listener: bool,
    /// The counters, shared by the app that records and the listener that
    /// serves them.
    pub registry: Arc<Registry>,
}

impl MetricsConfig {
    /// `token`: the bearer token scrapes must present, if any.
    pub fn new(token: Option<&str>, on_main_listener: bool) -> Self {
        Self {
            token_hash: token.map(|t| sha256_hex(t.as_bytes())),
            on_main_listener,
            registry: Arc::new(Registry::default()),
        }
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token_hash else {
            return true;
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Both sides hashed: equal lengths, and the comparison's time says
        // nothing about the token.
        let presented = sha256_hex(presented.trim().as_bytes());
        bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
    }
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("token", &self.token_hash.as_ref().map(|_| "<set>"))
            .field("on_main_listener", &self.on_main_listener)
            .finish()
    }
}

/// Request counters and latency histograms, by method and route.
#[derive(Default)]
pub struct Registry {
    /// Route template → method → figures. Keyed by route first so that a
    /// request finds its entry by borrowed strings, allocating only the
    /// first time a route is seen.
    routes: Mutex<BTreeMap<String, BTreeMap<&'static str, RouteStats>>>,
}

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    /// Per bucket (not cumulative; summed when rendered).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Registry {
    fn record(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if !routes.contains_key(route) {
            routes.insert(route.to_string(), BTreeMap::new());
        }
        let Some(methods) = routes.get_mut(route) else {
            return;
        };
        let stats = methods.entry(method).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|le| seconds <= *le) {
            stats.buckets[bucket] += 1;
        }
        stats.count += 1;
        stats.sum_seconds += seconds;
    }

    fn render_requests(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        out.push_str("# HELP roster_http_requests_total HTTP requests answered, by method, matched route and status.\n");
        out.push_str("# TYPE roster_http_requests_total counter\n");
        for (route, method, stats) in flatten(&routes) {
            for (status, count) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "roster_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(method),
                    escape(route)
                );
            }
        }
        out.push_str("# HELP roster_http_request_duration_seconds Time to answer HTTP requests, by method and matched route.\n");
        out.push_str("# TYPE roster_http_request_duration_seconds histogram\n");
        for (route, method, stats) in flatten(&routes) {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0;
            for (le, count) in LATENCY_BUCKETS.iter().zip(stats.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "roster_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "roster_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "roster_http_request_duration_seconds_sum{{{labels}}} {}",
                stats.sum_seconds
            );
            let _ = writeln!(
                out,
                "roster_http_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
    }
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: counts every answer under its matched route. Layered on the
/// router (not around it), so axum has already matched the route.
pub async fn track(
    State(registry): State<Arc<Registry>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    // A clone of the matched path is a reference count, not a copy.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    registry.record(
        method,
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Counts every request of `app`, and serves `/metrics` there too when
/// configured so.
pub fn instrument(app: Router, roster: Arc<Roster>, config: &MetricsConfig) -> Router {
    let app = if config.on_main_listener {
        app.merge(router(roster, config.clone()))
    } else {
        app
    };
    app.layer(axum::middleware::from_fn_with_state(
        config.registry.clone(),
        track,
    ))
}

/// The method as a label: the standard ones by name, any other as `other`
/// (a client may send any token as a method; labels must stay few).
/// Every (route, method, figures) of the registry, in a stable order.
fn flatten<'a>(
    routes: &'a BTreeMap<String, BTreeMap<&'static str, RouteStats>>,
) -> impl Iterator<Item = (&'a str, &'static str, &'a RouteStats)> {
    routes.iter().flat_map(|(route, methods)| {
        methods
            .iter()
            .map(move |(method, stats)| (route.as_str(), *method, stats))
    })
}

fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

#[derive(Clone)]
struct MetricsState {
    roster: Arc<Roster>,
    config: MetricsConfig,
}

impl AsRef<Arc<Roster>> for MetricsState {
    fn as_ref(&self) -> &Arc<Roster> {
        &self.roster
    }
}

/// A router serving `GET /metrics` only.
pub fn router(roster: Arc<Roster>, config: MetricsConfig) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(MetricsState { roster, config })
}

/// The app of a separate metrics listener: `/metrics`, and JSON 404s.
pub fn listener_app(roster: Arc<Roster>, config: MetricsConfig) -> Router {
    router(roster, config)
        .fallback(|| async { HttpError::NoSuchRoute("this listener serves /metrics only") })
}

async fn scrape(State(state): State<MetricsState>, headers: HeaderMap) -> Response {
    if !state.config.authorized(&headers) {
        return HttpError::MetricsToken.into_response();
    }
    let database = crate::blocking(&state, |roster| Ok(database_metrics(roster))).await;
    let mut out = String::new();
    state.config.registry.render_requests(&mut out);
    match database {
        Ok(text) => out.push_str(&text),
        Err(error) => tracing::warn!(%error, "could not read database metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}

/// Pool occupancy and the outbox backlog, read now. A database that does
/// not answer shows as `roster_database_up 0` rather than failing the scrape.
fn database_metrics(roster: &Roster) -> String {
    let mut out = String::new();
    let pools = roster.store().pool_usage();
    for (name, help, value) in [
        (
            "roster_db_pool_connections_in_use",
            "Database connections handed out to a transaction.",
            (|p: &store::PoolUsage| p.in_use) as fn(&store::PoolUsage) -> u32,
        ),
        (
            "roster_db_pool_connections_idle",
            "Open database connections waiting for work.",
            |p| p.idle,
        ),
        (
            "roster_db_pool_connections_max",
            "The most connections the pool opens.",
            |p| p.max,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for pool in &pools {
            let _ = writeln!(out, "{name}{{pool=\"{}\"}} {}", pool.pool, value(pool));
        }
    }
    let name = "roster_db_pool_transactions_total";
    let _ = writeln!(
        out,
        "# HELP {name} Transactions run on the pool since start.\n# TYPE {name} counter"
    );
    for pool in &pools {
        let _ = writeln!(
            out,
            "{name}{{pool=\"{}\"}} {}",
            pool.pool, pool.transactions
        );
    }
    let backlog = store::read(&**roster.store(), |tx| {
        Ok((tx.outbox_backlog()?, tx.oldest_undelivered_outbox_email()?))
    });
    let up = u8::from(backlog.is_ok());
    let _ = writeln!(
        out,
        "# HELP roster_database_up Whether the database answered this scrape.\n\
         # TYPE roster_database_up gauge\nroster_database_up {up}"
    );
    if let Ok((pending, oldest)) = backlog {
        let age = oldest
            .map(|at| (Timestamp::now().0 - at.0).max(0) as f64 / 1000.0)
            .unwrap_or(0.0);
        let _ = writeln!(
            out,
            "# HELP roster_outbox_pending_emails Emails queued and not yet delivered.\n\
             # TYPE roster_outbox_pending_emails gauge\nroster_outbox_pending_emails {pending}\n\
             # HELP roster_outbox_oldest_pending_age_seconds Age of the oldest undelivered email (0: none).\n\
             # TYPE roster_outbox_oldest_pending_age_seconds gauge\n\
             roster_outbox_oldest_pending_age_seconds {age}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counters_split_by_status() {
        let registry = Registry::default();
        registry.record("GET", "/api/v1/orgs/{org_id}", 200, 0.003);
        registry.record("GET", "/api/v1/orgs/{org_id}", 404, 0.2);
        registry.record("GET", "/api/v1/orgs/{org_id}", 200, 60.0);
        let mut out = String::new();
        registry.render_requests(&mut out);
        for line in [
            r#"roster_http_requests_total{method="GET",route="/api/v1/orgs/{org_id}",status="200"} 2"#,
            r#"roster_http_requests_total{method="GET",route="/api/v1/orgs/{org_id}",status="404"} 1"#,
            r#"roster_http_request_duration_seconds_bucket{method="GET",route="/api/v1/orgs/{org_id}",le="0.001"} 0"#,
            r#"roster_http_request_duration_seconds_bucket{method="GET",route="/api/v1/orgs/{org_id}",le="0.005"} 1"#,
            r#"roster_http_request_duration_seconds_bucket{method="GET",route="/api/v1/orgs/{org_id}",le="10"} 2"#,
            r#"roster_http_request_duration_seconds_bucket{method="GET",route="/api/v1/orgs/{org_id}",le="+Inf"} 3"#,
            r#"roster_http_request_duration_seconds_count{method="GET",route="/api/v1/orgs/{org_id}"} 3"#,
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line} in\n{out}");
        }
    }

    #[test]
    fn only_the_configured_token_opens_the_scrape() {
        let config = MetricsConfig::new(Some("s3cret-token"), true);
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            headers
        };
        assert!(config.authorized(&with("Bearer s3cret-token")));
        assert!(!config.authorized(&with("Bearer s3cret-tokeN")));
        assert!(!config.authorized(&with("s3cret-token")));
        assert!(!config.authorized(&HeaderMap::new()));
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(MetricsConfig::new(None, false).authorized(&HeaderMap::new()));
    }

    #[test]
    fn unknown_methods_share_one_label() {
        use axum::http::Method;
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(
            method_label(&Method::from_bytes(b"X-1234").unwrap()),
            "other"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
