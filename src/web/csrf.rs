//! CSRF protection of the page forms: a per-browser random cookie, and in each
//! form an HMAC (server key) over the form's purpose, what it acts on (the
//! token id, the session) and that cookie. Another site can neither read the
//! cookie nor compute the MAC, so it cannot forge a submission.

use actix_web::HttpRequest;
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::cookies;
use crate::server_key::ServerKey;

/// The cookie naming the browser for CSRF purposes (`__Host-` prefixed over HTTPS).
pub const COOKIE: &str = "panthera_csrf";
/// How long that cookie lives.
pub const COOKIE_MAX_AGE: i64 = 24 * 60 * 60;

/// The browser's CSRF id, and `true` when it is new (to be set as a cookie);
/// `secure`: the request came over HTTPS ([`cookies::secure`]).
pub fn browser_id(req: &HttpRequest, secure: bool) -> (String, bool) {
    match cookies::get(req, COOKIE, secure).filter(|v| cookies::is_random_id(v)) {
        Some(v) => (v, false),
        None => {
            let mut b = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut b);
            (hex::encode(b), true)
        }
    }
}

/// Sets the CSRF cookie on `b` when the browser did not have one yet.
pub fn remember(
    b: &mut actix_web::HttpResponseBuilder,
    state: &crate::methods::AppState,
    req: &HttpRequest,
    browser: &str,
    new: bool,
) {
    if new {
        let secure = cookies::secure(state, req);
        b.append_header((
            actix_web::http::header::SET_COOKIE,
            cookies::set(COOKIE, browser, COOKIE_MAX_AGE, secure),
        ));
    }
}

/// The hidden form value for `purpose` acting on `binding`.
pub fn token(key: &ServerKey, purpose: &str, binding: &str, browser: &str) -> String {
    key.csrf_mac(&[purpose, binding, browser])
}

/// True when `provided` was made by [`token`] for this browser, purpose and binding.
pub fn check(
    key: &ServerKey,
    purpose: &str,
    binding: &str,
    req: &HttpRequest,
    secure: bool,
    provided: &str,
) -> bool {
    let Some(browser) = cookies::get(req, COOKIE, secure).filter(|v| cookies::is_random_id(v))
    else {
        return false;
    };
    verify(key, purpose, binding, &browser, provided)
}

/// True when `provided` is the token for exactly these inputs (constant time).
pub fn verify(
    key: &ServerKey,
    purpose: &str,
    binding: &str,
    browser: &str,
    provided: &str,
) -> bool {
    let expected = token(key, purpose, binding, browser);
    expected.len() == provided.len() && bool::from(expected.as_bytes().ct_eq(provided.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn tokens_are_bound_to_browser_purpose_and_binding() {
        let key = ServerKey::from_master(&[1; 32]);
        let browser = "a".repeat(64);
        let t = token(&key, "authorize", "tok1", &browser);
        let req = TestRequest::default()
            .insert_header(("cookie", format!("x=1; {COOKIE}={browser}")))
            .to_http_request();
        assert!(check(&key, "authorize", "tok1", &req, false, &t));
        assert!(!check(&key, "authorize", "tok2", &req, false, &t));
        assert!(!check(&key, "signin", "tok1", &req, false, &t));
        assert!(!check(&key, "authorize", "tok1", &req, false, ""));
        assert!(
            !check(&key, "authorize", "tok1", &req, true, &t),
            "over HTTPS only the __Host- cookie counts"
        );
        let other = TestRequest::default()
            .insert_header(("cookie", format!("{COOKIE}={}", "b".repeat(64))))
            .to_http_request();
        assert!(!check(&key, "authorize", "tok1", &other, false, &t));
        let none = TestRequest::default().to_http_request();
        assert!(!check(&key, "authorize", "tok1", &none, false, &t));
    }
}
