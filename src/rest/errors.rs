//! Errors of the REST face as seed 000 documents them: the HTTP status and
//! a JSON body `{"code": "NOT_FOUND", "message": "…"}`, the code naming the
//! status (`BAD_REQUEST`, `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`,
//! `METHOD_NOT_ALLOWED`, `CONFLICT`, `VALIDATION_ERROR`, `INTERNAL_ERROR`,
//! `SERVICE_UNAVAILABLE`; beyond the seed's table `PAYLOAD_TOO_LARGE`,
//! `REQUEST_TIMEOUT` and `TOO_MANY_REQUESTS`).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

use crate::error::ApiError;

/// One REST error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestError {
    pub status: u16,
    pub message: String,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
    /// The verbs for `Allow` (405).
    pub allow: Option<&'static str>,
}

impl RestError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        RestError {
            status,
            message: message.into(),
            retry_after: None,
            allow: None,
        }
    }

    /// `405` naming the verbs the path takes.
    pub fn method_not_allowed(verb: &str, allow: &'static str) -> Self {
        RestError {
            allow: Some(allow),
            ..RestError::new(
                405,
                format!(
                    "The HTTP method {} is not supported here; use {allow}.",
                    verb.chars().take(20).collect::<String>()
                ),
            )
        }
    }

    /// The body's `code` for a status.
    pub fn code(&self) -> &'static str {
        code(self.status)
    }

    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut b = HttpResponse::build(status);
        if let Some(secs) = self.retry_after {
            b.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = self.allow {
            b.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
        }
        if self.status == 401 {
            b.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("ApiKey header=\"X-API-Key\""),
            ));
        }
        b.json(json!({"code": self.code(), "message": self.message}))
    }
}

/// The code of the seed's table for `status` (and a few it does not list).
pub fn code(status: u16) -> &'static str {
    match status {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        422 => "VALIDATION_ERROR",
        429 => "TOO_MANY_REQUESTS",
        503 => "SERVICE_UNAVAILABLE",
        s if s >= 500 => "INTERNAL_ERROR",
        _ => "BAD_REQUEST",
    }
}

/// First letter up, a final period: the seed's sentence style.
fn sentence(s: &str) -> String {
    let mut out: String = s
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c })
        .collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

impl From<ApiError> for RestError {
    /// The signed face's error as the REST face answers it. Failed
    /// authentications are 401 (the signed face says 403); parameter
    /// problems, missing and malformed alike, are 422 `VALIDATION_ERROR`
    /// (the request was well-formed JSON); internal causes never show.
    fn from(e: ApiError) -> Self {
        use ApiError as E;
        let status = match &e {
            E::MissingAuthParam(_)
            | E::UnknownApiKey
            | E::RevokedApiKey
            | E::BadSignature(_)
            | E::Unauthorized(_) => 401,
            E::MissingParam(_) | E::InvalidParam(..) | E::Unprocessable(..) => 422,
            E::TooManyFailures { .. } | E::TooManyConnections { .. } | E::RateLimited { .. } => 429,
            E::BadParams(_) | E::BadAuthParam(_) => 400,
            other => other.status(),
        };
        let message = match &e {
            E::MissingAuthParam(_) => "The X-API-Key header is missing.".to_string(),
            E::UnknownApiKey | E::RevokedApiKey => "The X-API-Key is not valid.".to_string(),
            E::Forbidden(_) => {
                "This API key does not have the admin role the users API needs.".to_string()
            }
            E::Internal(_) => "An unexpected error occurred on the server.".to_string(),
            other => sentence(&other.client_message()),
        };
        RestError {
            retry_after: e.retry_after(),
            ..RestError::new(status, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_seed() {
        let cases = [
            (
                ApiError::NotFound("User with ID 'usr_x' not found.".into()),
                404,
                "NOT_FOUND",
            ),
            (ApiError::Conflict("taken".into()), 409, "CONFLICT"),
            (
                ApiError::Unprocessable("status".into(), "bad".into()),
                422,
                "VALIDATION_ERROR",
            ),
            (
                ApiError::MissingParam("email".into()),
                422,
                "VALIDATION_ERROR",
            ),
            (ApiError::UnknownApiKey, 401, "UNAUTHORIZED"),
            (ApiError::Forbidden("x".into()), 403, "FORBIDDEN"),
            (ApiError::Internal("disk".into()), 500, "INTERNAL_ERROR"),
            (ApiError::Unavailable, 503, "SERVICE_UNAVAILABLE"),
            (ApiError::Repeated(409, "again".into()), 409, "CONFLICT"),
        ];
        for (e, status, code) in cases {
            let r = RestError::from(e);
            assert_eq!((r.status, r.code()), (status, code), "{r:?}");
        }
        let nf = RestError::from(ApiError::NotFound("User with ID 'usr_x' not found.".into()));
        assert_eq!(nf.message, "User with ID 'usr_x' not found.");
        let internal = RestError::from(ApiError::Internal("disk at /secret".into()));
        assert!(!internal.message.contains("secret"));
        let limited = RestError::from(ApiError::RateLimited {
            policy: "default".into(),
            retry_after: 3,
        });
        assert_eq!((limited.status, limited.retry_after), (429, Some(3)));
    }
}
