//! The server's own signing key for the browser pages (config
//! `auth.token_key`, or generated once into `<data_dir>/token.key`): it signs
//! CSRF tokens (HMAC-SHA256). Secrets at rest (api and token secrets) are
//! sealed with the master key instead (`crypto`), which `keys rotate-master`
//! rotates.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::RngCore;
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

    /// The configured key (64 hex digits) or, when none is, the key file in
    /// `data_dir`, created with mode 0600 on first use.
    pub fn load(configured: &str, data_dir: &Path) -> Result<ServerKey, ServerKeyError> {
        if !configured.is_empty() {
            return parse_hex(configured)
                .map(|m| ServerKey::from_master(&m))
                .ok_or(ServerKeyError::BadConfigured);
        }
        let path = data_dir.join(KEY_FILE);
        let fail = |e: String| ServerKeyError::File(path.clone(), e);
        match std::fs::read_to_string(&path) {
            Ok(text) => parse_hex(text.trim())
                .map(|m| ServerKey::from_master(&m))
                .ok_or_else(|| fail("not 64 hex digits".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut master = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut master);
                crate::private_file::write(&path, format!("{}\n", hex::encode(master)).as_bytes())
                    .map_err(|e| fail(e.to_string()))?;
                Ok(ServerKey::from_master(&master))
            }
            Err(e) => Err(fail(e.to_string())),
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
    fn the_key_file_is_made_once_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let a = ServerKey::load("", dir.path()).unwrap();
        let b = ServerKey::load("", dir.path()).unwrap();
        assert_eq!(a.csrf_mac(&["x"]), b.csrf_mac(&["x"]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(ServerKey::load("abc", dir.path()).is_err());
        let configured = ServerKey::load(&"11".repeat(32), dir.path()).unwrap();
        assert_ne!(configured.csrf_mac(&["x"]), a.csrf_mac(&["x"]));
        assert_ne!(a.csrf_mac(&["ab", "c"]), a.csrf_mac(&["a", "bc"]));
        assert!(!format!("{a:?}").contains('1'));
    }
}
