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

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the web server: dashboard, ingest API and health endpoints (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Fill the database with realistic demo traffic.
    Demo(DemoArgs),
    /// Maintain the rollups.
    Rollup(RollupArgs),
    /// Delete raw requests and auth events older than the retention (rollups are kept).
    Prune(PruneArgs),
    /// Show or change the model price table used when a request has no `cost_usd`.
    #[command(subcommand)]
    Price(PriceCommand),
    /// Create a dashboard account, or set the password and role of an existing one.
    #[command(name = "create-admin")]
    CreateAdmin(CreateAdminArgs),
    /// Manage API keys for the ingest and read APIs.
    #[command(name = "api-key", subcommand)]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum PriceCommand {
    /// Every priced model: built-in prices and those set here.
    List,
    /// Set a model's price in USD per million tokens (applies to requests ingested from now).
    Set {
        model: String,
        /// USD per million prompt tokens.
        #[arg(long)]
        prompt: f64,
        /// USD per million completion tokens.
        #[arg(long)]
        completion: f64,
        /// USD per million input tokens read from the prompt cache (default: the prompt price).
        #[arg(long)]
        cache_read: Option<f64>,
        /// USD per million input tokens written to the prompt cache (default: the prompt price).
        #[arg(long)]
        cache_write: Option<f64>,
        /// USD per million reasoning tokens (default: the completion price).
        #[arg(long)]
        reasoning: Option<f64>,
    },
    /// Remove a price set here (the built-in price, if any, applies again).
    Reset { model: String },
}

#[derive(Debug, Clone, Args)]
pub struct CreateAdminArgs {
    /// The account's username (letters, digits, `.`, `_`, `-`, `@`).
    #[arg(long)]
    pub username: String,
    /// Read the password from the first line of stdin; without it a strong password is
    /// generated and printed alone on the last line of stdout.
    #[arg(long)]
    pub password_stdin: bool,
    /// `admin` (may change everything) or `viewer` (reads everything, changes nothing
    /// shared).
    #[arg(long, default_value = "admin", value_parser = ["admin", "viewer"])]
    pub role: String,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; it is printed once, alone on the last line of stdout.
    Create {
        /// What the key is for (shown in lists).
        #[arg(long)]
        name: String,
        /// Comma-separated: ingest, read.
        #[arg(long, default_value = "ingest")]
        scopes: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by its id or prefix.
    Revoke {
        /// The key's id or prefix (`sl_…`), as `list` shows them.
        key: String,
    },
}

impl Default for Command {
    fn default() -> Self {
        Command::Serve(ServeArgs::default())
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Seed an empty database with demo traffic and keep a light live traffic going,
    /// so the dashboard has something to show.
    #[arg(long)]
    pub demo: bool,
    /// Days of history `--demo` seeds.
    #[arg(long, default_value_t = 14, requires = "demo", value_parser = clap::value_parser!(u32).range(1..=365))]
    pub demo_days: u32,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            demo: false,
            demo_days: 14,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Days of history to generate, ending now.
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Users of the demo platform.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub users: u32,
    /// Average requests per day.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub per_day: u32,
    /// Seed of the random generator: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Delete all traffic data (requests, sessions, feedback, threats, auth events,
    /// alerts, rollups) first. Accounts, API keys and settings are kept.
    #[arg(long)]
    pub clear: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Days to keep; by default the retention in force (the settings page's, else
    /// `SIGHTLINE_RETENTION_DAYS`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: Option<u32>,
    /// Only count what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RollupArgs {
    /// Recompute every rollup, session, user and model stat from the raw rows.
    #[arg(long, required = true)]
    pub rebuild: bool,
    /// Rebuild even though raw requests were pruned: the rollups of the pruned days
    /// are lost (without it, the rebuild refuses).
    #[arg(long)]
    pub discard_pruned_history: bool,
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

    /// Log lines as `json` or human-readable `pretty`; by default JSON unless stderr is
    /// a terminal. (`SIGHTLINE_LOG` filters them.)
    #[arg(long, global = true, env = "SIGHTLINE_LOG_FORMAT", value_enum)]
    pub log_format: Option<crate::telemetry::LogFormat>,

    /// Ingest batches that may wait for the database; beyond, the API answers 503.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_INGEST_QUEUE",
        default_value_t = 256
    )]
    pub ingest_queue: usize,

    /// Reverse proxies (comma-separated IPs) whose `X-Forwarded-For` gives the client's
    /// address, for login throttling and sign-in records.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_TRUSTED_PROXIES",
        value_delimiter = ',',
        num_args = 0..
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// What is stored of a client's IP address, whichever way the event came in:
    /// `none` (all of it), `truncate` (IPv4 to /24, IPv6 to /48) or `drop` (nothing).
    /// Detection and geography still read the full address in memory.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_IP_ANONYMIZE",
        value_enum,
        default_value_t = crate::privacy::IpAnonymize::None
    )]
    pub ip_anonymize: crate::privacy::IpAnonymize,

    /// A MaxMind-format country or city database (`.mmdb`: GeoLite2, GeoIP2, DB-IP
    /// lite): events that give an IP and no country get the IP's country. Read again on
    /// SIGHUP and when the file changes.
    #[arg(long, global = true, env = "SIGHTLINE_GEOIP_DB")]
    pub geoip_db: Option<PathBuf>,

    /// URLs that get a JSON POST when an alert fires or resolves and with each digest
    /// (comma-separated; Slack-compatible `text`), retried with backoff.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_WEBHOOK_URLS",
        value_delimiter = ',',
        num_args = 0..
    )]
    pub webhook_urls: Vec<url::Url>,

    /// Daily and weekly digests to the webhooks (`SIGHTLINE_DIGEST*`).
    #[command(flatten)]
    pub digests: crate::digests::DigestSchedule,

    /// Thresholds of the threat rules and alerts.
    #[command(flatten)]
    pub thresholds: crate::detect::Thresholds,

    /// Spending budgets (`SIGHTLINE_BUDGET_*`); the settings page's take precedence.
    #[command(flatten)]
    pub budgets: crate::budgets::BudgetDefaults,

    /// The gateway's upstreams, `name=URL,…`: replace built-in ones of the same name
    /// (openai, anthropic, gemini, mistral, groq, deepseek, openrouter) or add others
    /// (any OpenAI-compatible server). `/proxy/<name>/…` forwards to `URL/…`.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_PROXY_UPSTREAMS",
        default_value = "",
        value_parser = parse_upstreams
    )]
    pub proxy_upstreams: crate::gateway::Upstreams,

    /// Seconds the gateway waits for an upstream to start answering, and between two
    /// chunks of its answer, before it gives up (504, or a broken-off stream).
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_PROXY_TIMEOUT",
        default_value_t = 300,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub proxy_timeout: u64,

    /// Finished gateway calls that may wait to be recorded while the database is busy;
    /// beyond, a call is still answered but not recorded (and counted as dropped).
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_PROXY_RECORD_QUEUE",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    pub proxy_record_queue: u32,

    /// Passwords checked at once by the sign-in (Argon2 takes 19 MiB and a core each);
    /// an attempt beyond is answered 429 at once. Default: the number of CPUs.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_SIGN_IN_CONCURRENCY",
        value_parser = clap::value_parser!(u32).range(1..=256)
    )]
    pub sign_in_concurrency: Option<u32>,
    /// Largest body, in bytes, of `/api/v1/ingest` and `/api/v1/feedback` (1 KiB to
    /// 1 GiB); beyond, 413.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_MAX_BODY_BYTES",
        default_value_t = 10 * 1024 * 1024,
        value_parser = body_bytes
    )]
    pub max_body_bytes: usize,

    /// Largest body, in bytes, of OTLP `/v1/traces` as sent (1 KiB to 1 GiB); gzip is
    /// refused past 20 MiB decompressed whatever this says.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_OTLP_MAX_BODY_BYTES",
        default_value_t = 20 * 1024 * 1024,
        value_parser = body_bytes
    )]
    pub otlp_max_body_bytes: usize,

    /// Largest request body, in bytes, the gateway forwards (1 KiB to 1 GiB).
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_PROXY_MAX_BODY_BYTES",
        default_value_t = 10 * 1024 * 1024,
        value_parser = body_bytes
    )]
    pub proxy_max_body_bytes: usize,

    /// Largest body, in bytes, of every other route: the dashboard's server functions
    /// (sign-in included), pages and the read APIs (1 KiB to 1 GiB).
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_UI_MAX_BODY_BYTES",
        default_value_t = 64 * 1024,
        value_parser = body_bytes
    )]
    pub ui_max_body_bytes: usize,

    /// The URL people reach Sightline at. When it starts with `https://`, the session
    /// cookie is always `Secure` and `Strict-Transport-Security` is sent (behind a
    /// trusted proxy, `X-Forwarded-Proto: https` does the same per request).
    #[arg(long, global = true, env = "SIGHTLINE_PUBLIC_URL")]
    pub public_url: Option<url::Url>,

    /// Days a dashboard sign-in lasts at most, however active (1 to 365); besides, it
    /// ends after 7 days without use.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_SESSION_MAX_DAYS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=365)
    )]
    pub session_max_days: u32,

    /// CSV exports that may stream at once; beyond, an export is refused with 429 and
    /// `Retry-After`. Exports read in pages and hold no database connection meanwhile.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_EXPORT_CONCURRENCY",
        default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(1..=1_000)
    )]
    pub export_concurrency: u32,

    /// Seconds a response may wait for a client that reads nothing before its
    /// connection is closed (a stalled download, a stalled proxied stream).
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_SEND_TIMEOUT_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub send_timeout_secs: u64,

    /// Seconds `serve` takes at most to stop after SIGTERM or Ctrl-C: requests in flight
    /// get most of it, then the ingest queue is closed and what it holds committed.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub shutdown_timeout_secs: u64,

    /// Days raw requests (and auth events) are kept; an admin's choice in the settings
    /// page takes precedence. `serve` prunes older ones every hour; rollups are kept.
    #[arg(
        long,
        global = true,
        env = "SIGHTLINE_RETENTION_DAYS",
        default_value_t = 90,
        value_parser = clap::value_parser!(u32).range(1..=3650)
    )]
    pub retention_days: u32,
}

impl Config {
    /// The database of `SIGHTLINE_DATABASE_URL`, storing client IPs as configured.
    pub async fn connect_store(&self) -> Result<crate::store::Store, crate::store::StoreError> {
        Ok(crate::store::Store::connect(&self.database_url)
            .await?
            .with_ip_anonymize(self.ip_anonymize))
    }

    /// The request body limit of each area of the web server.
    pub fn body_limits(&self) -> crate::web::BodyLimits {
        crate::web::BodyLimits {
            small: self.ui_max_body_bytes,
            ingest: self.max_body_bytes,
            otlp: self.otlp_max_body_bytes,
            proxy: self.proxy_max_body_bytes,
        }
    }
}

/// A body limit: a whole number of bytes from 1 KiB to 1 GiB.
fn body_bytes(value: &str) -> Result<usize, String> {
    const RANGE: std::ops::RangeInclusive<usize> = 1024..=1024 * 1024 * 1024;
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| RANGE.contains(n))
        .ok_or_else(|| format!("`{value}` is not a number of bytes from 1024 to 1073741824"))
}

fn parse_upstreams(spec: &str) -> Result<crate::gateway::Upstreams, String> {
    crate::gateway::Upstreams::parse(spec).map_err(|e| e.to_string())
}
