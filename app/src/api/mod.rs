//! Server functions: the only way pages talk to the server. Each one is thin: it finds
//! the [`Backend`] the server provided and asks it; the server implements the backend
//! on top of its store, so no SQL lives in the UI crate. Every server function but
//! `login` needs a session, and those under `/api/ui/admin/` the admin role: the
//! server's middleware enforces both before the function runs, and the functions check
//! again.

pub mod dashboard;
pub mod endpoints;
pub mod errors;
pub mod providers;
pub mod requests;
pub mod security;
pub mod session;
pub mod settings;
pub mod threats;
pub mod user_sessions;

#[cfg(feature = "ssr")]
mod backend;
#[cfg(feature = "ssr")]
pub use backend::{Backend, BackendError, SharedBackend};
#[cfg(feature = "ssr")]
mod settings_backend;
#[cfg(feature = "ssr")]
pub use settings_backend::SettingsBackend;
