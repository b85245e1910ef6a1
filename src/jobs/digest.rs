//! The digest job of `serve`: at start-up and at each digest hour it sends the digests
//! [`due`] then, once per period however many replicas run. Each replica builds the
//! digest (reads only), then claims it in the database; the one whose claim is taken
//! sends it, the others skip. A replica that starts after the hour so catches up on
//! the latest period's digest if nobody sent it, but never on older ones.
//!
//! Without webhook URLs there is nobody to send to: the job does not run, so it never
//! claims a digest another replica, with webhooks, could send.

use std::collections::HashMap;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::detect::webhooks::{Notice, Webhooks};
use crate::digests::{DigestKind, DigestPeriod, DigestSchedule, build, due, next_due};
use crate::store::{Store, StoreError};

/// The longest sleep between two looks at the clock, so a clock set forward (or a
/// suspended machine) delays a digest by at most this.
const LOOK_AT_LEAST_EVERY: Duration = Duration::from_secs(3_600);
/// The pause before trying again after the database failed.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Sends the digest of `period` unless another run or replica did: whether it was sent.
async fn send_once(
    store: &Store,
    webhooks: &Webhooks,
    period: DigestPeriod,
    now: i64,
) -> Result<bool, StoreError> {
    let digest = build(store, period).await?;
    let claimed = store
        .claim_digest(period.kind.as_str(), period.start, period.end, now)
        .await?;
    if claimed {
        tracing::info!(
            kind = period.kind.as_str(),
            period_start = period.start,
            "digest sent to the webhooks"
        );
        webhooks.send(Notice::digest(digest));
    }
    Ok(claimed)
}

/// Runs the digests of `schedule` until aborted; `None` when there are none to send
/// (no kind configured, or no webhook).
pub fn spawn(store: Store, schedule: DigestSchedule, webhooks: Webhooks) -> Option<JoinHandle<()>> {
    if !schedule.kinds.any() || webhooks.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        // The latest period each kind was handled for, here.
        let mut handled: HashMap<DigestKind, i64> = HashMap::new();
        loop {
            let now = chrono::Utc::now().timestamp_millis();
            let mut failed = false;
            for period in due(now, &schedule) {
                if handled.get(&period.kind) == Some(&period.start) {
                    continue;
                }
                match send_once(&store, &webhooks, period, now).await {
                    Ok(_) => {
                        handled.insert(period.kind, period.start);
                    }
                    Err(e) => {
                        failed = true;
                        tracing::warn!(kind = period.kind.as_str(), error = %e, "digest failed; trying again in a minute");
                    }
                }
            }
            let until_due = next_due(now, &schedule)
                .map(|at| Duration::from_millis(at.saturating_sub(now).max(0) as u64))
                .unwrap_or(LOOK_AT_LEAST_EVERY);
            let mut pause = until_due.min(LOOK_AT_LEAST_EVERY);
            if failed {
                pause = pause.min(RETRY_AFTER);
            }
            tokio::time::sleep(pause).await;
        }
    }))
}
