//! `roster demo`: a populated console in one command. It starts on a fresh
//! SQLite file (`roster-demo.db` in the current folder unless `--file`
//! says otherwise; an older demo file there is replaced), fills it with a
//! demo org, members, projects and an open invitation, prints the console
//! URL and the owner's login, and then serves exactly like `roster serve`
//! (mail goes to the log, or to the configured SMTP server).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use roster_core::crypto::random_token;
use roster_core::model::Actor;
use roster_core::role::{OrgRole, ProjectRole};
use roster_core::service::{MemberRef, NewAccount, NewMember};
use roster_core::{Ctx, Roster};
use roster_mail::{MailConfig, Transport};

use crate::config::DemoArgs;

/// The demo owner's email address.
pub const DEMO_OWNER: &str = "owner@demo.example";

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(args.serve.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.serve.listen))?;
    let addr = listener.local_addr()?;
    let core_config = args.serve.core_config(addr)?;
    let http_options = args.serve.http_options()?;
    let transport = Transport::from_config(&MailConfig {
        smtp_url: args.serve.smtp_url.clone(),
        from: args.serve.smtp_from.clone(),
    })
    .map_err(anyhow::Error::msg)?;
    remove_old_demo(&args.file)?;
    let store = roster_store::open(&format!("sqlite://{}", args.file.display()))
        .map_err(anyhow::Error::msg)?;
    let public_url = core_config.public_url.clone();
    let roster = Arc::new(Roster::new(store, core_config, None)?);
    let password = random_token("")[..16].to_string();
    seed(&roster, &password)?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "Roster demo: database {}", args.file.display())?;
    writeln!(out, "  open      {public_url}/console/login")?;
    writeln!(out, "  email     {DEMO_OWNER}")?;
    writeln!(out, "  password  {password}")?;
    writeln!(out, "  mail      {}", transport.describe())?;
    out.flush()?;
    drop(out);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(crate::serve::serve(
        roster,
        transport,
        listener,
        addr,
        http_options,
    ))
}

/// A demo always starts fresh: the previous demo file (and SQLite's side
/// files) go. Only a file that is a SQLite database is removed, so a
/// mistyped `--file` cannot delete something else.
fn remove_old_demo(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let mut header = [0u8; 16];
    let is_sqlite = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok()
        && &header == b"SQLite format 3\0";
    if !is_sqlite {
        anyhow::bail!(
            "{} exists and is not a SQLite database; choose another --file",
            path.display()
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if Path::new(&file).exists() {
            std::fs::remove_file(&file)?;
        }
    }
    Ok(())
}

/// The demo org: an owner (the printed login), three more people with
/// each other role, two projects with members, and an open invitation.
fn seed(roster: &Roster, password: &str) -> anyhow::Result<()> {
    let account = |email: &str, name: &str, password: &str| {
        roster.create_account(
            NewAccount {
                email,
                password,
                username: None,
                name: Some(name),
            },
            true,
        )
    };
    let owner = account(DEMO_OWNER, "Olivia Owner", password)?;
    let ctx = Ctx {
        actor: Actor::User(owner.id),
        session: None,
        api_key: None,
        org_scope: None,
        request_id: "roster-demo".to_string(),
    };
    let org = roster.create_org(
        &ctx,
        "Demo Corp",
        Some("A demo organization: try inviting someone, changing roles, or creating an API key."),
    )?;
    // The others get passwords nobody knows; log in as the owner.
    let people = [
        ("ada@demo.example", "Ada Admin", OrgRole::Admin),
        ("grace@demo.example", "Grace Member", OrgRole::Member),
        ("linus@demo.example", "Linus Guest", OrgRole::Guest),
    ];
    let mut ids = Vec::new();
    for (email, name, role) in people {
        let user = account(email, name, &random_token(""))?;
        roster.add_member(&ctx, org.id, &NewMember::by_email(email, role)?)?;
        ids.push(user.id);
    }
    let website = roster.create_project(&ctx, org.id, "Website", Some("The public site"))?;
    let mobile = roster.create_project(&ctx, org.id, "Mobile app", None)?;
    roster.add_project_member(
        &ctx,
        org.id,
        website.id,
        &MemberRef::Id(ids[0]),
        ProjectRole::Admin,
    )?;
    roster.add_project_member(
        &ctx,
        org.id,
        website.id,
        &MemberRef::Id(ids[1]),
        ProjectRole::Member,
    )?;
    roster.add_project_member(
        &ctx,
        org.id,
        mobile.id,
        &MemberRef::Id(ids[1]),
        ProjectRole::Admin,
    )?;
    let newcomer = NewMember {
        message: Some("Welcome to the demo!"),
        ..NewMember::by_email("newcomer@demo.example", OrgRole::Member)?
    };
    roster.add_member(&ctx, org.id, &newcomer)?;
    Ok(())
}
