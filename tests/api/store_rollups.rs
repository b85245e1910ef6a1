//! Rollups, sessions, users and model stats kept at ingest, on both databases: exact
//! values for a fixture of known rows, percentiles within their stated error, and a
//! rebuild from raw rows that reproduces the incremental tables exactly.

use crate::common;

use common::fixture::request;
use sightline::rollup::Sums;
use sightline::rollup::histogram::{self, RELATIVE_ACCURACY};
use sightline::store::{Buckets, ModelUsage, NewRequest, TrafficBucket};
use sightline_app::units::{EpochMillis, Micros};
use sightline_tracker::wire::RequestKind;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
/// The rollup rows of the first hour from T0.
const FIRST_HOUR: Buckets = Buckets {
    grain: HOUR,
    start: T0,
    end: T0 + HOUR,
};

#[allow(clippy::too_many_arguments)]
fn row(
    id: &str,
    t: i64,
    status: i32,
    model: Option<&str>,
    latency_ms: f64,
    tokens: (i64, i64),
    cost_micros: i64,
    user: Option<&str>,
) -> NewRequest {
    let mut r = request(id, t, status);
    r.model_name = model.map(Into::into);
    r.latency_ms = latency_ms;
    (r.prompt_tokens, r.completion_tokens) = tokens;
    r.cost_micros = Micros(cost_micros);
    r.user_id = user.map(Into::into);
    r
}

/// Four served requests over two days, a provider call, and (in a second batch) a retry.
fn fixture() -> (Vec<NewRequest>, Vec<NewRequest>) {
    let mut r3 = row(
        "r3",
        T0 + 70 * MIN,
        200,
        Some("claude-sonnet"),
        50.5,
        (10, 20),
        30,
        Some("b"),
    );
    r3.session_id = Some("s-1".into());
    let mut r4 = row("r4", T0 + 26 * HOUR, 404, None, 2.0, (0, 0), 0, None);
    r4.country = None;
    let mut r5 = row(
        "r5",
        T0 + 15 * MIN,
        200,
        Some("gpt-4o"),
        800.0,
        (900, 400),
        9_999,
        None,
    );
    r5.kind = RequestKind::External;
    r5.service = Some("openai".into());
    let first = vec![
        row(
            "r1",
            T0 + 10 * MIN,
            200,
            Some("gpt-4o"),
            100.0,
            (1000, 500),
            7_500,
            Some("a"),
        ),
        r5,
        row(
            "r2",
            T0 + 20 * MIN,
            500,
            Some("gpt-4o"),
            300.0,
            (200, 0),
            500,
            Some("a"),
        ),
        r3,
    ];
    let second = vec![
        row(
            "r1",
            T0 + 10 * MIN,
            200,
            Some("gpt-4o"),
            100.0,
            (1000, 500),
            7_500,
            Some("a"),
        ),
        r4,
    ];
    (first, second)
}

fn sums(
    requests: i64,
    errors: i64,
    latency_sum_us: i64,
    tokens: (i64, i64),
    cost_micros: i64,
) -> Sums {
    Sums {
        requests,
        errors,
        latency_sum_us,
        prompt_tokens: tokens.0,
        completion_tokens: tokens.1,
        cost_micros: Micros(cost_micros),
        ..Sums::default()
    }
}

storage_test!(
    fixture_gives_exact_buckets_and_model_stats,
    |db| async move {
        let (first, second) = fixture();
        assert_eq!(
            db.store.record_requests(&first).await.unwrap(),
            vec![true; 4]
        );
        assert_eq!(
            db.store.record_requests(&second).await.unwrap(),
            vec![false, true]
        );

        let hourly = db
            .store
            .traffic(Buckets {
                grain: HOUR,
                start: T0,
                end: T0 + 2 * DAY,
            })
            .await
            .unwrap();
        assert_eq!(
            hourly,
            vec![
                // r1 + r2 (user a: one inferred session, a new user); the provider call r5 is not here.
                TrafficBucket {
                    bucket_start: EpochMillis(T0),
                    sums: sums(2, 1, 400_000, (1200, 500), 8_000),
                    sessions_started: 1,
                    new_users: 1
                },
                // r3: session s-1, user b.
                TrafficBucket {
                    bucket_start: EpochMillis(T0 + HOUR),
                    sums: sums(1, 0, 50_500, (10, 20), 30),
                    sessions_started: 1,
                    new_users: 1
                },
                // r4: anonymous, no session.
                TrafficBucket {
                    bucket_start: EpochMillis(T0 + 26 * HOUR),
                    sums: sums(1, 1, 2_000, (0, 0), 0),
                    sessions_started: 0,
                    new_users: 0
                },
            ]
        );
        let daily = db
            .store
            .traffic(Buckets {
                grain: DAY,
                start: T0,
                end: T0 + 2 * DAY,
            })
            .await
            .unwrap();
        assert_eq!(
            daily,
            vec![
                TrafficBucket {
                    bucket_start: EpochMillis(T0),
                    sums: sums(3, 1, 450_500, (1210, 520), 8_030),
                    sessions_started: 2,
                    new_users: 2
                },
                TrafficBucket {
                    bucket_start: EpochMillis(T0 + DAY),
                    sums: sums(1, 1, 2_000, (0, 0), 0),
                    sessions_started: 0,
                    new_users: 0
                },
            ]
        );
        // Ranges select whole buckets.
        assert_eq!(
            db.store
                .traffic(Buckets {
                    grain: HOUR,
                    start: T0 + HOUR,
                    end: T0 + 2 * HOUR,
                })
                .await
                .unwrap()
                .len(),
            1
        );

        let stats = db.store.model_usage(T0, T0 + 2 * DAY).await.unwrap();
        let usage = |model: &str,
                     requests,
                     successes,
                     failures,
                     latency_sum_us,
                     prompt_tokens,
                     completion_tokens,
                     cost_micros| ModelUsage {
            day: EpochMillis(T0),
            model_name: model.into(),
            requests,
            successes,
            failures,
            latency_sum_us,
            prompt_tokens,
            completion_tokens,
            cost_micros,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
        };
        assert_eq!(
            stats,
            vec![
                usage("claude-sonnet", 1, 1, 0, 50_500, 10, 20, 30),
                usage("gpt-4o", 2, 1, 1, 400_000, 1200, 500, 8_000)
            ]
        );

        let snapshot = db.store.derived_snapshot().await.unwrap();
        let sessions = &snapshot["user_session"];
        assert_eq!(sessions.len(), 2, "{sessions:?}");
        let inferred = format!("a@{}", T0 + 10 * MIN);
        assert!(
            sessions
                .iter()
                .any(|s| s.starts_with(&format!("{inferred}|a|"))
                    && s.contains(&format!(
                        "|{}|{}|2|1|1700|8000|",
                        T0 + 10 * MIN,
                        T0 + 20 * MIN
                    ))),
            "{sessions:?}"
        );
        assert!(
            sessions.iter().any(|s| s.starts_with("s-1|b|")),
            "{sessions:?}"
        );
        let services = &snapshot["rollup_service"];
        assert_eq!(
            services,
            &vec![
                // calls, errors, latency µs, cost µ$, prompt and completion tokens
                format!("{HOUR}|{T0}|openai|1|0|800000|9999|900|400"),
                format!("{DAY}|{T0}|openai|1|0|800000|9999|900|400")
            ]
        );
    }
);

storage_test!(
    percentiles_are_within_the_stated_error_of_exact,
    |db| async move {
        // 6 000 latencies over 30 hours with a long tail, ingested in batches of 500.
        let mut seed = 42u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let rows: Vec<NewRequest> = (0..6000)
            .map(|i| {
                let u = next();
                let latency = if i % 20 == 0 {
                    5_000.0 + 60_000.0 * u
                } else {
                    20.0 + 1_500.0 * u * u
                };
                row(
                    &format!("p{i}"),
                    T0 + i * 18_000,
                    200,
                    Some("m"),
                    latency,
                    (1, 1),
                    1,
                    Some("u"),
                )
            })
            .collect();
        for batch in rows.chunks(500) {
            db.store.record_requests(batch).await.unwrap();
        }
        let mut exact: Vec<f64> = rows.iter().map(|r| r.latency_ms).collect();
        exact.sort_by(f64::total_cmp);
        let nearest_rank = |q: f64| exact[((q * exact.len() as f64).ceil() as usize).max(1) - 1];

        for grain in [HOUR, DAY] {
            let bins = db
                .store
                .latency_bins(Buckets {
                    grain,
                    start: T0,
                    end: T0 + 2 * DAY,
                })
                .await
                .unwrap();
            let merged: Vec<(i32, i64)> = bins.iter().map(|b| (b.bin, b.requests)).collect();
            let qs = [0.5, 0.95, 0.99];
            let got = histogram::quantiles(&merged, &qs).unwrap();
            for (q, g) in qs.iter().zip(got) {
                let e = nearest_rank(*q);
                assert!(
                    (g - e).abs() / e <= RELATIVE_ACCURACY + 1e-9,
                    "grain {grain} q{q}: {g} vs exact {e}"
                );
            }
        }
    }
);

storage_test!(rebuilt_rollups_equal_incremental_ones, |db| async move {
    // A busier fixture: three users with gaps longer than a session, explicit sessions,
    // anonymous traffic, provider calls, errors, and retries of earlier batches.
    let mut rows = Vec::new();
    for i in 0..900i64 {
        let user = ["alice", "bob", "carol", ""][(i % 4) as usize];
        let t = T0 + i * 3 * MIN + if i > 450 { 2 * HOUR } else { 0 };
        let mut r = row(
            &format!("q{i}"),
            t,
            [200, 200, 200, 429, 500, 201][(i % 6) as usize],
            [Some("gpt-4o"), Some("claude-sonnet"), None][(i % 3) as usize],
            10.0 + (i % 97) as f64 * 13.7,
            (i % 50, i % 30),
            i % 1000,
            (!user.is_empty()).then_some(user),
        );
        if i % 11 == 0 {
            r.session_id = Some(format!("explicit-{}", i / 100));
        }
        if i % 13 == 0 {
            r.kind = RequestKind::External;
            r.service = Some(["openai", "gemini"][(i % 2) as usize].into());
        }
        r.country = [Some("US"), Some("DE"), None][(i % 3) as usize].map(Into::into);
        // Parts of the prompt (i % 50) and completion (i % 30) tokens.
        r.cache_read_tokens = (i % 50) / 2;
        r.cache_write_tokens = (i % 50) / 5;
        r.reasoning_tokens = (i % 30) / 3;
        rows.push(r);
    }
    for (n, batch) in rows.chunks(64).enumerate() {
        db.store.record_requests(batch).await.unwrap();
        if n % 3 == 0 {
            db.store.record_requests(batch).await.unwrap(); // a retry: all duplicates
        }
    }
    let incremental = db.store.derived_snapshot().await.unwrap();
    assert!(incremental["user_session"].len() > 10);

    let replayed = db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    assert_eq!(replayed, 900);
    let rebuilt = db.store.derived_snapshot().await.unwrap();
    for (table, rows) in &incremental {
        assert_eq!(rows, &rebuilt[table], "{table} differs after the rebuild");
    }
});

storage_test!(demo_traffic_rebuilds_to_the_same_rollups, |db| async move {
    // Two days of the demo platform: sessions, provider calls, attacks, feedback.
    let options = sightline::demo::DemoOptions {
        days: 2,
        users: 60,
        per_day: 2_500,
        seed: 7,
    };
    let now = T0 + 2 * DAY + 13 * HOUR + 17 * MIN;
    let (_, report) = sightline::demo::seed(&db.store, &options, now, false)
        .await
        .unwrap();
    assert!(report.requests > 4_000, "{report:?}");
    assert!(
        report.threats > 0 && report.feedback > 0 && report.auth_events > 0,
        "{report:?}"
    );

    let incremental = db.store.derived_snapshot().await.unwrap();
    // Failed requests carry messages with variable parts, which group by their shape:
    // a group per kind of failure, not one per message.
    let groups = incremental["error_group"].len();
    assert!((8..=20).contains(&groups), "{groups} error groups");
    let replayed = db.store.rebuild_rollups(|_, _| {}).await.unwrap();
    assert_eq!(replayed, report.requests);
    let rebuilt = db.store.derived_snapshot().await.unwrap();
    for (table, rows) in &incremental {
        assert_eq!(
            rows.len(),
            rebuilt[table].len(),
            "{table}: row count differs after the rebuild"
        );
        assert_eq!(rows, &rebuilt[table], "{table} differs after the rebuild");
    }
    // The rollups agree with the raw rows they summarise.
    let daily = db
        .store
        .traffic(Buckets {
            grain: DAY,
            start: T0,
            end: now,
        })
        .await
        .unwrap();
    let hourly = db
        .store
        .traffic(Buckets {
            grain: HOUR,
            start: T0,
            end: now,
        })
        .await
        .unwrap();
    let total = |b: &[TrafficBucket]| b.iter().map(|b| b.sums.requests).sum::<i64>();
    assert_eq!(total(&daily), total(&hourly));
    let raw = db.store.request_counts(T0, now + 1, DAY).await.unwrap();
    let raw_total: i64 = raw.iter().map(|c| c.ok + c.errors).sum();
    let services: i64 = incremental["rollup_service"]
        .iter()
        .filter(|l| l.starts_with(&format!("{DAY}|")))
        .count() as i64;
    assert!(services > 0);
    // Raw counts include the provider calls, which the traffic rollup leaves out.
    assert!(
        raw_total > total(&daily),
        "{raw_total} vs {}",
        total(&daily)
    );
});

storage_test!(
    dashboard_cards_equal_a_scan_of_the_raw_rows,
    |db| async move {
        let options = sightline::demo::DemoOptions {
            days: 3,
            users: 80,
            per_day: 3_000,
            seed: 11,
        };
        let now = T0 + 3 * DAY + 9 * HOUR + 41 * MIN;
        sightline::demo::seed(&db.store, &options, now, false)
            .await
            .unwrap();
        for range in [
            sightline_app::range::TimeRange::preset(
                sightline_app::range::RangeKind::Day,
                EpochMillis(now),
            ),
            sightline_app::range::TimeRange::preset(
                sightline_app::range::RangeKind::Month,
                EpochMillis(now),
            ),
        ] {
            let budgets = sightline::budgets::Budgets::new(db.store.clone(), Default::default());
            let report =
                sightline::dashboard::report(&db.store, &budgets, &range, EpochMillis(now))
                    .await
                    .unwrap();
            let raw = db
                .store
                .raw_cards(range.start.ms(), range.end.ms(), range.bucket_ms)
                .await
                .unwrap();
            let cur = &report.summary.current;
            assert_eq!(
                (cur.requests, cur.errors, cur.tokens, cur.cost_micros),
                (raw.requests, raw.errors, raw.tokens, raw.cost_micros)
            );
            assert_eq!(cur.active_users, raw.active_users);
            let avg = cur.avg_latency_ms.unwrap();
            assert!(
                (avg - raw.latency_sum_ms / raw.requests as f64).abs() < 0.001,
                "average latency"
            );
            let (p95, exact) = (cur.p95_latency_ms.unwrap(), raw.p95_latency_ms.unwrap());
            assert!(
                (p95 - exact).abs() / exact <= histogram::RELATIVE_ACCURACY + 1e-9,
                "p95 {p95} vs exact {exact}"
            );
            let mut statuses: Vec<(i32, i64)> = raw
                .statuses
                .iter()
                .map(|s| (s.status_code, s.requests))
                .filter(|(s, _)| *s >= 400)
                .collect();
            statuses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let shown: Vec<(i32, i64)> = report
                .errors_breakdown
                .iter()
                .map(|s| (s.status, s.count))
                .collect();
            assert_eq!(shown, statuses);
            let per_bucket: Vec<(i64, i64, i64)> = report
                .requests
                .iter()
                .filter(|p| p.ok + p.errors > 0)
                .map(|p| (p.t.ms(), p.ok + p.errors, p.errors))
                .collect();
            let raw_per_bucket: Vec<(i64, i64, i64)> = raw
                .per_bucket
                .iter()
                .map(|b| (b.bucket_start.ms(), b.requests, b.errors))
                .collect();
            assert_eq!(per_bucket, raw_per_bucket);
            // Per-bucket percentiles picked in SQL agree with merging the bins in Rust.
            let bins = db.store.latency_bins(Buckets::from(&range)).await.unwrap();
            for point in &report.latency {
                let mine: Vec<(i32, i64)> = bins
                    .iter()
                    .filter(|b| b.bucket_start == point.t)
                    .map(|b| (b.bin, b.requests))
                    .collect();
                let expected = histogram::quantiles(&mine, &[0.5, 0.95, 0.99]);
                let got = point
                    .p50
                    .map(|p50| vec![p50, point.p95.unwrap(), point.p99.unwrap()]);
                assert_eq!(got, expected, "bucket {}", point.t);
            }
            let top_user_costs: Vec<i64> = report
                .users
                .top
                .iter()
                .map(|u| u.cost_micros.micros())
                .collect();
            let raw_costs: Vec<i64> = raw
                .top_users
                .iter()
                .map(|u| u.cost_micros.micros())
                .collect();
            assert_eq!(top_user_costs, raw_costs);
        }
    }
);

storage_test!(
    the_quantile_backfill_of_the_migration_equals_what_ingest_keeps,
    |db| async move {
        let options = sightline::demo::DemoOptions {
            days: 2,
            users: 40,
            per_day: 2_000,
            seed: 5,
        };
        sightline::demo::seed(&db.store, &options, T0 + 2 * DAY, false)
            .await
            .unwrap();
        let kept = db.store.derived_snapshot().await.unwrap();
        // A database migrated before the table existed gets it filled by the migration.
        let migration = match db.backend() {
            common::Backend::Sqlite => {
                include_str!("../../migrations/sqlite/0004_latency_quantiles.sql")
            }
            common::Backend::Postgres => {
                include_str!("../../migrations/postgres/0004_latency_quantiles.sql")
            }
        };
        let backfill = migration
            .split_once("-- Buckets written before this table existed.")
            .unwrap()
            .1;
        let mut conn = db.connection().await;
        sqlx::query("DELETE FROM rollup_latency_quantiles")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(backfill).execute(&mut conn).await.unwrap();
        let backfilled = db.store.derived_snapshot().await.unwrap();
        assert_eq!(backfilled, kept);
        let buckets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rollup_latency_quantiles")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(
            buckets >= 48 + 2,
            "hourly and daily buckets of two days: {buckets}"
        );
    }
);

// Two priced calls with cache and reasoning tokens (and a retry of one): the parts add
// up wherever tokens do, and a rebuild gives the same tables.
storage_test!(
    cache_and_reasoning_tokens_roll_up_with_the_tokens,
    |db| async move {
        let mut c1 = row(
            "c1",
            T0 + 5 * MIN,
            200,
            Some("claude-sonnet-4-5"),
            900.0,
            (12_100, 500),
            18_300,
            Some("u"),
        );
        (c1.cache_read_tokens, c1.cache_write_tokens) = (10_000, 2_000);
        let mut c2 = row(
            "c2",
            T0 + 10 * MIN,
            200,
            Some("o4-mini"),
            2_500.0,
            (10_000, 1_000),
            10_450,
            Some("u"),
        );
        (c2.cache_read_tokens, c2.reasoning_tokens) = (6_000, 800);
        assert_eq!(
            db.store.record_requests(&[c1.clone(), c2]).await.unwrap(),
            vec![true, true]
        );
        assert_eq!(db.store.record_requests(&[c1]).await.unwrap(), vec![false]);

        let traffic = db.store.traffic(FIRST_HOUR).await.unwrap();
        assert_eq!(
            traffic[0].sums,
            Sums {
                requests: 2,
                errors: 0,
                latency_sum_us: 3_400_000,
                prompt_tokens: 22_100,
                completion_tokens: 1_500,
                cache_read_tokens: 16_000,
                cache_write_tokens: 2_000,
                reasoning_tokens: 800,
                cost_micros: Micros(28_750),
            }
        );
        let models = db.store.model_totals(FIRST_HOUR).await.unwrap();
        let parts: Vec<(&str, i64, i64, i64)> = models
            .iter()
            .map(|m| {
                (
                    m.model_name.as_str(),
                    m.sums.cache_read_tokens,
                    m.sums.cache_write_tokens,
                    m.sums.reasoning_tokens,
                )
            })
            .collect();
        assert_eq!(
            parts,
            vec![
                ("claude-sonnet-4-5", 10_000, 2_000, 0),
                ("o4-mini", 6_000, 0, 800)
            ]
        );
        let stats = db.store.model_usage(T0, T0 + DAY).await.unwrap();
        assert_eq!(
            stats
                .iter()
                .map(|m| (
                    m.cache_read_tokens,
                    m.cache_write_tokens,
                    m.reasoning_tokens
                ))
                .collect::<Vec<_>>(),
            vec![(10_000, 2_000, 0), (6_000, 0, 800)]
        );
        // The user's inferred session, the user and its rollup rows: total tokens
        // (prompt + completion) 23 600, then the three parts.
        let snapshot = db.store.derived_snapshot().await.unwrap();
        for table in ["user_session", "tracked_user"] {
            assert_eq!(snapshot[table].len(), 1, "{table}");
            assert!(
                snapshot[table][0].contains("|23600|28750|")
                    && snapshot[table][0].ends_with("|16000|2000|800"),
                "{table}: {}",
                snapshot[table][0]
            );
        }
        assert_eq!(
            snapshot["rollup_user"],
            vec![
                format!("{HOUR}|{T0}|u|2|0|23600|28750|16000|2000|800"),
                format!("{DAY}|{T0}|u|2|0|23600|28750|16000|2000|800"),
            ]
        );

        db.store.rebuild_rollups(|_, _| {}).await.unwrap();
        assert_eq!(db.store.derived_snapshot().await.unwrap(), snapshot);
    }
);
