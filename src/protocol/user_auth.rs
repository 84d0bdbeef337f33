//! User authentication (protocol.md §4), the step after app authentication:
//! which token the request presents, whether it may act, and for which user.
//! Token life rules live here as pure functions so they can be tested exactly.

use super::signature::{verify_hex, Algo};
use crate::error::ApiError;
use crate::store::keys::ApiKey;
use crate::store::tokens::{self, Token, TokenState};
use crate::store::users::User;
use crate::store::{Store, StoreError};

/// Whether a method needs a signed-in user (protocol.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAuth {
    Required,
    /// Without a token the method acts for the account owning the api key.
    Optional,
    No,
}

impl UserAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            UserAuth::Required => "required",
            UserAuth::Optional => "optional",
            UserAuth::No => "not required",
        }
    }
}

/// A fresh token waits this long for the user.
pub const PENDING_LIFE_SECS: i64 = 10 * 60;
/// An authorized token used with less than this left …
pub const EXTEND_BELOW_SECS: i64 = 30 * 60;
/// … gets this much more.
pub const EXTEND_BY_SECS: i64 = 60 * 60;
/// `token-valid-until` may set the expiry at most this far ahead.
pub const MAX_LIFE_SECS: i64 = 90 * 24 * 60 * 60;

/// Why a token was refused: each a `401` with its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("user authentication required: send auth_token and access_token")]
    Missing,
    #[error("missing parameter 'access_token'")]
    MissingAccessToken,
    #[error("unknown auth_token")]
    Unknown,
    #[error("auth_token is not authorized yet: the user has to approve it at auth_url first")]
    Pending,
    #[error("auth_token was denied by the user")]
    Denied,
    #[error("auth_token was revoked by the user")]
    Revoked,
    #[error("auth_token expired, request a new one")]
    Expired,
    #[error("invalid access_token")]
    BadAccessToken,
    #[error("the account of this auth_token is not active")]
    InactiveUser,
    #[error("no account: this api key is not owned by a user, send auth_token and access_token")]
    NoOwner,
}

impl From<TokenRefusal> for ApiError {
    fn from(r: TokenRefusal) -> Self {
        ApiError::Unauthorized(r.to_string())
    }
}

/// A stored token and its opened secret.
pub struct Presented {
    pub token: Token,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("token", &self.token.token)
            .finish_non_exhaustive()
    }
}

/// What the request carries to prove a user.
#[derive(Debug)]
pub enum TokenProof {
    None,
    /// Form scheme: `access_token` still to be checked against the token secret.
    Form {
        auth_token: String,
        access_token: Option<String>,
        timestamp_raw: String,
        nonce: String,
        algo: Algo,
    },
    /// OAuth scheme: the token secret already signed the whole request.
    Verified(Presented),
}

/// The account a call acts for, and the token it came with.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    pub token: Option<Token>,
}

/// Loads the token `auth_token` of `key`; `None` when it is unknown (a
/// token of another key is unknown too).
pub fn load(store: &Store, key: &ApiKey, auth_token: &str) -> Result<Option<Presented>, ApiError> {
    let Some((token, sealed)) = store.tokens().find_with_secret(auth_token)? else {
        return Ok(None);
    };
    if token.api_key != key.api_key {
        return Ok(None);
    }
    let secret = tokens::open_secret(store.keyring(), &token.token, &sealed).ok_or_else(|| {
        ApiError::Internal("a token secret cannot be opened (master key changed?)".into())
    })?;
    Ok(Some(Presented { token, secret }))
}

/// Whether `token` may act at `now`; `Ok(Some(t))` when using it extends it to `t`.
pub fn admit(token: &Token, now: i64) -> Result<Option<i64>, TokenRefusal> {
    match token.state {
        TokenState::Pending if token.valid_until < now => Err(TokenRefusal::Expired),
        TokenState::Pending => Err(TokenRefusal::Pending),
        TokenState::Denied => Err(TokenRefusal::Denied),
        TokenState::Revoked => Err(TokenRefusal::Revoked),
        TokenState::Authorized if token.valid_until < now => Err(TokenRefusal::Expired),
        TokenState::Authorized => Ok(extension(token.valid_until, now)),
    }
}

/// The extension rule: less than 30 minutes left → 60 minutes more.
pub fn extension(valid_until: i64, now: i64) -> Option<i64> {
    (valid_until - now < EXTEND_BELOW_SECS).then_some(valid_until + EXTEND_BY_SECS)
}

/// Checks a `token-valid-until` wish: in the future, at most 90 days ahead.
pub fn check_valid_until(wanted: i64, now: i64) -> Result<i64, ApiError> {
    let invalid = |why: &str| ApiError::Unprocessable("valid_until".into(), why.into());
    if wanted <= now {
        Err(invalid("must lie in the future"))
    } else if wanted > now + MAX_LIFE_SECS {
        Err(invalid(&format!(
            "at most 90 days ahead, i.e. not after {}",
            super::timestamp::Timestamp::from_unix(now + MAX_LIFE_SECS)
        )))
    } else {
        Ok(wanted)
    }
}

/// The account the call acts for, after app authentication succeeded.
/// `need` is the method's declaration; a token sent to a method that needs
/// no user is ignored.
pub fn account_for(
    store: &Store,
    now: i64,
    need: UserAuth,
    key: &ApiKey,
    proof: TokenProof,
) -> Result<Option<Account>, ApiError> {
    let presented = match (need, proof) {
        (UserAuth::No, _) => return Ok(None),
        (UserAuth::Required, TokenProof::None) => return Err(TokenRefusal::Missing.into()),
        // Without a token: the account owning the key, if any; a method that
        // needs one refuses then (`NoOwner`), one that does not (search) runs.
        (UserAuth::Optional, TokenProof::None) => return key_owner(store, key),
        (_, TokenProof::Verified(p)) => p,
        (
            _,
            TokenProof::Form {
                auth_token,
                access_token,
                timestamp_raw,
                nonce,
                algo,
            },
        ) => {
            let p = load(store, key, &auth_token)?.ok_or(TokenRefusal::Unknown)?;
            let access_token = access_token.ok_or(TokenRefusal::MissingAccessToken)?;
            let parts: [&[u8]; 3] = [
                timestamp_raw.as_bytes(),
                auth_token.as_bytes(),
                nonce.as_bytes(),
            ];
            if !verify_hex(algo, &p.secret, &parts, &access_token) {
                return Err(TokenRefusal::BadAccessToken.into());
            }
            p
        }
    };
    let mut token = presented.token;
    let extended = admit(&token, now)?;
    let user = user_of(store, token.user_id.as_deref())?.ok_or(TokenRefusal::Unknown)?;
    if user.status != "active" {
        return Err(TokenRefusal::InactiveUser.into());
    }
    if let Some(until) = extended {
        token.valid_until = until;
    }
    store.tokens().touch(&token.token, now, token.valid_until)?;
    token.last_used_at = Some(now);
    Ok(Some(Account {
        user,
        token: Some(token),
    }))
}

/// The user owning the api key, for `optional` methods called without a token.
fn key_owner(store: &Store, key: &ApiKey) -> Result<Option<Account>, ApiError> {
    let user = user_of(store, key.owner_user_id.as_deref())?;
    Ok(user.map(|user| Account { user, token: None }))
}

fn user_of(store: &Store, id: Option<&str>) -> Result<Option<User>, StoreError> {
    id.map_or(Ok(None), |id| store.users().find(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn token(state: TokenState, valid_until: i64) -> Token {
        Token {
            token: "t".into(),
            api_key: "k".into(),
            user_id: Some("usr_1".into()),
            app_name: "App".into(),
            app_logo: String::new(),
            app_callback: String::new(),
            lang: "en".into(),
            state,
            created_at: 0,
            decided_at: None,
            valid_until,
            last_used_at: None,
        }
    }

    #[test]
    fn each_state_has_its_refusal() {
        let clock = ManualClock::new(10_000);
        let now = clock.now();
        assert_eq!(
            admit(&token(TokenState::Pending, now + 60), now),
            Err(TokenRefusal::Pending)
        );
        assert_eq!(
            admit(&token(TokenState::Pending, now - 1), now),
            Err(TokenRefusal::Expired)
        );
        assert_eq!(
            admit(&token(TokenState::Denied, now + 60), now),
            Err(TokenRefusal::Denied)
        );
        assert_eq!(
            admit(&token(TokenState::Revoked, now + 60), now),
            Err(TokenRefusal::Revoked)
        );
        assert_eq!(
            admit(&token(TokenState::Authorized, now - 1), now),
            Err(TokenRefusal::Expired)
        );
        let messages: std::collections::BTreeSet<String> = [
            TokenRefusal::Missing,
            TokenRefusal::Unknown,
            TokenRefusal::Pending,
            TokenRefusal::Denied,
            TokenRefusal::Revoked,
            TokenRefusal::Expired,
            TokenRefusal::BadAccessToken,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(messages.len(), 7, "every refusal reads differently");
    }

    #[test]
    fn the_extension_rule_at_its_edges() {
        let clock = ManualClock::new(50_000);
        let until = clock.now() + EXTEND_BELOW_SECS;
        // exactly 30 minutes left: no extension
        assert_eq!(
            admit(&token(TokenState::Authorized, until), clock.now()),
            Ok(None)
        );
        clock.advance(1);
        assert_eq!(
            admit(&token(TokenState::Authorized, until), clock.now()),
            Ok(Some(until + EXTEND_BY_SECS))
        );
        // the last second still counts, the next one is expired
        clock.set(until);
        assert!(admit(&token(TokenState::Authorized, until), clock.now()).is_ok());
        clock.advance(1);
        assert_eq!(
            admit(&token(TokenState::Authorized, until), clock.now()),
            Err(TokenRefusal::Expired)
        );
    }

    #[test]
    fn valid_until_is_bounded_by_90_days() {
        let now = 1_000_000;
        assert_eq!(
            check_valid_until(now + MAX_LIFE_SECS, now).unwrap(),
            now + MAX_LIFE_SECS
        );
        assert!(check_valid_until(now + MAX_LIFE_SECS + 1, now).is_err());
        assert!(check_valid_until(now, now).is_err());
        let e = check_valid_until(now + MAX_LIFE_SECS + 1, now).unwrap_err();
        assert_eq!(e.status(), 422);
        assert!(e.to_string().contains("90 days"), "{e}");
    }
}
