//! Running one method for an authenticated caller: role, validation,
//! idempotency, handler. The HTTP pipeline, the REST face and the docs'
//! samples all come through here.

use std::sync::Arc;

use super::{idempotency, Args, Ctx, Method};
use crate::answer::tree::Answer;
use crate::error::ApiError;
use crate::methods::AppState;
use crate::protocol::params::Params;
use crate::protocol::user_auth::Account;
use crate::protocol::version::Version;
use crate::store::keys::ApiKey;

/// Who a method runs for, once authenticated.
pub struct Principal<'a> {
    pub key: &'a ApiKey,
    /// The user the call acts for (see [`Ctx::account`]).
    pub account: Option<&'a Account>,
    /// `scheme://host` the client reached us at (or `server.public_url`).
    pub base_url: &'a str,
}

/// Runs a method for an authenticated caller: role check, validation, then
/// the handler (under the idempotency rules). The docs' sample answers come
/// through here too.
pub fn run_method(
    state: &Arc<AppState>,
    method: &'static Method,
    version: Version,
    caller: &Principal<'_>,
    params: Params,
    request_id: &str,
) -> Result<Answer, ApiError> {
    method.authorize(caller.key)?;
    let args = Args::validate(method, params)?;
    idempotency::execute(
        state,
        method,
        caller.key,
        caller.account,
        &args,
        request_id,
        |claim| {
            (method.handler)(&Ctx {
                state,
                method,
                version,
                key: caller.key,
                request_id,
                args: &args,
                account: caller.account,
                base_url: caller.base_url,
                idempotency: claim,
            })
        },
    )
}
