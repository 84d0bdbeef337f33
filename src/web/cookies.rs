//! Reading the `Cookie` header and writing `Set-Cookie` (the pages need two
//! cookies; actix's cookie feature would pull in more than that).

use actix_web::http::header;
use actix_web::HttpRequest;

/// The value of cookie `name`, if the request carries it.
pub fn get(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, whole site; `Secure` over HTTPS.
pub fn set(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// A 32-byte random hex value, and whether `candidate` already is one.
pub fn is_random_id(candidate: &str) -> bool {
    candidate.len() == 64 && candidate.bytes().all(|b| b.is_ascii_hexdigit())
}
