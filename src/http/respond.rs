//! Turning outcomes into HTTP answers: structured answers, normal errors,
//! fatal errors and documentation pages.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use crate::answer::tree::Answer;
use crate::answer::{Format, FATAL_CONTENT_TYPE};
use crate::error::ApiError;
use crate::protocol::version::Version;

/// The header naming the version that served the answer.
pub const API_VERSION_HEADER: &str = "x-api-version";

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `X-API-Version: v1.0`.
pub fn version_value(v: Version) -> HeaderValue {
    HeaderValue::from_str(&format!("v{v}")).unwrap_or(HeaderValue::from_static("v1.0"))
}

/// 200 with the encoded answer.
pub fn ok(answer: &Answer, format: Format) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, format.content_type()))
        .body(format.encode_ok(answer))
}

/// 200 with a file's raw bytes (`content_type=application/octet-stream`).
pub fn binary(file: &crate::answer::tree::Binary) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.mime.as_str()))
        .body(file.bytes.clone())
}

/// An error as the protocol wants it: fatal ones as `text/html`, the others
/// encoded as `content_type` asked. Internal causes are logged, not shown.
pub fn error(err: &ApiError, format: Format, request_id: &str) -> HttpResponse {
    if let ApiError::Internal(cause) = err {
        tracing::error!(request_id, %cause, "internal error");
    }
    let code = err.status();
    let mut builder = HttpResponse::build(status(code));
    if let Some(secs) = err.retry_after() {
        builder.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    if err.is_fatal() {
        builder
            .insert_header((header::CONTENT_TYPE, FATAL_CONTENT_TYPE))
            .body(err.fatal_body())
    } else {
        let msg = match err {
            ApiError::Internal(_) => format!("internal error, request id {request_id}"),
            other => other.client_message(),
        };
        builder
            .insert_header((header::CONTENT_TYPE, format.content_type()))
            .body(format.encode_fail(code, &msg))
    }
}

/// An HTML page (documentation).
pub fn html(code: u16, body: String) -> HttpResponse {
    HttpResponse::build(status(code))
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(body)
}

/// A deprecation redirect; the client repeats the same request at `location`.
pub fn redirect(code: u16, location: &str) -> HttpResponse {
    HttpResponse::build(status(code))
        .insert_header((header::LOCATION, location))
        .insert_header((header::CONTENT_TYPE, FATAL_CONTENT_TYPE))
        .body(format!(
            "{code} {} (API version deprecated, repeat the request at {})",
            crate::error::reason(code),
            crate::error::escape_html(location, crate::error::HtmlText::Ascii)
        ))
}
