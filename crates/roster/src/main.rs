//! The `roster` binary: parses the command line, sets up logging, and runs
//! the chosen subcommand. The wiring lives in `serve.rs`.

mod config;
mod demo;
mod logging;
mod serve;

use clap::Parser;
use roster_core::service::NewAccount;

use crate::config::{Cli, Command, UserCommand};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    logging::init(&cli.log_format);
    match cli.command {
        Command::Serve(args) => serve::run(&cli.database_url, args),
        Command::Demo(args) => demo::run(args),
        Command::Migrate => {
            roster_store::open(&cli.database_url).map_err(anyhow::Error::msg)?;
            println!("migrations applied");
            Ok(())
        }
        Command::Openapi { surface } => {
            println!("{}", surface.document().to_pretty_json()?);
            Ok(())
        }
        Command::Check => {
            let report =
                roster_store::check_integrity(&cli.database_url).map_err(anyhow::Error::msg)?;
            for check in &report.checks {
                println!("checked: {check}");
            }
            for problem in &report.problems {
                println!("PROBLEM: {problem}");
            }
            if !report.is_sound() {
                anyhow::bail!("{} problem(s) found", report.problems.len());
            }
            println!("the database is sound");
            Ok(())
        }
        Command::Backup { file } => {
            let report =
                roster_store::backup(&cli.database_url, &file).map_err(anyhow::Error::msg)?;
            report.iter().for_each(|line| println!("{line}"));
            Ok(())
        }
        Command::Restore { file, force } => {
            let report = roster_store::restore(&cli.database_url, &file, force)
                .map_err(anyhow::Error::msg)?;
            report.iter().for_each(|line| println!("{line}"));
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password,
                    name,
                    username,
                },
        } => {
            let store = roster_store::open(&cli.database_url).map_err(anyhow::Error::msg)?;
            let roster = roster_core::Roster::new(store, Default::default(), None)?;
            let account = NewAccount {
                email: &email,
                password: &password,
                username: username.as_deref(),
                name: name.as_deref(),
            };
            let user = roster.create_account(account, true)?;
            println!(
                "created user {} <{}> ({})",
                user.username, user.email, user.id
            );
            Ok(())
        }
    }
}
