//! The documentation a browser reads with `GET` (docs.md): an index and one
//! page per method, made from the registry declarations so they cannot drift.

mod html;

pub use html::esc;

use actix_web::HttpResponse;

use crate::app::AppState;
use crate::http::respond;
use crate::http::route::Target;
use crate::methods::Lookup;
use crate::protocol::version::Version;

/// Answers a `GET` without credentials: the index or a method's page.
pub fn serve_get(state: &AppState, version: Version, target: &Target<'_>) -> HttpResponse {
    match target {
        Target::Index => respond::html(200, html::index(state, version)),
        Target::Method(name) => match state.registry.lookup(name, version) {
            Lookup::Found(m) => respond::html(200, html::method_page(state, version, m)),
            Lookup::OtherVersions(decls) => {
                respond::html(404, html::not_in_version(version, name, &decls))
            }
            Lookup::Unknown => respond::html(404, html::unknown_method(version, name)),
        },
    }
}
