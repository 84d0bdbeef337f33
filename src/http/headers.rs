//! What every answer carries (protocol.md §6): no-cache headers, `X-Request-Id`,
//! `X-API-Version`; and the `412` for requests without `User-Agent`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use rand::RngCore;
use tracing::Instrument;

use crate::answer::Format;
use crate::error::ApiError;

/// The id of one request, in the request's extensions and the answer's header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn new_request_id() -> String {
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

const CACHE_CONTROL: &str =
    "no-store, no-cache, max-age=0, must-revalidate, post-check=0, pre-check=0";

/// Middleware: request id, `412` without `User-Agent`, standard headers, access log.
pub async fn standard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = new_request_id();
    let default_version = req
        .app_data::<actix_web::web::Data<crate::methods::AppState>>()
        .map(|s| s.versions.load().default);
    req.extensions_mut().insert(RequestId(id.clone()));
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path: String = req.path().chars().take(200).collect();
    let has_agent = req
        .headers()
        .get(header::USER_AGENT)
        .is_some_and(|v| !v.as_bytes().is_empty());
    // Every line logged while the request runs carries its id.
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = if has_agent {
        next.call(req).instrument(span).await?.map_into_left_body()
    } else {
        let resp = super::respond::error(&ApiError::MissingUserAgent, Format::Xml, &id);
        req.into_response(resp).map_into_right_body()
    };
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::EXPIRES,
        HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"),
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert(HeaderName::from_static("x-request-id"), v);
    }
    let version_header = HeaderName::from_static(super::respond::API_VERSION_HEADER);
    if let (false, Some(v)) = (h.contains_key(&version_header), default_version) {
        h.insert(version_header, super::respond::version_value(v));
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    Ok(res)
}
