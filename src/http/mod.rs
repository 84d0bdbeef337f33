//! The HTTP face of the service: routing, the request pipeline, answers, headers.

pub mod authenticate;
pub mod docs;
pub mod endpoints;
pub mod files;
pub mod guard;
pub mod headers;
pub mod pipeline;
pub mod respond;
pub mod route;
