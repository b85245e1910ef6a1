//! One module a page.

pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod threats;
