//! `sightline demo` and `serve --demo`: a believable AI platform's traffic, written
//! through the same store calls the ingest uses, so rollups, sessions and model
//! stats agree with the raw rows exactly as they would with real traffic.

mod catalog;
mod random;
mod security;
mod traffic;

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sightline_app::time::{DAY_MS, HOUR_MS, floor_ms};

use crate::ingest::IngestQueue;
use crate::store::{IngestWrite, Store, StoreError};
pub use traffic::{DemoBatch, Generator};

/// What to generate.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub days: u32,
    pub users: u32,
    /// Average requests per day (weekdays more, weekends less).
    pub per_day: u32,
    pub seed: u64,
}

/// What a demo run wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub requests: u64,
    pub feedback: u64,
    pub threats: u64,
    pub auth_events: u64,
    pub elapsed_ms: u64,
}

impl DemoReport {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 * 1000.0 / self.elapsed_ms.max(1) as f64
    }
}

/// Open threats are resolved by the demo's admin after a while, as a team would.
const RESOLVED_SHARE: f64 = 0.85;

/// Fills the store with `days` days of traffic up to `now`, hour by hour, oldest first.
pub async fn seed(
    store: &Store,
    options: &DemoOptions,
    now: i64,
    progress: bool,
) -> Result<(Generator, DemoReport), StoreError> {
    let started = Instant::now();
    let start = floor_ms(now, DAY_MS) - i64::from(options.days) * DAY_MS;
    let mut generator = Generator::new(options.seed, options.users, options.per_day, start, now);
    let hours = ((now - start) / HOUR_MS + 1) as u64;
    let bar = if progress {
        ProgressBar::new(hours)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} hours  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    // Generating and writing overlap: a thread makes the next hours while this task
    // writes the last one.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(i64, DemoBatch)>(4);
    let generating = tokio::task::spawn_blocking(move || {
        let mut t = start;
        while t < now {
            let end = traffic::next_hour(t).min(now);
            if tx.blocking_send((end, generator.window(t, end))).is_err() {
                break;
            }
            t = end;
        }
        generator
    });

    let mut report = DemoReport::default();
    let mut open_threats: Vec<(i64, i64)> = Vec::new();
    let mut resolver = random::Dice::new(options.seed.wrapping_add(1));
    while let Some((end, batch)) = rx.recv().await {
        write(store, batch, now, &mut report, &mut open_threats).await?;
        if end % DAY_MS == 0 || end == now {
            resolve_old_threats(store, &mut resolver, &mut open_threats, end, now).await?;
        }
        bar.inc(1);
        bar.set_message(format!("{} requests", report.requests));
    }
    // The generator thread only ends by finishing or by a bug (a panic, passed on here).
    let generator = generating
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    bar.finish_and_clear();
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok((generator, report))
}

async fn write(
    store: &Store,
    mut batch: DemoBatch,
    now: i64,
    report: &mut DemoReport,
    open_threats: &mut Vec<(i64, i64)>,
) -> Result<(), StoreError> {
    // Nothing from the future: a rating given "in ten minutes" waits until then.
    batch.feedback.retain(|f| f.created_at <= now);
    batch.requests.retain(|r| r.created_at < now);
    let stored = store.record_requests(&batch.requests).await?;
    report.requests += stored.iter().filter(|s| **s).count() as u64;
    store.record_feedback(&batch.feedback).await?;
    report.feedback += batch.feedback.len() as u64;
    store.record_auth_events(&batch.auth_events).await?;
    report.auth_events += batch.auth_events.len() as u64;
    let ids = store.record_threats(&batch.threats).await?;
    report.threats += batch.threats.len() as u64;
    for (id, threat) in ids.into_iter().zip(&batch.threats) {
        if !open_threats.iter().any(|(open, _)| *open == id) {
            open_threats.push((id, threat.created_at));
        }
    }
    Ok(())
}

/// Resolves most threats older than a day, some hours after they were seen.
async fn resolve_old_threats(
    store: &Store,
    dice: &mut random::Dice,
    open_threats: &mut Vec<(i64, i64)>,
    sim_now: i64,
    now: i64,
) -> Result<(), StoreError> {
    let mut still_open = Vec::new();
    for (id, created_at) in open_threats.drain(..) {
        if created_at > sim_now - DAY_MS {
            still_open.push((id, created_at));
            continue;
        }
        if dice.chance(RESOLVED_SHARE) {
            let at = (created_at + dice.between(10 * 60_000, 20 * HOUR_MS)).min(now);
            store.set_threats_resolved(&[id], true, "admin", at).await?;
        }
    }
    *open_threats = still_open;
    Ok(())
}

/// Keeps a light live traffic going: every few seconds, what happened since the last
/// tick, through the ingest write queue like any platform's events (so detection,
/// alerts and metrics see it).
pub async fn live(queue: IngestQueue, generator: Generator, mut last: i64) {
    let mut generator = generator.live();
    loop {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let now = chrono::Utc::now().timestamp_millis();
        while last < now {
            let end = traffic::next_hour(last).min(now);
            let mut batch = generator.window(last, end);
            batch.feedback.retain(|f| f.created_at <= now);
            batch.requests.retain(|r| r.created_at < now);
            let write = IngestWrite {
                requests: batch.requests,
                feedback: batch.feedback,
                threats: batch.threats,
                auth_events: batch.auth_events,
                ..IngestWrite::default()
            };
            if let Err(e) = queue.submit(write).await {
                tracing::warn!(error = ?e, "demo traffic could not be written");
            }
            last = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use sightline_app::units::Micros;
    #[test]
    fn a_day_of_traffic_looks_like_a_platform() {
        let start = 1_767_571_200_000; // Monday 2026-01-05 00:00 UTC
        let mut g = Generator::new(1, 200, 20_000, start, start + DAY_MS);
        let mut requests = Vec::new();
        let (mut feedback, mut threats, mut auth) = (Vec::new(), Vec::new(), Vec::new());
        for h in 0..24 {
            let b = g.window(start + h * HOUR_MS, start + (h + 1) * HOUR_MS);
            assert!(
                b.requests
                    .windows(2)
                    .all(|w| w[0].created_at <= w[1].created_at)
            );
            requests.extend(b.requests);
            feedback.extend(b.feedback);
            threats.extend(b.threats);
            auth.extend(b.auth_events);
        }
        let served: Vec<_> = requests
            .iter()
            .filter(|r| r.kind == sightline_tracker::wire::RequestKind::Api)
            .collect();
        // About the asked volume (weekday: a bit more than the average day).
        assert!(
            (17_000..=27_000).contains(&served.len()),
            "{}",
            served.len()
        );
        // Mostly successful, some client errors, few server errors.
        let share = |f: &dyn Fn(i32) -> bool| {
            served.iter().filter(|r| f(r.status_code)).count() as f64 / served.len() as f64
        };
        assert!(share(&|s| s < 400) > 0.9);
        assert!(share(&|s| (400..500).contains(&s)) > 0.01);
        assert!(share(&|s| s >= 500) < 0.05);
        // Afternoons (UTC) are busier than nights.
        let in_hour = |h: i64| {
            served
                .iter()
                .filter(|r| (r.created_at - start) / HOUR_MS == h)
                .count()
        };
        assert!(in_hour(14) > 3 * in_hour(3));
        // Feedback leans positive; threats and auth events occur.
        let good = feedback.iter().filter(|f| f.rating >= 4).count();
        assert!(good * 2 > feedback.len() && !feedback.is_empty());
        assert!(!threats.is_empty() && !auth.is_empty());
        // Every request is valid as ingest would require.
        assert!(requests.iter().all(|r| (100..600).contains(&r.status_code)
            && r.latency_ms >= 0.0
            && r.cost_micros >= Micros::ZERO));
    }
}
