//! The REST face of the user accounts (`/v1/users`, the API of seed 000):
//! plain JSON over `GET`/`POST`/`PUT`/`DELETE`, authenticated by an
//! `X-API-Key` token. It has no rules of its own: each request becomes a
//! call of the signed method it stands for (`get-users`, `create-user` …)
//! through [`crate::http::pipeline::run_method`], so both faces share the
//! account rules, the store, the audit trail, idempotency, the role check,
//! the rate limits and the failed-auth throttle. This module is the
//! translation: authentication ([`auth`]), the JSON error shape ([`errors`])
//! and the users resource ([`users`]).

pub mod auth;
pub mod errors;
pub mod users;

use actix_web::web;

/// The REST paths; registered before the signed pipeline's catch-all, so
/// `/v1/users` is never read as "version 1, method `users`".
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(["/v1/users", "/v1/users/"]).to(users::collection))
        .service(web::resource(["/v1/users/{id}", "/v1/users/{id}/"]).to(users::item));
}
