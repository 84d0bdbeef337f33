//! The server's own secret key (config `auth.token_key`, or generated once
//! into `<data_dir>/token.key`). Two keys are derived from it: one seals token
//! secrets at rest (ChaCha20-Poly1305), one signs CSRF tokens (HMAC-SHA256).
//! Token secrets are HMAC keys the server must use, so they are encrypted
//! rather than hashed.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
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
    seal: [u8; 32],
    csrf: [u8; 32],
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

const NONCE_LEN: usize = 12;
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
            seal: derive(master, "panthera token secrets v1"),
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

    /// Encrypts `plaintext`, bound to `context` (e.g. the token id): nonce || ciphertext.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.seal));
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context,
        };
        // Encryption fails only for inputs beyond 256 GiB.
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts what [`seal`](Self::seal) made for the same `context`; `None`
    /// when it was altered, made with another key or for another context.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        ChaCha20Poly1305::new(Key::from_slice(&self.seal))
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context,
                },
            )
            .ok()
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
    fn sealing_round_trips_and_detects_tampering() {
        let k = ServerKey::from_master(&[7; 32]);
        let sealed = k.seal(b"tok1", b"MySecret");
        assert!(!sealed.windows(8).any(|w| w == b"MySecret"));
        assert_eq!(k.open(b"tok1", &sealed).as_deref(), Some(&b"MySecret"[..]));
        assert_eq!(k.open(b"tok2", &sealed), None, "bound to its token");
        let mut bad = sealed.clone();
        bad[15] ^= 1;
        assert_eq!(k.open(b"tok1", &bad), None);
        assert_eq!(
            ServerKey::from_master(&[8; 32]).open(b"tok1", &sealed),
            None
        );
        assert_eq!(k.open(b"tok1", b"short"), None);
    }

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
