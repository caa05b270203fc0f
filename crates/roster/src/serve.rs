//! `roster serve`: open the database (migrating it), build the core and
//! the router, listen, and shut down gracefully on SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use roster_core::Roster;

use crate::config::ServeArgs;

pub fn run(database_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let core_config = args.core_config()?;
    let signing_key = args.signing_key()?;
    if args.smtp_url.is_some() {
        tracing::warn!(
            "ROSTER_SMTP_URL is set, but email delivery is not implemented in this version"
        );
    }
    let store = roster_store::open(database_url).map_err(anyhow::Error::msg)?;
    tracing::info!(backend = store.backend(), "database ready");
    let roster = Arc::new(Roster::new(store, core_config, signing_key)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(roster, args))
}

async fn serve(roster: Arc<Roster>, args: ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    // The one line on stdout: tests and scripts read the bound address here.
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, "serving");
    let app = roster_http::app(roster);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
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
