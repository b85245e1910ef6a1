//! What a digest says: the period's figures against the period before, from the same
//! rollups and queries as the dashboard's cards (daily buckets: a period is whole UTC
//! days), and its Slack-style text.

use serde::Serialize;
use sightline_app::format;
use sightline_app::range::{RangeKind, TimeRange};
use sightline_app::report::{AlertRow, SeverityCounts};
use sightline_app::time::DAY_MS;
use sightline_app::units::{EpochMillis, Micros};

use super::{DigestKind, DigestPeriod};
use crate::named_figures::ratio;
use crate::rollup::Sums;
use crate::store::{Buckets, ModelTotals, Store, StoreError};

/// Models and endpoints listed.
const TOP: usize = 5;
/// Alerts listed (all are counted).
const ALERTS_LISTED: i64 = 10;

/// A digest, as the webhooks get it under `digest`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub kind: DigestKind,
    /// The period, epoch ms, `period_end` exclusive.
    pub period_start: EpochMillis,
    pub period_end: EpochMillis,
    /// The period before, compared with.
    pub previous_start: EpochMillis,
    pub previous_end: EpochMillis,
    pub current: DigestFigures,
    pub previous: DigestFigures,
    pub change: FigureChanges,
    /// The models with the most requests (requests without a model left out).
    pub top_models: Vec<DigestRow>,
    /// The endpoints with the most requests.
    pub top_endpoints: Vec<DigestRow>,
    /// Threats raised in the period, by severity.
    pub new_threats: SeverityCounts,
    /// Alerts fired in the period, and the first of them.
    pub alerts_fired: i64,
    pub alerts: Vec<AlertRow>,
}

/// The served requests of a period.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestFigures {
    pub requests: i64,
    pub errors: i64,
    /// Errors over requests; `null` without requests.
    pub error_rate: Option<f64>,
    pub cost_micros: Micros,
    /// The cost as the dashboard shows it: `$12.35`.
    pub cost: String,
}

impl DigestFigures {
    fn of(s: &Sums) -> DigestFigures {
        DigestFigures {
            requests: s.requests,
            errors: s.errors,
            error_rate: ratio(s.errors, s.requests),
            cost_micros: s.cost_micros,
            cost: format::money(s.cost_micros),
        }
    }
}

/// The change of each figure from the period before: `+12%`, `-3.4%`, `new` (from
/// zero), `` (zero both times).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FigureChanges {
    pub requests: String,
    pub errors: String,
    pub cost: String,
}

/// A model or an endpoint of the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestRow {
    pub name: String,
    pub requests: i64,
    pub errors: i64,
    pub cost_micros: Micros,
    pub cost: String,
}

impl DigestRow {
    fn new(name: String, requests: i64, errors: i64, cost_micros: Micros) -> DigestRow {
        DigestRow {
            name,
            requests,
            errors,
            cost_micros,
            cost: format::money(cost_micros),
        }
    }
}

/// The range of the dashboard's queries that is `period`, in daily buckets.
fn range_of(period: &DigestPeriod) -> TimeRange {
    TimeRange {
        kind: RangeKind::Custom,
        start: EpochMillis(period.start),
        end: EpochMillis(period.end),
        bucket_ms: DAY_MS,
    }
}

/// The digest of `period`, against the period before.
pub async fn build(store: &Store, period: DigestPeriod) -> Result<Digest, StoreError> {
    let (r, before) = (range_of(&period), range_of(&period.previous()));
    let (current, previous, models, endpoints, threats, (alerts_fired, alerts)) = tokio::try_join!(
        store.traffic_totals(Buckets::from(&r)),
        store.traffic_totals(Buckets::from(&before)),
        store.model_totals(Buckets::from(&r)),
        crate::endpoints::top_endpoints(store, &r, TOP),
        store.threats_raised_by_severity(r.start, r.end),
        store.alerts_fired_between(r.start, r.end, ALERTS_LISTED),
    )?;
    let (current, previous) = (current.sums, previous.sums);
    let change = |now: i64, then: i64| format::change(now as f64, then as f64);
    let models: Vec<ModelTotals> = models
        .into_iter()
        .filter(|m| !m.model_name.is_empty())
        .collect();
    Ok(Digest {
        kind: period.kind,
        period_start: r.start,
        period_end: r.end,
        previous_start: before.start,
        previous_end: before.end,
        change: FigureChanges {
            requests: change(current.requests, previous.requests),
            errors: change(current.errors, previous.errors),
            cost: change(current.cost_micros.micros(), previous.cost_micros.micros()),
        },
        current: DigestFigures::of(&current),
        previous: DigestFigures::of(&previous),
        top_models: crate::dashboard::top_models(&models, TOP)
            .into_iter()
            .map(|m| DigestRow::new(m.model, m.requests, m.errors, m.cost_micros))
            .collect(),
        top_endpoints: endpoints
            .into_iter()
            .map(|e| DigestRow::new(e.endpoint, e.requests, e.errors, e.cost_micros))
            .collect(),
        new_threats: crate::dashboard::severity_counts(threats),
        alerts_fired,
        alerts,
    })
}

/// A day as `Tue 2 Dec 2026`.
fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.format("%a %-d %b %Y").to_string())
}

/// ` (+12%)` after a figure, nothing when there is no change to tell.
fn changed(change: &str) -> String {
    if change.is_empty() {
        String::new()
    } else {
        format!(" ({change})")
    }
}

/// `• name: 1,234 requests, $5.67` a row, or ` none`.
fn rows(rows: &[DigestRow]) -> String {
    if rows.is_empty() {
        return " none".to_owned();
    }
    rows.iter()
        .map(|r| {
            format!(
                "\n• {}: {} requests, {}",
                r.name,
                format::count(r.requests),
                r.cost
            )
        })
        .collect()
}

impl Digest {
    /// The summary for chat tools, one figure a line (Slack's `*bold*`).
    pub fn text(&self) -> String {
        let (period, before) = match self.kind {
            DigestKind::Daily => (day(self.period_start.ms()), "the day before"),
            DigestKind::Weekly => (
                format!(
                    "{} – {}",
                    day(self.period_start.ms()),
                    day((self.period_end - DAY_MS).ms())
                ),
                "the week before",
            ),
        };
        let c = &self.current;
        let error_rate = c
            .error_rate
            .map(|r| format!(", {} of requests", format::percent(r)))
            .unwrap_or_default();
        let t = &self.new_threats;
        let threats = [
            (t.critical, "critical"),
            (t.high, "high"),
            (t.medium, "medium"),
            (t.low, "low"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{} {name}", format::count(n)))
        .collect::<Vec<_>>();
        let threats = if threats.is_empty() {
            "none".to_owned()
        } else {
            format!("{} ({})", format::count(t.total()), threats.join(", "))
        };
        let mut alerts = self
            .alerts
            .iter()
            .map(|a| a.title.clone())
            .collect::<Vec<_>>();
        let unlisted = self.alerts_fired - self.alerts.len() as i64;
        if unlisted > 0 {
            alerts.push(format!("{} more", format::count(unlisted)));
        }
        let alerts = if alerts.is_empty() {
            "none".to_owned()
        } else {
            format!(
                "{} ({})",
                format::count(self.alerts_fired),
                alerts.join(", ")
            )
        };
        format!(
            "*Sightline {} digest: {period}* (UTC), against {before}\n\
             Requests: {}{}\n\
             Errors: {}{error_rate}{}\n\
             Cost: {}{}\n\
             Top models:{}\n\
             Top endpoints:{}\n\
             New threats: {threats}\n\
             Alerts fired: {alerts}",
            self.kind.as_str(),
            format::count(c.requests),
            changed(&self.change.requests),
            format::count(c.errors),
            changed(&self.change.errors),
            c.cost,
            changed(&self.change.cost),
            rows(&self.top_models),
            rows(&self.top_endpoints),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_tracker::wire::Severity;

    /// 2026-12-02T00:00:00Z, a Wednesday.
    const DEC_2: i64 = 1_796_169_600_000;

    fn figures(requests: i64, errors: i64, cost_micros: i64) -> DigestFigures {
        DigestFigures::of(&Sums {
            requests,
            errors,
            cost_micros: Micros(cost_micros),
            ..Sums::default()
        })
    }

    fn digest() -> Digest {
        Digest {
            kind: DigestKind::Daily,
            period_start: EpochMillis(DEC_2),
            period_end: EpochMillis(DEC_2 + DAY_MS),
            previous_start: EpochMillis(DEC_2 - DAY_MS),
            previous_end: EpochMillis(DEC_2),
            current: figures(1_234, 56, 12_345_678),
            previous: figures(1_100, 56, 0),
            change: FigureChanges {
                requests: "+12%".into(),
                errors: "+0.0%".into(),
                cost: "new".into(),
            },
            top_models: vec![DigestRow::new(
                "gpt-4o".into(),
                1_000,
                6,
                Micros(12_000_000),
            )],
            top_endpoints: vec![],
            new_threats: SeverityCounts {
                low: 0,
                medium: 1,
                high: 4,
                critical: 1,
            },
            alerts_fired: 0,
            alerts: vec![],
        }
    }

    #[test]
    fn the_text_has_a_figure_a_line() {
        assert_eq!(
            digest().text(),
            "*Sightline daily digest: Wed 2 Dec 2026* (UTC), against the day before\n\
             Requests: 1,234 (+12%)\n\
             Errors: 56, 4.54% of requests (+0.0%)\n\
             Cost: $12.35 (new)\n\
             Top models:\n\
             • gpt-4o: 1,000 requests, $12.00\n\
             Top endpoints: none\n\
             New threats: 6 (1 critical, 4 high, 1 medium)\n\
             Alerts fired: none"
        );
    }

    #[test]
    fn a_weekly_text_names_its_days_and_counts_unlisted_alerts() {
        let mut d = digest();
        d.kind = DigestKind::Weekly;
        d.period_start = EpochMillis(DEC_2 - 6 * DAY_MS);
        d.current = figures(0, 0, 0);
        d.change = FigureChanges {
            requests: String::new(),
            errors: String::new(),
            cost: String::new(),
        };
        d.new_threats = SeverityCounts::default();
        d.alerts_fired = 3;
        d.alerts = vec![AlertRow {
            id: 7,
            rule: "error_burst".into(),
            severity: Severity::High,
            title: "Error burst".into(),
            description: String::new(),
            endpoint: None,
            fired_at: EpochMillis(DEC_2),
        }];
        let text = d.text();
        assert!(
            text.starts_with(
                "*Sightline weekly digest: Thu 26 Nov 2026 – Wed 2 Dec 2026* (UTC), against the week before\n\
                 Requests: 0\nErrors: 0\nCost: $0\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("New threats: none\nAlerts fired: 3 (Error burst, 2 more)"),
            "{text}"
        );
    }
}
