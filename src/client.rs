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
        ("timestamp".into(), timestamp),
        ("nonce".into(), nonce.to_string()),
        ("algo".into(), creds.algo.as_str().into()),
    ]
}

/// A client for one server.
#[derive(Debug, Clone)]
pub struct Client {
    base_url: String,
    creds: Credentials,
    agent: ureq::Agent,
    user_agent: String,
}

impl Client {
    pub fn new(base_url: &str, creds: Credentials) -> Client {
        Client {
            base_url: base_url.trim_end_matches('/').to_string(),
            creds,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .redirects(0)
                .build(),
            user_agent: format!("panthera-client/{}", env!("CARGO_PKG_VERSION")),
        }
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
        let mut form = sign_params(&self.creds, now, &random_nonce());
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
