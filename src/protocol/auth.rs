//! App authentication (protocol.md §3): the credentials a request carries,
//! the timestamp window, the signature and the replay rule.

use sha2::{Digest, Sha256};

use super::params::Params;
use super::signature::{verify_hex, Algo};
use super::timestamp::Timestamp;
use crate::error::ApiError;
use crate::store::keys::{ApiKey, ReplayPolicy};

/// Parameters that belong to the protocol rather than to a method.
pub const PROTOCOL_PARAMS: &[&str] = &[
    "api_key",
    "consumer_key",
    "access_key",
    "timestamp",
    "nonce",
    "algo",
    "content_type",
    "auth_token",
    "access_token",
    // Safe retries of methods that change state (methods::idempotency).
    "idempotency_key",
];

/// Longest accepted nonce, in characters.
pub const MAX_NONCE_CHARS: usize = 128;

/// The app credentials of one request, checked for form but not yet verified.
#[derive(Debug, Clone)]
pub struct Credentials<'a> {
    pub api_key: &'a str,
    pub access_key: &'a str,
    /// Exactly as received: it is part of the signed string.
    pub timestamp_raw: &'a str,
    pub timestamp: Timestamp,
    pub nonce: &'a str,
    pub algo: Algo,
}

impl<'a> Credentials<'a> {
    /// Reads the credentials; a missing or malformed one is a fatal `400`.
    pub fn from_params(p: &'a Params) -> Result<Self, ApiError> {
        let api_key = match (p.get("api_key"), p.get("consumer_key")) {
            (Some(k), None) | (None, Some(k)) => k,
            (Some(a), Some(b)) if a == b => a,
            (Some(_), Some(_)) => {
                return Err(ApiError::BadAuthParam(
                    "api_key and consumer_key differ, send only one of them",
                ));
            }
            (None, None) => return Err(ApiError::MissingAuthParam("api_key")),
        };
        let access_key = p
            .get("access_key")
            .ok_or(ApiError::MissingAuthParam("access_key"))?;
        let timestamp_raw = p
            .get("timestamp")
            .ok_or(ApiError::MissingAuthParam("timestamp"))?;
        let nonce = p.get("nonce").ok_or(ApiError::MissingAuthParam("nonce"))?;
        let algo = match p.get("algo") {
            None => Algo::Sha1,
            Some(a) => Algo::parse(a).ok_or(ApiError::BadAlgo)?,
        };
        let timestamp = Timestamp::parse(timestamp_raw)?;
        check_nonce(nonce)?;
        Ok(Credentials {
            api_key,
            access_key,
            timestamp_raw,
            timestamp,
            nonce,
            algo,
        })
    }

    /// The string that is signed: timestamp || api_key || nonce.
    pub fn signed_string(&self) -> String {
        format!("{}{}{}", self.timestamp_raw, self.api_key, self.nonce)
    }
}

/// A nonce is 1–128 printable characters; spaces are allowed.
pub fn check_nonce(nonce: &str) -> Result<(), ApiError> {
    if nonce.is_empty() {
        return Err(ApiError::BadNonce("it is empty"));
    }
    if nonce.chars().count() > MAX_NONCE_CHARS {
        return Err(ApiError::BadNonce("longer than 128 characters"));
    }
    if nonce.chars().any(char::is_control) {
        return Err(ApiError::BadNonce("only printable characters are allowed"));
    }
    Ok(())
}

/// The timestamp must lie within `tolerance` seconds of `now`, either way.
pub fn check_window(ts: Timestamp, now: i64, tolerance: u64) -> Result<(), ApiError> {
    let tol = i64::try_from(tolerance).unwrap_or(i64::MAX);
    if ts.unix() < now.saturating_sub(tol) {
        Err(ApiError::TimestampTooOld(Timestamp::from_unix(now)))
    } else if ts.unix() > now.saturating_add(tol) {
        Err(ApiError::TimestampTooNew(Timestamp::from_unix(now)))
    } else {
        Ok(())
    }
}

/// Stands in for the secret of an unknown key so both paths do the same work.
pub(crate) const DUMMY_SECRET: &str = "0000000000000000000000000000000000000000";

/// Verifies the access_key against the stored key. An unknown key is checked
/// against a dummy secret first so that timing does not tell keys apart.
pub fn verify_app(key: Option<&ApiKey>, creds: &Credentials<'_>) -> Result<(), ApiError> {
    let secret = key.map(|k| k.secret.expose()).unwrap_or(DUMMY_SECRET);
    let ok = verify_hex(
        creds.algo,
        secret.as_bytes(),
        &[
            creds.timestamp_raw.as_bytes(),
            creds.api_key.as_bytes(),
            creds.nonce.as_bytes(),
        ],
        creds.access_key,
    );
    match key {
        None => Err(ApiError::UnknownApiKey),
        Some(k) if k.revoked_at.is_some() => Err(ApiError::RevokedApiKey),
        Some(k) if !ok => {
            Err(ApiError::BadSignature(k.debug.then(|| {
                format!("{} with {}", creds.signed_string(), creds.algo.as_str())
            })))
        }
        Some(_) => Ok(()),
    }
}

/// What the replay store keys on beyond (api_key, timestamp, nonce): nothing
/// under the strict policy; a digest of the whole request under the lenient one.
pub fn replay_digest(policy: ReplayPolicy, method: &str, params: &Params) -> String {
    match policy {
        ReplayPolicy::Strict => String::new(),
        ReplayPolicy::Lenient => {
            let mut h = Sha256::new();
            h.update(method.as_bytes());
            for (name, value) in params.iter() {
                h.update([0u8]);
                h.update(name.as_bytes());
                h.update([1u8]);
                h.update(format!("{value:?}").as_bytes());
            }
            hex::encode(&h.finalize()[..16])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_edges() {
        let now = 1_000_000;
        assert!(check_window(Timestamp::from_unix(now - 300), now, 300).is_ok());
        assert!(check_window(Timestamp::from_unix(now + 300), now, 300).is_ok());
        assert!(matches!(
            check_window(Timestamp::from_unix(now - 301), now, 300),
            Err(ApiError::TimestampTooOld(_))
        ));
        assert!(matches!(
            check_window(Timestamp::from_unix(now + 301), now, 300),
            Err(ApiError::TimestampTooNew(_))
        ));
    }

    #[test]
    fn nonce_rules() {
        assert!(check_nonce("Im ar andomS tring").is_ok());
        assert!(check_nonce(&"x".repeat(128)).is_ok());
        assert!(check_nonce(&"x".repeat(129)).is_err());
        assert!(check_nonce("").is_err());
        assert!(check_nonce("a\nb").is_err());
    }
}
