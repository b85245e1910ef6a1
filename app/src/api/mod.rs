//! Server functions: the only way pages talk to the server. Each one is thin: it finds
//! the [`Backend`] the server provided and asks it; the server implements the backend
//! on top of its store, so no SQL lives in the UI crate.

pub mod dashboard;

#[cfg(feature = "ssr")]
mod backend;
#[cfg(feature = "ssr")]
pub use backend::{Backend, BackendError, SharedBackend};
