//! The Markdown report: one table per backend and org size, the targets of
//! issue 7 checked against the figures of the same run, and the machine.

use std::fmt::Write;
use std::time::Duration;

use crate::machine::Machine;
use crate::Args;

pub struct Measurement {
    pub scenario: String,
    pub auth: String,
    pub pair: bool,
    /// Iterations per second (requests, or add+remove pairs).
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub errors: u64,
    /// The server's peak RSS (VmHWM) after this scenario, in bytes.
    pub peak_rss: u64,
}

pub struct Run {
    pub backend: String,
    pub members: usize,
    pub seeding: Duration,
    pub startup: Duration,
    pub rss_at_start: u64,
    pub peak_rss: u64,
    pub floor_rate: f64,
    pub single: Measurement,
    pub measurements: Vec<Measurement>,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect();
    groups.join(",")
}

pub fn run_table(run: &Run) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} — {} members\n\nSeeding (bulk path): {:.1} s · start-up to `/readyz` on the \
         existing database: {} ms · RSS after start-up: {:.1} MiB · peak RSS: {:.1} MiB · one \
         connection, list page of 50 (access token): p50 {:.3} ms, p99 {:.3} ms ({:.0} req/s)\n",
        run.backend,
        thousands(run.members),
        run.seeding.as_secs_f64(),
        run.startup.as_millis(),
        mib(run.rss_at_start),
        mib(run.peak_rss),
        run.single.p50_ms,
        run.single.p99_ms,
        run.single.rate,
    );
    out.push_str(
        "| scenario | auth | req/s | p50 ms | p99 ms | p99.9 ms | ratio to floor | errors | peak RSS MiB |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in &run.measurements {
        let rate = if m.pair {
            format!("{:.0} pairs/s", m.rate)
        } else {
            format!("{:.0}", m.rate)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.1} % | {} | {:.1} |",
            m.scenario,
            m.auth,
            rate,
            m.p50_ms,
            m.p99_ms,
            m.p999_ms,
            100.0 * m.rate / run.floor_rate,
            m.errors,
            mib(m.peak_rss),
        );
    }
    out
}

fn find<'a>(run: &'a Run, scenario: &str, auth: &str) -> Option<&'a Measurement> {
    run.measurements
        .iter()
        .find(|m| m.scenario.starts_with(scenario) && m.auth == auth)
}

/// One line per target of issue 7, checked against `run`.
fn targets(run: &Run) -> Vec<(String, String, bool)> {
    let mut rows = Vec::new();
    let mut check = |what: String, got: String, ok: bool| rows.push((what, got, ok));
    let sqlite = run.backend == "sqlite";
    let ratio_target = if sqlite { 10.0 } else { 6.0 };
    for auth in ["access token", "API key"] {
        if let Some(m) = find(run, "list members, first page, limit=50", auth) {
            let ratio = 100.0 * m.rate / run.floor_rate;
            check(
                format!("page of 50 ≥ {ratio_target} % of `/healthz` ({auth})"),
                format!("{ratio:.1} %"),
                ratio >= ratio_target,
            );
        }
    }
    check(
        "one connection: page of 50 p50 ≤ 0.4 ms".into(),
        format!("{:.3} ms", run.single.p50_ms),
        run.single.p50_ms <= 0.4,
    );
    if let (Some(first), Some(deep)) = (
        find(run, "list members, first page, limit=50", "access token"),
        find(run, "list members, page at 90 %", "access token"),
    ) {
        check(
            "page at 90 % p50 ≤ 1.2 × first page p50 (stated for 1,000,000)".into(),
            format!("{:.2} ×", deep.p50_ms / first.p50_ms),
            deep.p50_ms <= 1.2 * first.p50_ms,
        );
    }
    if let (Some(first), Some(search)) = (
        find(run, "list members, first page, limit=50", "access token"),
        find(run, "search members", "access token"),
    ) {
        check(
            "search p50 ≤ 2 × plain page p50 (stated for 100,000)".into(),
            format!("{:.2} ×", search.p50_ms / first.p50_ms),
            search.p50_ms <= 2.0 * first.p50_ms,
        );
    }
    if sqlite {
        if let Some(pairs) = find(run, "add + remove", "access token") {
            check(
                "write path ≥ 3,000 add+remove pairs/s (SQLite)".into(),
                format!("{:.0} pairs/s", pairs.rate),
                pairs.rate >= 3000.0,
            );
        }
    }
    check(
        "server peak RSS ≤ 64 MiB (stated for 1,000,000)".into(),
        format!("{:.1} MiB", mib(run.peak_rss)),
        mib(run.peak_rss) <= 64.0,
    );
    check(
        "start-up to `/readyz` ≤ 300 ms".into(),
        format!("{} ms", run.startup.as_millis()),
        run.startup <= Duration::from_millis(300),
    );
    check(
        "seeding ≤ 60 s (stated for 1,000,000)".into(),
        format!("{:.1} s", run.seeding.as_secs_f64()),
        run.seeding <= Duration::from_secs(60),
    );
    rows
}

pub fn document(
    command: &str,
    before: &Machine,
    after: &Machine,
    runs: &[Run],
    args: &Args,
) -> String {
    let mut out = String::from("# Benchmarks\n\n");
    out.push_str(
        "Generated by `roster-bench` (the `bench/` crate). Every figure below comes from one \
         run of the command shown; the targets are those of issue 7, checked against the \
         figures of the same run.\n\n",
    );
    let _ = writeln!(
        out,
        "Command (from the repository root):\n\n```sh\n{command}\n```\n"
    );
    let _ = writeln!(
        out,
        "Machine: {} · {} cores (nproc) · {} memory · {} · load average (1, 5, 15 min) \
         {} at the start, {} at the end. The load generator runs on the same machine, \
         {} connections, {:.1} s per scenario after a warm-up of a tenth of that.\n",
        before.cpu,
        before.cores,
        before.memory,
        before.kernel,
        before.load,
        after.load,
        args.connections,
        args.seconds,
    );
    out.push_str("## Results\n\n");
    for run in runs {
        out.push_str(&run_table(run));
        out.push_str("\nTargets:\n\n| target | measured | met |\n|---|---:|---|\n");
        for (what, got, ok) in targets(run) {
            let _ = writeln!(
                out,
                "| {what} | {got} | {} |",
                if ok { "yes" } else { "**no**" }
            );
        }
        out.push('\n');
    }
    out
}
