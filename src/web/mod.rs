//! The browser pages of the service (not API methods): the authorization page
//! a user approves or denies a token at, and the account page listing the apps
//! they allowed. Plain HTML forms, no JavaScript, English and German.

mod account;
mod authorize;
mod cookies;
mod csrf;
mod page;
mod session;
mod signin;
mod texts;
pub mod throttle;
pub mod transport;

use actix_web::middleware::from_fn;
use actix_web::web;

/// Registers the pages; everything else goes to the API pipeline. Every page
/// goes through [`transport::guard`]: passwords only over HTTPS when it is
/// available.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/auth/{token}")
            .wrap(from_fn(transport::guard))
            .route(web::get().to(authorize::show))
            .route(web::post().to(authorize::decide)),
    )
    .service(
        web::resource("/account/apps")
            .wrap(from_fn(transport::guard))
            .route(web::get().to(account::show)),
    )
    .service(
        web::resource("/account/signin")
            .wrap(from_fn(transport::guard))
            .route(web::post().to(account::sign_in)),
    )
    .service(
        web::resource("/account/signout")
            .wrap(from_fn(transport::guard))
            .route(web::post().to(account::sign_out)),
    )
    .service(
        web::resource("/account/apps/revoke")
            .wrap(from_fn(transport::guard))
            .route(web::post().to(account::revoke)),
    );
}
