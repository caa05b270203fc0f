//! The console in a real browser: Debian's Chromium, headless, driven
//! through chromedriver with fantoccini, against real `roster serve`
//! processes whose mail goes to a real SMTP sink. An owner signs up,
//! verifies from the mailed link, creates an org and invites an address;
//! the invitee, in a second browser session, signs up from the mailed
//! link and accepts; the owner changes the invitee's role, creates an API
//! key, removes the member, and the audit page shows it all.
//!
//! Screenshots of each main page go to `target/console-screenshots/`.
//! Without chromium and chromedriver the test says why and passes, except
//! under CI (`CI=true`), where it fails.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use roster_testkit::SmtpSink;
use serde_json::json;

use crate::{on_both_backends, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = crate::PASSWORD;

/// chromedriver on a free 127.0.0.1 port, killed when dropped.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why the browser test cannot run here, if it cannot.
fn missing_browser() -> Option<String> {
    [CHROMIUM, CHROMEDRIVER]
        .iter()
        .find(|path| !Path::new(path).exists())
        .map(|path| format!("{path} not found (apt-get install chromium chromium-driver)"))
}

/// A new browser session: its own profile, so its own cookies.
async fn browser(driver: &Chromedriver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("browser session")
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots")
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

/// Clicks and waits for the next page to show `expect_css`.
async fn click_then(client: &Client, css: &str, expect_css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(expect_css))
        .await
        .unwrap_or_else(|e| panic!("after clicking {css}, no {expect_css}: {e}"));
}

async fn page_text(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

/// The link in the newest mail to `to` whose path contains `marker`.
async fn mailed_link(sink: &Arc<Mutex<SmtpSink>>, to: &str, marker: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let messages = sink.lock().unwrap().messages();
        let link = messages
            .iter()
            .rev()
            .filter(|m| m.to.iter().any(|r| r.contains(to)))
            .filter_map(|m| m.text_part())
            .flat_map(|text| {
                text.split_whitespace()
                    .filter(|word| word.contains(marker))
                    .map(|word| {
                        word.trim_matches(|c: char| c == '<' || c == '>' || c == '"')
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            })
            .next();
        if let Some(link) = link {
            return link;
        }
        assert!(Instant::now() < deadline, "no mail to {to} with {marker}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_backends! {
    async fn owner_and_invitee_manage_an_org_in_a_real_browser(backend: Backend) {
        if let Some(reason) = missing_browser() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("browser test cannot run under CI: {reason}");
            }
            eprintln!("skipping the console browser test: {reason}");
            return;
        }
        let tag = backend.name();
        let sink = Arc::new(Mutex::new(SmtpSink::start().expect("smtp sink")));
        let smtp = sink.lock().unwrap().url();
        let app = TestApp::spawn_processes_with_env(backend, 1, &[("ROSTER_SMTP_URL", &smtp)]).await;
        let base = app.base.clone();
        let driver = tokio::task::spawn_blocking(Chromedriver::start)
            .await
            .expect("driver thread");
        let shot = |name: &str| format!("{tag}-{name}");

        // The owner signs up.
        let owner = browser(&driver).await;
        owner
            .goto(&format!("{base}/console/signup"))
            .await
            .expect("signup page");
        fill(&owner, "#email", "owner@example.com").await;
        fill(&owner, "#name", "Olivia Owner").await;
        fill(&owner, "#password", PASSWORD).await;
        screenshot(&owner, &shot("01-signup")).await;
        click_then(
            &owner,
            "form[action='/console/signup'] button[type=submit]",
            "#create-org",
        )
        .await;
        assert!(page_text(&owner).await.contains("not verified"));

        // …verifies from the mailed link…
        let verify = mailed_link(&sink, "owner@example.com", "/console/verify-email?token=").await;
        assert!(verify.starts_with(&base), "{verify}");
        owner.goto(&verify).await.expect("verify link");
        // Opening the link verifies nothing (mail scanners open links too):
        // the page asks for the button.
        click_then(
            &owner,
            "form[action='/console/verify-email'] button[type=submit]",
            "#create-org",
        )
        .await;
        assert!(page_text(&owner)
            .await
            .contains("Your email address is verified."));

        // …creates an org…
        fill(&owner, "#org-name", "Acme <Rockets>").await;
        fill(
            &owner,
            "#org-description",
            "We build \"rockets\" & <things>",
        )
        .await;
        click_then(
            &owner,
            "form[action='/console/orgs'] button[type=submit]",
            ".orgnav",
        )
        .await;
        let text = page_text(&owner).await;
        assert!(
            text.contains("Organization created.") && text.contains("Acme <Rockets>"),
            "{text}"
        );
        screenshot(&owner, &shot("02-org-overview")).await;
        let org_url = owner.current_url().await.expect("url");
        let org_path = org_url.path().to_string();

        // …and invites an address.
        owner
            .goto(&format!("{base}{org_path}/members"))
            .await
            .expect("members");
        fill(&owner, "#invite-email", "invitee@example.com").await;
        owner
            .find(Locator::Css("#invite-role"))
            .await
            .unwrap()
            .select_by_value("member")
            .await
            .unwrap();
        fill(&owner, "#invite-message", "Welcome aboard!").await;
        click_then(
            &owner,
            "form[action$='/members'] button[type=submit]:not(.secondary)",
            ".notice",
        )
        .await;
        assert!(page_text(&owner).await.contains("Invitation sent."));
        screenshot(&owner, &shot("03-members")).await;
        owner
            .goto(&format!("{base}{org_path}/invitations"))
            .await
            .expect("invitations");
        assert!(page_text(&owner).await.contains("invitee@example.com"));
        screenshot(&owner, &shot("04-invitations")).await;

        // The invitee, in a second browser session, signs up from the link and accepts.
        let accept = mailed_link(
            &sink,
            "invitee@example.com",
            "/console/accept-invite?token=",
        )
        .await;
        let invitee = browser(&driver).await;
        invitee.goto(&accept).await.expect("accept link");
        screenshot(&invitee, &shot("05-invitation-landing")).await;
        click_then(&invitee, "a[href^='/console/signup?invite=']", "#password").await;
        fill(&invitee, "#email", "invitee@example.com").await;
        fill(&invitee, "#password", PASSWORD).await;
        click_then(
            &invitee,
            "form[action='/console/signup'] button[type=submit]",
            "form[action='/console/accept-invite']",
        )
        .await;
        click_then(
            &invitee,
            "form[action='/console/accept-invite'] button[type=submit]",
            ".orgnav",
        )
        .await;
        let text = page_text(&invitee).await;
        assert!(
            text.contains("Invitation accepted") && text.contains("Acme <Rockets>"),
            "{text}"
        );
        screenshot(&invitee, &shot("06-invitee-joined")).await;

        // The owner changes the invitee's role…
        owner
            .goto(&format!("{base}{org_path}/members"))
            .await
            .expect("members");
        let role = owner
            .find(Locator::Css("select[id^='role-']"))
            .await
            .expect("role select");
        role.select_by_value("admin").await.unwrap();
        click_then(
            &owner,
            "form[action$='/role'] button[type=submit]",
            ".notice",
        )
        .await;
        assert!(page_text(&owner).await.contains("Role changed."));

        // …creates an API key (shown once, with a working copy button)…
        owner
            .goto(&format!("{base}{org_path}/api-keys"))
            .await
            .expect("api keys");
        fill(&owner, "#key-name", "CI deploys").await;
        click_then(
            &owner,
            "form[action$='/api-keys'] button[type=submit]",
            "#new-key",
        )
        .await;
        let key = owner
            .find(Locator::Css("#new-key"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(key.starts_with(roster_core::service::API_KEY_PREFIX), "{key}");
        let copy = owner.find(Locator::Css("button[data-copy]")).await.unwrap();
        assert!(
            copy.is_displayed().await.unwrap(),
            "the script reveals the copy button"
        );
        screenshot(&owner, &shot("07-api-key-created")).await;
        let members = reqwest::Client::new()
            .get(format!(
                "{base}/api/v1{}/members",
                org_path.trim_start_matches("/console")
            ))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(members.status(), 200, "the key works");

        // …and removes the member, confirming first.
        owner
            .goto(&format!("{base}{org_path}/members"))
            .await
            .expect("members");
        click_then(&owner, "a[href$='/remove']", "button.danger").await;
        screenshot(&owner, &shot("08-confirm-remove")).await;
        click_then(&owner, "button.danger", ".notice").await;
        let text = page_text(&owner).await;
        assert!(
            text.contains("Member removed.") && !text.contains("invitee@example.com"),
            "{text}"
        );

        // The audit page shows it all.
        owner
            .goto(&format!("{base}{org_path}/audit"))
            .await
            .expect("audit");
        let audit = owner
            .find(Locator::Css("table"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for action in [
            "org.created",
            "invitation.created",
            "invitation.accepted",
            "member.role_changed",
            "api_key.created",
            "member.removed",
        ] {
            assert!(audit.contains(action), "audit lacks {action}: {audit}");
        }
        screenshot(&owner, &shot("09-audit")).await;

        // Narrow screens: the members table stacks.
        owner.set_window_size(390, 844).await.expect("resize");
        owner
            .goto(&format!("{base}{org_path}/members"))
            .await
            .expect("members");
        screenshot(&owner, &shot("10-members-narrow")).await;

        invitee.close().await.expect("close invitee");
        owner.close().await.expect("close owner");
        drop(driver);
        drop(app);
    }
}
