//! One module a page.

pub mod dashboard;
pub mod not_found;
