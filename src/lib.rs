//! The Sightline server: configuration, storage, the web server and the CLI commands.
// The OpenAPI document is one `json!` literal, deeper than the default limit allows.
#![recursion_limit = "256"]

pub mod audit;
pub mod auth;
pub mod budgets;
pub mod cached;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod detect;
pub mod digests;
pub mod endpoints;
pub mod error;
pub mod errors;
pub mod gateway;
pub mod geo;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod named_figures;
pub mod otlp;
pub mod pricing;
pub mod privacy;
pub mod providers;
pub mod rollup;
pub mod security;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod web;

pub use error::Error;
