//! The signed-in browser session (a cookie naming a row of `sessions`),
//! started by signing in on the authorization or the account page.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponseBuilder};

use super::cookies;
use crate::methods::AppState;
use crate::store::{users, StoreError};

/// The cookie holding the session id (`__Host-` prefixed over HTTPS).
const COOKIE: &str = "panthera_session";
/// How long a session lasts.
const LIFE_SECS: i64 = 12 * 60 * 60;

/// Starts a session for `user_id` and sets its cookie on `b`.
pub fn start(
    b: &mut HttpResponseBuilder,
    state: &AppState,
    req: &HttpRequest,
    user_id: &str,
) -> Result<(), StoreError> {
    let now = state.clock.now();
    let id = state
        .store
        .sessions()
        .create(user_id, now, now + LIFE_SECS)?;
    let secure = cookies::secure(state, req);
    b.append_header((
        header::SET_COOKIE,
        cookies::set(COOKIE, &id, LIFE_SECS, secure),
    ));
    Ok(())
}

/// The session id and its user, when the browser is signed in to an active
/// account (disabling an account also ends its sessions: `accounts::update`).
pub fn current(state: &AppState, req: &HttpRequest) -> Option<(String, users::User)> {
    let secure = cookies::secure(state, req);
    let id = cookies::get(req, COOKIE, secure).filter(|v| cookies::is_random_id(v))?;
    let now = state.clock.now();
    let uid = state.store.sessions().user_of(&id, now).ok().flatten()?;
    state
        .store
        .users()
        .find(&uid)
        .ok()
        .flatten()
        .filter(|u| u.status == "active")
        .map(|u| (id, u))
}

/// Ends the session `id` and clears its cookie on `b`.
pub fn end(
    b: &mut HttpResponseBuilder,
    state: &AppState,
    req: &HttpRequest,
    id: &str,
) -> Result<(), StoreError> {
    state.store.sessions().delete(id)?;
    let secure = cookies::secure(state, req);
    b.append_header((header::SET_COOKIE, cookies::set(COOKIE, "", 0, secure)));
    Ok(())
}
