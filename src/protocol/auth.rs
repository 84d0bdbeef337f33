//! App authentication (protocol.md §3): the credentials a request carries,
//! the timestamp window, the signature and the replay rule.

use sha2::{Digest, Sha256};

use super::params::Params;
use super::signature::{verify_hex, Algo};
use super::timestamp::Timestamp;
use crate::error::ApiError;
use subtle::Choice;

use crate::store::keys::{ApiKey, ReplayPolicy, Secret};

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

/// Verifies the access_key against the stored key's secrets: the current one
/// and, during a rollover, the previous one. Both slots are always computed
/// (a dummy secret filling an empty one) and combined without branching, so
/// timing tells neither which secret matched nor whether a rollover is on.
/// An unknown key goes the same way with dummy secrets.
pub fn verify_app(key: Option<&ApiKey>, creds: &Credentials<'_>) -> Result<(), ApiError> {
    fn real(s: Option<&Secret>) -> Option<&str> {
        s.map(Secret::expose).filter(|s| !s.is_empty())
    }
    let slots = [
        real(key.map(|k| &k.secret)),
        real(key.and_then(|k| k.old_secret.as_ref())),
    ];
    let mut ok = Choice::from(0u8);
    for slot in slots {
        let matched = verify_hex(
            creds.algo,
            slot.unwrap_or(DUMMY_SECRET).as_bytes(),
            &[
                creds.timestamp_raw.as_bytes(),
                creds.api_key.as_bytes(),
                creds.nonce.as_bytes(),
            ],
            creds.access_key,
        );
        // a dummy slot never counts, even if someone signed with the dummy
        ok |= Choice::from(u8::from(matched)) & Choice::from(u8::from(slot.is_some()));
    }
    let ok: bool = ok.into();
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

    fn key_with(secret: &str, old: Option<&str>) -> ApiKey {
        ApiKey {
            api_key: "k".into(),
            name: "app".into(),
            secret: Secret::new(secret.into()),
            old_secret: old.map(|o| Secret::new(o.into())),
            rollover: old.is_some(),
            old_secret_until: None,
            role: crate::store::keys::Role::App,
            debug: false,
            replay: ReplayPolicy::Strict,
            owner_user_id: None,
            created_at: 0,
            revoked_at: None,
        }
    }

    fn signed_with(secret: &str) -> Params {
        let ts = "Thu, 26 Jul 2012 14:53:44 UTC";
        let sig = crate::protocol::signature::sign_hex(
            Algo::Sha1,
            secret.as_bytes(),
            &[ts.as_bytes(), b"k", b"n"],
        );
        let mut p = Params::default();
        for (k, v) in [
            ("api_key", "k"),
            ("access_key", &sig),
            ("timestamp", ts),
            ("nonce", "n"),
        ] {
            p.insert(k.into(), crate::protocol::params::ParamValue::One(v.into()))
                .unwrap();
        }
        p
    }

    #[test]
    fn both_secrets_of_a_rollover_verify_and_dummies_never_do() {
        let rolling = key_with("new", Some("old"));
        let single = key_with("new", None);
        let listed = key_with("", None);
        for (secret, key, ok) in [
            ("new", &rolling, true),
            ("old", &rolling, true),
            ("other", &rolling, false),
            ("old", &single, false),
            (DUMMY_SECRET, &single, false),
            ("", &listed, false),
            (DUMMY_SECRET, &listed, false),
        ] {
            let p = signed_with(secret);
            let creds = Credentials::from_params(&p).unwrap();
            assert_eq!(verify_app(Some(key), &creds).is_ok(), ok, "{secret}");
        }
        let p = signed_with(DUMMY_SECRET);
        let creds = Credentials::from_params(&p).unwrap();
        assert!(matches!(
            verify_app(None, &creds),
            Err(ApiError::UnknownApiKey)
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
