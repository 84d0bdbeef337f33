//! The state every request may read, shared by all workers: the store, the
//! clock, the limiters, the key cache, the settings, and the registry of
//! methods. `app` builds it from a `Config` (`AppState::new`).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use super::Registry;
use crate::clock::Clock;
use crate::config::Config;
use crate::ops::forwarded::Origin;
use crate::ops::{Ops, Swap};
use crate::protocol::params::Limits;
use crate::protocol::version::VersionTable;
use crate::server_key::ServerKey;
use crate::store::keys::KeyCache;
use crate::store::nonces::NonceWriter;
use crate::store::Store;

/// Everything a request may read, shared by all workers.
pub struct AppState {
    pub config: Config,
    /// Swapped whole on reload (SIGHUP, `panthera reload`).
    pub versions: Swap<VersionTable>,
    pub store: Store,
    /// Claims request nonces with group commit (store/nonces.rs).
    pub nonces: NonceWriter,
    /// Api keys of recent requests, valid per nonce-writer epoch.
    pub key_cache: KeyCache,
    pub registry: Registry,
    pub clock: Arc<dyn Clock>,
    pub param_limits: Limits,
    /// Seals token secrets and signs CSRF tokens.
    pub server_key: ServerKey,
    /// The addresses actually bound (known once the server started).
    pub bound: OnceLock<Vec<SocketAddr>>,
    /// The HTTPS addresses actually bound (empty without a TLS listener).
    pub bound_tls: OnceLock<Vec<SocketAddr>>,
    /// The documentation's sample answers, made on first use.
    pub docs_samples: OnceLock<super::samples::Samples>,
    /// Rate limits, per-address caps, metrics.
    pub ops: Ops,
    /// Rendered picture files on disk and the bounds on rendering them.
    pub renders: Arc<crate::media::render_cache::Renders>,
}

impl AppState {
    /// The base URL clients use: configured, else the first bound address.
    pub fn public_url(&self) -> String {
        if let Some(configured) = self.configured_public_url() {
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

    /// The base URL of one request: `server.public_url` when configured, else
    /// what the client used (scheme and `Host`, or a trusted proxy's word).
    pub fn base_url_for(&self, origin: &Origin) -> String {
        self.configured_public_url()
            .map_or_else(|| origin.base_url(), str::to_string)
    }

    /// `server.public_url` without a trailing slash, when set.
    fn configured_public_url(&self) -> Option<&str> {
        Some(self.config.server.public_url.trim_end_matches('/')).filter(|u| !u.is_empty())
    }
}
