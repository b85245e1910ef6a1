//! The accepted connections: each socket's writes carry a timeout, so a client that
//! reads nothing for the send timeout (`SIGHTLINE_SEND_TIMEOUT_SECS`) loses its
//! connection instead of holding a response (an export, a proxied stream) open forever.

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;

/// A TCP listener whose connections fail a write that waits longer than `timeout`.
pub struct SendTimeoutListener {
    inner: TcpListener,
    timeout: Duration,
}

impl SendTimeoutListener {
    pub fn new(inner: TcpListener, timeout: Duration) -> SendTimeoutListener {
        SendTimeoutListener { inner, timeout }
    }
}

impl axum::serve::Listener for SendTimeoutListener {
    type Io = Pin<Box<TimeoutStream<TcpStream>>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (tcp, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        let mut stream = TimeoutStream::new(tcp);
        stream.set_write_timeout(Some(self.timeout));
        (Box::pin(stream), addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
