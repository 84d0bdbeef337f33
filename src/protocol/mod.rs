//! The wire protocol: versions, parameters, timestamps, signatures and app
//! authentication (protocol.md §1–§3).

pub mod auth;
pub mod params;
pub mod signature;
pub mod timestamp;
pub mod version;
