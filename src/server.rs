//! `sightline serve`: opens the database, applies migrations and serves the web app
//! until SIGTERM or Ctrl-C, then finishes the requests in flight, commits what is
//! queued and exits, all within `SIGHTLINE_SHUTDOWN_TIMEOUT_SECS` (requests still in
//! flight at the deadline, such as stalled downloads, are abandoned).

use leptos::config::Env;
use leptos::prelude::LeptosOptions;

use crate::Error;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::TrustedProxies;
use crate::config::{Config, ServeArgs};
use crate::demo::{self, DemoOptions, Generator};
use crate::detect::{Detector, webhooks::Webhooks};
use crate::ingest::writer::CommitObserver;
use crate::ingest::{IngestQueue, RetentionHorizon};
use crate::metrics::Metrics;
use crate::pricing::Prices;
use crate::store::Store;
use crate::web::{AppState, router};

pub async fn serve(config: &Config, args: &ServeArgs) -> Result<(), Error> {
    let store = config.connect_store().await?;
    store.migrate().await?;
    tracing::info!(database = %crate::store::redact_url(&config.database_url), "database ready");
    let demo = if args.demo {
        Some(seed_demo(&store, args.demo_days).await?)
    } else {
        None
    };

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::Serve)?;

    let leptos_options = leptos_options(config, addr);
    warn_if_site_missing(config);
    let metrics = Arc::new(Metrics::new());
    let webhooks = Webhooks::start(&config.webhook_urls, store.clone(), metrics.clone());
    let budgets = crate::budgets::Budgets::new(store.clone(), config.budgets);
    let budget_check = budgets.clone().spawn_check(webhooks.clone());
    let digests = crate::jobs::digest::spawn(store.clone(), config.digests, webhooks.clone());
    let (detector, detection) = Detector::start(
        store.clone(),
        config.thresholds.clone(),
        metrics.clone(),
        webhooks,
    )
    .await;
    let observers: Vec<Arc<dyn CommitObserver>> = vec![metrics.clone(), detector];
    let geo = match &config.geoip_db {
        Some(path) => {
            let geo = crate::geo::GeoIp::open(path).map_err(|e| Error::Usage(e.to_string()))?;
            tracing::info!(path = %path.display(), "GeoIP database ready");
            geo.clone().watch();
            Some(geo)
        }
        None => None,
    };
    let (ingest, writer) =
        IngestQueue::start_observed(store.clone(), config.ingest_queue, observers.into());
    let ingest = ingest.with_geo(geo);
    let prices = Arc::new(Prices::new(store.clone()));
    let horizon = Arc::new(RetentionHorizon::new(store.clone(), config.retention_days));
    let recorder = crate::gateway::Recorder::start(
        ingest.clone(),
        prices.clone(),
        horizon.clone(),
        metrics.clone(),
        config.proxy_record_queue as usize,
    );
    let proxy = crate::web::proxy::Proxy::new(
        config.proxy_upstreams.clone(),
        std::time::Duration::from_secs(config.proxy_timeout),
        recorder,
    )
    .map_err(|e| Error::Usage(format!("the gateway's HTTP client cannot start: {e}")))?;
    let app = router(AppState {
        leptos_options,
        store: store.clone(),
        ingest: ingest.clone(),
        prices,
        horizon,
        metrics,
        trusted_proxies: TrustedProxies(config.trusted_proxies.clone()),
        retention_days: config.retention_days,
        proxy: Arc::new(proxy),
        sign_in: match config.sign_in_concurrency {
            Some(slots) => crate::auth::throttle::Gate::with_slots(store.clone(), slots as usize),
            None => crate::auth::throttle::Gate::new(store.clone()),
        },
        exports: crate::web::ExportGate::new(config.export_concurrency),
        body_limits: config.body_limits(),
        public_https: config
            .public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https"),
        session_max_age: Duration::from_secs(u64::from(config.session_max_days) * 86_400),
        budgets,
    });

    let retention = crate::jobs::retention::spawn(store.clone(), config.retention_days);

    let live_demo =
        demo.map(|(generator, since)| tokio::spawn(demo::live(ingest.clone(), generator, since)));
    // Printed on stdout, whatever the log format, so scripts and tests can find the port.
    println!("Sightline listening on http://{addr}");
    announce_accounts(&store, args.demo, addr).await?;
    // A client that reads nothing for the send timeout loses its connection.
    let listener = crate::web::SendTimeoutListener::new(
        listener,
        std::time::Duration::from_secs(config.send_timeout_secs),
    );
    // Small writes (a streamed answer's events) go out at once, not after the peer's
    // delayed acknowledgement.
    let listener = axum::serve::ListenerExt::tap_io(listener, |io| {
        if let Err(e) = io.as_ref().get_ref().get_ref().set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    // The bound of the shutdown starts with the signal: requests in flight get most of
    // it, the writer's drain the rest (a third, at most 10 s).
    let (signalled, signal) = tokio::sync::oneshot::channel::<Instant>();
    let serving = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = signalled.send(Instant::now());
    })
    .into_future();
    let bound = Duration::from_secs(config.shutdown_timeout_secs);
    let drain = (bound / 3).min(Duration::from_secs(10));
    let deadline = async move {
        match signal.await {
            Ok(at) => tokio::time::sleep_until((at + bound - drain).into()).await,
            Err(_) => std::future::pending().await,
        }
        tracing::warn!(
            bound_secs = bound.as_secs(),
            "requests still in flight at the shutdown deadline are abandoned"
        );
    };
    tokio::select! {
        served = serving => served.map_err(Error::Serve)?,
        _ = deadline => {}
    }
    let drain_until = tokio::time::Instant::now() + drain;
    // A prune batch in flight rolls back; the next start prunes again.
    retention.abort();
    budget_check.abort();
    if let Some(digests) = digests {
        digests.abort();
    }
    // The demo traffic stops with the server. The queue takes no more batches (handlers
    // cut off at the deadline may still hold it): the writer commits what is queued and
    // ends.
    if let Some(live) = live_demo {
        live.abort();
        let _ = live.await;
    }
    ingest.close();
    drop(ingest);
    match tokio::time::timeout_at(drain_until, writer).await {
        Ok(Err(e)) => tracing::error!(error = %e, "ingest writer failed"),
        Ok(Ok(())) => {}
        Err(_) => tracing::error!(
            "the ingest writer did not finish in time; unacknowledged batches are lost"
        ),
    }
    // The writer held the detector: detection finishes what was committed and ends.
    match tokio::time::timeout_at(drain_until, detection).await {
        Ok(Err(e)) => tracing::error!(error = %e, "detection failed"),
        Ok(Ok(())) => {}
        Err(_) => tracing::warn!("detection did not finish in time"),
    }
    // Closing waits for connections to come back to the pool; one an abandoned request
    // holds is not worth waiting for.
    let _ = tokio::time::timeout_at(drain_until, store.close()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Seeds an empty database with `days` days of demo traffic; returns the generator
/// of the live traffic to follow, and the instant it starts from.
async fn seed_demo(store: &Store, days: u32) -> Result<(Generator, i64), Error> {
    let options = DemoOptions {
        days,
        users: 250,
        per_day: 8_000,
        seed: 42,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let generator = if store.has_no_requests().await? {
        println!("Seeding {days} days of demo traffic…");
        let (generator, report) = demo::seed(store, &options, now, false).await?;
        println!(
            "Seeded {} demo requests in {:.1} s",
            report.requests,
            report.elapsed_ms as f64 / 1000.0
        );
        generator
    } else {
        println!(
            "The database already holds requests: not seeding demo data, live demo traffic only"
        );
        Generator::new(
            options.seed ^ now as u64,
            options.users,
            options.per_day,
            now - i64::from(days) * 86_400_000,
            now,
        )
    };
    Ok((generator, now))
}

/// Makes sure someone can sign in: `--demo` creates an `admin` account with a fresh
/// random password when there is no account yet and prints it; otherwise a database
/// without accounts gets a hint on how to create one.
async fn announce_accounts(
    store: &Store,
    demo: bool,
    addr: std::net::SocketAddr,
) -> Result<(), Error> {
    if store.has_accounts().await? {
        return Ok(());
    }
    if demo {
        let secret = crate::auth::password::generate();
        let hash = crate::auth::password::hash(&secret).await;
        let now = chrono::Utc::now().timestamp_millis();
        store
            .upsert_account("admin", &hash, sightline_app::auth::Role::Admin, now)
            .await?;
        println!("Sign in at http://{addr}/login as admin with the password {secret}");
    } else {
        println!(
            "No dashboard account yet: create one with `sightline create-admin --username NAME`"
        );
    }
    Ok(())
}

/// Leptos' settings, from Sightline's own configuration rather than `LEPTOS_*`
/// variables, so the release binary runs from the repository root as it is.
fn leptos_options(config: &Config, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("sightline")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(Env::PROD)
        .build()
}

fn warn_if_site_missing(config: &Config) {
    let bundle = config.site_root.join("pkg").join("sightline.js");
    if !bundle.exists() {
        tracing::warn!(
            site_root = %config.site_root.display(),
            "front-end bundle not found: pages will not hydrate; build it with `cargo leptos build --release`"
        );
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing requests in flight");
}
