//! Builds the running service from a [`Config`]: the shared state, the bound
//! listeners and the background housekeeping.

pub mod reload;
pub mod worker;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};

use crate::clock::Clock;
use crate::config::Config;
use crate::methods::Registry;
use crate::ops::{Ops, Swap};
use crate::protocol::params::Limits;
use crate::protocol::version::VersionTable;
use crate::server_key::ServerKey;
use crate::store::keys::KeyCache;
use crate::store::nonces::NonceWriter;
use crate::store::Store;

/// The shared state lives on the methods floor, beside the registry it holds.
pub use crate::methods::state::AppState;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error(transparent)]
    Key(#[from] crate::server_key::ServerKeyError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Nonces(#[from] crate::store::nonces::WriterStartError),
}

impl AppState {
    /// Opens the store and prepares the state for `config`.
    pub fn new(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
        let versions = VersionTable::from_config(&config.versions)
            .map_err(|e| StartError::Config(e.to_string()))?;
        let store = Store::open_config(&config)?;
        let nonces = NonceWriter::start(
            &store,
            Arc::clone(&clock),
            config.auth.timestamp_tolerance_secs,
        )?;
        let server_key = match ServerKey::configured(config.auth.token_key.expose())? {
            Some(k) => k,
            None => match ServerKey::legacy_file(&config.data_dir)? {
                Some(k) => k,
                None => {
                    let secret = store.meta().secret(crate::store::meta::CSRF_KEY)?;
                    let master: [u8; 32] = secret.as_slice().try_into().map_err(|_| {
                        StartError::Config("the stored CSRF key is not 32 bytes".into())
                    })?;
                    ServerKey::from_master(&master)
                }
            },
        };
        let ops = Ops::new(&config, clock.now()).map_err(StartError::Config)?;
        let renders = crate::media::render_cache::Renders::open(&config).map_err(|e| {
            StartError::Config(format!("{}/renders: {e}", config.data_dir.display()))
        })?;
        let param_limits = Limits {
            max_params: config.limits.max_params,
            max_name_bytes: config.limits.max_param_name_bytes,
            max_value_bytes: config.limits.max_param_value_bytes,
        };
        Ok(AppState {
            config,
            versions: Swap::new(versions),
            store,
            nonces,
            key_cache: KeyCache::default(),
            registry: Registry::new(),
            clock,
            param_limits,
            server_key,
            bound: OnceLock::new(),
            bound_tls: OnceLock::new(),
            docs_samples: OnceLock::new(),
            ops,
            renders: Arc::new(renders),
        })
    }

    /// The state on the real clock (moved by `testing.clock_offset_file` when set).
    pub fn with_system_clock(config: Config) -> Result<AppState, StartError> {
        let clock = crate::clock::from_config(&config);
        AppState::new(config, clock)
    }
}

/// A started server and the addresses it listens on.
pub struct Running {
    pub server: Server,
    /// Plain HTTP addresses.
    pub addrs: Vec<SocketAddr>,
    /// HTTPS addresses.
    pub tls_addrs: Vec<SocketAddr>,
    pub state: Arc<AppState>,
}

fn bind_all(specs: &[String]) -> Result<Vec<TcpListener>, StartError> {
    let mut listeners = Vec::new();
    for spec in specs {
        let addrs: Vec<SocketAddr> = spec
            .to_socket_addrs()
            .map_err(|e| StartError::Bind(spec.clone(), e))?
            .collect();
        for addr in addrs {
            let l = TcpListener::bind(addr).map_err(|e| StartError::Bind(spec.clone(), e))?;
            listeners.push(l);
        }
    }
    Ok(listeners)
}

fn local_addrs(listeners: &[TcpListener]) -> Vec<SocketAddr> {
    listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect()
}

/// Binds every `listen` and `tls.listen` address (port 0 picks a free port)
/// and starts serving.
pub fn start(state: AppState) -> Result<Running, StartError> {
    let listeners = bind_all(&state.config.server.listen)?;
    let tls = &state.config.server.tls;
    let tls_listeners = bind_all(&tls.listen)?;
    let tls_config = if tls_listeners.is_empty() {
        None
    } else {
        Some(crate::tls::server_config(&tls.cert, &tls.key)?)
    };
    let addrs = local_addrs(&listeners);
    let tls_addrs = local_addrs(&tls_listeners);
    let workers = match state.config.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let shutdown = state.config.server.shutdown_timeout_secs;
    let timeouts = &state.config.server;
    let ms = Duration::from_millis;
    let (request_timeout, disconnect_timeout) = (
        ms(timeouts.client_request_timeout_ms),
        ms(timeouts.client_disconnect_timeout_ms),
    );
    let keep_alive = match timeouts.keep_alive_secs {
        0 => actix_web::http::KeepAlive::Disabled,
        s => actix_web::http::KeepAlive::Timeout(Duration::from_secs(s)),
    };
    let _ = state.bound.set(addrs.clone());
    let _ = state.bound_tls.set(tls_addrs.clone());
    let data = web::Data::new(state);
    spawn_idempotency_pruner(data.clone().into_inner());
    spawn_bucket_sweeper(data.clone().into_inner());
    spawn_bucket_sharing(data.clone().into_inner());
    worker::spawn(data.clone().into_inner());
    warm_docs(data.clone().into_inner());
    let max_body = data.config.limits.max_body_bytes;
    let app_data = data.clone();
    let conn_state = data.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(app_data.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .wrap(from_fn(crate::http::guard::guard))
            .wrap(Compress::default())
            .wrap(from_fn(crate::http::headers::standard))
            .configure(crate::web::routes)
            .configure(crate::rest::routes)
            .default_service(web::to(crate::http::pipeline::handle))
    })
    .workers(workers)
    // Caps open connections per address and in total (ops/conns.rs).
    .on_connect(move |io, ext| {
        crate::ops::conns::on_connect(
            &conn_state.ops.connections,
            &conn_state.ops.metrics,
            io,
            ext,
        );
    })
    // Nagle + the client's delayed ACK would hold every answer on a
    // kept-alive connection for ~40 ms.
    .tcp_nodelay(true)
    .shutdown_timeout(shutdown)
    .client_request_timeout(request_timeout)
    .client_disconnect_timeout(disconnect_timeout)
    .keep_alive(keep_alive);
    for l in listeners {
        server = server
            .listen(l)
            .map_err(|e| StartError::Bind("listener".into(), e))?;
    }
    if let Some(tls_config) = tls_config {
        for l in tls_listeners {
            server = server
                .listen_rustls_0_23(l, tls_config.clone())
                .map_err(|e| StartError::Bind("TLS listener".into(), e))?;
        }
    }
    Ok(Running {
        server: server.run(),
        addrs,
        tls_addrs,
        state: data.into_inner(),
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

/// Deletes expired idempotency keys once a minute (the nonce writer prunes
/// the replay log itself).
fn spawn_idempotency_pruner(state: Arc<AppState>) {
    std::thread::Builder::new()
        .name("idempotency-pruner".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(60));
            let now = state.clock.now();
            match state.store.idempotency().prune(now) {
                Ok(n) if n > 0 => tracing::debug!(pruned = n, "expired idempotency keys pruned"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "idempotency pruning failed"),
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!(error = %e, "cannot start the idempotency pruner"));
}

/// With the PostgreSQL store, exchanges the rate-limit buckets with the other
/// instances every `rate_limits.share_every_ms`, and once a minute forgets
/// shared buckets untouched for two days (every policy is full again by
/// then, and its day over). A failing store is logged once, then again when
/// it recovers; the takes wait for the next exchange.
fn spawn_bucket_sharing(state: Arc<AppState>) {
    let every = state.config.rate_limits.share_every_ms;
    if !state.store.is_shared() || every == 0 {
        return;
    }
    std::thread::Builder::new()
        .name("bucket-sharing".into())
        .spawn(move || {
            let mut failing = false;
            let mut next_prune = 0;
            loop {
                std::thread::sleep(Duration::from_millis(every));
                let now = state.clock.now_millis();
                let outcome = state.ops.limiter.share(&state.store, now);
                state.ops.metrics.shared(outcome.is_ok());
                match outcome {
                    Ok(n) if failing => {
                        failing = false;
                        tracing::info!(buckets = n, "rate-limit buckets shared again");
                    }
                    Ok(_) => {}
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "cannot share rate-limit buckets; counting alone");
                    }
                    Err(_) => {}
                }
                if now >= next_prune {
                    next_prune = now + 60_000;
                    let _ = state.store.rate_buckets().prune(now - 2 * 86_400_000);
                }
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!(error = %e, "cannot start the bucket sharing"));
}

/// Forgets idle rate-limit buckets every half minute, so memory follows the
/// callers active now rather than every caller ever seen.
fn spawn_bucket_sweeper(state: Arc<AppState>) {
    std::thread::Builder::new()
        .name("bucket-sweeper".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(30));
            let left = state.ops.limiter.sweep(state.clock.now_millis());
            tracing::trace!(buckets = left, "rate-limit buckets swept");
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!(error = %e, "cannot start the bucket sweeper"));
}
