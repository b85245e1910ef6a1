//! Background work of `serve` that is not answering requests: retention.

pub mod retention;
