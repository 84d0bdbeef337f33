//! The one error type. Each variant knows its HTTP status, its message and
//! whether it is *fatal* (plain `text/html`, before the caller is known) or a
//! normal `<rsp stat="fail">` answer (protocol.md §6).

use crate::wire::{OAuthError, ParamError, Timestamp, TimestampError, Version};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    // ---- fatal: text/html "<NNN> <Reason> (<detail>)" ----
    #[error("missing User-Agent header")]
    MissingUserAgent,
    #[error("HTTP method {0} is not supported, use POST (or GET for documentation)")]
    VerbNotImplemented(String),
    #[error("unknown API version '{0}', supported: {1}")]
    UnknownVersion(String, String),
    #[error("API version {0} is no longer available, use {1}")]
    VersionGone(Version, Version),
    #[error("unknown method '{0}', see get-method-list")]
    UnknownMethod(String),
    #[error("method '{name}' does not exist in version {version}, it exists in: {exists_in}")]
    MethodNotInVersion {
        name: String,
        version: Version,
        exists_in: String,
    },
    #[error("{0}")]
    BadParams(#[from] ParamError),
    #[error("request body larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("SSL is required")]
    SslRequired,
    #[error("missing parameter '{0}'")]
    MissingAuthParam(&'static str),
    #[error("algorithm not supported, Supported Algos: sha1 - sha256 - sha512")]
    BadAlgo,
    #[error("{0}")]
    BadTimestamp(#[from] TimestampError),
    #[error("{0}")]
    BadAuthParam(&'static str),
    #[error("invalid nonce: {0}")]
    BadNonce(&'static str),
    #[error("invalid api key")]
    UnknownApiKey,
    #[error("api key has been revoked")]
    RevokedApiKey,
    #[error("invalid access key{}", signed_suffix(.0))]
    BadSignature(Option<String>),
    #[error("timestamp too old, server time is {0}")]
    TimestampTooOld(Timestamp),
    #[error("timestamp too far in the future, server time is {0}")]
    TimestampTooNew(Timestamp),
    #[error("invalid oauth_signature{}", base_suffix(.0))]
    BadOAuthSignature(Option<String>),
    #[error("{0}")]
    BadOAuth(#[from] OAuthError),
    #[error(
        "send credentials either in the OAuth Authorization header or as form parameters, not both"
    )]
    MixedAuthSchemes,
    #[error("nonce already used with this timestamp (replayed request)")]
    Replay,
    #[error("service unavailable, please retry")]
    Unavailable,
    #[error("the request body did not arrive within {0} s")]
    BodyTimeout(u64),
    #[error("too many failed authentications from your address or for this api key, retry in {retry_after} s")]
    TooManyFailures { retry_after: u64 },
    #[error("at most {max} requests at once from {address}, retry in {retry_after} s")]
    TooManyConnections {
        address: String,
        max: u32,
        retry_after: u64,
    },
    /// Too many open connections from one address (`limits.max_connections_per_address`).
    #[error("at most {max} connections at once from {address}, retry in {retry_after} s")]
    TooManyOpenConnections {
        address: String,
        max: u32,
        retry_after: u64,
    },
    /// Every connection the server takes is open (`limits.max_connections`).
    #[error("the server has too many open connections, retry in {retry_after} s")]
    ServerFull { retry_after: u64 },

    // ---- normal: <rsp stat="fail"><err code msg/></rsp> ----
    #[error("missing parameter '{0}'")]
    MissingParam(String),
    #[error("invalid parameter '{0}': {1}")]
    InvalidParam(String, String),
    #[error("{0}")]
    Unauthorized(String),
    /// The deposit cannot pay for what was asked (402).
    #[error("{0}")]
    PaymentRequired(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid value for '{0}': {1}")]
    Unprocessable(String, String),
    #[error("internal error")]
    Internal(String),
    #[error("rate limit exceeded (policy {policy}), retry in {retry_after} s")]
    RateLimited { policy: String, retry_after: u64 },
    /// A normal error answered earlier, repeated verbatim for an idempotent
    /// retry: (status, message).
    #[error("{1}")]
    Repeated(u16, String),
}

fn base_suffix(base: &Option<String>) -> String {
    match base {
        Some(s) => format!(" (debug: the signature base string is '{s}')"),
        None => String::new(),
    }
}

fn signed_suffix(signed: &Option<String>) -> String {
    match signed {
        Some(s) => format!(" (debug: the server signed '{s}')"),
        None => String::new(),
    }
}

impl ApiError {
    /// The HTTP status, which is also the `code` of normal errors.
    pub fn status(&self) -> u16 {
        use ApiError::*;
        match self {
            MissingUserAgent => 412,
            VerbNotImplemented(_) => 501,
            UnknownVersion(..) => 400,
            VersionGone(..) => 410,
            UnknownMethod(_) | MethodNotInVersion { .. } => 404,
            BadParams(_) => 400,
            BodyTooLarge(_) => 413,
            SslRequired => 403,
            MissingAuthParam(_) | BadAuthParam(_) | BadAlgo | BadTimestamp(_) | BadNonce(_)
            | BadOAuth(_) | MixedAuthSchemes => 400,
            UnknownApiKey | RevokedApiKey | BadSignature(_) | TimestampTooOld(_)
            | TimestampTooNew(_) | Replay | BadOAuthSignature(_) => 403,
            Unavailable => 503,
            BodyTimeout(_) => 408,
            TooManyFailures { .. } | RateLimited { .. } => 429,
            TooManyConnections { .. } | TooManyOpenConnections { .. } => 421,
            ServerFull { .. } => 503,
            MissingParam(_) | InvalidParam(..) => 400,
            Unauthorized(_) => 401,
            PaymentRequired(_) => 402,
            Forbidden(_) => 403,
            NotFound(_) => 404,
            Conflict(_) => 409,
            Unprocessable(..) => 422,
            Internal(_) => 500,
            Repeated(code, _) => *code,
        }
    }

    /// Fatal errors are answered as `text/html` whatever `content_type` asked.
    pub fn is_fatal(&self) -> bool {
        use ApiError::*;
        !matches!(
            self,
            MissingParam(_)
                | InvalidParam(..)
                | Unauthorized(_)
                | PaymentRequired(_)
                | Forbidden(_)
                | NotFound(_)
                | Conflict(_)
                | Unprocessable(..)
                | Internal(_)
                | Repeated(..)
                | RateLimited { .. }
        )
    }

    /// Seconds a client should wait before retrying, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        use ApiError::*;
        match self {
            TooManyFailures { retry_after }
            | TooManyConnections { retry_after, .. }
            | TooManyOpenConnections { retry_after, .. }
            | ServerFull { retry_after }
            | RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The message a client sees (never an internal cause).
    pub fn client_message(&self) -> String {
        self.to_string()
    }

    /// The fatal body: `400 Bad request (detail)`. The body is served as
    /// `text/html` and details echo client input, so they are escaped, and
    /// non-ASCII is written as character references (no charset needed).
    pub fn fatal_body(&self) -> String {
        let status = self.status();
        format!(
            "{status} {} ({})",
            reason(status),
            escape_html(&self.client_message(), HtmlText::Ascii)
        )
    }
}

/// Where escaped text goes in an HTML document (see [`escape_html`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlText {
    /// Content or an attribute value of a UTF-8 page: `& < > " '` escaped.
    Page,
    /// The text of a body sent without a charset (fatal errors, redirects):
    /// `& < >` escaped (never inside an attribute), control characters
    /// dropped, non-ASCII written as numeric references.
    Ascii,
}

/// The one HTML escaper: text for HTML content, as `to` says.
pub fn escape_html(s: &str, to: HtmlText) -> String {
    let ascii = to == HtmlText::Ascii;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if !ascii => out.push_str("&quot;"),
            '\'' if !ascii => out.push_str("&#39;"),
            c if ascii && c.is_control() => {}
            c if ascii && !c.is_ascii() => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Reason phrases as the original service printed them.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        421 => "There are too many connections from your internet address",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_for_pages_and_ascii_bodies() {
        let s = "a&<b>\"c\" 'd' é\u{1}\n";
        assert_eq!(
            escape_html(s, HtmlText::Page),
            "a&amp;&lt;b&gt;&quot;c&quot; &#39;d&#39; é\u{1}\n"
        );
        assert_eq!(
            escape_html(s, HtmlText::Ascii),
            "a&amp;&lt;b&gt;\"c\" 'd' &#233;"
        );
    }

    #[test]
    fn fatal_body_matches_the_original_service() {
        assert_eq!(
            ApiError::BadAlgo.fatal_body(),
            "400 Bad request (algorithm not supported, Supported Algos: sha1 - sha256 - sha512)"
        );
        assert!(ApiError::BadAlgo.is_fatal());
        assert!(!ApiError::NotFound("media not found".into()).is_fatal());
        assert_eq!(ApiError::Conflict("x".into()).status(), 409);
        let pay = ApiError::PaymentRequired("deposit exhausted".into());
        assert_eq!((pay.status(), pay.is_fatal()), (402, false));
    }

    #[test]
    fn fatal_bodies_cannot_carry_markup() {
        let body = ApiError::UnknownMethod("<script>ä\n".into()).fatal_body();
        assert_eq!(
            body,
            "404 Not Found (unknown method '&lt;script&gt;&#228;', see get-method-list)"
        );
    }

    #[test]
    fn internal_causes_stay_out_of_the_message() {
        let e = ApiError::Internal("disk I/O error at /secret/path".into());
        assert_eq!(e.client_message(), "internal error");
    }
}
