//! `roster serve`: listen, open the database (migrating it), build the core,
//! the router and the mail worker, and shut down gracefully on SIGTERM or
//! Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use roster_core::Roster;
use roster_mail::{spawn_worker, MailConfig, RetryPolicy, Transport};

use crate::config::ServeArgs;

pub fn run(database_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    // Bind first: with port 0 the address is known only now, and email
    // links default to it.
    let listener = std::net::TcpListener::bind(args.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    let core_config = args.core_config(addr)?;
    let http_options = args.http_options()?;
    let signing_key = args.signing_key()?;
    let metrics_listener = match args.metrics_listen {
        Some(address) => Some(
            std::net::TcpListener::bind(address)
                .map_err(|e| anyhow::anyhow!("cannot listen on {address} for metrics: {e}"))?,
        ),
        None => None,
    };
    let transport = Transport::from_config(&MailConfig {
        smtp_url: args.smtp_url.clone(),
        from: args.smtp_from.clone(),
    })
    .map_err(anyhow::Error::msg)?;
    tracing::info!(to = %transport.describe(), "outgoing email");
    // The store is synchronous; it is opened before the async runtime starts.
    let store =
        roster_store::open_with_read_replica(database_url, args.database_read_url.as_deref())
            .map_err(anyhow::Error::msg)?;
    tracing::info!(backend = store.backend(), "database ready");
    let roster = Arc::new(Roster::new(store, core_config, signing_key)?);
    if let Some(report) = roster.canonicalize_stored_emails()? {
        if !report.rewritten.is_empty() || !report.left.is_empty() {
            tracing::info!(
                rewritten = report.rewritten.len(),
                left = report.left.len(),
                "stored emails brought to their canonical form (once per database)"
            );
        }
        for (user, _, reason) in &report.left {
            tracing::warn!(user_id = %user, reason, "an account's email was left as stored; its owner cannot log in with it until it is corrected");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if let (Some(listener), Some(config)) = (metrics_listener, &http_options.metrics) {
            serve_metrics(roster.clone(), config.clone(), listener)?;
        }
        serve(roster, transport, listener, addr, http_options).await
    })
}

/// The separate metrics listener: `/metrics` only; it stops with the process.
fn serve_metrics(
    roster: Arc<Roster>,
    config: roster_http::metrics::MetricsConfig,
    listener: std::net::TcpListener,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = roster_http::metrics::listener_app(roster, config);
    tokio::spawn(async move {
        let served = roster_http::server::serve(
            listener,
            app,
            std::time::Duration::from_secs(10),
            std::future::pending(),
        )
        .await;
        if let Err(error) = served {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    println!("metrics listening on http://{address}");
    tracing::info!(%address, "serving /metrics");
    Ok(())
}

/// Serves `roster` on `listener` until a shutdown signal (also used by
/// `roster demo`).
pub(crate) async fn serve(
    roster: Arc<Roster>,
    transport: Transport,
    listener: std::net::TcpListener,
    addr: SocketAddr,
    http_options: roster_http::HttpOptions,
) -> anyhow::Result<()> {
    // The mail worker delivers what the outbox holds, including what an
    // earlier run left undelivered; requests that queue mail wake it.
    let worker = spawn_worker(roster.store().clone(), transport, RetryPolicy::default());
    let waker = worker.waker();
    roster.set_mail_notifier(move || waker.wake());
    // Idempotency answers are kept for 24 hours; clear older ones hourly.
    let purger = roster.clone();
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            let roster = purger.clone();
            match tokio::task::spawn_blocking(move || roster.purge_idempotency_keys()).await {
                Ok(Ok(purged)) if purged > 0 => {
                    tracing::info!(purged, "expired idempotency keys removed")
                }
                Ok(Err(error)) => tracing::warn!(%error, "could not purge idempotency keys"),
                _ => {}
            }
        }
    });

    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // The one line on stdout: tests and scripts read the bound address here.
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, "serving");
    let app = roster_http::app_with(roster, &http_options);
    let limits = http_options.server_limits();
    tracing::info!(max_connections = limits.max_connections, "connection cap");
    roster_http::server::serve_with(listener, app, limits, shutdown_signal()).await?;
    worker.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
