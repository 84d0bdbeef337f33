//! HTTPS: the rustls server configuration from PEM files, and the self-signed
//! development certificate of `panthera serve --tls-self-signed`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {0}: {1}")]
    Cert(PathBuf, String),
    #[error("TLS key {0}: {1}")]
    Key(PathBuf, String),
    #[error("TLS configuration: {0}")]
    Config(String),
    #[error("self-signed certificate in {0}: {1}")]
    SelfSigned(PathBuf, String),
}

/// The rustls configuration serving `cert` (PEM chain) with `key` (PEM).
pub fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError::Cert(cert.to_path_buf(), e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Cert(cert.to_path_buf(), e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::Cert(cert.to_path_buf(), "no certificate".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError::Key(key.to_path_buf(), e.to_string()))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key_der)
            .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = extra_alpn();
    Ok(config)
}

/// ALPN ids served besides the `h2` and `http/1.1` actix puts first.
/// `http/1.0` is what curl offers when asked for HTTP/1.0 (WordPress' HTTP
/// API does that): without it rustls ends such handshakes with
/// "no application protocol". Clients offering no ALPN are served HTTP/1.1.
fn extra_alpn() -> Vec<Vec<u8>> {
    vec![b"http/1.0".to_vec()]
}

/// Where the development certificate lives.
pub struct SelfSigned {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// True when it was made just now (else an earlier one is reused).
    pub created: bool,
}

/// Creates (once) a self-signed certificate for localhost, 127.0.0.1 and ::1
/// in `<data_dir>/tls/`; later starts reuse it so browsers keep trusting it.
pub fn ensure_self_signed(data_dir: &Path) -> Result<SelfSigned, TlsError> {
    let dir = data_dir.join("tls");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok(SelfSigned {
            cert,
            key,
            created: false,
        });
    }
    let fail = |e: String| TlsError::SelfSigned(dir.clone(), e);
    std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
    let names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    let made = rcgen::generate_simple_self_signed(names).map_err(|e| fail(e.to_string()))?;
    crate::private_file::write(&key, made.key_pair.serialize_pem().as_bytes())
        .map_err(|e| fail(e.to_string()))?;
    std::fs::write(&cert, made.cert.pem()).map_err(|e| fail(e.to_string()))?;
    Ok(SelfSigned {
        cert,
        key,
        created: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_made_once_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure_self_signed(dir.path()).unwrap();
        assert!(first.created);
        let again = ensure_self_signed(dir.path()).unwrap();
        assert!(!again.created);
        assert_eq!(
            std::fs::read(&first.cert).unwrap(),
            std::fs::read(&again.cert).unwrap()
        );
        let config = server_config(&again.cert, &again.key).unwrap();
        assert!(config.alpn_protocols.contains(&b"http/1.0".to_vec()));
        assert!(server_config(&again.key, &again.cert).is_err());
    }
}
