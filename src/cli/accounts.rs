//! `panthera users …` and `panthera audit`: account administration from the
//! command line, through the same rules and audited transactions as the API
//! (the audit actor is `cli`).

use std::io::BufRead;

use clap::{Args as ClapArgs, Subcommand};
use serde_json::{json, Value};

use crate::accounts::{self, Actor, Draft, Edit};
use crate::protocol::timestamp::Timestamp;
use crate::store::audit::{Entry, CLI_ACTOR};
use crate::store::users::User;
use crate::store::{now_unix, Store};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// active (default), inactive or pending.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        firstname: Option<String>,
        #[arg(long)]
        surname: Option<String>,
        #[arg(long)]
        company: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List accounts, oldest first.
    List {
        /// Only accounts with this status.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one account by id or username.
    Show {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Set an account's password.
    SetPassword {
        /// Id or username.
        user: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Set an account's status to inactive.
    Disable {
        /// Id or username.
        user: String,
    },
}

/// A password on the command line, or (kept out of shell history and `ps`)
/// as the first line of standard input.
#[derive(Debug, ClapArgs)]
#[group(required = true, multiple = false)]
pub struct PasswordArgs {
    #[arg(long)]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordArgs {
    fn read(self) -> Result<String, String> {
        match self.password {
            Some(p) => Ok(p),
            None => {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| format!("reading the password from stdin: {e}"))?;
                Ok(line.trim_end_matches(['\r', '\n']).to_string())
            }
        }
    }
}

/// `panthera audit`.
#[derive(Debug, ClapArgs)]
pub struct AuditArgs {
    #[arg(long)]
    pub json: bool,
    /// How many of the newest entries to show.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

fn cli_actor() -> Actor<'static> {
    Actor {
        name: CLI_ACTOR,
        request_id: "",
        now: now_unix(),
    }
}

fn keep(_: &crate::store::Tx<'_>, u: &User) -> Result<User, crate::error::ApiError> {
    Ok(u.clone())
}

pub fn users_command(store: &Store, cmd: UsersCommand) -> Result<(), String> {
    let refused = |e: crate::error::ApiError| e.client_message();
    match cmd {
        UsersCommand::Create {
            username,
            email,
            password,
            status,
            firstname,
            surname,
            company,
            json,
        } => {
            let password = password.read()?;
            let draft = Draft {
                username: &username,
                email: &email,
                password: Some(&password),
                status: status.as_deref(),
                firstname: firstname.as_deref(),
                surname: surname.as_deref(),
                company: company.as_deref(),
            };
            let user = accounts::create(store, &cli_actor(), &draft, keep).map_err(refused)?;
            print_user(&user, json);
        }
        UsersCommand::List { status, json } => {
            if let Some(s) = &status {
                accounts::rules::status(s).map_err(|why| format!("--status {why}"))?;
            }
            let list = store
                .users()
                .list(status.as_deref(), i64::MAX, 0)
                .map_err(|e| format!("store: {e}"))?;
            if json {
                println!("{}", Value::Array(list.iter().map(user_json).collect()));
            } else {
                println!("{:<20}  {:<32}  {:<8}  email", "id", "username", "status");
                for u in &list {
                    println!(
                        "{:<20}  {:<32}  {:<8}  {}",
                        u.id, u.username, u.status, u.email
                    );
                }
            }
        }
        UsersCommand::Show { user, json } => {
            print_user(&accounts::find(store, &user).map_err(refused)?, json);
        }
        UsersCommand::SetPassword { user, password } => {
            let password = password.read()?;
            let id = accounts::find(store, &user).map_err(refused)?.id;
            let edit = Edit {
                password: Some(&password),
                ..Edit::default()
            };
            accounts::update(store, &cli_actor(), &id, &edit, keep).map_err(refused)?;
            println!("password set for {id}");
        }
        UsersCommand::Disable { user } => {
            let found = accounts::find(store, &user).map_err(refused)?;
            let id = found.id;
            if found.status == "inactive" {
                println!("{id} is already inactive");
                return Ok(());
            }
            let edit = Edit {
                status: Some("inactive"),
                ..Edit::default()
            };
            accounts::update(store, &cli_actor(), &id, &edit, keep).map_err(refused)?;
            println!("disabled {id}");
        }
    }
    Ok(())
}

pub fn audit_command(store: &Store, args: AuditArgs) -> Result<(), String> {
    let rows = store
        .audit()
        .list(i64::from(args.limit))
        .map_err(|e| format!("store: {e}"))?;
    if args.json {
        println!("{}", Value::Array(rows.iter().map(entry_json).collect()));
    } else {
        for e in &rows {
            println!(
                "{}  {:<12}  {:<20}  {}  [{}]",
                Timestamp::from_unix(e.at).format(),
                e.action,
                e.user_id,
                e.actor,
                e.changes.join(", ")
            );
        }
    }
    Ok(())
}

/// An account as the API shows it (same keys and timestamp format).
fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "email": u.email,
        "firstname": u.firstname, "surname": u.surname, "company": u.company,
        "status": u.status,
        "created_at": Timestamp::from_unix(u.created_at).format(),
        "updated_at": Timestamp::from_unix(u.updated_at).format(),
    })
}

fn entry_json(e: &Entry) -> Value {
    json!({
        "id": e.id, "at": Timestamp::from_unix(e.at).format(), "at_unix": e.at,
        "actor": e.actor, "action": e.action, "user_id": e.user_id,
        "changes": e.changes, "request_id": e.request_id,
    })
}

fn print_user(u: &User, json: bool) {
    if json {
        println!("{}", user_json(u));
    } else {
        for (k, v) in [
            ("id", u.id.as_str()),
            ("username", &u.username),
            ("email", &u.email),
            ("firstname", &u.firstname),
            ("surname", &u.surname),
            ("company", &u.company),
            ("status", &u.status),
        ] {
            println!("{k:<10}  {v}");
        }
        println!(
            "{:<10}  {}",
            "created_at",
            Timestamp::from_unix(u.created_at)
        );
        println!(
            "{:<10}  {}",
            "updated_at",
            Timestamp::from_unix(u.updated_at)
        );
    }
}
