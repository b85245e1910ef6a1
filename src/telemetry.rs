//! Logging: human-readable lines on a terminal, JSON lines otherwise (for collectors),
//! or as `SIGHTLINE_LOG_FORMAT` says. The filter comes from `SIGHTLINE_LOG` (default
//! `info`). Nothing logged carries a secret: requests are logged by
//! [`crate::web::request_log`] with their method, route, status and latency only.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object a line.
    Json,
    /// Human-readable lines.
    Pretty,
}

impl LogFormat {
    /// `chosen`, else JSON unless stderr (where logs go) is a terminal.
    pub fn resolve(chosen: Option<LogFormat>) -> LogFormat {
        chosen.unwrap_or(if std::io::stderr().is_terminal() {
            LogFormat::Pretty
        } else {
            LogFormat::Json
        })
    }
}

pub fn init(format: Option<LogFormat>) {
    let filter = EnvFilter::try_from_env("SIGHTLINE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // A second call (tests that start the server in-process) keeps the first subscriber.
    let _ = match LogFormat::resolve(format) {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
