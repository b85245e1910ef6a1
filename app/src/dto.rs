//! Data the server sends to the pages. Shared by the server (which fills them from the
//! store) and the browser (which renders them), so both sides agree by construction.

/// Milliseconds since the Unix epoch, UTC: how Sightline stores and sends every instant.
pub type EpochMillis = i64;
