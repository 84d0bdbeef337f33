//! The HTTP face of the service: routing, the request pipeline, answers, headers.

pub mod authenticate;
pub mod forwarded;
pub mod headers;
pub mod pipeline;
pub mod respond;
pub mod route;
