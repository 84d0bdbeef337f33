//! The one integration binary: every test talks to a real `panthera` process.

mod balancer;
mod browser;
mod helpers;

mod accounts;
mod auth;
mod cli;
mod clients;
mod connections;
mod docs;
mod docs_answers;
mod docs_reference;
mod durability;
mod hardening;
mod key_cache;
mod media;
mod methods;
mod oauth;
mod ops;
mod original_clients_a;
mod original_clients_b;
mod perf_pg;
mod pg_backend;
mod renders;
mod rest_users;
mod scale_out;
mod sdks;
mod small_holes;
mod tokens;
mod users_cli;
mod web_security;
mod wire;
