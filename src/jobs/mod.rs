//! Background work of `serve` that is not answering requests: retention and digests.

pub mod digest;
pub mod retention;
