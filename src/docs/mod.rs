//! The documentation a browser reads with `GET` (docs.md): the index, the
//! guides, one page per method, `openapi.json` and the try-it script, all made
//! from the registry declarations so they cannot drift.

pub mod code;
pub mod export;
pub mod guides;
mod html;
pub mod openapi;
pub mod openapi_rest;
/// The sample answers are made by running the methods (`methods::samples`).
pub use crate::methods::samples;

pub use html::esc;

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::app::AppState;
use crate::http::respond;
use crate::http::route::Target;
use crate::methods::Lookup;
use crate::protocol::version::Version;

const TRYIT_JS: &str = include_str!("tryit.js");

/// The sample answers, run once per process on first use.
pub fn samples(state: &AppState) -> &samples::Samples {
    state
        .docs_samples
        .get_or_init(|| match samples::run_all(&state.config) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot run the documentation samples");
                samples::Samples::default()
            }
        })
}

/// Answers a `GET` without credentials.
pub fn serve_get(state: &AppState, version: Version, target: &Target<'_>) -> HttpResponse {
    match target {
        Target::Index => respond::html(200, html::index(state, version)),
        Target::Method(name) => match state.registry.lookup(name, version) {
            Lookup::Found(m) => {
                respond::html(200, html::method_page(state, version, m, samples(state)))
            }
            Lookup::OtherVersions(decls) => {
                respond::html(404, html::not_in_version(version, name, &decls))
            }
            Lookup::Unknown => respond::html(404, html::unknown_method(version, name)),
        },
        Target::Guide(stem) => match guides::find(stem) {
            Some(g) => respond::html(200, html::guide(version, g)),
            None => respond::html(404, html::unknown_method(version, stem)),
        },
        Target::OpenApi => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(openapi::document(state, samples(state)).to_string()),
        Target::Asset("tryit.js") => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
            .body(TRYIT_JS),
        Target::Asset(name) => respond::html(404, html::unknown_method(version, name)),
        // answered by the pipeline before documentation is considered
        Target::Health => respond::html(404, html::unknown_method(version, "health")),
        Target::Metrics => respond::html(404, html::unknown_method(version, "metrics")),
        // served by the pipeline before it gets here
        Target::Media(kind, _) => respond::html(404, html::unknown_method(version, kind)),
    }
}
