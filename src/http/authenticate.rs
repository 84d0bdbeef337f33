//! App authentication on the HTTP worker (protocol.md §3, §5): the caller,
//! then the replay claim, awaited until its group commit. No thread is held
//! while the nonce writer gathers the claim into a commit, and the request is
//! answered only once its nonce is stored, so a restart still refuses it.
//!
//! Keys come from the key cache when they were read under the nonce writer's
//! current epoch, else from the store's query-only connection (a reader never
//! waits for a writer in WAL mode). A cached key is trusted for success only:
//! a failure is checked again against the store (say `debug` was just
//! switched on). Unknown keys are cached as absent and checked again the
//! same way, so a refusal takes as long for a made-up key as for a real one
//! (`benches/auth.rs`). When another connection committed before the claim's batch
//! (the epoch moved: perhaps the CLI revoked the key), the caller is checked
//! again before the request is answered.

use std::sync::Arc;

use crate::error::ApiError;
use crate::methods::AppState;
use crate::methods::Method;
use crate::protocol::auth::replay_digest;
use crate::protocol::caller::{self, AuthenticatedApp, KeyLookup, OAuthRequest};
use crate::protocol::params::Params;
use crate::protocol::user_auth::{self, Presented};
use crate::store::keys::ApiKey;
use crate::store::nonces::{Announced, Claimed};

/// Authenticates the app and claims the request's replay identity.
pub async fn app(
    state: &AppState,
    method: &'static Method,
    params: &Params,
    oauth: Option<&OAuthRequest>,
    request_id: &str,
) -> Result<AuthenticatedApp, ApiError> {
    // Lets the nonce writer hold its next commit for this claim.
    let coming = state.nonces.announce();
    let epoch = state.nonces.epoch();
    let mut caller = identify(state, epoch, params, oauth)?;
    let claimed = claim(state, &caller, method, params, request_id, Some(coming)).await?;
    let mut fresh = claimed.fresh;
    if claimed.epoch != epoch {
        let now = identify_from_store(state, claimed.epoch, params, oauth)?;
        if now.key.replay != caller.key.replay {
            // The replay identity depends on the policy: claim the right one.
            fresh = claim(state, &now, method, params, request_id, None)
                .await?
                .fresh;
        }
        caller = now;
    }
    if !fresh {
        return Err(ApiError::Replay);
    }
    Ok(caller)
}

/// The caller, through the key cache; a failure with a cached key is
/// decided by the store.
fn identify(
    state: &AppState,
    epoch: u64,
    params: &Params,
    oauth: Option<&OAuthRequest>,
) -> Result<AuthenticatedApp, ApiError> {
    let mut lookup = StoreLookup::new(state, epoch, true);
    let now = lookup.now;
    match caller::identify(&mut lookup, now, tolerance(state), params, oauth) {
        Err(_) if lookup.served_from_cache => identify_from_store(state, epoch, params, oauth),
        other => other,
    }
}

fn identify_from_store(
    state: &AppState,
    epoch: u64,
    params: &Params,
    oauth: Option<&OAuthRequest>,
) -> Result<AuthenticatedApp, ApiError> {
    let mut lookup = StoreLookup::new(state, epoch, false);
    let now = lookup.now;
    caller::identify(&mut lookup, now, tolerance(state), params, oauth)
}

fn tolerance(state: &AppState) -> u64 {
    state.config.auth.timestamp_tolerance_secs
}

/// Claims the caller's replay identity and waits for its group commit.
async fn claim(
    state: &AppState,
    caller: &AuthenticatedApp,
    method: &'static Method,
    params: &Params,
    request_id: &str,
    announced: Option<Announced>,
) -> Result<Claimed, ApiError> {
    let key = &caller.key;
    let claim = state.nonces.identify(
        &key.api_key,
        caller.timestamp,
        &caller.nonce,
        &replay_digest(key.replay, method.name, params),
    );
    state
        .nonces
        .claim_async(claim, announced)
        .await
        .map_err(|e| {
            tracing::error!(request_id, error = %e, "nonce claim failed");
            ApiError::Unavailable
        })
}

/// Keys from the cache (when allowed) or the query-only connection, which
/// then fills the cache; tokens from the query-only connection.
struct StoreLookup<'a> {
    state: &'a AppState,
    /// The nonce writer's epoch, taken before any read.
    epoch: u64,
    now: i64,
    use_cache: bool,
    served_from_cache: bool,
}

impl<'a> StoreLookup<'a> {
    fn new(state: &'a AppState, epoch: u64, use_cache: bool) -> Self {
        StoreLookup {
            state,
            epoch,
            now: state.clock.now(),
            use_cache,
            served_from_cache: false,
        }
    }
}

impl KeyLookup for StoreLookup<'_> {
    fn key(&mut self, api_key: &str) -> Result<Option<Arc<ApiKey>>, ApiError> {
        let cache = &self.state.key_cache;
        if self.use_cache {
            if let Some(k) = cache.get(api_key, self.epoch, self.now) {
                self.served_from_cache = true;
                return Ok(Some(k));
            }
            if cache.is_absent(api_key, self.epoch) {
                self.served_from_cache = true;
                return Ok(None);
            }
        }
        let store = &self.state.store;
        let key = store.keys().find(api_key, self.now)?.map(Arc::new);
        match &key {
            Some(k) => cache.put(Arc::clone(k), self.epoch),
            None => cache.put_absent(api_key, self.epoch),
        }
        Ok(key)
    }

    fn token(&mut self, key: &ApiKey, auth_token: &str) -> Result<Option<Presented>, ApiError> {
        user_auth::load(&self.state.store, key, auth_token)
    }
}
