//! Signing a user in on a page: throttles (the configured in-memory policy
//! and a persistent backoff), then argon2id verification (off the async
//! workers), then the account's status.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use actix_web::web;

use super::throttle;
use crate::methods::AppState;
use crate::store::users::{self, User};

/// The outcome of a sign-in attempt.
pub enum SignIn {
    Ok(User),
    Wrong,
    /// Too many failures: wait this many seconds.
    Throttled(i64),
    Inactive,
}

/// A hash to verify against when the username is unknown, so that both
/// cases take the same time.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| users::hash_password("no such user").unwrap_or_default())
}

/// Checks `username` / `password` from `addr`; store errors are `Err`.
pub async fn attempt(
    state: Arc<AppState>,
    username: String,
    password: String,
    addr: Option<IpAddr>,
) -> Result<SignIn, String> {
    web::block(move || {
        let now = state.clock.now();
        // The configured in-memory policy (`rate_limits.failed_sign_in`) first,
        // then the persistent backoff below; the stricter one wins.
        if let Err(crate::error::ApiError::TooManyFailures { retry_after }) =
            crate::ops::ratelimit::sign_in_gate(&state.ops, &*state.clock, addr, &username)
        {
            return Ok(SignIn::Throttled(
                i64::try_from(retry_after).unwrap_or(i64::MAX),
            ));
        }
        if let Some(wait) =
            throttle::check(&state.store, &username, addr, now).map_err(|e| e.to_string())?
        {
            return Ok(SignIn::Throttled(wait));
        }
        let found = state
            .store
            .users()
            .find_for_login(&username)
            .map_err(|e| e.to_string())?;
        // The expensive part runs without holding the store.
        // An account without a password (created by the REST users API)
        // takes the same time and never signs in.
        let real = found
            .as_ref()
            .map(|(_, h)| h.as_str())
            .filter(|h| *h != users::NO_PASSWORD);
        let ok = users::verify_password(real.unwrap_or(dummy_hash()), &password) && real.is_some();
        let store = &state.store;
        match found {
            Some((user, _)) if ok => {
                throttle::succeeded(store, &username).map_err(|e| e.to_string())?;
                Ok(if user.status == "active" {
                    SignIn::Ok(user)
                } else {
                    SignIn::Inactive
                })
            }
            _ => {
                state
                    .ops
                    .limiter
                    .sign_in_failed(addr, &username, state.clock.now_millis());
                throttle::failed(store, &username, addr, now).map_err(|e| e.to_string())?;
                Ok(SignIn::Wrong)
            }
        }
    })
    .await
    .map_err(|e| e.to_string())?
}
