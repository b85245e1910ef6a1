use std::io;
use std::net::SocketAddr;

use crate::store::StoreError;

/// Why a command failed; printed as one line before a non-zero exit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("web server failed: {0}")]
    Serve(io::Error),
    /// The command was asked for something it cannot do.
    #[error("{0}")]
    Usage(String),
}
