//! Counters for `GET /metrics` in the Prometheus text format, hand-rolled on
//! atomics: the hot path is a read lock and an atomic add.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use crate::error::ApiError;
use crate::protocol::version::Version;

/// Why a request was refused by a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    ApiKey,
    UserToken,
    FailedAuth,
    SignIn,
    InFlight,
    /// Too many open connections from one address.
    Connections,
    /// Too many open connections in total.
    ConnectionsTotal,
}

impl Rejection {
    const ALL: [Rejection; 7] = [
        Rejection::ApiKey,
        Rejection::UserToken,
        Rejection::FailedAuth,
        Rejection::SignIn,
        Rejection::InFlight,
        Rejection::Connections,
        Rejection::ConnectionsTotal,
    ];
    fn label(self) -> &'static str {
        match self {
            Rejection::ApiKey => "api_key",
            Rejection::UserToken => "user_token",
            Rejection::FailedAuth => "failed_auth",
            Rejection::SignIn => "sign_in",
            Rejection::InFlight => "in_flight",
            Rejection::Connections => "connections",
            Rejection::ConnectionsTotal => "connections_total",
        }
    }
}

/// Why an app authentication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    MissingParam,
    BadParam,
    BadTimestamp,
    TimestampTooOld,
    TimestampTooNew,
    UnknownKey,
    RevokedKey,
    BadSignature,
    Replay,
}

impl AuthFailure {
    const ALL: [AuthFailure; 9] = [
        AuthFailure::MissingParam,
        AuthFailure::BadParam,
        AuthFailure::BadTimestamp,
        AuthFailure::TimestampTooOld,
        AuthFailure::TimestampTooNew,
        AuthFailure::UnknownKey,
        AuthFailure::RevokedKey,
        AuthFailure::BadSignature,
        AuthFailure::Replay,
    ];

    /// The failure an error stands for, if it is an authentication failure.
    pub fn of(e: &ApiError) -> Option<AuthFailure> {
        use ApiError as E;
        Some(match e {
            E::MissingAuthParam(_) => AuthFailure::MissingParam,
            E::BadAuthParam(_)
            | E::BadAlgo
            | E::BadNonce(_)
            | E::BadOAuth(_)
            | E::MixedAuthSchemes => AuthFailure::BadParam,
            E::BadTimestamp(_) => AuthFailure::BadTimestamp,
            E::TimestampTooOld(_) => AuthFailure::TimestampTooOld,
            E::TimestampTooNew(_) => AuthFailure::TimestampTooNew,
            E::UnknownApiKey => AuthFailure::UnknownKey,
            E::RevokedApiKey => AuthFailure::RevokedKey,
            E::BadSignature(_) | E::BadOAuthSignature(_) => AuthFailure::BadSignature,
            E::Replay => AuthFailure::Replay,
            _ => return None,
        })
    }

    fn label(self) -> &'static str {
        match self {
            AuthFailure::MissingParam => "missing_param",
            AuthFailure::BadParam => "bad_param",
            AuthFailure::BadTimestamp => "bad_timestamp",
            AuthFailure::TimestampTooOld => "timestamp_too_old",
            AuthFailure::TimestampTooNew => "timestamp_too_new",
            AuthFailure::UnknownKey => "unknown_key",
            AuthFailure::RevokedKey => "revoked_key",
            AuthFailure::BadSignature => "bad_signature",
            AuthFailure::Replay => "replay",
        }
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Cumulative is computed at render; each slot counts its own range,
    /// the last one everything above the largest bound.
    buckets: [AtomicU64; BOUNDS.len() + 1],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = BOUNDS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BOUNDS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

type RequestKey = (&'static str, u16, Option<Version>);

/// Every counter of the process.
#[derive(Default)]
pub struct Metrics {
    requests: RwLock<HashMap<RequestKey, AtomicU64>>,
    latency: RwLock<HashMap<&'static str, Histogram>>,
    auth_failures: [AtomicU64; AuthFailure::ALL.len()],
    rejections: [AtomicU64; Rejection::ALL.len()],
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// Exchanges of rate-limit buckets with the other instances.
    shares_ok: AtomicU64,
    shares_failed: AtomicU64,
}

/// Values read at scrape time.
#[derive(Debug, Default, Clone, Copy)]
pub struct Gauges {
    pub in_flight: usize,
    /// Open client connections.
    pub connections: usize,
    pub nonces: Option<i64>,
    pub rate_limit_buckets: usize,
    pub start_time: i64,
}

/// Adds one to the counter under `key`, inserting it the first time.
fn bump<K: std::hash::Hash + Eq>(map: &RwLock<HashMap<K, AtomicU64>>, key: K) {
    if let Some(c) = map.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
        c.fetch_add(1, Ordering::Relaxed);
        return;
    }
    map.write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// One answered request. `method` is the API method, or `-` for pages
    /// and requests refused before a method was known.
    pub fn observe(
        &self,
        method: &'static str,
        status: u16,
        version: Option<Version>,
        took: Duration,
    ) {
        bump(&self.requests, (method, status, version));
        if let Some(h) = self
            .latency
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(method)
        {
            h.observe(took);
            return;
        }
        self.latency
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(method)
            .or_default()
            .observe(took);
    }

    pub fn auth_failed(&self, why: AuthFailure) {
        if let Some(i) = AuthFailure::ALL.iter().position(|f| *f == why) {
            self.auth_failures[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn rejected(&self, why: Rejection) {
        if let Some(i) = Rejection::ALL.iter().position(|r| *r == why) {
            self.rejections[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn reloaded(&self, ok: bool) {
        let c = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// One exchange of the rate-limit buckets with the shared store.
    pub fn shared(&self, ok: bool) {
        let c = if ok {
            &self.shares_ok
        } else {
            &self.shares_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        let head = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(
            &mut out,
            "panthera_requests_total",
            "counter",
            "Answered requests by API method, HTTP status and API version.",
        );
        let mut rows: Vec<(RequestKey, u64)> = self
            .requests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (*k, v.load(Ordering::Relaxed)))
            .collect();
        rows.sort_by_key(|(k, _)| *k);
        for ((method, status, version), n) in rows {
            let v = version.map(|v| v.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "panthera_requests_total{{method=\"{method}\",status=\"{status}\",version=\"{v}\"}} {n}"
            );
        }
        head(
            &mut out,
            "panthera_request_duration_seconds",
            "histogram",
            "Time from the request head to the answer, by API method.",
        );
        let latency = self.latency.read().unwrap_or_else(|p| p.into_inner());
        let mut methods: Vec<&&'static str> = latency.keys().collect();
        methods.sort();
        for m in methods {
            let Some(h) = latency.get(*m) else { continue };
            let mut cumulative = 0;
            for (i, bound) in BOUNDS.iter().enumerate() {
                cumulative += h.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "panthera_request_duration_seconds_bucket{{method=\"{m}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "panthera_request_duration_seconds_bucket{{method=\"{m}\",le=\"+Inf\"}} {count}\n\
                 panthera_request_duration_seconds_sum{{method=\"{m}\"}} {sum}\n\
                 panthera_request_duration_seconds_count{{method=\"{m}\"}} {count}"
            );
        }
        drop(latency);
        head(
            &mut out,
            "panthera_auth_failures_total",
            "counter",
            "Failed app authentications by reason.",
        );
        for (i, f) in AuthFailure::ALL.iter().enumerate() {
            let n = self.auth_failures[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "panthera_auth_failures_total{{reason=\"{}\"}} {n}",
                f.label()
            );
        }
        head(
            &mut out,
            "panthera_rate_limited_total",
            "counter",
            "Requests and connections refused by a rate or connection limit (429, 421, 503), by limit.",
        );
        for (i, r) in Rejection::ALL.iter().enumerate() {
            let n = self.rejections[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "panthera_rate_limited_total{{limit=\"{}\"}} {n}",
                r.label()
            );
        }
        for (name, help, ok, failed) in [
            (
                "panthera_config_reloads_total",
                "Configuration reloads by result.",
                &self.reloads_ok,
                &self.reloads_failed,
            ),
            (
                "panthera_rate_limit_exchanges_total",
                "Exchanges of the rate-limit buckets with the other instances (PostgreSQL store), by result.",
                &self.shares_ok,
                &self.shares_failed,
            ),
        ] {
            head(&mut out, name, "counter", help);
            let _ = writeln!(
                out,
                "{name}{{result=\"ok\"}} {}\n{name}{{result=\"failed\"}} {}",
                ok.load(Ordering::Relaxed),
                failed.load(Ordering::Relaxed)
            );
        }
        head(
            &mut out,
            "panthera_in_flight_requests",
            "gauge",
            "Requests being served now.",
        );
        let _ = writeln!(out, "panthera_in_flight_requests {}", g.in_flight);
        head(
            &mut out,
            "panthera_open_connections",
            "gauge",
            "Client connections open now.",
        );
        let _ = writeln!(out, "panthera_open_connections {}", g.connections);
        if let Some(n) = g.nonces {
            head(
                &mut out,
                "panthera_nonces",
                "gauge",
                "Live request nonces held for the replay check.",
            );
            let _ = writeln!(out, "panthera_nonces {n}");
        }
        head(
            &mut out,
            "panthera_rate_limit_buckets",
            "gauge",
            "Rate-limit buckets held in memory.",
        );
        let _ = writeln!(out, "panthera_rate_limit_buckets {}", g.rate_limit_buckets);
        head(
            &mut out,
            "panthera_start_time_seconds",
            "gauge",
            "When the process started, Unix seconds.",
        );
        let _ = writeln!(out, "panthera_start_time_seconds {}", g.start_time);
        head(
            &mut out,
            "panthera_build_info",
            "gauge",
            "The running version.",
        );
        let _ = writeln!(
            out,
            "panthera_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_as_prometheus_text() {
        let m = Metrics::default();
        let v = Some(Version::new(1, 0));
        m.observe("host-info", 200, v, Duration::from_millis(3));
        m.observe("host-info", 200, v, Duration::from_millis(30));
        m.observe("-", 404, None, Duration::from_micros(10));
        m.auth_failed(AuthFailure::BadSignature);
        m.rejected(Rejection::InFlight);
        let text = m.render(&Gauges {
            nonces: Some(7),
            ..Gauges::default()
        });
        for line in [
            "panthera_requests_total{method=\"host-info\",status=\"200\",version=\"1.0\"} 2",
            "panthera_requests_total{method=\"-\",status=\"404\",version=\"\"} 1",
            "panthera_request_duration_seconds_bucket{method=\"host-info\",le=\"0.005\"} 1",
            "panthera_request_duration_seconds_bucket{method=\"host-info\",le=\"0.05\"} 2",
            "panthera_request_duration_seconds_bucket{method=\"host-info\",le=\"+Inf\"} 2",
            "panthera_request_duration_seconds_count{method=\"host-info\"} 2",
            "panthera_auth_failures_total{reason=\"bad_signature\"} 1",
            "panthera_auth_failures_total{reason=\"replay\"} 0",
            "panthera_rate_limited_total{limit=\"in_flight\"} 1",
            "panthera_nonces 7",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        // every sample line is `name{labels} value` or `name value`
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let value = l.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }

    #[test]
    fn errors_map_to_reasons() {
        assert_eq!(
            AuthFailure::of(&ApiError::Replay),
            Some(AuthFailure::Replay)
        );
        assert_eq!(AuthFailure::of(&ApiError::NotFound("x".into())), None);
    }
}
