//! Typed configuration: `config.toml` (every setting documented there with its
//! default), overridden by `PANTHERA_*` environment variables, then by flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::wire::{Version, VersionState};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite store and other state live.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub versions: VersionsConfig,
    pub log: LogConfig,
    pub rate_limits: RateLimitsConfig,
    pub metrics: MetricsConfig,
    pub testing: TestingConfig,
    pub media: MediaConfig,
    pub store: StoreConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Addresses to listen on (plain HTTP).
    pub listen: Vec<String>,
    /// Worker threads; 0 = one per core.
    pub workers: usize,
    /// The public base URL shown in docs and used by `panthera call`; empty = derived from `listen`.
    pub public_url: String,
    /// Seconds to wait for in-flight requests on shutdown.
    pub shutdown_timeout_secs: u64,
    /// Proxies (addresses or CIDR ranges) in front of this server: only they
    /// may name the client (`X-Forwarded-For`) and say the request came over
    /// HTTPS (`X-Forwarded-Proto` / `Forwarded: proto=https`).
    pub trusted_proxies: Vec<String>,
    /// Milliseconds a client has to send the request head (0 = no limit).
    pub client_request_timeout_ms: u64,
    /// Milliseconds to wait for a client to close a finished connection (0 = no limit).
    pub client_disconnect_timeout_ms: u64,
    /// Seconds an idle keep-alive connection stays open; 0 disables keep-alive.
    pub keep_alive_secs: u64,
    pub tls: TlsConfig,
    /// Development only: let the sign-in pages (`/auth/…`, `/account/…`) take
    /// passwords over plain HTTP even when HTTPS is available (a TLS listener,
    /// or a trusted proxy that reports the protocol). Off: such requests are
    /// sent to HTTPS (GET, `308`) or refused (POST, `403`).
    pub allow_insecure_sign_in: bool,
}

/// The HTTPS listener (served natively with rustls).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Addresses to listen on for HTTPS; empty = no TLS listener.
    pub listen: Vec<String>,
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Settings that exist only for the test suite; never set them in production.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TestingConfig {
    /// A file holding a number of seconds added to the server clock, re-read
    /// on every look at the clock (expiry tests shift time with it). Empty = real clock.
    pub clock_offset_file: PathBuf,
    /// Milliseconds each picture render waits, holding its render slot,
    /// before it starts (the render-bound tests make renders overlap with it).
    pub render_delay_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Accepted clock skew of `timestamp`, either way, in seconds.
    pub timestamp_tolerance_secs: u64,
    /// File holding the master key that seals api and token secrets; empty = `<data_dir>/master.key`.
    pub master_key_file: PathBuf,
    /// Seconds the old secret stays valid after `keys rotate`; 0 = until `keys retire-secret`.
    pub secret_rollover_secs: u64,
    /// 64 hex digits: the key that signs CSRF tokens of the browser pages.
    /// Empty = generated once and kept sealed in the store (an earlier
    /// version's `<data_dir>/token.key` is still used).
    pub token_key: SecretText,
}

/// A configured secret: serialised as is, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body; larger is `413`.
    pub max_body_bytes: usize,
    /// Most parameters in one request (array elements count); more is `400`.
    pub max_params: usize,
    /// Longest parameter name in bytes.
    pub max_param_name_bytes: usize,
    /// Longest parameter value in bytes.
    pub max_param_value_bytes: usize,
    /// Seconds a client has to send the whole body once the head arrived; slower is `408`.
    pub body_timeout_secs: u64,
    /// Most requests in flight at once from one client address; more is `421` (0 = no cap).
    pub max_in_flight_per_address: u32,
    /// `Retry-After` of that `421`, in seconds.
    pub in_flight_retry_after_secs: u64,
    /// Most open connections at once from one client address (IPv6: per /64);
    /// more are answered `421` and closed at once (0 = no cap). Trusted
    /// proxies are exempt.
    pub max_connections_per_address: u32,
    /// Most open connections at once in total; more are answered `503` and
    /// closed. 0 = nine tenths of the open-file limit.
    pub max_connections: usize,
}

/// Rate limits (protocol.md §8): token buckets per api key and per user token,
/// and the throttles on failed authentications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    /// False switches every rate limit (and its headers) off.
    pub enabled: bool,
    /// The policy of every api key and user token.
    pub default: RatePolicy,
    /// Stricter policies by method name, replacing `default` for that method.
    pub methods: BTreeMap<String, RatePolicy>,
    /// Failed app authentications per client address.
    pub failed_auth_per_address: RatePolicy,
    /// Failed app authentications (wrong signature) per api key.
    pub failed_auth_per_key: RatePolicy,
    /// Failed user sign-ins, per client address and per user name.
    pub failed_sign_in: RatePolicy,
    /// With the PostgreSQL store: milliseconds between two exchanges of the
    /// buckets with the other instances (0 = each instance counts alone).
    pub share_every_ms: u64,
}

/// A token bucket of `burst` requests refilled at `per_second`, plus at most
/// `daily` requests per UTC day (0 = no daily cap).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatePolicy {
    pub burst: u32,
    pub per_second: f64,
    #[serde(default)]
    pub daily: u64,
}

impl RatePolicy {
    pub const fn new(burst: u32, per_second: f64, daily: u64) -> Self {
        RatePolicy {
            burst,
            per_second,
            daily,
        }
    }
}

/// The store: the embedded SQLite file (default) or a shared PostgreSQL
/// database for several instances (docs/operations.md, scale-out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Which backend holds the data: `sqlite` or `postgres`.
    pub backend: Backend,
    /// SQLite `synchronous` in WAL mode: `normal` survives a process crash,
    /// `full` also survives power loss (one fsync per group commit).
    pub synchronous: Synchronous,
    /// PostgreSQL connection URL (`postgres://user:pass@host:port/db`);
    /// `PANTHERA_STORE__URL` sets it from the environment.
    pub url: String,
    /// PostgreSQL: the schema holding Panthera's tables (created when
    /// missing); empty: the first of the URL's `search_path` (`public`).
    pub schema: String,
    /// PostgreSQL: connections in the pool.
    pub pool_size: usize,
    /// PostgreSQL: `statement_timeout` of every connection, in milliseconds
    /// (0: none).
    pub statement_timeout_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: Backend::default(),
            synchronous: Synchronous::default(),
            url: String::new(),
            schema: String::new(),
            pool_size: 16,
            statement_timeout_ms: 5_000,
        }
    }
}

/// The backend of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// One file under `data_dir`, one instance.
    #[default]
    Sqlite,
    /// One PostgreSQL database shared by every instance.
    Postgres,
}

/// How hard a commit is pushed towards the disk (docs/performance.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// A commit is in the OS page cache when it returns: safe from `kill -9`.
    #[default]
    Normal,
    /// A commit is on the disk when it returns: safe from power loss too.
    Full,
}

impl Synchronous {
    /// The value of `PRAGMA synchronous`.
    pub fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// `GET /metrics` (Prometheus text format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// Client addresses (or CIDR ranges) that may read the metrics.
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VersionsConfig {
    /// Version used when neither the path nor `Accept-Version` names one.
    pub default: String,
    /// Status for deprecated versions: 307 or 308.
    pub deprecated_status: u16,
    /// Every known version and its state: current, deprecated or gone.
    pub states: BTreeMap<String, VersionState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// How often the order worker moves download orders on, in milliseconds.
    pub worker_interval_ms: u64,
    /// How long a download link stays valid, in seconds.
    pub download_url_ttl_secs: u64,
    /// Attempts at notifying a `callback_url` before giving up.
    pub callback_max_attempts: u32,
    /// The contributors' upload inboxes (`get-user-ftp-list`), a folder per
    /// user id inside; empty = `<data_dir>/inbox`.
    pub inbox_dir: PathBuf,
    /// Where imported files are kept as uploaded (`<id>.jpg`); empty =
    /// `<data_dir>/originals`. Several instances share one folder.
    pub originals_dir: PathBuf,
    /// Largest file `get-user-ftp-list process=yes` imports, in bytes.
    pub inbox_max_file_bytes: u64,
    /// Rendered picture files kept under `<data_dir>/renders`, at most this
    /// many bytes together; the least recently used go first.
    pub render_cache_max_bytes: u64,
    /// Pictures rendered at once; 0 = one per core.
    pub render_concurrency: usize,
    /// Requests that may wait for a render slot; one more is `503`.
    pub render_queue: usize,
    /// Longest wait for a render slot, in milliseconds, before `503`.
    pub render_wait_ms: u64,
    /// `Retry-After` of that `503`, in seconds.
    pub render_retry_after_secs: u64,
    /// Public preview files (`/media/<rendition>/<id>.jpg`) per client
    /// address; more is `429` (off with `rate_limits.enabled = false`).
    pub preview_rate_per_address: RatePolicy,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            worker_interval_ms: 500,
            download_url_ttl_secs: 3600,
            callback_max_attempts: 5,
            inbox_dir: PathBuf::new(),
            originals_dir: PathBuf::new(),
            inbox_max_file_bytes: 40 * 1024 * 1024,
            render_cache_max_bytes: 1024 * 1024 * 1024,
            render_concurrency: 0,
            render_queue: 64,
            render_wait_ms: 5000,
            render_retry_after_secs: 2,
            preview_rate_per_address: RatePolicy::new(120, 20.0, 0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter, e.g. `info` or `panthera=debug`.
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            versions: VersionsConfig::default(),
            log: LogConfig::default(),
            rate_limits: RateLimitsConfig::default(),
            metrics: MetricsConfig::default(),
            testing: TestingConfig::default(),
            media: MediaConfig::default(),
            store: StoreConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: vec!["127.0.0.1:8080".into()],
            workers: 0,
            public_url: String::new(),
            shutdown_timeout_secs: 30,
            trusted_proxies: Vec::new(),
            client_request_timeout_ms: 5000,
            client_disconnect_timeout_ms: 1000,
            keep_alive_secs: 5,
            tls: TlsConfig::default(),
            allow_insecure_sign_in: false,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            timestamp_tolerance_secs: 300,
            master_key_file: PathBuf::new(),
            secret_rollover_secs: 7 * 24 * 3600,
            token_key: SecretText::default(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 1024 * 1024,
            max_params: 256,
            max_param_name_bytes: 128,
            max_param_value_bytes: 64 * 1024,
            body_timeout_secs: 30,
            max_in_flight_per_address: 64,
            in_flight_retry_after_secs: 1,
            max_connections_per_address: 256,
            max_connections: 0,
        }
    }
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        RateLimitsConfig {
            enabled: true,
            default: RatePolicy::new(60, 10.0, 100_000),
            methods: [("request-token".to_string(), RatePolicy::new(5, 0.1, 1000))]
                .into_iter()
                .collect(),
            failed_auth_per_address: RatePolicy::new(20, 0.1, 0),
            failed_auth_per_key: RatePolicy::new(50, 0.2, 0),
            failed_sign_in: RatePolicy::new(10, 0.05, 100),
            share_every_ms: 250,
        }
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            allow: vec!["127.0.0.0/8".into(), "::1".into()],
        }
    }
}

impl Default for VersionsConfig {
    fn default() -> Self {
        let states = [
            ("1.0", VersionState::Current),
            ("1.1", VersionState::Current),
            ("1.2", VersionState::Current),
        ]
        .into_iter()
        .map(|(v, s)| (v.to_string(), s))
        .collect();
        VersionsConfig {
            default: "1.0".into(),
            deprecated_status: 307,
            states,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: "text".into(),
        }
    }
}

/// The top-level keys of the configuration.
const SECTIONS: &[&str] = &[
    "data_dir",
    "server",
    "auth",
    "limits",
    "versions",
    "log",
    "rate_limits",
    "metrics",
    "media",
    "store",
    "testing",
];

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults ← `file` (or `./config.toml` when it exists) ← `PANTHERA_*`
    /// environment variables (nested keys joined by `__`, e.g.
    /// `PANTHERA_AUTH__TIMESTAMP_TOLERANCE_SECS=60`).
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        // Defaults come from serde (`#[serde(default)]`), so a table given in
        // the file, such as `versions.states`, replaces the default one whole.
        let mut figment = Figment::new();
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError::Invalid(format!(
                        "config file {} does not exist",
                        path.display()
                    )));
                }
                figment = figment.merge(Toml::file(path));
            }
            None => {
                if Path::new("config.toml").exists() {
                    figment = figment.merge(Toml::file("config.toml"));
                }
            }
        }
        // Only configuration keys: PANTHERA_URL, PANTHERA_API_KEY … belong to `call`.
        figment = figment.merge(Env::prefixed("PANTHERA_").split("__").filter(|k| {
            let top = k.as_str().split('.').next().unwrap_or("");
            SECTIONS.iter().any(|s| top.eq_ignore_ascii_case(s))
        }));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML text on top of the defaults (no environment), for tests.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = Figment::new()
            .merge(Toml::string(text))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.versions.states.is_empty() {
            return bad("versions.states lists no version".into());
        }
        for v in self.versions.states.keys() {
            if v.parse::<Version>().is_err() {
                return bad(format!("versions.states: '{v}' is not a version like 1.0"));
            }
        }
        match self.versions.default.parse::<Version>() {
            Ok(_) if self.versions.states.contains_key(&self.versions.default) => {}
            _ => {
                return bad(format!(
                    "versions.default '{}' is not listed in versions.states",
                    self.versions.default
                ))
            }
        }
        if !matches!(self.versions.deprecated_status, 307 | 308) {
            return bad("versions.deprecated_status must be 307 or 308".into());
        }
        if !self
            .versions
            .states
            .values()
            .any(|s| *s == VersionState::Current)
        {
            return bad("versions.states needs at least one current version".into());
        }
        if self.store.backend == Backend::Postgres {
            if self.store.url.is_empty() {
                return bad("store.url is needed for backend \"postgres\"".into());
            }
            let s = &self.store.schema;
            let valid = s.len() < 60
                && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !s.is_empty() && !valid {
                return bad(format!(
                    "store.schema '{s}': lowercase letters, digits and _ only, not starting with a digit"
                ));
            }
            if self.store.pool_size == 0 {
                return bad("store.pool_size must be at least 1".into());
            }
        }
        if self.server.listen.is_empty() {
            return bad("server.listen lists no address".into());
        }
        if self.limits.max_params == 0 || self.limits.max_body_bytes == 0 {
            return bad("limits must be positive".into());
        }
        let tls = &self.server.tls;
        if !tls.listen.is_empty()
            && (tls.cert.as_os_str().is_empty() || tls.key.as_os_str().is_empty())
        {
            return bad("server.tls.listen needs server.tls.cert and server.tls.key (or serve --tls-self-signed)".into());
        }
        let key = self.auth.token_key.expose();
        if !key.is_empty() && (key.len() != 64 || hex::decode(key).is_err()) {
            return bad("auth.token_key must be 64 hex digits (32 bytes)".into());
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return bad("log.format must be text or json".into());
        }
        for (name, list) in [
            ("server.trusted_proxies", &self.server.trusted_proxies),
            ("metrics.allow", &self.metrics.allow),
        ] {
            if let Err(e) = crate::cidr::Cidr::parse_all(list) {
                return bad(format!("{name}: {e}"));
            }
        }
        let r = &self.rate_limits;
        let named = [
            ("default", &r.default),
            ("failed_auth_per_address", &r.failed_auth_per_address),
            ("failed_auth_per_key", &r.failed_auth_per_key),
            ("failed_sign_in", &r.failed_sign_in),
        ];
        for (name, p) in named
            .into_iter()
            .chain(r.methods.iter().map(|(n, p)| (n.as_str(), p)))
        {
            if p.burst == 0 || !(p.per_second.is_finite() && p.per_second > 0.0) {
                return bad(format!(
                    "rate_limits.{name}: burst must be at least 1 and per_second above 0"
                ));
            }
        }
        if (1..20).contains(&r.share_every_ms) {
            return bad("rate_limits.share_every_ms: 0 (off) or at least 20".into());
        }
        let p = &self.media.preview_rate_per_address;
        if p.burst == 0 || !(p.per_second.is_finite() && p.per_second > 0.0) {
            return bad(
                "media.preview_rate_per_address: burst must be at least 1 and per_second above 0"
                    .into(),
            );
        }
        Ok(())
    }

    /// The SQLite file inside the data directory.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("panthera.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed config.toml documents exactly the defaults.
    #[test]
    fn committed_config_toml_is_the_defaults() {
        let text = include_str!("../config.toml");
        let parsed = Config::from_toml(text).expect("config.toml parses");
        assert_eq!(parsed, Config::default());
        let raw: toml::Value = toml::from_str(text).expect("valid toml");
        // Every section of the struct is spelled out in the file.
        for key in SECTIONS {
            assert!(raw.get(key).is_some(), "config.toml lacks {key}");
        }
    }

    #[test]
    fn a_versions_table_replaces_the_default_one() {
        let c = Config::from_toml("[versions.states]\n\"1.0\" = \"current\"\n").unwrap();
        assert_eq!(c.versions.states.len(), 1);
        assert_eq!(c.auth.timestamp_tolerance_secs, 300);
    }

    #[test]
    fn invalid_values_are_refused() {
        assert!(Config::from_toml("[versions]\ndeprecated_status = 301").is_err());
        assert!(Config::from_toml("[versions]\ndefault = \"9.9\"").is_err());
        assert!(Config::from_toml("nonsense = 1").is_err());
        assert!(Config::from_toml("[log]\nformat = \"xml\"").is_err());
        assert!(Config::from_toml("[store]\nsynchronous = \"off\"").is_err());
        let full = Config::from_toml("[store]\nsynchronous = \"full\"").unwrap();
        assert_eq!(full.store.synchronous, Synchronous::Full);
        let pg = Config::from_toml(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://db/p\"\nschema = \"panthera_1\"",
        )
        .unwrap();
        assert_eq!(pg.store.backend, Backend::Postgres);
        assert_eq!(
            (pg.store.pool_size, pg.store.statement_timeout_ms),
            (16, 5_000)
        );
        assert!(
            Config::from_toml("[store]\nbackend = \"postgres\"").is_err(),
            "no url"
        );
        assert!(Config::from_toml(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://db/p\"\nschema = \"a;b\""
        )
        .is_err());
        assert!(Config::from_toml("[store]\nbackend = \"mysql\"").is_err());
        assert!(Config::from_toml("[server]\ntrusted_proxies = [\"10.0.0.0/33\"]").is_err());
        assert!(Config::from_toml("[rate_limits.default]\nburst = 0\nper_second = 1.0").is_err());
        assert!(Config::from_toml("[rate_limits.methods.x]\nburst = 1\nper_second = 0.0").is_err());
        assert!(Config::from_toml("[auth]\ntoken_key = \"abc\"").is_err());
        assert!(Config::from_toml("[server.tls]\nlisten = [\"127.0.0.1:0\"]").is_err());
    }

    #[test]
    fn the_token_key_never_debug_prints() {
        let c = Config::from_toml(&format!("[auth]\ntoken_key = \"{}\"", "ab".repeat(32))).unwrap();
        assert!(!format!("{c:?}").contains("abab"));
    }
}
