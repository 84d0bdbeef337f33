//! Passwords only over HTTPS when HTTPS is available. The sign-in pages
//! (`/auth/…`, `/account/…`) take passwords and set the session cookie; when
//! the server has a TLS listener, or the request came through a trusted proxy
//! that reports the protocol, a page asked for over plain HTTP is redirected
//! to its HTTPS address (`308`) and a form posted over plain HTTP is refused
//! (`403`, before its body is read). Without any HTTPS (no TLS listener, no
//! proxy) plain HTTP keeps working, and so it does everywhere with
//! `server.allow_insecure_sign_in` (development only).

use std::net::IpAddr;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpRequest, HttpResponse};

use super::page;
use super::texts::Lang;
use crate::docs::esc;
use crate::methods::AppState;
use crate::ops::forwarded;

/// Wraps each page: plain HTTP requests go to HTTPS when it is available.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let refusal = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| refusal(state, req.request()));
    match refusal {
        Some(resp) => Ok(req.into_response(resp)),
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
    }
}

/// The answer instead of the page, when `req` came over plain HTTP and HTTPS
/// is available: a `308` to the HTTPS address for GET and HEAD, else a `403`
/// page linking to it.
fn refusal(state: &AppState, req: &HttpRequest) -> Option<HttpResponse> {
    let base = https_base(state, req)?;
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let l = Lang::from_query(req.query_string()).unwrap_or(Lang::En);
    if req.method() == Method::GET || req.method() == Method::HEAD {
        let location = HeaderValue::from_str(&format!("{base}{path}")).ok()?;
        let mut b = page::builder(308);
        b.insert_header((header::LOCATION, location));
        return Some(b.finish());
    }
    // A form: its page is the GET of the same path, except the account's
    // sign-in and actions, which all live on the account page.
    let page_path = if req.path().starts_with("/account/") {
        format!("/account/apps?lang={}", l.code())
    } else {
        format!("{}?lang={}", req.path(), l.code())
    };
    let url = format!("{base}{page_path}");
    let t = l.texts();
    let body = format!(
        "{} <a href=\"{url}\">{url}</a>",
        esc(t.https_only_body),
        url = esc(&url)
    );
    tracing::info!(path = %req.path(), "page form refused over plain HTTP");
    Some(page::respond(
        403,
        page::message(l, t.https_only_title, &body, req.path()),
    ))
}

/// `https://host[:port]` to send `req` to, when it came over plain HTTP and
/// HTTPS is available (and insecure sign-in is not allowed); else `None`.
pub fn https_base(state: &AppState, req: &HttpRequest) -> Option<String> {
    let server = &state.config.server;
    if server.allow_insecure_sign_in {
        return None;
    }
    let trusted = &state.ops.trusted_proxies;
    if forwarded::is_https(req, trusted) {
        return None;
    }
    let public = server.public_url.trim_end_matches('/');
    let public_https = public.starts_with("https://").then(|| public.to_string());
    // A trusted proxy that names the protocol serves HTTPS on the default port.
    if forwarded::proxy_proto(req, trusted).is_some() {
        return public_https.or_else(|| {
            let origin = forwarded::origin(req, trusted);
            let host = host_only(&origin.host).unwrap_or_else(|| local_host(req));
            Some(format!("https://{host}"))
        });
    }
    let port = tls_port(state)?;
    if public_https.is_some() {
        return public_https;
    }
    let named = public
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    let host = named
        .as_deref()
        .and_then(host_only)
        .unwrap_or_else(|| local_host(req));
    Some(if port == 443 {
        format!("https://{host}")
    } else {
        format!("https://{host}:{port}")
    })
}

/// The port of the (first) TLS listener, if there is one.
fn tls_port(state: &AppState) -> Option<u16> {
    if let Some(addr) = state.bound_tls.get().and_then(|a| a.first()) {
        return Some(addr.port());
    }
    // Not started through `app::start`: what the configuration says.
    state.config.server.tls.listen.first().and_then(|spec| {
        spec.rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .filter(|p| *p != 0)
    })
}

/// The host of `host[:port]` (IPv6 in brackets), when it looks like a host
/// name or address: nothing else goes into a `Location`.
fn host_only(host_port: &str) -> Option<String> {
    let host = if host_port.starts_with('[') {
        let end = host_port.find(']')?;
        &host_port[..=end]
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    ok.then(|| host.to_ascii_lowercase())
}

/// The address this connection reached, as a URL host.
fn local_host(req: &HttpRequest) -> String {
    match req.app_config().local_addr().ip() {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_their_port_and_odd_ones_are_refused() {
        assert_eq!(
            host_only("Example.com:8080").as_deref(),
            Some("example.com")
        );
        assert_eq!(host_only("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_only("[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(host_only("evil.example/x"), None);
        assert_eq!(host_only("a b"), None);
        assert_eq!(host_only(""), None);
    }
}
