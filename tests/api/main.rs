//! The one integration binary: every test talks to a real `panthera` process.

mod browser;
mod helpers;

mod accounts;
mod auth;
mod cli;
mod clients;
mod docs;
mod durability;
mod key_cache;
mod media;
mod methods;
mod oauth;
mod ops;
mod renders;
mod tokens;
mod users_cli;
mod wire;
