//! Command line and configuration: every setting is a flag and a `SIGHTLINE_*`
//! environment variable, with defaults that run Sightline from the repository root.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sightline",
    version,
    about = "Analytics and security dashboard for AI/LLM API platforms"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Default, Subcommand)]
pub enum Command {
    /// Run the web server: dashboard, ingest API and health endpoints (the default).
    #[default]
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database: `sqlite://PATH` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_DATABASE_URL",
        default_value = "sqlite://sightline.db",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Address the web server listens on; port 0 picks a free port.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub addr: SocketAddr,

    /// Folder of the built front end (`cargo leptos build` writes it).
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_SITE_ROOT",
        default_value = "target/site"
    )]
    pub site_root: PathBuf,
}
