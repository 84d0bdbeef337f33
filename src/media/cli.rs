//! `panthera media …` and `panthera users …`: the catalogue and its users
//! from the command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::media::{catalogue, import, inbox};
use crate::store::{now_unix, Store, StoreError};

#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Import items from a CSV file (header line with column names) or JSON
    /// lines; every bad row is reported with its line number and then
    /// nothing is imported.
    Import { file: PathBuf },
    /// Add N synthetic items (for benchmarks), in one transaction.
    Generate {
        n: usize,
        /// Random seed (the same seed makes the same catalogue).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Extra random keywords per item (a realistically large vocabulary).
        #[arg(long, default_value_t = 5)]
        fillers: usize,
    },
    /// Mark an item deleted (it leaves searches; `poll type=deleted` reports it).
    Delete { id: i64 },
    /// Add credits to a user's deposit.
    Credit { username: String, credits: i64 },
    /// Put files into a contributor's upload inbox, as an FTP upload would;
    /// `get-user-ftp-list process=yes` imports them.
    Inbox {
        username: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn bar(n: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(n);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} ({{per_sec}}, {{eta}} left)"
    )) {
        pb.set_style(style);
    }
    pb
}

pub fn media_command(
    store: &Store,
    config: &Config,
    cmd: MediaCommand,
) -> Result<ExitCode, String> {
    let db = |e: StoreError| format!("store: {e}");
    match cmd {
        MediaCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("reading {}: {e}", file.display()))?;
            let items = match import::parse(&text, now_unix()) {
                Ok(items) => items,
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}: {e}", file.display());
                    }
                    return Err(format!("{} bad row(s), nothing imported", errors.len()));
                }
            };
            // ids already in the store are bad rows too, all reported
            let chosen: Vec<i64> = items.iter().filter_map(|(_, m)| m.id).collect();
            let ids = store.media_items().taken(&chosen).map_err(db)?;
            let taken: Vec<import::RowError> = items
                .iter()
                .filter_map(|(line, m)| {
                    let id = m.id.filter(|id| ids.contains(id))?;
                    Some(import::RowError {
                        line: *line,
                        message: format!("id {id} already exists"),
                    })
                })
                .collect();
            if !taken.is_empty() {
                for e in &taken {
                    eprintln!("{}: {e}", file.display());
                }
                return Err(format!("{} bad row(s), nothing imported", taken.len()));
            }
            let pb = bar(items.len() as u64, "importing");
            let n = store
                .media_items()
                .add_all(items.into_iter().map(|(_, m)| m), || pb.inc(1))
                .map_err(db)?;
            pb.finish_and_clear();
            println!("imported {n} item(s)");
        }
        MediaCommand::Generate { n, seed, fillers } => {
            let pb = bar(n as u64, "generating");
            let start = Instant::now();
            store
                .media_items()
                .add_all(catalogue::generate(n, seed, now_unix(), fillers), || {
                    pb.inc(1)
                })
                .map_err(db)?;
            pb.finish_and_clear();
            println!(
                "generated {n} item(s) in {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
        MediaCommand::Delete { id } => {
            if !store.media_items().delete(id, now_unix()).map_err(db)? {
                return Err(format!("no media {id} (or already deleted)"));
            }
            println!("deleted {id}");
        }
        MediaCommand::Credit { username, credits } => {
            if credits <= 0 {
                return Err("credits must be positive".into());
            }
            let user = store
                .users()
                .find_by_username(&username)
                .map_err(db)?
                .ok_or_else(|| format!("no user {username}"))?;
            let d = store
                .transaction(|tx| {
                    tx.balances().credit(&user.id, credits, now_unix())?;
                    tx.balances().get(&user.id)
                })
                .map_err(db)?;
            println!("{username}: {} {}", d.credits, d.currency);
        }
        MediaCommand::Inbox { username, files } => {
            let user = store
                .users()
                .find_by_username(&username)
                .map_err(db)?
                .ok_or_else(|| format!("no user {username}"))?;
            let dir = inbox::user_dir(config, &user.id)
                .ok_or_else(|| format!("user id {} is unfit for a folder name", user.id))?;
            let mut failed = 0;
            for file in &files {
                match inbox::put(&dir, file) {
                    Ok(name) => println!("{name}"),
                    Err(e) => {
                        eprintln!("{e}");
                        failed += 1;
                    }
                }
            }
            println!(
                "{} file(s) waiting in {}'s inbox ({})",
                files.len() - failed,
                username,
                dir.display()
            );
            if failed > 0 {
                return Err(format!("{failed} file(s) not put into the inbox"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
