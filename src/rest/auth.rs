//! Who a REST request comes from: the `X-API-Key` header holds a token
//! issued for one api key (`panthera keys rest-token`, stored as a digest in
//! `store::rest_tokens`). It is a bearer secret, so it is refused over plain
//! HTTP whenever HTTPS is available, by the sign-in pages' rule
//! ([`crate::web::transport::https_base`]).

use actix_web::HttpRequest;

use super::errors::RestError;
use crate::error::ApiError;
use crate::methods::AppState;
use crate::store::keys::ApiKey;

/// The header.
pub const HEADER: &str = "x-api-key";
/// Longer values are not looked up (a token is 68 characters).
const MAX_TOKEN_CHARS: usize = 200;

/// The token as sent, trimmed; `None` when absent or empty.
pub fn token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(HEADER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .filter(|t| !t.is_empty())
}

/// `403` over plain HTTP when HTTPS is available (and insecure sign-in is
/// not allowed), naming the HTTPS address to use instead.
pub fn https_refusal(state: &AppState, req: &HttpRequest) -> Option<RestError> {
    let base = crate::web::transport::https_base(state, req)?;
    Some(RestError::new(
        403,
        format!(
            "The users API takes an X-API-Key only over HTTPS; use {base}{}",
            req.path()
        ),
    ))
}

/// The api key behind a token (blocking: reads the store). Missing is
/// [`ApiError::MissingAuthParam`], unknown [`ApiError::UnknownApiKey`] and a
/// revoked key [`ApiError::RevokedApiKey`], so the failed-auth throttle and
/// the metrics count them like the signed face's failures.
pub fn api_key(state: &AppState, token: Option<&str>) -> Result<ApiKey, ApiError> {
    let token = token.ok_or(ApiError::MissingAuthParam("X-API-Key"))?;
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(ApiError::UnknownApiKey);
    }
    let now = state.clock.now();
    let key = match state.store.rest_tokens().api_key_for(token)? {
        Some(k) => state.store.keys().find(&k, now)?,
        None => None,
    };
    match key {
        None => Err(ApiError::UnknownApiKey),
        Some(k) if k.revoked_at.is_some() => Err(ApiError::RevokedApiKey),
        Some(k) => Ok(k),
    }
}
