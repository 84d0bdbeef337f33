//! How the client reached us: over HTTPS natively, or through a trusted
//! TLS-terminating proxy that says so (`X-Forwarded-Proto`, `Forwarded`).
//! Headers from any other peer are ignored: anyone can send them.

use std::net::IpAddr;

use actix_web::HttpRequest;

use super::net::{client_address, Cidr};

/// The scheme and host the client used, as far as we may believe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    /// `host[:port]`, from a trusted proxy or the `Host` header.
    pub host: String,
}

impl Origin {
    /// `scheme://host`, lowercase as RFC 5849 §3.4.1.2 wants it, default ports dropped.
    pub fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let host = self.host.to_ascii_lowercase();
        let default = if self.https { ":443" } else { ":80" };
        let host = host.strip_suffix(default).unwrap_or(&host);
        format!("{scheme}://{host}")
    }
}

/// True when the peer is one of the configured proxies.
pub fn from_trusted_proxy(req: &HttpRequest, trusted: &[Cidr]) -> bool {
    req.peer_addr()
        .map(|a| a.ip().to_canonical())
        .is_some_and(|ip| trusted.iter().any(|t| t.contains(ip)))
}

/// The origin of `req`: TLS of this connection, or what a trusted proxy reports.
pub fn origin(req: &HttpRequest, trusted: &[Cidr]) -> Origin {
    let native = req.app_config().secure();
    let host_header = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| req.app_config().host().to_string());
    if !from_trusted_proxy(req, trusted) {
        return Origin {
            https: native,
            host: host_header,
        };
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let forwarded = header("forwarded").map(|f| parse_forwarded(&f));
    let proto = reported_proto(forwarded.as_ref(), header("x-forwarded-proto"));
    let host = forwarded
        .as_ref()
        .and_then(|f| f.host.clone())
        .or_else(|| header("x-forwarded-host").map(|h| first_item(&h)));
    Origin {
        https: native || proto.is_some_and(|p| p.eq_ignore_ascii_case("https")),
        host: host.filter(|h| !h.is_empty()).unwrap_or(host_header),
    }
}

/// The protocol named by `Forwarded: proto=`, else by `X-Forwarded-Proto`.
fn reported_proto(
    forwarded: Option<&Forwarded>,
    x_forwarded_proto: Option<String>,
) -> Option<String> {
    forwarded
        .and_then(|f| f.proto.clone())
        .or_else(|| x_forwarded_proto.map(|p| first_item(&p)))
        .filter(|p| !p.is_empty())
}

/// The protocol (`http`, `https`) a trusted proxy reported the client used;
/// `None` when the peer is no trusted proxy or it named no protocol.
pub fn proxy_proto(req: &HttpRequest, trusted: &[Cidr]) -> Option<String> {
    if !from_trusted_proxy(req, trusted) {
        return None;
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let forwarded = header("forwarded").map(|f| parse_forwarded(&f));
    reported_proto(forwarded.as_ref(), header("x-forwarded-proto"))
}

/// True when the request came over HTTPS (natively or via a trusted proxy).
pub fn is_https(req: &HttpRequest, trusted: &[Cidr]) -> bool {
    origin(req, trusted).https
}

/// The client's address: the peer, or what trusted proxies forwarded for
/// (see [`client_address`]).
pub fn client_ip(req: &HttpRequest, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded_for = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    Some(client_address(peer, forwarded_for, trusted))
}

fn first_item(list: &str) -> String {
    list.split(',').next().unwrap_or("").trim().to_string()
}

/// What the first element of an RFC 7239 `Forwarded` header says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Forwarded {
    pub proto: Option<String>,
    pub host: Option<String>,
}

/// Reads `proto` and `host` of the first element (the one the first proxy added).
pub fn parse_forwarded(value: &str) -> Forwarded {
    let mut out = Forwarded::default();
    let first = value.split(',').next().unwrap_or("");
    for pair in first.split(';') {
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim().to_ascii_lowercase().as_str() {
            "proto" => out.proto = Some(v),
            "host" => out.host = Some(v),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn trusted() -> Vec<Cidr> {
        Cidr::parse_all(&["127.0.0.1".to_string()]).unwrap()
    }

    #[test]
    fn forwarded_header_elements() {
        let f = parse_forwarded("for=1.2.3.4;Proto=https;host=\"api.example.com\", proto=http");
        assert_eq!(f.proto.as_deref(), Some("https"));
        assert_eq!(f.host.as_deref(), Some("api.example.com"));
        assert_eq!(parse_forwarded("junk"), Forwarded::default());
    }

    #[test]
    fn proxy_headers_count_only_from_trusted_peers() {
        let req = TestRequest::default()
            .peer_addr("127.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("host", "127.0.0.1:8080"))
            .to_http_request();
        assert!(is_https(&req, &trusted()));
        assert!(!is_https(&req, &[]));
        let stranger = TestRequest::default()
            .peer_addr("10.0.0.9:5000".parse().unwrap())
            .insert_header(("forwarded", "proto=https"))
            .to_http_request();
        assert!(!is_https(&stranger, &trusted()));
        let via_forwarded = TestRequest::default()
            .peer_addr("[::ffff:127.0.0.1]:5000".parse().unwrap())
            .insert_header(("forwarded", "proto=https;host=api.example.com:443"))
            .to_http_request();
        let o = origin(&via_forwarded, &trusted());
        assert_eq!(o.base_url(), "https://api.example.com");
    }
}
