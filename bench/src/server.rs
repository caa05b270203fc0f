//! The server under test: the release `roster serve` binary as a child
//! process on a free 127.0.0.1 port, its log in a file, polled until
//! `/readyz` answers 200; its memory read from `/proc/<pid>/status`.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::Empty;
use hyper::Request;
use hyper_util::rt::TokioIo;

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// From spawning the process to the first 200 of `/readyz`.
    pub startup: Duration,
}

impl Server {
    pub async fn start(binary: &Path, database_url: &str, log: &Path) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = std::fs::File::create(log)?;
        let began = Instant::now();
        let child = Command::new(binary)
            .arg("serve")
            .env("ROSTER_LISTEN", addr.to_string())
            .env("ROSTER_DATABASE_URL", database_url)
            // The "add + remove a member" scenario adds far more people per
            // hour than a person does; direct adds share the invitation
            // budget per actor, so lift it for the benchmark.
            .env("ROSTER_INVITATIONS_PER_ACCOUNT_PER_HOUR", "1000000000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = Self {
            child,
            addr,
            startup: Duration::ZERO,
        };
        loop {
            if ready(addr).await {
                server.startup = began.elapsed();
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("the server exited before it was ready ({status})");
            }
            if began.elapsed() > Duration::from_secs(120) {
                bail!("the server was not ready within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Peak resident memory so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> anyhow::Result<u64> {
        proc_status_kib(self.child.id(), "VmHWM:").map(|kib| kib * 1024)
    }

    /// Stops the server (SIGTERM, then a wait).
    pub fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let began = Instant::now();
        while self.child.try_wait()?.is_none() {
            if began.elapsed() > Duration::from_secs(20) {
                self.child.kill()?;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn proc_status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(line
        .trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

async fn ready(addr: SocketAddr) -> bool {
    let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let Ok((mut sender, connection)) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await
    else {
        return false;
    };
    tokio::spawn(connection);
    let Ok(request) = Request::get("/readyz")
        .header("host", "127.0.0.1")
        .body(Empty::new())
    else {
        return false;
    };
    sender
        .send_request(request)
        .await
        .is_ok_and(|response| response.status() == 200)
}
