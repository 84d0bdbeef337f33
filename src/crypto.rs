//! Secrets at rest: sealed with XChaCha20-Poly1305 under a 32-byte master
//! key that never enters the store. The key comes from `PANTHERA_MASTER_KEY`
//! or a file (`auth.master_key_file`, default `<data_dir>/master.key`,
//! generated with mode 0600 when absent).
//!
//! A sealed value reads `v1.<key id>.<base64url(nonce ‖ ciphertext)>`; the key
//! id names the master key so a wrong key is reported as such, and the
//! associated data binds each value to its row (it cannot be moved to another).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::swap::Swap;

/// The environment variable that carries the master key (wins over the file).
pub const ENV_VAR: &str = "PANTHERA_MASTER_KEY";
const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 24;

/// Why a secret cannot be sealed or opened, or the key not loaded.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("sealed with master key {sealed_with}, but the master key in use is {in_use}")]
    KeyMismatch { sealed_with: String, in_use: String },
    #[error("a sealed secret is damaged or was moved to another row")]
    Corrupt,
    #[error("sealing failed")]
    Seal,
    #[error("master key: {0}")]
    Key(String),
}

/// 32 bytes of key material; never printed.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

impl MasterKey {
    pub fn generate() -> MasterKey {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        MasterKey(k)
    }

    /// 64 hex digits, or base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn parse(text: &str) -> Result<MasterKey, CryptoError> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).ok()
        } else {
            [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(t).ok())
        };
        let bytes = bytes.ok_or_else(|| {
            CryptoError::Key("expected 64 hex digits or base64 of 32 bytes".into())
        })?;
        let k: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            CryptoError::Key(format!("expected 32 bytes, got {}", b.len()))
        })?;
        Ok(MasterKey(k))
    }

    /// The text a key file holds.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A short public name of the key (not a secret: a hash prefix).
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"panthera master key id\0");
        h.update(self.0);
        hex::encode(&h.finalize()[..4])
    }
}

/// A master key ready to seal and open.
pub struct Cipher {
    aead: XChaCha20Poly1305,
    id: String,
    /// A secret of the usual length sealed under this key, opened where a
    /// lookup found nothing, so a miss costs what a hit costs.
    decoy: String,
}

/// What the decoy is bound to (no row has this name).
const DECOY_AAD: &str = "decoy";

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cipher({})", self.id)
    }
}

impl Cipher {
    pub fn new(key: &MasterKey) -> Cipher {
        let mut c = Cipher {
            aead: XChaCha20Poly1305::new(Key::from_slice(&key.0)),
            id: key.id(),
            decoy: String::new(),
        };
        c.decoy = c.seal(DECOY_AAD, &"0".repeat(40)).unwrap_or_default();
        c
    }

    /// Opens the decoy: the work of [`Cipher::open`] on a real secret,
    /// for a lookup that found none.
    pub fn open_decoy(&self) {
        let _ = std::hint::black_box(self.open(DECOY_AAD, &self.decoy));
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plain`, bound to `aad` (which names the row and the column).
    pub fn seal(&self, aad: &str, plain: &str) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        Ok(format!(
            "{PREFIX}{}.{}",
            self.id,
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    /// Opens what [`Cipher::seal`] made with the same `aad`.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<String, CryptoError> {
        let (id, body) = split(sealed).ok_or(CryptoError::Corrupt)?;
        if id != self.id {
            return Err(CryptoError::KeyMismatch {
                sealed_with: id.to_string(),
                in_use: self.id.clone(),
            });
        }
        let blob = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Corrupt)?;
        if blob.len() < NONCE_LEN {
            return Err(CryptoError::Corrupt);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let plain = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Corrupt)
    }
}

/// The key id and body of a sealed value.
fn split(sealed: &str) -> Option<(&str, &str)> {
    sealed.strip_prefix(PREFIX)?.split_once('.')
}

/// True for a value [`Cipher::seal`] made (as opposed to legacy plaintext).
pub fn is_sealed(value: &str) -> bool {
    split(value).is_some()
}

/// Where the master key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `PANTHERA_MASTER_KEY`, read once at start.
    Env,
    File(PathBuf),
}

impl KeySource {
    /// The environment variable when set, else `file`, else `<data_dir>/master.key`.
    pub fn new(data_dir: &Path, file: &Path) -> KeySource {
        if std::env::var(ENV_VAR).is_ok_and(|v| !v.trim().is_empty()) {
            KeySource::Env
        } else if file.as_os_str().is_empty() {
            KeySource::File(data_dir.join("master.key"))
        } else {
            KeySource::File(file.to_path_buf())
        }
    }

    pub fn from_config(config: &crate::config::Config) -> KeySource {
        KeySource::new(&config.data_dir, &config.auth.master_key_file)
    }

    pub fn describe(&self) -> String {
        match self {
            KeySource::Env => format!("${ENV_VAR}"),
            KeySource::File(p) => p.display().to_string(),
        }
    }

    /// Reads the key; a missing file is created with a fresh key when `create`.
    pub fn load(&self, create: bool) -> Result<MasterKey, CryptoError> {
        match self {
            KeySource::Env => {
                let v = std::env::var(ENV_VAR).map_err(|e| CryptoError::Key(e.to_string()))?;
                MasterKey::parse(&v).map_err(|e| CryptoError::Key(format!("${ENV_VAR}: {e}")))
            }
            KeySource::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => MasterKey::parse(&text)
                    .map_err(|e| CryptoError::Key(format!("{}: {e}", path.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    let key = MasterKey::generate();
                    match write_key_file(path, &key) {
                        Ok(()) => Ok(key),
                        // another process made it first: use theirs
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self.load(false),
                        Err(e) => Err(CryptoError::Key(format!("{}: {e}", path.display()))),
                    }
                }
                Err(e) => Err(CryptoError::Key(format!("{}: {e}", path.display()))),
            },
        }
    }

    /// The file a master-key rotation writes first (see `keys rotate-master`).
    pub fn pending_file(&self) -> Option<PathBuf> {
        match self {
            KeySource::Env => None,
            KeySource::File(p) => {
                let mut name = p.file_name()?.to_os_string();
                name.push(".new");
                Some(p.with_file_name(name))
            }
        }
    }
}

/// Writes a new key file with mode 0600; fails if it exists.
pub fn write_key_file(path: &Path, key: &MasterKey) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
    f.sync_all()
}

/// The store's cipher, replaced when the master key changes under a running
/// server (`keys rotate-master`, reload).
pub struct Keyring {
    source: KeySource,
    cipher: Swap<Cipher>,
}

impl Keyring {
    pub fn new(source: KeySource, key: &MasterKey) -> Keyring {
        Keyring {
            source,
            cipher: Swap::new(Cipher::new(key)),
        }
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The id of the master key in use.
    pub fn id(&self) -> String {
        self.cipher.load().id().to_string()
    }

    pub fn seal(&self, aad: &str, plain: &str) -> Result<String, CryptoError> {
        self.cipher.load().seal(aad, plain)
    }

    /// Opens a sealed value. Sealed under another key (a rotation finished
    /// by another process), the key source is read again once.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<String, CryptoError> {
        match self.cipher.load().open(aad, sealed) {
            Err(CryptoError::KeyMismatch { sealed_with, .. }) if self.refresh_to(&sealed_with) => {
                self.cipher.load().open(aad, sealed)
            }
            other => other,
        }
    }

    /// The work of opening a secret, for a lookup that found none.
    pub fn open_decoy(&self) {
        self.cipher.load().open_decoy();
    }

    /// Uses `key` from now on.
    pub fn replace(&self, key: &MasterKey) {
        self.cipher.store(Cipher::new(key));
    }

    /// Reads the key source (and a rotation's pending file) again and takes
    /// the key whose id is `wanted`; true when it was found.
    pub fn refresh_to(&self, wanted: &str) -> bool {
        let mut candidates = vec![self.source.load(false)];
        if let Some(p) = self.source.pending_file() {
            candidates.push(KeySource::File(p).load(false));
        }
        for key in candidates.into_iter().flatten() {
            if key.id() == wanted {
                self.replace(&key);
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_bound_to_its_row() {
        let c = Cipher::new(&MasterKey::generate());
        let sealed = c.seal("api_keys.secret:k1", "topsecret").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("topsecret"));
        assert_eq!(c.open("api_keys.secret:k1", &sealed).unwrap(), "topsecret");
        assert!(matches!(
            c.open("api_keys.secret:k2", &sealed),
            Err(CryptoError::Corrupt)
        ));
        // two seals of one value differ (random nonce)
        assert_ne!(sealed, c.seal("api_keys.secret:k1", "topsecret").unwrap());
        let other = Cipher::new(&MasterKey::generate());
        assert!(matches!(
            other.open("api_keys.secret:k1", &sealed),
            Err(CryptoError::KeyMismatch { .. })
        ));
        let mut bad = sealed.clone();
        bad.push('A');
        assert!(c.open("api_keys.secret:k1", &bad).is_err());
        assert!(!is_sealed("0123abcd"));
    }

    #[test]
    fn keys_parse_from_hex_and_base64() {
        let k = MasterKey::generate();
        assert_eq!(MasterKey::parse(&k.to_hex()).unwrap().id(), k.id());
        assert_eq!(
            MasterKey::parse(&format!(" {}\n", STANDARD.encode(k.0)))
                .unwrap()
                .id(),
            k.id()
        );
        assert_eq!(
            MasterKey::parse(&URL_SAFE_NO_PAD.encode(k.0)).unwrap().id(),
            k.id()
        );
        assert!(MasterKey::parse("abcd").is_err());
        assert!(MasterKey::parse(&STANDARD.encode([0u8; 16])).is_err());
        assert!(!format!("{k:?}").contains(&k.to_hex()));
    }

    #[test]
    fn a_missing_key_file_is_generated_private() {
        let dir = tempfile::tempdir().unwrap();
        let src = KeySource::File(dir.path().join("sub/master.key"));
        assert!(src.load(false).is_err());
        let k = src.load(true).unwrap();
        assert_eq!(src.load(false).unwrap().id(), k.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("sub/master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_keyring_follows_a_rotation_done_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let src = KeySource::File(path.clone());
        let old = src.load(true).unwrap();
        let ring = Keyring::new(src.clone(), &old);
        let new = MasterKey::generate();
        let sealed_new = Cipher::new(&new).seal("a", "s").unwrap();
        // pending file only (the rotation committed but has not renamed yet)
        write_key_file(&src.pending_file().unwrap(), &new).unwrap();
        assert_eq!(ring.open("a", &sealed_new).unwrap(), "s");
        assert_eq!(ring.id(), new.id());
        // an unknown key id stays an error
        let stranger = Cipher::new(&MasterKey::generate()).seal("a", "s").unwrap();
        assert!(matches!(
            ring.open("a", &stranger),
            Err(CryptoError::KeyMismatch { .. })
        ));
    }
}
