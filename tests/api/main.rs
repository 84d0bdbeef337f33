//! The one integration binary: every test talks to a real `panthera` process.

mod helpers;

mod auth;
mod cli;
mod clients;
mod docs;
mod media;
mod methods;
mod wire;
