//! Builds the running service from a [`Config`]: the shared state, the bound
//! listeners and the background housekeeping.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::methods::Registry;
use crate::protocol::params::Limits;
use crate::protocol::version::VersionTable;
use crate::store::{nonces, Store};

/// Everything a request may read, shared by all workers.
pub struct AppState {
    pub config: Config,
    pub versions: VersionTable,
    pub store: Store,
    pub registry: Registry,
    pub clock: Arc<dyn Clock>,
    pub param_limits: Limits,
    /// The addresses actually bound (known once the server started).
    pub bound: OnceLock<Vec<SocketAddr>>,
    /// The documentation's sample answers, made on first use.
    pub docs_samples: OnceLock<crate::docs::samples::Samples>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
}

impl AppState {
    /// Opens the store and prepares the state for `config`.
    pub fn new(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
        let versions = VersionTable::from_config(&config.versions)
            .map_err(|e| StartError::Config(e.to_string()))?;
        let store = Store::open_in(&config.data_dir)?;
        let param_limits = Limits {
            max_params: config.limits.max_params,
            max_name_bytes: config.limits.max_param_name_bytes,
            max_value_bytes: config.limits.max_param_value_bytes,
        };
        Ok(AppState {
            config,
            versions,
            store,
            registry: Registry::new(),
            clock,
            param_limits,
            bound: OnceLock::new(),
            docs_samples: OnceLock::new(),
        })
    }

    /// The base URL clients use: configured, else the first bound address.
    pub fn public_url(&self) -> String {
        let configured = self.config.server.public_url.trim_end_matches('/');
        if !configured.is_empty() {
            return configured.to_string();
        }
        match self.bound.get().and_then(|a| a.first()) {
            Some(addr) => format!("http://{addr}"),
            None => format!(
                "http://{}",
                self.config
                    .server
                    .listen
                    .first()
                    .map_or("127.0.0.1:8080", String::as_str)
            ),
        }
    }

    /// The state on the real clock.
    pub fn with_system_clock(config: Config) -> Result<AppState, StartError> {
        AppState::new(config, Arc::new(SystemClock))
    }
}

/// A started server and the addresses it listens on.
pub struct Running {
    pub server: Server,
    pub addrs: Vec<SocketAddr>,
}

/// Binds every `listen` address (port 0 picks a free port) and starts serving.
pub fn start(state: AppState) -> Result<Running, StartError> {
    let mut listeners = Vec::new();
    for spec in &state.config.server.listen {
        let addrs: Vec<SocketAddr> = spec
            .to_socket_addrs()
            .map_err(|e| StartError::Bind(spec.clone(), e))?
            .collect();
        for addr in addrs {
            let l = TcpListener::bind(addr).map_err(|e| StartError::Bind(spec.clone(), e))?;
            listeners.push(l);
        }
    }
    let addrs = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect::<Vec<_>>();
    let workers = match state.config.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let shutdown = state.config.server.shutdown_timeout_secs;
    let _ = state.bound.set(addrs.clone());
    let data = web::Data::new(state);
    spawn_nonce_pruner(data.clone().into_inner());
    crate::media::worker::spawn(data.clone().into_inner());
    warm_docs(data.clone().into_inner());
    let max_body = data.config.limits.max_body_bytes;
    let app_data = data.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(app_data.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .wrap(Compress::default())
            .wrap(from_fn(crate::http::headers::standard))
            .default_service(web::to(crate::http::pipeline::handle))
    })
    .workers(workers)
    // Nagle + the client's delayed ACK would hold every answer on a
    // kept-alive connection for ~40 ms.
    .tcp_nodelay(true)
    .shutdown_timeout(shutdown);
    for l in listeners {
        server = server
            .listen(l)
            .map_err(|e| StartError::Bind("listener".into(), e))?;
    }
    Ok(Running {
        server: server.run(),
        addrs,
    })
}

/// Runs the documentation samples in the background so the first docs page
/// does not wait for them.
fn warm_docs(state: Arc<AppState>) {
    let _ = std::thread::Builder::new()
        .name("docs-samples".into())
        .spawn(move || {
            crate::docs::samples(&state);
        });
}

/// Deletes nonces that can no longer pass the timestamp window, once a minute.
fn spawn_nonce_pruner(state: Arc<AppState>) {
    std::thread::Builder::new()
        .name("nonce-pruner".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(60));
            let now = state.clock.now();
            match state.store.with(|c| nonces::prune(c, now)) {
                Ok(n) if n > 0 => tracing::debug!(pruned = n, "expired nonces pruned"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "nonce pruning failed"),
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!(error = %e, "cannot start the nonce pruner"));
}
