//! `roster-bench`: seeds an org of N members through the store's bulk
//! path, starts the release `roster serve` binary on a free port against
//! that database (SQLite file or a throwaway PostgreSQL cluster), and
//! drives every scenario of issue 7 with an async load generator, by access
//! token and by API key. Prints a Markdown table and writes it to a file
//! with the machine's description. `bench/run` is the way to call it.

mod load;
mod machine;
mod pg;
mod report;
mod scenarios;
mod seed;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use crate::report::{Measurement, Run};
use crate::server::Server;

#[derive(Parser, Debug)]
#[command(about = "Roster's benchmark harness (see bench/run)")]
struct Args {
    /// The `roster` binary to benchmark (a release build).
    #[arg(long)]
    server: PathBuf,
    /// Org sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    members: Vec<usize>,
    /// Backends, comma-separated: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// Seconds of measurement per scenario (after a warm-up of a tenth).
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Where to write the Markdown report.
    #[arg(long)]
    out: PathBuf,
    /// The command line to print in the report.
    #[arg(long, default_value = "bench/run")]
    command: String,
    /// Folder for databases and server logs (default: a temporary one).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Two worker threads: the load generator shares the machine with the
    // server, as the issue asks (load generator on the same box).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_all(args))
}

async fn run_all(args: Args) -> anyhow::Result<()> {
    let machine_before = machine::describe();
    let temp = tempfile::Builder::new().prefix("roster-bench-").tempdir()?;
    let work = args.work_dir.clone().unwrap_or_else(|| temp.path().into());
    std::fs::create_dir_all(&work)?;
    let mut runs = Vec::new();
    for backend in &args.backends {
        let cluster = match backend.as_str() {
            "postgres" => Some(pg::Cluster::start().context("starting PostgreSQL")?),
            "sqlite" => None,
            other => anyhow::bail!("unknown backend {other}"),
        };
        for &members in &args.members {
            eprintln!("== {backend}, {members} members");
            let name = format!("bench_{members}");
            let url = match &cluster {
                Some(cluster) => off_runtime(|| cluster.create_database(&name))?,
                None => format!("sqlite://{}", work.join(format!("{name}.db")).display()),
            };
            let run = run_one(&args, backend, members, &url, &work).await;
            if let Some(cluster) = &cluster {
                off_runtime(|| cluster.drop_database(&name))?;
            } else {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(work.join(format!("{name}.db{suffix}")));
                }
            }
            let run = run?;
            println!("{}", report::run_table(&run));
            runs.push(run);
            // Written after every run, so a long run stopped early keeps
            // what finished (the report says which runs it holds).
            let machine_now = machine::describe();
            let text = report::document(&args.command, &machine_before, &machine_now, &runs, &args);
            if let Some(parent) = args.out.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&args.out, text)?;
            eprintln!("wrote {}", args.out.display());
        }
    }
    Ok(())
}

/// Runs `f` on a plain thread: the synchronous PostgreSQL client starts a
/// runtime of its own, which panics on a Tokio worker thread.
fn off_runtime<T: Send>(f: impl FnOnce() -> anyhow::Result<T> + Send) -> anyhow::Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(f)
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("a PostgreSQL admin call panicked")))
    })
}

async fn run_one(
    args: &Args,
    backend: &str,
    members: usize,
    url: &str,
    work: &std::path::Path,
) -> anyhow::Result<Run> {
    let seeded = {
        let url = url.to_string();
        let connections = args.connections;
        tokio::task::spawn_blocking(move || seed::seed(&url, members, connections)).await??
    };
    eprintln!("   seeded in {:.1} s", seeded.seeding.as_secs_f64());
    let log = work.join(format!("server-{backend}-{members}.log"));
    let server = Server::start(&args.server, url, &log).await?;
    eprintln!("   ready in {} ms", server.startup.as_millis());
    let rss_at_start = server.peak_rss()?;
    let duration = Duration::from_secs_f64(args.seconds);

    let startup = server.startup;
    let floor = measure(
        &server,
        args.connections,
        duration,
        &scenarios::floor(),
        "none",
        vec![],
    )
    .await?;
    let floor_rate = floor.rate;
    let mut measurements = vec![floor];

    // One connection, no queueing: the latency of a page by itself.
    let bearer = vec![(
        "authorization".to_string(),
        format!("Bearer {}", seeded.access_token),
    )];
    let single = measure(
        &server,
        1,
        duration / 2,
        &scenarios::first_page(&seeded, 50),
        "access token, 1 connection",
        bearer.clone(),
    )
    .await?;

    let auths = [
        ("access token", bearer),
        (
            "API key",
            vec![(
                "authorization".to_string(),
                format!("Bearer {}", seeded.api_key),
            )],
        ),
    ];
    for (round, (auth, headers)) in auths.into_iter().enumerate() {
        for scenario in scenarios::all(&seeded, round) {
            if scenario.people_only && round > 0 {
                continue;
            }
            let m = measure(
                &server,
                args.connections,
                duration,
                &scenario,
                auth,
                headers.clone(),
            )
            .await?;
            eprintln!(
                "   {:<48} {:<13} {:>9.0}/s  p50 {:>7.2} ms  errors {}",
                m.scenario, m.auth, m.rate, m.p50_ms, m.errors
            );
            measurements.push(m);
        }
    }
    let peak_rss = server.peak_rss()?;
    server.stop()?;
    Ok(Run {
        backend: backend.to_string(),
        members,
        seeding: seeded.seeding,
        startup,
        rss_at_start,
        peak_rss,
        floor_rate,
        single,
        measurements,
    })
}

async fn measure(
    server: &Server,
    connections: usize,
    duration: Duration,
    scenario: &scenarios::Scenario,
    auth: &str,
    headers: Vec<(String, String)>,
) -> anyhow::Result<Measurement> {
    let outcome = load::run(
        server.addr,
        Arc::new(headers),
        connections,
        duration,
        scenario.plan.clone(),
    )
    .await?;
    if let Some(error) = &outcome.first_error {
        eprintln!(
            "   {} ({auth}): {} errors, first: {error}",
            scenario.name, outcome.errors
        );
    }
    let quantile_ms = |q: f64| outcome.histogram.value_at_quantile(q) as f64 / 1e6;
    Ok(Measurement {
        scenario: scenario.name.to_string(),
        auth: auth.to_string(),
        pair: scenario.pair,
        rate: outcome.rate,
        p50_ms: quantile_ms(0.5),
        p99_ms: quantile_ms(0.99),
        p999_ms: quantile_ms(0.999),
        errors: outcome.errors,
        peak_rss: server.peak_rss()?,
    })
}
