//! The CLI's one-shot commands (`demo`, `rollup --rebuild`): each opens the database,
//! does its work with a progress bar on a terminal, and reports on stdout.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::Error;
use crate::config::{Config, DemoArgs};
use crate::demo::{self, DemoOptions};
use crate::store::Store;

async fn open(config: &Config) -> Result<Store, Error> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

pub async fn demo(config: &Config, args: &DemoArgs) -> Result<(), Error> {
    let store = open(config).await?;
    if args.clear {
        store.clear_traffic_data().await?;
        println!("cleared existing traffic data");
    }
    let options = DemoOptions {
        days: args.days,
        users: args.users,
        per_day: args.per_day,
        seed: args.seed,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let (_, report) = demo::seed(&store, &options, now, std::io::stderr().is_terminal()).await?;
    println!(
        "wrote {} requests, {} ratings, {} threats and {} auth events over {} days in {:.1} s ({:.0} requests/s)",
        report.requests,
        report.feedback,
        report.threats,
        report.auth_events,
        args.days,
        report.elapsed_ms as f64 / 1000.0,
        report.requests_per_second()
    );
    store.close().await;
    Ok(())
}

pub async fn rebuild_rollups(config: &Config) -> Result<(), Error> {
    let store = open(config).await?;
    let started = std::time::Instant::now();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} requests")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let replayed = store
        .rebuild_rollups(|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    println!(
        "rebuilt rollups, sessions and model stats from {replayed} requests in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}
