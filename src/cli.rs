//! The command line: `serve`, `keys`, `call`. Every command takes `--config`
//! and `--data-dir`, before or after the subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::app::{self, AppState};
use crate::client::{Client, Credentials};
use crate::config::Config;
use crate::protocol::signature::Algo;
use crate::store::keys::{self, ReplayPolicy, Role};
use crate::store::{meta, Store};

#[derive(Debug, Parser)]
#[command(
    name = "panthera",
    version,
    about = "Panthera: a signed form-POST REST service"
)]
pub struct Cli {
    /// Configuration file (default: ./config.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory holding the SQLite store (overrides `data_dir`).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 or [::1]:8080 (repeatable).
        #[arg(long, value_name = "ADDR")]
        listen: Vec<String>,
    },
    /// Manage api keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Call a method with signed credentials and print the answer.
    Call(CallArgs),
    /// Documentation tools.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// The media catalogue: import, generate, credit deposits.
    #[command(subcommand)]
    Media(crate::media::cli::MediaCommand),
    /// Manage users.
    #[command(subcommand)]
    Users(crate::media::cli::UsersCommand),
}

#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// Write the Markdown reference, openapi.json and a Postman collection,
    /// with sample answers run against a fresh demo database.
    Export {
        /// Output directory.
        #[arg(long, default_value = "docs/export")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an api key and print its key and secret (the secret is shown once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "app")]
        role: RoleArg,
        /// The user (by username) the key acts for when no user token is given.
        #[arg(long, value_name = "USERNAME")]
        owner: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List api keys (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke an api key: its calls are refused from now on.
    Revoke { api_key: String },
    /// Change a key's debug flag or replay policy.
    Set {
        api_key: String,
        /// Show the signed string on signature failures (never in production).
        #[arg(long, value_enum)]
        debug: Option<OnOff>,
        /// strict (default) or lenient (legacy clients reusing a nonce within a second).
        #[arg(long, value_enum)]
        replay: Option<ReplayArg>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    App,
    Admin,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReplayArg {
    Strict,
    Lenient,
}

#[derive(Debug, ClapArgs)]
pub struct CallArgs {
    /// Method name, e.g. host-info.
    pub method: String,
    /// Method parameters as name=value.
    pub params: Vec<String>,
    /// Ask for JSON (content_type=application/json).
    #[arg(long)]
    pub json: bool,
    /// Server base URL (default: from configuration).
    #[arg(long, env = "PANTHERA_URL")]
    pub url: Option<String>,
    /// Api key (default: the demo key of the data directory).
    #[arg(long, env = "PANTHERA_API_KEY")]
    pub key: Option<String>,
    /// Api secret.
    #[arg(long, env = "PANTHERA_API_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// HMAC algorithm: sha1, sha256 or sha512.
    #[arg(long, default_value = "sha1")]
    pub algo: String,
    /// API version path prefix, e.g. 1.0.
    #[arg(long = "api-version")]
    pub api_version: Option<String>,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("panthera: {msg}");
            ExitCode::from(2)
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config, String> {
    let mut config = Config::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(d) = &cli.data_dir {
        config.data_dir = d.clone();
    }
    Ok(config)
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let mut config = load_config(&cli)?;
    match cli.command {
        Command::Serve { listen } => {
            if !listen.is_empty() {
                config.server.listen = listen;
            }
            serve(config)
        }
        Command::Keys(cmd) => {
            let store = Store::open_in(&config.data_dir).map_err(|e| e.to_string())?;
            keys_command(&store, cmd)
        }
        Command::Call(args) => call(&config, args),
        Command::Media(cmd) => {
            let store = Store::open_in(&config.data_dir).map_err(|e| e.to_string())?;
            crate::media::cli::media_command(&store, cmd)
        }
        Command::Users(cmd) => {
            let store = Store::open_in(&config.data_dir).map_err(|e| e.to_string())?;
            crate::media::cli::users_command(&store, cmd)
        }
        Command::Docs(DocsCommand::Export { out }) => {
            // The export needs no real data: a throw-away store is enough.
            let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
            let state = AppState::with_system_clock(Config {
                data_dir: scratch.path().to_path_buf(),
                ..config
            })
            .map_err(|e| e.to_string())?;
            eprintln!("running the samples against a fresh demo database…");
            let samples = crate::docs::samples::run_all(&state.config)?;
            let written = crate::docs::export::export(&state, &samples, &out)
                .map_err(|e| format!("writing {}: {e}", out.display()))?;
            for w in written {
                println!("wrote {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn serve(config: Config) -> Result<ExitCode, String> {
    init_tracing(&config);
    let state = AppState::with_system_clock(config).map_err(|e| e.to_string())?;
    if let Some(demo) =
        crate::demo::seed(&state.store).map_err(|e| format!("seeding the demo: {e}"))?
    {
        println!(
            "First start: created a demo app and user in {} (shown only this once)",
            state.store.path().display()
        );
        println!("  api_key:    {}", demo.api_key);
        println!("  api_secret: {}", demo.api_secret);
        println!(
            "  user:       {}  password: {}",
            demo.username, demo.password
        );
    }
    actix_web::rt::System::new().block_on(async move {
        let running = app::start(state).map_err(|e| e.to_string())?;
        for addr in &running.addrs {
            println!(
                "Panthera {} listening on http://{addr} (docs: http://{addr}/)",
                env!("CARGO_PKG_VERSION")
            );
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        running.server.await.map_err(|e| format!("server: {e}"))?;
        Ok(ExitCode::SUCCESS)
    })
}

fn keys_command(store: &Store, cmd: KeysCommand) -> Result<ExitCode, String> {
    let db = |e: rusqlite::Error| format!("store: {e}");
    match cmd {
        KeysCommand::Create {
            name,
            role,
            owner,
            json,
        } => {
            let role = match role {
                RoleArg::App => Role::App,
                RoleArg::Admin => Role::Admin,
            };
            let owner_id = match &owner {
                Some(u) => Some(
                    store
                        .with(|c| crate::store::users::find_by_username(c, u))
                        .map_err(db)?
                        .ok_or_else(|| format!("no user {u}"))?
                        .id,
                ),
                None => None,
            };
            let key = store
                .with(|c| keys::create(c, &name, role, owner_id.as_deref()))
                .map_err(db)?;
            if json {
                println!(
                    "{}",
                    json!({"api_key": key.api_key, "api_secret": key.secret.expose(),
                           "name": key.name, "role": role.as_str()})
                );
            } else {
                println!("api_key:    {}", key.api_key);
                println!("api_secret: {}", key.secret.expose());
                println!("(the secret is shown only now; store it safely)");
            }
        }
        KeysCommand::List { json } => {
            let list = store.with(|c| keys::list(c)).map_err(db)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&list).map_err(|e| e.to_string())?
                );
            } else {
                println!(
                    "{:<64}  {:<6}  {:<8}  {:<7}  name",
                    "api_key", "role", "replay", "state"
                );
                for k in list {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!(
                        "{:<64}  {:<6}  {:<8}  {:<7}  {}",
                        k.api_key,
                        k.role.as_str(),
                        k.replay.as_str(),
                        state,
                        k.name
                    );
                }
            }
        }
        KeysCommand::Revoke { api_key } => {
            if !store.with(|c| keys::revoke(c, &api_key)).map_err(db)? {
                return Err(format!("no active api key {api_key}"));
            }
            println!("revoked {api_key}");
        }
        KeysCommand::Set {
            api_key,
            debug,
            replay,
        } => {
            let debug = debug.map(|d| matches!(d, OnOff::On));
            let replay = replay.map(|r| match r {
                ReplayArg::Strict => ReplayPolicy::Strict,
                ReplayArg::Lenient => ReplayPolicy::Lenient,
            });
            if !store
                .with(|c| keys::set_options(c, &api_key, debug, replay))
                .map_err(db)?
            {
                return Err(format!("no api key {api_key}"));
            }
            println!("updated {api_key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn call(config: &Config, args: CallArgs) -> Result<ExitCode, String> {
    let algo = Algo::parse(&args.algo).ok_or("--algo must be sha1, sha256 or sha512")?;
    let (api_key, api_secret) = match (args.key, args.secret) {
        (Some(k), Some(s)) => (k, s),
        (Some(_), None) | (None, Some(_)) => return Err("give both --key and --secret".into()),
        (None, None) => demo_credentials(config)?,
    };
    let url = args.url.unwrap_or_else(|| {
        let configured = config.server.public_url.trim_end_matches('/');
        if configured.is_empty() {
            format!(
                "http://{}",
                config
                    .server
                    .listen
                    .first()
                    .map_or("127.0.0.1:8080", String::as_str)
            )
        } else {
            configured.to_string()
        }
    });
    let mut params: Vec<(String, String)> = Vec::new();
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("parameter '{p}' is not name=value"))?;
        params.push((k.to_string(), v.to_string()));
    }
    if args.json {
        params.push(("content_type".into(), "application/json".into()));
    }
    let client = Client::new(
        &url,
        Credentials {
            api_key,
            api_secret,
            algo,
        },
    );
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = client
        .call(args.api_version.as_deref(), &args.method, &borrowed)
        .map_err(|e| e.to_string())?;
    println!("{}", reply.body.trim_end());
    if reply.status == 200 {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("HTTP {}", reply.status);
        Ok(ExitCode::from(1))
    }
}

/// The demo key of the data directory, for `panthera call` out of the box.
fn demo_credentials(config: &Config) -> Result<(String, String), String> {
    let none =
        "no --key/--secret given and no demo key in the data directory (run `panthera serve` once)";
    if !config.db_path().exists() {
        return Err(none.into());
    }
    let store = Store::open_in(&config.data_dir).map_err(|e| e.to_string())?;
    store
        .with(|c| {
            let Some(k) = meta::get(c, "demo_api_key")? else {
                return Ok(None);
            };
            keys::find(c, &k)
        })
        .map_err(|e| e.to_string())?
        .filter(|k| k.revoked_at.is_none())
        .map(|k| (k.api_key, k.secret.expose().to_string()))
        .ok_or_else(|| none.into())
}
