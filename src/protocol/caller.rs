//! Who is calling: app authentication by either scheme, the form parameters
//! of §3 or the OAuth 1.0 header of §5, reduced to one [`AuthenticatedApp`]. The replay
//! claim and the user step (`user_auth`) come after.

use std::sync::Arc;

use super::auth::{check_nonce, check_window, verify_app, Credentials, DUMMY_SECRET};
use super::oauth1::{self, OAuthCredentials, OAuthHeader};
use super::params::Params;
use super::timestamp::Timestamp;
use super::user_auth::{Presented, TokenProof, TokenRefusal};
use crate::error::ApiError;
use crate::store::keys::ApiKey;

/// Where [`identify`] reads api keys and user tokens: the store, or a cache
/// in front of it (`http::pipeline`).
pub trait KeyLookup {
    /// The key `api_key` with its secrets opened, if it exists.
    fn key(&mut self, api_key: &str) -> Result<Option<Arc<ApiKey>>, ApiError>;
    /// The token `auth_token` of `key` with its secret opened (OAuth: the
    /// token secret is half of the signing key); `None` when unknown.
    fn token(&mut self, key: &ApiKey, auth_token: &str) -> Result<Option<Presented>, ApiError>;
}

/// Form parameters that carry credentials of the §3/§4 scheme.
const FORM_CREDENTIALS: &[&str] = &[
    "api_key",
    "consumer_key",
    "access_key",
    "auth_token",
    "access_token",
];

/// What an OAuth-signed request needs besides its parameters: the parts of
/// the HTTP request the base string covers.
#[derive(Debug, Clone)]
pub struct OAuthRequest {
    pub header: OAuthHeader,
    pub http_method: String,
    /// Scheme, host and path as the client addressed them.
    pub base_uri: String,
    pub query: String,
    /// The body, when it is `application/x-www-form-urlencoded`.
    pub urlencoded_body: Option<String>,
}

/// An authenticated app, the identity of its request for the replay check,
/// and the user proof it brought.
#[derive(Debug)]
pub struct AuthenticatedApp {
    pub key: Arc<ApiKey>,
    pub timestamp: i64,
    pub nonce: String,
    pub proof: TokenProof,
}

/// Authenticates the app of a request with whichever scheme it used.
pub fn identify(
    lookup: &mut impl KeyLookup,
    now: i64,
    tolerance: u64,
    params: &Params,
    oauth: Option<&OAuthRequest>,
) -> Result<AuthenticatedApp, ApiError> {
    match oauth {
        None => by_form(lookup, now, tolerance, params),
        Some(o) => by_oauth(lookup, now, tolerance, params, o),
    }
}

fn by_form(
    lookup: &mut impl KeyLookup,
    now: i64,
    tolerance: u64,
    params: &Params,
) -> Result<AuthenticatedApp, ApiError> {
    let creds = Credentials::from_params(params)?;
    check_window(creds.timestamp, now, tolerance)?;
    let key = lookup.key(creds.api_key)?;
    verify_app(key.as_deref(), &creds)?;
    let key = key.ok_or(ApiError::UnknownApiKey)?;
    let proof = match params.get("auth_token").filter(|t| !t.is_empty()) {
        None => TokenProof::None,
        Some(auth_token) => TokenProof::Form {
            auth_token: auth_token.to_string(),
            access_token: params.get("access_token").map(str::to_string),
            timestamp_raw: creds.timestamp_raw.to_string(),
            nonce: creds.nonce.to_string(),
            algo: creds.algo,
        },
    };
    Ok(AuthenticatedApp {
        key,
        timestamp: creds.timestamp.unix(),
        nonce: creds.nonce.to_string(),
        proof,
    })
}

fn by_oauth(
    lookup: &mut impl KeyLookup,
    now: i64,
    tolerance: u64,
    params: &Params,
    o: &OAuthRequest,
) -> Result<AuthenticatedApp, ApiError> {
    if FORM_CREDENTIALS.iter().any(|n| params.contains(n)) {
        return Err(ApiError::MixedAuthSchemes);
    }
    let creds = OAuthCredentials::from_header(&o.header)?;
    check_nonce(&creds.nonce)?;
    check_window(Timestamp::from_unix(creds.timestamp), now, tolerance)?;
    let key = lookup.key(&creds.consumer_key)?;
    // The token secret is half of the signing key, so the token comes first.
    // An unknown token signs with a dummy secret: the answer is the same bad
    // signature as for a wrong token secret, so tokens cannot be probed
    // without the consumer secret.
    let presented = match (&key, &creds.token) {
        (Some(k), Some(t)) if k.revoked_at.is_none() => lookup.token(k, t)?,
        _ => None,
    };
    let unknown_token = creds.token.is_some() && presented.is_none();
    let base = oauth1::base_string(
        &o.http_method,
        &o.base_uri,
        &oauth1::signed_params(&o.query, o.urlencoded_body.as_deref(), &o.header),
    );
    let consumer_secret = key.as_ref().map_or(DUMMY_SECRET, |k| k.secret.expose());
    let token_secret = match &presented {
        Some(p) => &p.secret[..],
        None if unknown_token => DUMMY_SECRET.as_bytes(),
        None => &b""[..],
    };
    let signing_key = oauth1::signing_key(consumer_secret, token_secret);
    let ok = oauth1::verify(creds.algo, &signing_key, &base, &creds.signature);
    let key = match key {
        None => return Err(ApiError::UnknownApiKey),
        Some(k) if k.revoked_at.is_some() => return Err(ApiError::RevokedApiKey),
        Some(k) if !ok => return Err(ApiError::BadOAuthSignature(k.debug.then_some(base))),
        Some(_) if unknown_token => return Err(TokenRefusal::Unknown.into()),
        Some(k) => k,
    };
    Ok(AuthenticatedApp {
        key,
        timestamp: creds.timestamp,
        nonce: creds.nonce,
        proof: presented.map_or(TokenProof::None, TokenProof::Verified),
    })
}
