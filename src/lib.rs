//! The Sightline server: configuration, storage, the web server and the CLI commands.

pub mod auth;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod detect;
pub mod error;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod otlp;
pub mod pricing;
pub mod rollup;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod web;

pub use error::Error;
