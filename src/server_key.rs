//! The server's own signing key for the browser pages (config
//! `auth.token_key`, else a secret sealed in the store, shared by every
//! instance of one database): it signs CSRF tokens (HMAC-SHA256). Secrets at rest (api and token secrets) are
//! sealed with the master key instead (`crypto`), which `keys rotate-master`
//! rotates.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why the key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum ServerKeyError {
    #[error("auth.token_key must be 64 hex digits")]
    BadConfigured,
    #[error("key file {0}: {1}")]
    File(PathBuf, String),
}

/// The derived keys; `Debug` never shows them.
#[derive(Clone)]
pub struct ServerKey {
    csrf: [u8; 32],
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

const KEY_FILE: &str = "token.key";

fn derive(master: &[u8; 32], purpose: &str) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC accepts keys of any length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl ServerKey {
    /// The keys derived from a 32-byte master key.
    pub fn from_master(master: &[u8; 32]) -> ServerKey {
        ServerKey {
            csrf: derive(master, "panthera csrf v1"),
        }
    }

    /// The configured key (64 hex digits); `None` when none is configured.
    pub fn configured(configured: &str) -> Result<Option<ServerKey>, ServerKeyError> {
        if configured.is_empty() {
            return Ok(None);
        }
        parse_hex(configured)
            .map(|m| Some(ServerKey::from_master(&m)))
            .ok_or(ServerKeyError::BadConfigured)
    }

    /// The key file an earlier version generated into `data_dir`, if there
    /// is one: kept, so forms open across an upgrade still submit. New
    /// installations keep the key sealed in the store instead, where every
    /// instance of a shared database finds it.
    pub fn legacy_file(data_dir: &Path) -> Result<Option<ServerKey>, ServerKeyError> {
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => parse_hex(text.trim())
                .map(|m| Some(ServerKey::from_master(&m)))
                .ok_or_else(|| ServerKeyError::File(path, "not 64 hex digits".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ServerKeyError::File(path, e.to_string())),
        }
    }

    /// A hex HMAC of `parts` (separated unambiguously) under the CSRF key.
    pub fn csrf_mac(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.csrf)
            .expect("HMAC accepts keys of any length");
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_key_or_an_earlier_key_file_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ServerKey::configured("").unwrap().is_none());
        assert!(ServerKey::configured("abc").is_err());
        assert!(ServerKey::legacy_file(dir.path()).unwrap().is_none());
        std::fs::write(dir.path().join(KEY_FILE), format!("{}\n", "22".repeat(32))).unwrap();
        let file = ServerKey::legacy_file(dir.path()).unwrap().unwrap();
        let configured = ServerKey::configured(&"11".repeat(32)).unwrap().unwrap();
        assert_ne!(configured.csrf_mac(&["x"]), file.csrf_mac(&["x"]));
        assert_eq!(
            file.csrf_mac(&["x"]),
            ServerKey::from_master(&[0x22; 32]).csrf_mac(&["x"])
        );
        assert_ne!(file.csrf_mac(&["ab", "c"]), file.csrf_mac(&["a", "bc"]));
        assert!(!format!("{file:?}").contains('2'));
        std::fs::write(dir.path().join(KEY_FILE), "short").unwrap();
        assert!(ServerKey::legacy_file(dir.path()).is_err());
    }
}
