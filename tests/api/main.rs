//! The integration tests: one binary (as zero-to-production keeps it), one module per
//! area. Each spawns the real server on a random port with a fresh database.

#[macro_use]
mod common;

mod accounts;
mod audit;
mod budgets;
mod dashboard_api;
mod detection;
mod digests;
mod durability;
mod endpoints_view;
mod errors_view;
mod export;
mod gateway;
mod geo;
mod hardening_body_limits;
mod hardening_browser;
mod hardening_error_text;
mod hardening_event_limit;
mod hardening_exports;
mod hardening_numbers;
mod hardening_queue_depth;
mod hardening_ranges;
mod hardening_readiness;
mod hardening_replays;
mod hardening_reserved_user_ids;
mod hardening_retention;
mod hardening_shutdown;
mod hardening_sign_in;
mod hardening_text_search;
mod ingest;
mod logging;
mod metrics;
mod otlp;
mod privacy;
mod providers_view;
mod replicas;
mod requests_view;
mod retention;
mod security_view;
mod server;
mod sessions_users_view;
mod settings;
mod store_requests;
mod store_requests_explorer;
mod store_rollups;
mod store_sessions_users;
mod store_settings;
mod store_threats;
mod store_web_sessions;
mod tracker_e2e;
