//! Panthera: a Rust implementation of the PantherMedia signed form-POST REST
//! protocol. The request path is `http::pipeline`; methods are declared in
//! `methods`; the store is `store`.

pub mod accounts;
pub mod answer;
pub mod app;
pub mod cidr;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod docs;
pub mod error;
pub mod http;
pub mod media;
pub mod methods;
pub mod ops;
pub mod private_file;
pub mod protocol;
pub mod rest;
pub mod server_key;
pub mod store;
pub mod swap;
pub mod tls;
pub mod web;
pub mod wire;

#[cfg(test)]
mod layering_test;
