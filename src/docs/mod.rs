//! The documentation a browser reads with `GET` (docs.md): the index, the
//! guides, one page per method, `openapi.json` and the try-it script, all made
//! from the registry declarations so they cannot drift.

pub mod code;
pub mod export;
pub mod guides;
mod html;
mod layout;
pub mod openapi;
pub mod openapi_rest;
/// The sample answers are made by running the methods (`methods::samples`).
pub use crate::methods::samples;

pub use html::esc;

use crate::methods::AppState;
use crate::methods::Lookup;
use crate::protocol::version::Version;

const TRYIT_JS: &str = include_str!("tryit.js");
const FAVICON: &[u8] = include_bytes!("assets/favicon.ico");
const SEARCH_JS: &str = include_str!("assets/search.js");

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

/// A documentation page as a value; `http` turns it into a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// An HTML page with its status (404 for what does not exist).
    Html(u16, String),
    /// A JSON document (`openapi.json`, the search index).
    Json(String),
    /// A JSON document offered under a file name (the Postman collection).
    JsonFile { body: String, file_name: String },
    /// A script of the pages.
    Script(&'static str),
    /// The favicon, cached for a day.
    Icon(&'static [u8]),
}

/// The index of the methods in `version`.
pub fn index(state: &AppState, version: Version) -> Page {
    Page::Html(200, html::index(state, version))
}

/// The page of method `name` in `version`; 404 pages name the versions
/// that do have it.
pub fn method(state: &AppState, version: Version, name: &str) -> Page {
    match state.registry.lookup(name, version) {
        Lookup::Found(m) => Page::Html(200, html::method_page(state, version, m, samples(state))),
        Lookup::OtherVersions(decls) => {
            Page::Html(404, html::not_in_version(version, name, &decls))
        }
        Lookup::Unknown => not_found(version, name),
    }
}

/// A guide page, by its stem.
pub fn guide(version: Version, stem: &str) -> Page {
    match guides::find(stem) {
        Some(g) => Page::Html(200, html::guide(version, g)),
        None => not_found(version, stem),
    }
}

/// The OpenAPI document of every version; `base` is the request's base URL
/// (`server.public_url`, or the scheme and host the client used).
pub fn openapi(state: &AppState, base: &str) -> Page {
    Page::Json(openapi::document(state, samples(state), base).to_string())
}

/// The Postman collection of `version`, for the base URL `base`.
pub fn postman(version: Version, base: &str) -> Page {
    Page::JsonFile {
        body: export::postman(version, base).to_string(),
        file_name: format!("panthera-v{version}.postman_collection.json"),
    }
}

/// A static file of the pages.
pub fn asset(version: Version, name: &str) -> Page {
    match name {
        "favicon.ico" => Page::Icon(FAVICON),
        "search.js" => Page::Script(SEARCH_JS),
        "search-index.json" => Page::Json(layout::search_index(version).to_string()),
        "tryit.js" => Page::Script(TRYIT_JS),
        _ => not_found(version, name),
    }
}

/// The 404 page for a path naming nothing the docs know.
pub fn not_found(version: Version, name: &str) -> Page {
    Page::Html(404, html::unknown_method(version, name))
}
