//! One module a page.

pub mod dashboard;
pub mod endpoints;
pub mod errors;
pub mod login;
pub mod not_found;
pub mod providers;
pub mod request_detail;
pub mod requests;
pub mod security;
pub mod sessions;
pub mod settings;
pub mod threats;
pub mod user_detail;
pub mod users;
