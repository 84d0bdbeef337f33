//! The command line: `serve`, `reload`, `keys`, `users`, `audit`, `call`,
//! `backup`, `restore`, `check`, `docs`. Every command takes `--config` and
//! `--data-dir`, before or after the subcommand.

mod accounts;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::app::{self, AppState};
use crate::client::{Client, Credentials, UserToken};
use crate::config::Config;
use crate::protocol::signature::Algo;
use crate::store::keys::{self, ReplayPolicy, Role};
use crate::store::{Store, StoreError};

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
        /// Address to listen on for HTTPS (repeatable; overrides server.tls.listen).
        #[arg(long, value_name = "ADDR")]
        tls_listen: Vec<String>,
        /// Serve HTTPS with a self-signed development certificate, created once
        /// in <data_dir>/tls/ (listens on 127.0.0.1:8443 unless told otherwise).
        #[arg(long)]
        tls_self_signed: bool,
    },
    /// Manage api keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage user accounts (audited with the actor "cli").
    #[command(subcommand)]
    Users(accounts::UsersCommand),
    /// Show the audit trail of account changes, newest first.
    Audit(accounts::AuditArgs),
    /// Call a method with signed credentials and print the answer.
    Call(CallArgs),
    /// Documentation tools.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Tell the running server (found by its pid file) to reload its
    /// configuration: version states, rate limits, the master key.
    Reload,
    /// Copy the store to FILE while the server runs (not the master key).
    Backup { file: PathBuf },
    /// Replace the store with the backup FILE (the server must be stopped).
    Restore {
        file: PathBuf,
        /// Restore even though a server seems to run on the data directory.
        #[arg(long)]
        force: bool,
    },
    /// Check the store (or a backup FILE): integrity, foreign keys, secrets.
    /// Exits 1 when a problem is found.
    Check { file: Option<PathBuf> },
    /// The media catalogue: import, generate, delete, credit deposits.
    #[command(subcommand)]
    Media(crate::media::cli::MediaCommand),
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
    /// Give a key a new secret (printed once); the old one stays valid
    /// until `retire-secret` or the configured rollover period ends.
    Rotate {
        api_key: String,
        #[arg(long)]
        json: bool,
    },
    /// End a key's rollover: only its newest secret is accepted.
    RetireSecret { api_key: String },
    /// Issue the key's token for the REST users API (`X-API-Key` on
    /// `/v1/users`), printed once; replaces the key's previous token. The
    /// API answers only keys with the admin role.
    RestToken {
        api_key: String,
        /// Remove the key's token instead: REST requests with it are refused.
        #[arg(long)]
        revoke: bool,
        #[arg(long)]
        json: bool,
    },
    /// Seal every api secret under a new master key, in one transaction.
    RotateMaster {
        /// Take the new key from FILE (created with a fresh key when absent);
        /// required when PANTHERA_MASTER_KEY provides the key.
        #[arg(long, value_name = "FILE")]
        new_key_file: Option<PathBuf>,
    },
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
    /// Show or change the callback URL prefixes of a key. With any, request-token
    /// accepts only an app_callback starting with one of them; with none, any
    /// http(s) URL (as before). Prints the prefixes in force afterwards.
    Callbacks {
        api_key: String,
        /// Allow callbacks starting with PREFIX, e.g. https://app.example/panthera/
        /// (include at least the '/' after the host); repeatable.
        #[arg(long, value_name = "PREFIX")]
        allow: Vec<String>,
        /// Stop allowing PREFIX; repeatable.
        #[arg(long, value_name = "PREFIX")]
        remove: Vec<String>,
        /// Remove every prefix first: any callback is accepted again.
        #[arg(long)]
        clear: bool,
        #[arg(long)]
        json: bool,
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
    /// Sign as a user: the auth_token of an authorized token.
    #[arg(long, env = "PANTHERA_AUTH_TOKEN", requires = "token_secret")]
    pub token: Option<String>,
    /// The token_secret given to request-token.
    #[arg(
        long,
        env = "PANTHERA_TOKEN_SECRET",
        hide_env_values = true,
        requires = "token"
    )]
    pub token_secret: Option<String>,
    /// Trust this PEM certificate for https URLs (e.g. data/tls/cert.pem).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
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
        Command::Serve {
            listen,
            tls_listen,
            tls_self_signed,
        } => {
            if !listen.is_empty() {
                config.server.listen = listen.clone();
            }
            if !tls_listen.is_empty() {
                config.server.tls.listen = tls_listen.clone();
            }
            if tls_self_signed {
                use_self_signed(&mut config)?;
            }
            // A reload reads the same sources, flags included.
            let (file, data_dir) = (cli.config.clone(), cli.data_dir.clone());
            let tls = config.server.tls.clone();
            let reload = move || {
                let mut c = Config::load(file.as_deref()).map_err(|e| e.to_string())?;
                if let Some(d) = &data_dir {
                    c.data_dir = d.clone();
                }
                if !listen.is_empty() {
                    c.server.listen = listen.clone();
                }
                c.server.tls = tls.clone();
                Ok(c)
            };
            serve(config, Box::new(reload))
        }
        Command::Keys(KeysCommand::RotateMaster { new_key_file }) => {
            let report = crate::store::lifecycle::rotate_master(&config, new_key_file.as_deref())?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(cmd) => {
            let store = Store::open_config(&config).map_err(|e| e.to_string())?;
            keys_command(&config, &store, cmd)
        }
        Command::Reload => {
            let pid = crate::ops::reload::signal_reload(&config.data_dir)?;
            println!("asked the server (pid {pid}) to reload its configuration");
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { file } => {
            println!("{}", crate::store::lifecycle::backup(&config, &file)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, force } => {
            if let (Some(pid), false) =
                (crate::ops::reload::running_server(&config.data_dir), force)
            {
                return Err(format!(
                    "a server (pid {pid}) is running on {}; stop it first (or --force)",
                    config.data_dir.display()
                ));
            }
            println!("{}", crate::store::lifecycle::restore(&config, &file)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { file } => {
            let (report, healthy) = crate::store::lifecycle::check(&config, file.as_deref())?;
            println!("{report}");
            Ok(if healthy {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Users(cmd) => {
            let store = Store::open_config(&config).map_err(|e| e.to_string())?;
            accounts::users_command(&store, cmd).map(|()| ExitCode::SUCCESS)
        }
        Command::Audit(args) => {
            let store = Store::open_config(&config).map_err(|e| e.to_string())?;
            accounts::audit_command(&store, args).map(|()| ExitCode::SUCCESS)
        }
        Command::Call(args) => call(&config, args),
        Command::Media(cmd) => {
            let store = Store::open_config(&config).map_err(|e| e.to_string())?;
            crate::media::cli::media_command(&store, &config, cmd)
        }
        Command::Docs(DocsCommand::Export { out }) => {
            // The export needs no real data: a throw-away store is enough.
            let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
            let mut config = Config {
                data_dir: scratch.path().to_path_buf(),
                ..config
            };
            config.store.backend = crate::config::Backend::Sqlite;
            let state = AppState::with_system_clock(config).map_err(|e| e.to_string())?;
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

/// Points the TLS settings at the development certificate (made once).
fn use_self_signed(config: &mut Config) -> Result<(), String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
    let made = crate::tls::ensure_self_signed(&config.data_dir).map_err(|e| e.to_string())?;
    println!(
        "TLS: {} self-signed development certificate {} (key {}); trust it in your client, e.g. curl --cacert",
        if made.created { "created the" } else { "using the" },
        made.cert.display(),
        made.key.display()
    );
    config.server.tls.cert = made.cert;
    config.server.tls.key = made.key;
    if config.server.tls.listen.is_empty() {
        config.server.tls.listen = vec!["127.0.0.1:8443".into()];
    }
    Ok(())
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a terminal: log files and collectors get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = if config.log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The file (mode 0600, in the data directory) that holds the demo
/// credentials when standard output is not a terminal.
pub const DEMO_CREDENTIALS_FILE: &str = "demo-credentials.txt";

/// Shows the demo credentials of a first start. On a terminal they are
/// printed; otherwise standard output is a service log (systemd's journal,
/// a log file), which must not hold a secret: they go into a 0600 file in
/// the data directory and only its path is printed and logged.
fn announce_demo(demo: &crate::demo::Demo, db: &std::path::Path, data_dir: &std::path::Path) {
    use std::io::IsTerminal;
    let lines = format!(
        "  api_key:    {}\n  api_secret: {}\n  user:       {}  password: {}\n",
        demo.api_key, demo.api_secret, demo.username, demo.password
    );
    if std::io::stdout().is_terminal() {
        println!(
            "First start: created a demo app and user in {} (shown only this once)",
            db.display()
        );
        print!("{lines}");
        return;
    }
    let path = data_dir.join(DEMO_CREDENTIALS_FILE);
    let text = format!(
        "# The demo app and user of {}, created at the first start.\n\
         # Only the service's user may read this file; delete it once you have them.\n{lines}",
        db.display()
    );
    match crate::private_file::write(&path, text.as_bytes()) {
        Ok(()) => {
            tracing::info!(file = %path.display(), "demo credentials written (mode 0600)");
            println!(
                "First start: created a demo app and user in {}; their credentials are in the file {}",
                db.display(),
                path.display()
            );
        }
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "cannot write the demo credentials");
            println!(
                "First start: created a demo app and user in {}; their credentials could not be written to {} ({e}): `panthera call` still uses the demo key, or create one with `panthera keys create`",
                db.display(),
                path.display()
            );
        }
    }
}

/// A write past a file-size limit (`RLIMIT_FSIZE`) then fails with `EFBIG`,
/// which the store reports (`503`, `/health`), instead of `SIGXFSZ` ending
/// the process.
fn ignore_file_size_signal() {
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn serve(
    config: Config,
    reload: Box<dyn Fn() -> Result<Config, String>>,
) -> Result<ExitCode, String> {
    init_tracing(&config);
    crate::ops::conns::raise_fd_limit();
    ignore_file_size_signal();
    let state = AppState::with_system_clock(config).map_err(|e| e.to_string())?;
    if let Some(demo) =
        crate::demo::seed(&state.store).map_err(|e| format!("seeding the demo: {e}"))?
    {
        announce_demo(&demo, state.store.path(), &state.config.data_dir);
    }
    let data_dir = state.config.data_dir.clone();
    actix_web::rt::System::new().block_on(async move {
        let running = app::start(state).map_err(|e| e.to_string())?;
        // Before announcing: until SIGHUP is watched it would end the process.
        crate::app::reload::listen(std::sync::Arc::clone(&running.state), reload)?;
        let _pid_file = crate::ops::reload::PidFile::create(&data_dir)
            .map_err(|e| format!("writing the pid file in {}: {e}", data_dir.display()))?;
        for addr in &running.tls_addrs {
            println!(
                "Panthera {} listening on https://{addr} (authorization pages: https://{addr}/auth/..., your apps: https://{addr}/account/apps)",
                env!("CARGO_PKG_VERSION")
            );
        }
        for addr in &running.addrs {
            println!(
                "Panthera {} listening on http://{addr} (docs: http://{addr}/)",
                env!("CARGO_PKG_VERSION")
            );
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SIGTERM / SIGINT: actix stops accepting and lets requests in
        // flight finish (server.shutdown_timeout_secs), then we flush.
        let stopped = running.server.await;
        if let Err(e) = running.state.store.checkpoint() {
            tracing::warn!(error = %e, "final checkpoint of the store failed");
        }
        tracing::info!("stopped");
        stopped.map_err(|e| format!("server: {e}"))?;
        Ok(ExitCode::SUCCESS)
    })
}

fn keys_command(config: &Config, store: &Store, cmd: KeysCommand) -> Result<ExitCode, String> {
    let db = |e: StoreError| format!("store: {e}");
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
                        .users()
                        .find_by_username(u)
                        .map_err(db)?
                        .ok_or_else(|| format!("no user {u}"))?
                        .id,
                ),
                None => None,
            };
            let key = store
                .keys()
                .create(&name, role, owner_id.as_deref())
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
            let list = store.keys().list().map_err(db)?;
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
                    } else if k.rollover {
                        "rollover"
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
            if !store.keys().revoke(&api_key).map_err(db)? {
                return Err(format!("no active api key {api_key}"));
            }
            println!("revoked {api_key}");
        }
        KeysCommand::Rotate { api_key, json } => {
            let grace = config.auth.secret_rollover_secs;
            let now = crate::store::now_unix();
            let outcome = store.keys().rotate(&api_key, now, grace).map_err(db)?;
            let (secret, until) = match outcome {
                keys::Rotation::Rotated { secret, until } => (secret, until),
                keys::Rotation::NoSuchKey => return Err(format!("no active api key {api_key}")),
                keys::Rotation::InProgress { .. } => {
                    return Err(format!(
                        "{api_key} already has two secrets; run `panthera keys retire-secret {api_key}` first"
                    ))
                }
            };
            let until_text = until.map_or_else(
                || "until `panthera keys retire-secret`".to_string(),
                |u| {
                    format!(
                        "until {}",
                        crate::protocol::timestamp::Timestamp::from_unix(u).format()
                    )
                },
            );
            if json {
                println!(
                    "{}",
                    json!({"api_key": api_key, "api_secret": secret.expose(),
                           "old_secret_until": until})
                );
            } else {
                println!("api_key:    {api_key}");
                println!("api_secret: {}", secret.expose());
                println!(
                    "(the new secret is shown only now; the old one stays valid {until_text})"
                );
            }
        }
        KeysCommand::RetireSecret { api_key } => {
            if !store.keys().retire_secret(&api_key).map_err(db)? {
                return Err(format!("{api_key} has no old secret to retire"));
            }
            println!("retired the old secret of {api_key}: only the newest is accepted now");
        }
        KeysCommand::RestToken {
            api_key,
            revoke,
            json,
        } => {
            if revoke {
                if !store.rest_tokens().revoke(&api_key).map_err(db)? {
                    return Err(format!("{api_key} has no REST token"));
                }
                println!("revoked the REST token of {api_key}");
                return Ok(ExitCode::SUCCESS);
            }
            let now = crate::store::now_unix();
            let token = store
                .rest_tokens()
                .issue(&api_key, now)
                .map_err(db)?
                .ok_or_else(|| format!("no active api key {api_key}"))?;
            let admin = store
                .keys()
                .list()
                .map_err(db)?
                .iter()
                .any(|k| k.api_key == api_key && k.role == Role::Admin);
            if json {
                println!("{}", json!({"api_key": api_key, "rest_token": token}));
            } else {
                println!("rest_token: {token}");
                println!("(shown only now; send it as the X-API-Key header of /v1/users)");
                if !admin {
                    println!("note: this key has the app role; /v1/users answers it 403");
                }
            }
        }
        KeysCommand::RotateMaster { .. } => {
            return Err("rotate-master is handled before the store is opened".into())
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
                .keys()
                .set_options(&api_key, debug, replay)
                .map_err(db)?
            {
                return Err(format!("no api key {api_key}"));
            }
            println!("updated {api_key}");
        }
        KeysCommand::Callbacks {
            api_key,
            allow,
            remove,
            clear,
            json,
        } => {
            for prefix in &allow {
                if let Some(why) = crate::methods::tokens::callback_prefix_problem(prefix) {
                    return Err(format!("--allow {prefix}: {why}"));
                }
            }
            let prefixes = store
                .transaction(|tx| {
                    let callbacks = tx.key_callbacks();
                    if !callbacks.key_exists(&api_key)? {
                        return Ok(None);
                    }
                    if clear {
                        callbacks.clear(&api_key)?;
                    }
                    for prefix in &remove {
                        callbacks.remove(&api_key, prefix)?;
                    }
                    for prefix in &allow {
                        callbacks.allow(&api_key, prefix)?;
                    }
                    Ok(Some(callbacks.list(&api_key)?))
                })
                .map_err(db)?
                .ok_or_else(|| format!("no api key {api_key}"))?;
            if json {
                println!("{}", json!({"api_key": api_key, "callbacks": prefixes}));
            } else if prefixes.is_empty() {
                println!("{api_key} accepts any http(s) app_callback (no prefixes registered)");
            } else {
                println!("{api_key} accepts an app_callback starting with:");
                for p in &prefixes {
                    println!("  {p}");
                }
            }
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
    let mut client = Client::new(
        &url,
        Credentials {
            api_key,
            api_secret,
            algo,
        },
    );
    if let (Some(auth_token), Some(token_secret)) = (args.token, args.token_secret) {
        client = client.with_token(UserToken {
            auth_token,
            token_secret,
        });
    }
    if let Some(path) = &args.cacert {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        client = client
            .with_ca_pem(&pem)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
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
    // a SQLite store that does not exist yet has no demo key: never create
    // one just to find that out
    if config.store.backend == crate::config::Backend::Sqlite && !config.db_path().exists() {
        return Err(none.into());
    }
    let store = Store::open_config(config).map_err(|e| e.to_string())?;
    let demo = store
        .meta()
        .get("demo_api_key")
        .map_err(|e| e.to_string())?;
    demo.map(|k| store.keys().find(&k, crate::store::now_unix()))
        .transpose()
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|k| k.revoked_at.is_none())
        .map(|k| (k.api_key, k.secret.expose().to_string()))
        .ok_or_else(|| none.into())
}
