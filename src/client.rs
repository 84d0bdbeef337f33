//! The signing client: builds the app credentials of protocol.md §3 and POSTs
//! a method call. Used by `panthera call`, the tests and the benchmarks.

use std::time::Duration;

use rand::distributions::Alphanumeric;
use rand::Rng;

use crate::protocol::signature::{sign_hex, Algo};
use crate::protocol::timestamp::Timestamp;

/// App credentials.
#[derive(Clone)]
pub struct Credentials {
    pub api_key: String,
    pub api_secret: String,
    pub algo: Algo,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("algo", &self.algo)
            .finish_non_exhaustive()
    }
}

/// A user token to sign user calls with (protocol.md §4).
#[derive(Clone)]
pub struct UserToken {
    pub auth_token: String,
    pub token_secret: String,
}

impl std::fmt::Debug for UserToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserToken")
            .field("auth_token", &self.auth_token)
            .finish_non_exhaustive()
    }
}

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a call could not be made at all (not an error answer).
#[derive(Debug, thiserror::Error)]
#[error("cannot reach {url}: {cause}")]
pub struct TransportError {
    pub url: String,
    pub cause: String,
}

/// A fresh random nonce of 16 alphanumerics.
pub fn random_nonce() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// The signed app parameters for one request at `now` (Unix seconds).
pub fn sign_params(creds: &Credentials, now: i64, nonce: &str) -> Vec<(String, String)> {
    let timestamp = Timestamp::from_unix(now).format();
    sign_params_at(creds, &timestamp, nonce)
}

/// The signed app and user parameters for one request at `now`.
pub fn sign_user_params(
    creds: &Credentials,
    token: &UserToken,
    now: i64,
    nonce: &str,
) -> Vec<(String, String)> {
    let timestamp = Timestamp::from_unix(now).format();
    let mut form = sign_params_at(creds, &timestamp, nonce);
    let access_token = sign_hex(
        creds.algo,
        token.token_secret.as_bytes(),
        &[
            timestamp.as_bytes(),
            token.auth_token.as_bytes(),
            nonce.as_bytes(),
        ],
    );
    form.push(("auth_token".into(), token.auth_token.clone()));
    form.push(("access_token".into(), access_token));
    form
}

/// The signed app parameters for an exact timestamp string.
pub fn sign_params_at(creds: &Credentials, timestamp: &str, nonce: &str) -> Vec<(String, String)> {
    let access_key = sign_hex(
        creds.algo,
        creds.api_secret.as_bytes(),
        &[
            timestamp.as_bytes(),
            creds.api_key.as_bytes(),
            nonce.as_bytes(),
        ],
    );
    vec![
        ("api_key".into(), creds.api_key.clone()),
        ("access_key".into(), access_key),
        ("timestamp".into(), timestamp.to_string()),
        ("nonce".into(), nonce.to_string()),
        ("algo".into(), creds.algo.as_str().into()),
    ]
}

/// A client for one server.
#[derive(Debug, Clone)]
pub struct Client {
    base_url: String,
    creds: Credentials,
    token: Option<UserToken>,
    agent: ureq::Agent,
    user_agent: String,
}

fn agent(tls: Option<std::sync::Arc<rustls::ClientConfig>>) -> ureq::Agent {
    let mut b = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0);
    if let Some(tls) = tls {
        b = b.tls_config(tls);
    }
    b.build()
}

/// A TLS client configuration trusting exactly the certificates in `pem`
/// (e.g. the self-signed development certificate).
pub fn tls_trusting(pem: &[u8]) -> Result<rustls::ClientConfig, String> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    if roots.is_empty() {
        return Err("no certificate in the PEM file".into());
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

impl Client {
    pub fn new(base_url: &str, creds: Credentials) -> Client {
        Client {
            base_url: base_url.trim_end_matches('/').to_string(),
            creds,
            token: None,
            agent: agent(None),
            user_agent: format!("panthera-client/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// Signs every call as this user too.
    pub fn with_token(mut self, token: UserToken) -> Client {
        self.token = Some(token);
        self
    }

    /// Trusts the certificates in `pem` for HTTPS (instead of the public roots).
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Result<Client, String> {
        self.agent = agent(Some(std::sync::Arc::new(tls_trusting(pem)?)));
        Ok(self)
    }

    /// The URL of a method under a version (`None` = no prefix).
    pub fn url(&self, version: Option<&str>, method: &str) -> String {
        match version {
            Some(v) => format!("{}/v{}/{}", self.base_url, v, method),
            None => format!("{}/{}", self.base_url, method),
        }
    }

    /// Calls `method` (under `/v{version}/` when given) with freshly signed
    /// credentials plus `params`.
    pub fn call(
        &self,
        version: Option<&str>,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<Reply, TransportError> {
        let now = crate::store::now_unix();
        let mut form = match &self.token {
            Some(t) => sign_user_params(&self.creds, t, now, &random_nonce()),
            None => sign_params(&self.creds, now, &random_nonce()),
        };
        form.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.post_form(&self.url(version, method), &form)
    }

    /// POSTs a form as is (for tests that craft their own credentials).
    pub fn post_form(&self, url: &str, form: &[(String, String)]) -> Result<Reply, TransportError> {
        let body = serde_urlencoded::to_string(form).map_err(|e| TransportError {
            url: url.to_string(),
            cause: e.to_string(),
        })?;
        let result = self
            .agent
            .post(url)
            .set("User-Agent", &self.user_agent)
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&body);
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => {
                return Err(TransportError {
                    url: url.to_string(),
                    cause: e.to_string(),
                })
            }
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let body = resp.into_string().map_err(|e| TransportError {
            url: url.to_string(),
            cause: e.to_string(),
        })?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}
