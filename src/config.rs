//! Typed configuration: `config.toml` (every setting documented there with its
//! default), overridden by `PANTHERA_*` environment variables, then by flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::protocol::version::{Version, VersionState};

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
    pub media: MediaConfig,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Accepted clock skew of `timestamp`, either way, in seconds.
    pub timestamp_tolerance_secs: u64,
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
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            worker_interval_ms: 500,
            download_url_ttl_secs: 3600,
            callback_max_attempts: 5,
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
            media: MediaConfig::default(),
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
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            timestamp_tolerance_secs: 300,
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
    "data_dir", "server", "auth", "limits", "versions", "log", "media",
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
        if self.server.listen.is_empty() {
            return bad("server.listen lists no address".into());
        }
        if self.limits.max_params == 0 || self.limits.max_body_bytes == 0 {
            return bad("limits must be positive".into());
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return bad("log.format must be text or json".into());
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
    }
}
