//! Safe retries for methods that change state ([`Method::mutating`]): a
//! call carrying an `idempotency_key` runs once per (scope, key) for 24
//! hours; a retry gets the first answer (status and body, in the encoding
//! it asks for now) and changes nothing. The scope is the api key and the
//! account the call acts for, whatever the auth scheme named it with: one
//! user's key never answers another user's call.
//!
//! The key is claimed in the store *before* the call runs, so concurrent
//! duplicates cannot both run: the later one sees the claim and gets 409.
//! A successful change stores its answer inside its own transaction
//! ([`Ctx::finish`]), so change and answer commit together or not at all;
//! normal errors (they changed nothing) are stored afterwards. Internal
//! errors release the claim, so a retry runs again.

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Args, Ctx, ErrorDoc, Method};
use crate::answer::tree::Answer;
use crate::error::ApiError;
use crate::methods::AppState;
use crate::protocol::params::RAW_BODY;
use crate::protocol::user_auth::Account;
use crate::store::idempotency as store;
use crate::store::keys::ApiKey;
use crate::store::users::{hash_password, verify_password};
use crate::store::Tx;

/// The protocol parameter.
pub const PARAM: &str = "idempotency_key";
/// How long a key is remembered.
pub const TTL_SECS: i64 = 24 * 60 * 60;
/// A claim still running after this long is taken for dead (its process
/// crashed) and a retry may take it over. Safe even if it still runs: its
/// change commits only while it owns the claim.
pub const LEASE_SECS: i64 = 60;
/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// The errors `idempotency_key` adds to a mutating method.
pub const ERRORS: &[ErrorDoc] = &[
    ErrorDoc {
        code: 409,
        meaning: "a request with the same idempotency_key is still in progress; retry later",
    },
    ErrorDoc {
        code: 422,
        meaning: "the idempotency_key was already used with other parameters or another method",
    },
];

/// A claimed key: only the call holding it may store its outcome.
#[derive(Debug)]
pub struct Claim {
    scope: String,
    key: String,
    owner: String,
}

impl Ctx<'_> {
    /// Ends a successful change inside its transaction: when the call holds
    /// an idempotency claim, its answer is stored there too, so a retry
    /// never sees the change without its answer. Fails, rolling the change
    /// back, when a retry took the claim over in the meantime.
    pub fn finish(&self, tx: &Tx<'_>, answer: Answer) -> Result<Answer, ApiError> {
        if let Some(claim) = self.idempotency {
            let json = encode(&answer)?;
            let stored =
                tx.idempotency()
                    .complete(&claim.scope, &claim.key, &claim.owner, 200, &json)?;
            if !stored {
                return Err(in_progress());
            }
        }
        Ok(answer)
    }
}

/// Runs `run` under the idempotency rules: directly for methods that do not
/// change state or calls without a key; otherwise at most once per key.
pub fn execute(
    state: &AppState,
    method: &Method,
    key: &ApiKey,
    account: Option<&Account>,
    args: &Args,
    request_id: &str,
    run: impl FnOnce(Option<&Claim>) -> Result<Answer, ApiError>,
) -> Result<Answer, ApiError> {
    if !method.mutating {
        return run(None);
    }
    let idem = match args.params().get(PARAM) {
        Some(k) => k,
        None if args.params().contains(PARAM) => {
            return Err(ApiError::InvalidParam(
                PARAM.into(),
                "expected a single value".into(),
            ))
        }
        None => return run(None),
    };
    check_key(idem)?;
    let fingerprint = fingerprint(method, args);
    let secret = secrets(method, args);
    let secret_hash = match &secret {
        Some(s) => Some(hash_password(s).map_err(|e| ApiError::Internal(format!("hashing: {e}")))?),
        None => None,
    };
    let now = state.clock.now();
    let owner = new_owner();
    let scope = scope(key, account);
    let req = store::Request {
        scope: &scope,
        key: idem,
        method: method.name,
        fingerprint: &fingerprint,
        secret_hash: secret_hash.as_deref(),
    };
    let held = state
        .store
        .idempotency()
        .claim(&req, &owner, now, now + TTL_SECS)?;
    if let Some(stored) = held {
        let same = stored.method == method.name
            && stored.fingerprint == fingerprint
            && same_secret(stored.secret_hash.as_deref(), secret.as_deref());
        if !same {
            return Err(ApiError::Unprocessable(
                PARAM.into(),
                "already used with different parameters; use a new key for a new request".into(),
            ));
        }
        match stored.outcome {
            Some((status, result)) => return replay(status, &result),
            None if now - stored.claimed_at < LEASE_SECS => return Err(in_progress()),
            None => {
                let took = state.store.idempotency().take_over(
                    &scope,
                    idem,
                    &stored.owner,
                    &owner,
                    now,
                )?;
                if !took {
                    return Err(in_progress());
                }
                tracing::warn!(request_id, "took over a stale idempotency claim");
            }
        }
    }
    let claim = Claim {
        scope,
        key: idem.to_string(),
        owner,
    };
    let result = run(Some(&claim));
    settle(state, &claim, &result, request_id);
    result
}

/// Stores what a retry must see, or releases the claim when the call failed
/// for a reason a retry may not meet (5xx). A success already stored by
/// [`Ctx::finish`] is left as it is.
fn settle(state: &AppState, claim: &Claim, result: &Result<Answer, ApiError>, request_id: &str) {
    let outcome = match result {
        Ok(answer) => encode(answer).ok().map(|j| (200, j)),
        Err(e) if !e.is_fatal() && e.status() < 500 => Some((e.status(), e.client_message())),
        Err(_) => None,
    };
    let (scope, key, owner) = (&claim.scope, &claim.key, &claim.owner);
    let records = state.store.idempotency();
    let done = match &outcome {
        Some((status, body)) => records.complete(scope, key, owner, *status, body),
        None => records.release(scope, key, owner),
    };
    if let Err(e) = done {
        tracing::warn!(request_id, error = %e, "idempotency record not settled");
    }
}

/// The stored outcome, answered again.
fn replay(status: u16, result: &str) -> Result<Answer, ApiError> {
    if status == 200 {
        serde_json::from_str(result)
            .map_err(|e| ApiError::Internal(format!("stored answer unreadable: {e}")))
    } else {
        Err(ApiError::Repeated(status, result.to_string()))
    }
}

fn encode(answer: &Answer) -> Result<String, ApiError> {
    serde_json::to_string(answer).map_err(|e| ApiError::Internal(format!("encoding: {e}")))
}

fn in_progress() -> ApiError {
    ApiError::Conflict("a request with this idempotency_key is in progress; retry later".into())
}

/// 1–255 printable characters (spaces allowed).
pub fn check_key(key: &str) -> Result<(), ApiError> {
    let n = key.chars().count();
    if n == 0 || n > MAX_KEY_CHARS || key.chars().any(char::is_control) {
        return Err(ApiError::InvalidParam(
            PARAM.into(),
            "must be 1 to 255 printable characters".into(),
        ));
    }
    Ok(())
}

/// Where a key lives: the api key alone for calls that act for no user,
/// else the api key and the user, so two users of one app (form tokens,
/// OAuth tokens or owned keys alike) never share records.
fn scope(key: &ApiKey, account: Option<&Account>) -> String {
    match account {
        None => key.api_key.clone(),
        Some(a) => format!("{} user:{}", key.api_key, a.user.id),
    }
}

/// Digest of what the method reads: its name, each declared parameter as
/// sent (absent, a value, or a list; secrets only as "present"), and a raw
/// PUT body. Credentials (tokens too: whom the call acts for is the
/// [`scope`]), nonce, timestamp and `content_type` are left out: they
/// differ on every retry.
fn fingerprint(method: &Method, args: &Args) -> String {
    let mut h = Sha256::new();
    let mut put = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    put(method.name.as_bytes());
    let names = method
        .params
        .iter()
        .map(|p| (p.name, p.secret))
        .chain([(RAW_BODY, false)]);
    for (name, secret) in names {
        put(name.as_bytes());
        match args.params().get_list(name) {
            None => put(b"absent"),
            Some(_) if secret => put(b"secret"),
            Some(values) => {
                let kind: &[u8] = if args.params().get(name).is_some() {
                    b"one"
                } else {
                    b"list"
                };
                put(kind);
                put(&(values.len() as u64).to_le_bytes());
                for v in values {
                    put(v.as_bytes());
                }
            }
        }
    }
    hex::encode(h.finalize())
}

/// The secret parameters of the request in one string, or `None`. Only an
/// argon2id hash of it is stored, never the values.
fn secrets(method: &Method, args: &Args) -> Option<String> {
    let mut out = String::new();
    for p in method.params.iter().filter(|p| p.secret) {
        if let Some(values) = args.params().get_list(p.name) {
            for v in values {
                out.push_str(&format!("{}:{}:{v};", p.name, v.len()));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

fn same_secret(stored_hash: Option<&str>, secret: Option<&str>) -> bool {
    match (stored_hash, secret) {
        (None, None) => true,
        (Some(h), Some(s)) => verify_password(h, s),
        _ => false,
    }
}

fn new_owner() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::params::{ParamValue, Params};

    fn args(method: &Method, pairs: &[(&str, &str)]) -> Args {
        let mut p = Params::default();
        for (k, v) in pairs {
            p.insert(k.to_string(), ParamValue::One(v.to_string()))
                .unwrap();
        }
        Args::validate(method, p).unwrap()
    }

    fn create_user() -> &'static Method {
        super::super::all()
            .iter()
            .find(|m| m.name == "create-user")
            .unwrap()
    }

    #[test]
    fn the_fingerprint_ignores_credentials_and_encoding_but_not_parameters() {
        let m = create_user();
        let base = [
            ("username", "jane"),
            ("email", "j@example.com"),
            ("password", "Pw-1234567"),
        ];
        let a = fingerprint(m, &args(m, &base));
        let mut with_creds = base.to_vec();
        with_creds.extend([
            ("nonce", "n1"),
            ("timestamp", "t"),
            ("content_type", "application/json"),
        ]);
        assert_eq!(a, fingerprint(m, &args(m, &with_creds)));
        let mut other = base.to_vec();
        other[1] = ("email", "k@example.com");
        assert_ne!(a, fingerprint(m, &args(m, &other)));
        let mut more = base.to_vec();
        more.push(("company", ""));
        assert_ne!(
            a,
            fingerprint(m, &args(m, &more)),
            "absent differs from empty"
        );
        // a password change is not in the digest, only in the secret
        let mut pw = base.to_vec();
        pw[2] = ("password", "Other-12345");
        assert_eq!(a, fingerprint(m, &args(m, &pw)));
        let s1 = secrets(m, &args(m, &base)).unwrap();
        let s2 = secrets(m, &args(m, &pw)).unwrap();
        assert_ne!(s1, s2);
        let h = hash_password(&s1).unwrap();
        assert!(same_secret(Some(&h), Some(&s1)));
        assert!(!same_secret(Some(&h), Some(&s2)));
        assert!(!same_secret(None, Some(&s1)));
    }

    #[test]
    fn keys_are_1_to_255_printable_characters() {
        assert!(check_key("order-42 retry").is_ok());
        assert!(check_key(&"k".repeat(255)).is_ok());
        assert!(check_key(&"k".repeat(256)).is_err());
        assert!(check_key("").is_err());
        assert!(check_key("a\nb").is_err());
    }

    #[test]
    fn replayed_outcomes_keep_status_and_body() {
        let answer = Answer::one(crate::answer::tree::Node::new("deleted").attr("id", "usr_1"));
        assert_eq!(replay(200, &encode(&answer).unwrap()).unwrap(), answer);
        let e = replay(409, "username 'jane' is taken").unwrap_err();
        assert_eq!(
            (e.status(), e.client_message().as_str()),
            (409, "username 'jane' is taken")
        );
        assert!(!e.is_fatal());
    }
}
