//! Reading the `Cookie` header and writing `Set-Cookie` (the pages need two
//! cookies; actix's cookie feature would pull in more than that).
//!
//! Over HTTPS a cookie is `Secure` and goes by `__Host-` + its name: the
//! browser then keeps it only for this exact host, path `/`, HTTPS, so a
//! network attacker cannot plant one over plain HTTP or from a sibling domain.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::methods::AppState;
use crate::ops::forwarded;

/// The prefix of cookies set over HTTPS.
const HOST_PREFIX: &str = "__Host-";

/// True when the page request came over HTTPS (natively or through a
/// trusted proxy): its cookies are then `Secure` and `__Host-` named.
pub fn secure(state: &AppState, req: &HttpRequest) -> bool {
    forwarded::is_https(req, &state.ops.trusted_proxies)
}

/// The name cookie `base` goes by: `__Host-base` over HTTPS, else `base`.
pub fn name(base: &str, secure: bool) -> String {
    if secure {
        format!("{HOST_PREFIX}{base}")
    } else {
        base.to_string()
    }
}

/// The value of cookie `base` (under its HTTPS or plain name), if the request carries it.
pub fn get(req: &HttpRequest, base: &str, secure: bool) -> Option<String> {
    let name = name(base, secure);
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, whole site, no Domain;
/// over HTTPS `Secure` and `__Host-` named.
pub fn set(base: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        name(base, secure),
        if secure { "; Secure" } else { "" }
    )
}

/// A 32-byte random hex value, and whether `candidate` already is one.
pub fn is_random_id(candidate: &str) -> bool {
    candidate.len() == 64 && candidate.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn https_cookies_are_secure_and_host_prefixed() {
        assert_eq!(
            set("s", "v", 10, true),
            "__Host-s=v; Path=/; Max-Age=10; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            set("s", "v", 10, false),
            "s=v; Path=/; Max-Age=10; HttpOnly; SameSite=Lax"
        );
        let req = TestRequest::default()
            .insert_header(("cookie", "s=plain; __Host-s=host"))
            .to_http_request();
        assert_eq!(get(&req, "s", true).as_deref(), Some("host"));
        assert_eq!(get(&req, "s", false).as_deref(), Some("plain"));
    }
}
