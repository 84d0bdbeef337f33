//! The documentation's HTTP face: a `GET` without credentials gets a page
//! (`docs` makes pages as values; this turns them into responses).

use actix_web::http::header;
use actix_web::HttpResponse;

use super::respond;
use super::route::Target;
use crate::docs::{self, Page};
use crate::methods::AppState;
use crate::protocol::version::Version;

/// Answers a `GET` without credentials; `base` is the request's base URL
/// (`server.public_url`, or the scheme and host the client used).
pub fn serve_get(
    state: &AppState,
    version: Version,
    target: &Target<'_>,
    base: &str,
) -> HttpResponse {
    let page = match target {
        Target::Index => docs::index(state, version),
        Target::Method(name) => docs::method(state, version, name),
        Target::Guide(stem) => docs::guide(version, stem),
        Target::OpenApi => docs::openapi(state, base),
        Target::Postman => docs::postman(version, base),
        Target::Asset(name) => docs::asset(version, name),
        // answered by the pipeline before documentation is considered
        Target::Health => docs::not_found(version, "health"),
        Target::Metrics => docs::not_found(version, "metrics"),
        // served by the pipeline before it gets here
        Target::Media(kind, _) => docs::not_found(version, kind),
    };
    respond_page(page)
}

fn respond_page(page: Page) -> HttpResponse {
    match page {
        Page::Html(status, body) => respond::html(status, body),
        Page::Json(body) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(body),
        Page::JsonFile { body, file_name } => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}\""),
            ))
            .body(body),
        Page::Script(body) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
            .body(body),
        Page::Icon(body) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "image/x-icon"))
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(body),
    }
}
