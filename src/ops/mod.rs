//! Running the service in production (issue 7): rate limits, per-address
//! caps, failed-authentication throttles, metrics, configuration reload,
//! backups, as plain mechanisms. Their HTTP face (the middleware, `/health`,
//! `/metrics`) is in `http`.

pub mod bucket;
pub mod conns;
pub mod forwarded;
pub mod gate;
pub mod inflight;
pub mod metrics;
pub mod net;
pub mod ratelimit;
pub mod reload;

use std::net::IpAddr;
use std::sync::Arc;

pub use crate::swap::Swap;

use crate::config::Config;

/// The operational state shared by all workers.
pub struct Ops {
    pub limiter: ratelimit::RateLimiter,
    pub in_flight: Arc<inflight::InFlight>,
    /// Open connections per address and in total.
    pub connections: Arc<conns::Connections>,
    pub metrics: metrics::Metrics,
    pub trusted_proxies: Vec<net::Cidr>,
    pub metrics_allow: Vec<net::Cidr>,
    /// When the process started, Unix seconds.
    pub started: i64,
}

impl Ops {
    pub fn new(config: &Config, now: i64) -> Result<Ops, String> {
        let trusted_proxies = net::Cidr::parse_all(&config.server.trusted_proxies)
            .map_err(|e| format!("server.trusted_proxies: {e}"))?;
        Ok(Ops {
            connections: conns::Connections::new(
                config,
                trusted_proxies.clone(),
                conns::fd_limit(),
            ),
            limiter: ratelimit::RateLimiter::new(&config.rate_limits),
            in_flight: inflight::InFlight::new(),
            metrics: metrics::Metrics::default(),
            trusted_proxies,
            metrics_allow: net::Cidr::parse_all(&config.metrics.allow)
                .map_err(|e| format!("metrics.allow: {e}"))?,
            started: now,
        })
    }
}

/// The client address of a request (after trusted proxies), in its extensions.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The API method a request called, for the metrics' `method` label.
#[derive(Debug, Clone, Copy)]
pub struct MethodLabel(pub &'static str);
