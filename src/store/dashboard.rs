//! Reading the rollups: what the dashboard's cards are made of. Every query here reads
//! one row per bucket (and per model, country, … where the card is per dimension),
//! never the raw request rows. Buckets are those with `start <= bucket_start < end`.

use std::collections::BTreeMap;

use sightline_app::report::{AlertRow, ThreatRow};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, map_rows};
use crate::rollup::Sums;

/// One bucket of the traffic rollup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficBucket {
    pub bucket_start: i64,
    pub sums: Sums,
    pub sessions_started: i64,
    pub new_users: i64,
}

/// One row of `model_usage_stats`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelUsage {
    pub day: i64,
    pub model_name: String,
    pub requests: i64,
    pub successes: i64,
    pub failures: i64,
    pub latency_sum_us: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
}

impl Store {
    /// Runs `sql` with `$1 = bucket_ms, $2 = start, $3 = end`: the shape of every query
    /// over a range of buckets.
    async fn over_buckets(
        &self,
        sql: &str,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<AnyRow>, StoreError> {
        Ok(sqlx::query(sql)
            .bind(bucket_ms)
            .bind(start)
            .bind(end)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Runs `outer`, whose `{rows}` stands for the `columns` of `table`'s rows covering
    /// the buckets: for an hourly range the whole UTC days inside it come from the daily
    /// rows and only the ragged ends from hourly ones (the same sums, far fewer rows).
    pub(super) async fn over_spans(
        &self,
        table: &str,
        columns: &str,
        outer: &str,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let spans = grain_spans(bucket_ms, start, end);
        let rows = span_rows(table, columns, spans.len());
        let sql = outer.replace("{rows}", &rows);
        let mut query = sqlx::query(&sql);
        for (grain, from, to) in spans {
            query = query.bind(grain).bind(from).bind(to);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// The traffic rollup at grain `bucket_ms`, oldest bucket first; empty buckets are absent.
    pub async fn traffic(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<TrafficBucket>, StoreError> {
        let rows = self
            .over_buckets(
            "SELECT bucket_start, requests, errors, latency_sum_us, prompt_tokens, completion_tokens, \
                    cost_micros, sessions_started, new_users, cache_read_tokens, cache_write_tokens, \
                    reasoning_tokens \
             FROM rollup_traffic WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
             ORDER BY bucket_start",
                bucket_ms,
                start,
                end,
            )
            .await?;
        map_rows(&rows, |r| {
            Ok(TrafficBucket {
                bucket_start: r.try_get(0)?,
                sums: Sums {
                    requests: r.try_get(1)?,
                    errors: r.try_get(2)?,
                    latency_sum_us: r.try_get(3)?,
                    prompt_tokens: r.try_get(4)?,
                    completion_tokens: r.try_get(5)?,
                    cost_micros: r.try_get(6)?,
                    cache_read_tokens: r.try_get(9)?,
                    cache_write_tokens: r.try_get(10)?,
                    reasoning_tokens: r.try_get(11)?,
                },
                sessions_started: r.try_get(7)?,
                new_users: r.try_get(8)?,
            })
        })
    }

    /// The latency histogram as `(bucket_start, bin, requests)`, for percentiles per
    /// bucket or, merged, over the whole range (see [`crate::rollup::histogram`]).
    pub async fn latency_bins(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<(i64, i32, i64)>, StoreError> {
        let rows = self
            .over_buckets(
                "SELECT bucket_start, bin, requests FROM rollup_latency \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
             ORDER BY bucket_start, bin",
                bucket_ms,
                start,
                end,
            )
            .await?;
        map_rows(&rows, |r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
    }

    /// Per-day model stats of the days `first_day <= day < end_day`, by day then model.
    pub async fn model_usage(
        &self,
        first_day: i64,
        end_day: i64,
    ) -> Result<Vec<ModelUsage>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, model_name, requests, successes, failures, latency_sum_us, prompt_tokens, \
                    completion_tokens, cost_micros, cache_read_tokens, cache_write_tokens, reasoning_tokens \
             FROM model_usage_stats WHERE day >= $1 AND day < $2 ORDER BY day, model_name",
        )
        .bind(first_day)
        .bind(end_day)
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, |r| {
            Ok(ModelUsage {
                day: r.try_get(0)?,
                model_name: r.try_get(1)?,
                requests: r.try_get(2)?,
                successes: r.try_get(3)?,
                failures: r.try_get(4)?,
                latency_sum_us: r.try_get(5)?,
                prompt_tokens: r.try_get(6)?,
                completion_tokens: r.try_get(7)?,
                cost_micros: r.try_get(8)?,
                cache_read_tokens: r.try_get(9)?,
                cache_write_tokens: r.try_get(10)?,
                reasoning_tokens: r.try_get(11)?,
            })
        })
    }

    /// Every row of every derived table as text, sorted, surrogate ids left out: two
    /// snapshots are equal exactly when the derived data is.
    pub async fn derived_snapshot(
        &self,
    ) -> Result<BTreeMap<&'static str, Vec<String>>, StoreError> {
        let mut snapshot = BTreeMap::new();
        for (table, columns) in super::rollups::DERIVED_TABLES {
            let text = columns
                .iter()
                .map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows = sqlx::query(&format!("SELECT {text} FROM {table}"))
                .fetch_all(&self.pool)
                .await?;
            let mut lines = rows
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<Vec<_>, _>>()?;
            lines.sort();
            snapshot.insert(table, lines);
        }
        Ok(snapshot)
    }

    /// The sums of the traffic rollup over the buckets, in one row.
    pub async fn traffic_totals(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<TrafficBucket, StoreError> {
        let r = sqlx::query(
            "SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT), CAST(COALESCE(SUM(errors), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(latency_sum_us), 0) AS BIGINT), CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(sessions_started), 0) AS BIGINT), CAST(COALESCE(SUM(new_users), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(reasoning_tokens), 0) AS BIGINT) \
             FROM rollup_traffic WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3",
        )
        .bind(bucket_ms)
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        Ok(TrafficBucket {
            bucket_start: start,
            sums: Sums {
                requests: r.try_get(0)?,
                errors: r.try_get(1)?,
                latency_sum_us: r.try_get(2)?,
                prompt_tokens: r.try_get(3)?,
                completion_tokens: r.try_get(4)?,
                cost_micros: r.try_get(5)?,
                cache_read_tokens: r.try_get(8)?,
                cache_write_tokens: r.try_get(9)?,
                reasoning_tokens: r.try_get(10)?,
            },
            sessions_started: r.try_get(6)?,
            new_users: r.try_get(7)?,
        })
    }

    /// The latency histogram of all the buckets merged, as `(bin, requests)`. Whole days
    /// of an hourly range are read from the daily rows (fewer rows, the same sums).
    pub async fn latency_merged(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<(i32, i64)>, StoreError> {
        let rows = self
            .over_spans(
                "rollup_latency",
                "bin, requests",
                "SELECT bin, CAST(SUM(requests) AS BIGINT) FROM ({rows}) r GROUP BY bin",
                bucket_ms,
                start,
                end,
            )
            .await?;
        map_rows(&rows, |r| Ok((r.try_get(0)?, r.try_get(1)?)))
    }

    /// The bins holding each bucket's p50, p95 and p99 (kept at ingest):
    /// `(bucket_start, p50_bin, p95_bin, p99_bin)`, oldest first.
    pub async fn latency_quantile_bins(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<(i64, i32, i32, i32)>, StoreError> {
        let rows = self
            .over_buckets(
                "SELECT bucket_start, p50_bin, p95_bin, p99_bin FROM rollup_latency_quantiles \
                 WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 \
                 ORDER BY bucket_start",
                bucket_ms,
                start,
                end,
            )
            .await?;
        map_rows(&rows, |r| {
            Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
        })
    }

    /// Requests per status code over the buckets.
    pub async fn status_totals(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<(i32, i64)>, StoreError> {
        let rows = self
            .over_spans(
                "rollup_status",
                "status_code, requests",
                "SELECT status_code, CAST(SUM(requests) AS BIGINT) FROM ({rows}) r \
                 GROUP BY status_code ORDER BY status_code",
                bucket_ms,
                start,
                end,
            )
            .await?;
        map_rows(&rows, |r| Ok((r.try_get(0)?, r.try_get(1)?)))
    }

    /// Sums per model over the buckets (`""` for requests without a model).
    pub async fn model_totals(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<(String, Sums)>, StoreError> {
        let rows = self
            .over_spans(
                "rollup_model",
                "model_name, requests, errors, latency_sum_us, prompt_tokens, completion_tokens, \
                 cost_micros, cache_read_tokens, cache_write_tokens, reasoning_tokens",
                "SELECT model_name, CAST(SUM(requests) AS BIGINT), CAST(SUM(errors) AS BIGINT), \
                    CAST(SUM(latency_sum_us) AS BIGINT), CAST(SUM(prompt_tokens) AS BIGINT), \
                    CAST(SUM(completion_tokens) AS BIGINT), CAST(SUM(cost_micros) AS BIGINT), \
                    CAST(SUM(cache_read_tokens) AS BIGINT), CAST(SUM(cache_write_tokens) AS BIGINT), \
                    CAST(SUM(reasoning_tokens) AS BIGINT) \
                 FROM ({rows}) r GROUP BY model_name",
                bucket_ms,
                start,
                end,
            )
            .await?;
        map_rows(&rows, |r| {
            Ok((
                r.try_get(0)?,
                Sums {
                    requests: r.try_get(1)?,
                    errors: r.try_get(2)?,
                    latency_sum_us: r.try_get(3)?,
                    prompt_tokens: r.try_get(4)?,
                    completion_tokens: r.try_get(5)?,
                    cost_micros: r.try_get(6)?,
                    cache_read_tokens: r.try_get(7)?,
                    cache_write_tokens: r.try_get(8)?,
                    reasoning_tokens: r.try_get(9)?,
                },
            ))
        })
    }

    /// Cost per bucket and model, as `(bucket_start, model, cost_micros)`.
    pub async fn model_costs(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let rows = self
            .over_buckets(
                "SELECT bucket_start, model_name, cost_micros FROM rollup_model \
             WHERE bucket_ms = $1 AND bucket_start >= $2 AND bucket_start < $3 AND cost_micros > 0 \
             ORDER BY bucket_start, model_name",
                bucket_ms,
                start,
                end,
            )
            .await?;
        map_rows(&rows, |r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
    }

    /// Requests and errors per country (`""` when unknown), most requests first.
    pub async fn country_totals(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let rows = self
            .over_spans(
                "rollup_country",
                "country, requests, errors",
                "SELECT country, CAST(SUM(requests) AS BIGINT) AS n, CAST(SUM(errors) AS BIGINT) \
                 FROM ({rows}) r GROUP BY country ORDER BY n DESC, country",
                bucket_ms,
                start,
                end,
            )
            .await?;
        map_rows(&rows, |r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
    }

    /// Users with at least one request in the buckets.
    pub async fn active_users(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<i64, StoreError> {
        let (sub, spans) = user_rows(bucket_ms, start, end);
        let sql = format!("SELECT COUNT(DISTINCT user_id) FROM ({sub}) u");
        let mut query = sqlx::query_scalar(&sql);
        for (grain, from, to) in spans {
            query = query.bind(grain).bind(from).bind(to);
        }
        Ok(query.fetch_one(&self.pool).await?)
    }

    /// The users who cost the most in the buckets: `(user, requests, tokens, cost_micros)`.
    pub async fn top_users_by_cost(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
        limit: i64,
    ) -> Result<Vec<(String, i64, i64, i64)>, StoreError> {
        let (sub, spans) = user_rows(bucket_ms, start, end);
        let sql = format!(
            "SELECT user_id, CAST(SUM(requests) AS BIGINT), CAST(SUM(tokens) AS BIGINT), \
                    CAST(SUM(cost_micros) AS BIGINT) AS cost \
             FROM ({sub}) u GROUP BY user_id ORDER BY cost DESC, user_id LIMIT ${}",
            spans.len() * 3 + 1
        );
        let mut query = sqlx::query(&sql);
        for (grain, from, to) in spans {
            query = query.bind(grain).bind(from).bind(to);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        map_rows(&rows, |r| {
            Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
        })
    }

    /// Ratings 1 to 5 given in the buckets.
    pub async fn rating_counts(
        &self,
        bucket_ms: i64,
        start: i64,
        end: i64,
    ) -> Result<[i64; 5], StoreError> {
        let rows = self
            .over_spans(
                "rollup_feedback",
                "rating, ratings",
                "SELECT rating, CAST(SUM(ratings) AS BIGINT) FROM ({rows}) r GROUP BY rating",
                bucket_ms,
                start,
                end,
            )
            .await?;
        let mut counts = [0; 5];
        for (rating, n) in map_rows(&rows, |r| {
            Ok((r.try_get::<i32, _>(0)?, r.try_get::<i64, _>(1)?))
        })? {
            if (1..=5).contains(&rating) {
                counts[(rating - 1) as usize] = n;
            }
        }
        Ok(counts)
    }

    /// Open threats by severity, whenever raised.
    pub async fn open_threats_by_severity(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT severity, COUNT(*) FROM threat_log WHERE resolved = FALSE GROUP BY severity",
        )
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, |r| Ok((r.try_get(0)?, r.try_get(1)?)))
    }

    /// Threats raised in `[start, end)` that are still open.
    pub async fn open_threats_raised(&self, start: i64, end: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM threat_log WHERE resolved = FALSE AND created_at >= $1 AND created_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The most recently seen threats.
    pub async fn latest_threats(&self, limit: i64) -> Result<Vec<ThreatRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM threat_log ORDER BY last_seen_at DESC, id DESC LIMIT $1",
            super::threats::THREAT_ROW_COLUMNS
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, super::threats::threat_row)
    }

    /// Threats raised in `[start, end)` by severity, open or resolved since.
    pub async fn threats_raised_by_severity(
        &self,
        start: i64,
        end: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT severity, COUNT(*) FROM threat_log WHERE created_at >= $1 AND created_at < $2 \
             GROUP BY severity",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, |r| Ok((r.try_get(0)?, r.try_get(1)?)))
    }

    /// Alerts firing now, newest first.
    pub async fn firing_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_ROW_COLUMNS} FROM alerts WHERE state = 'firing' \
             ORDER BY fired_at DESC, id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        map_rows(&rows, alert_row)
    }

    /// How many alerts fired in `[start, end)`, firing still or resolved since, and the
    /// first `limit` of them, oldest first.
    pub async fn alerts_fired_between(
        &self,
        start: i64,
        end: i64,
        limit: i64,
    ) -> Result<(i64, Vec<AlertRow>), StoreError> {
        let fired: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM alerts WHERE fired_at >= $1 AND fired_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_ROW_COLUMNS} FROM alerts WHERE fired_at >= $1 AND fired_at < $2 \
             ORDER BY fired_at, id LIMIT $3"
        ))
        .bind(start)
        .bind(end)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok((fired, map_rows(&rows, alert_row)?))
    }
}

/// The columns of an [`AlertRow`], in [`alert_row`]'s order.
const ALERT_ROW_COLUMNS: &str = "id, rule, severity, title, description, endpoint, fired_at";

fn alert_row(r: &AnyRow) -> Result<AlertRow, sqlx::Error> {
    Ok(AlertRow {
        id: r.try_get(0)?,
        rule: r.try_get(1)?,
        severity: r.try_get(2)?,
        title: r.try_get(3)?,
        description: r.try_get(4)?,
        endpoint: r.try_get(5)?,
        fired_at: r.try_get(6)?,
    })
}

/// The `(grain, from, to)` spans that cover the buckets of `[start, end)` at
/// `bucket_ms`: an hourly range with whole UTC days inside it reads those days at the
/// daily grain and only its ragged ends hourly.
fn grain_spans(bucket_ms: i64, start: i64, end: i64) -> Vec<(i64, i64, i64)> {
    use sightline_app::time::{DAY_MS, HOUR_MS, floor_to};
    let first_day = floor_to(start + DAY_MS - 1, DAY_MS);
    let last_day = floor_to(end, DAY_MS);
    if bucket_ms == HOUR_MS && last_day > first_day {
        vec![
            (DAY_MS, first_day, last_day),
            (HOUR_MS, start, first_day),
            (HOUR_MS, last_day, end),
        ]
    } else {
        vec![(bucket_ms, start, end)]
    }
}

/// `columns` of `table` over `n` spans, bound as `($1, $2, $3)`, `($4, $5, $6)`, …
fn span_rows(table: &str, columns: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "SELECT {columns} FROM {table} \
                 WHERE bucket_ms = ${} AND bucket_start >= ${} AND bucket_start < ${}",
                3 * i + 1,
                3 * i + 2,
                3 * i + 3
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The rows of `rollup_user` covering a range (see [`grain_spans`]), and the spans to
/// bind.
fn user_rows(bucket_ms: i64, start: i64, end: i64) -> (String, Vec<(i64, i64, i64)>) {
    let spans = grain_spans(bucket_ms, start, end);
    let sub = span_rows(
        "rollup_user",
        "user_id, requests, tokens, cost_micros",
        spans.len(),
    );
    (sub, spans)
}
