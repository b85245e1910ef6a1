//! The gateway's knowledge of providers: which upstreams calls go to, how each
//! provider reports usage (JSON bodies and server-sent events), and how a finished call
//! becomes a request event. No HTTP server code: `web::proxy` is the edge that forwards
//! the bytes and hands them here to be read.

pub mod call;
pub mod recorder;
pub mod sse;
pub mod upstreams;
pub mod usage;

pub use call::{CallRecord, RequestFacts};
pub use recorder::Recorder;
pub use upstreams::{Flavor, Upstream, Upstreams};
pub use usage::{Usage, UsageReader};
