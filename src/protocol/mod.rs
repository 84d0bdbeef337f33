//! The wire protocol: versions, parameters, timestamps, signatures, app and
//! user authentication, OAuth 1.0 (protocol.md §1–§5).

pub mod auth;
pub mod caller;
pub mod oauth1;
pub mod params;
pub mod signature;
pub mod timestamp;
pub mod user_auth;
pub mod version;
