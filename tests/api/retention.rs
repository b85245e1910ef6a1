//! Retention on both databases: a prune deletes exactly the raw requests and auth events
//! older than the cutoff, keeps every rollup (the dashboard shows the same numbers),
//! `sightline prune` reports what it deletes, and ingest keeps flowing while a large
//! prune runs.

use crate::common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestDb, TestServer, api, fixture};
use serde_json::{Value, json};
use sightline::jobs::retention::{self, PruneOptions, PruneReport};
use sightline::store::{NewAuthEvent, Prunable, Scope};
use sightline_tracker::wire::AuthEventType;

const HOUR: i64 = 3_600_000;
/// The servers' own hourly prune (30 s after start) must not race the tests' prunes.
const KEEP_ALL: &[(&str, &str)] = &[("SIGHTLINE_RETENTION_DAYS", "3650")];
const DAY: i64 = 86_400_000;

fn auth_event(created_at: i64) -> NewAuthEvent {
    NewAuthEvent {
        created_at,
        event_type: AuthEventType::Login,
        user_id: Some("user-1".into()),
        ip: Some("203.0.113.7".into()),
        user_agent: None,
        success: true,
        error: None,
        metadata: None,
    }
}

async fn rows(db: &TestDb, table: Prunable) -> u64 {
    db.store.count_before(table, i64::MAX).await.unwrap()
}

fn quick() -> PruneOptions {
    PruneOptions {
        batch_rows: 5,
        pause: Duration::ZERO,
    }
}

storage_test!(
    a_prune_deletes_exactly_the_raw_rows_before_the_cutoff,
    |db| async move {
        let now = fixture::now_ms();
        let cutoff = now - 30 * DAY;
        // Anonymous requests: no sessions or users, which have rules of their own
        // (`hardening_retention`).
        let anonymous = |id: &str, t: i64, status: i32| {
            let mut r = fixture::request(id, t, status);
            r.user_id = None;
            r
        };
        let mut requests: Vec<_> = (0..12)
            .map(|i| anonymous(&format!("old-{i}"), cutoff - 1 - i * HOUR, 200))
            .collect();
        for (id, t) in [
            ("edge-before", cutoff - 1),
            ("edge-at", cutoff),
            ("edge-after", cutoff + 1),
            ("recent", now - 1_000),
        ] {
            // Successes: failed requests are in error groups, whose hourly rollups go
            // by a rule of their own (`errors_view`).
            requests.push(anonymous(id, t, 200));
        }
        db.store.record_requests(&requests).await.unwrap();
        db.store
            .record_auth_events(&[auth_event(cutoff - 1), auth_event(cutoff), auth_event(now)])
            .await
            .unwrap();
        let derived = db.store.derived_snapshot().await.unwrap();

        let expected = PruneReport {
            cutoff,
            requests: 13,
            auth_events: 1,
            ..PruneReport::default()
        };
        assert_eq!(
            retention::dry_run(&db.store, cutoff).await.unwrap(),
            expected
        );
        assert_eq!(
            rows(db, Prunable::Requests).await,
            16,
            "a dry run deletes nothing"
        );

        // 13 requests in batches of 5 (5, 5, 3), then 1 auth event (1), then one empty
        // batch for each of the 13 other kinds (span links, the audit trail, the error
        // groups and the users' provider costs among them): seventeen transactions.
        let report = retention::prune(&db.store, cutoff, quick()).await.unwrap();
        assert_eq!(
            report,
            PruneReport {
                batches: 17,
                ..expected
            }
        );
        for (id, kept) in [
            ("old-0", false),
            ("old-11", false),
            ("edge-before", false),
            ("edge-at", true),
            ("edge-after", true),
            ("recent", true),
        ] {
            assert_eq!(db.store.request_exists(id).await.unwrap(), kept, "{id}");
        }
        assert_eq!(rows(db, Prunable::Requests).await, 3);
        assert_eq!(rows(db, Prunable::AuthEvents).await, 2);
        assert_eq!(
            db.store
                .count_before(Prunable::AuthEvents, cutoff)
                .await
                .unwrap(),
            0
        );
        // Rollups, sessions, users and model stats are untouched.
        assert_eq!(db.store.derived_snapshot().await.unwrap(), derived);

        // Nothing is left to prune: one empty batch per kind.
        let again = retention::prune(&db.store, cutoff, quick()).await.unwrap();
        assert_eq!(
            (again.requests, again.auth_events, again.batches),
            (0, 0, 15)
        );
    }
);

storage_test!(
    the_settings_choice_takes_precedence_over_the_environment,
    |db| async move {
        let policy = db.store.retention_policy(90).await.unwrap();
        assert_eq!(
            (policy.days, policy.setting, policy.default_days),
            (90, None, 90)
        );
        db.store.set_retention_days(7, 1).await.unwrap();
        let policy = db.store.retention_policy(90).await.unwrap();
        assert_eq!((policy.days, policy.setting), (7, Some(7)));
        assert_eq!(policy.cutoff(10 * DAY), 3 * DAY);
    }
);

async fn dashboard(server: &TestServer, key: &str, query: &str) -> Value {
    let mut report = api::get_json(server, key, &format!("/api/v1/dashboard?{query}")).await;
    let fields = report.as_object_mut().unwrap();
    fields.remove("generatedAt");
    fields.remove("generated_at");
    // A range ends now at the latest: the instant moves on, the numbers must not.
    fields.remove("end");
    report
}

storage_test!(
    the_dashboard_shows_the_same_numbers_after_a_prune,
    |db| async move {
        let server = TestServer::start_with(&db.url, KEEP_ALL);
        let (_, ingest_key) = db
            .store
            .create_api_key("i", &[Scope::Ingest], None, 0)
            .await
            .unwrap();
        let (_, read_key) = db
            .store
            .create_api_key("r", &[Scope::Read], None, 0)
            .await
            .unwrap();
        let now = fixture::now_ms();
        // One request every 12 hours over the last 10 days: statuses, models, users
        // and countries vary; a rating and a threat on old requests.
        let requests: Vec<Value> = (0..20)
            .map(|i| {
                json!({"request_id": format!("r{i}"), "timestamp": now - i * 12 * HOUR - 60_000,
                    "endpoint": "/v1/chat/completions", "method": "POST",
                    "status_code": if i % 4 == 0 { 500 } else { 200 }, "latency_ms": 50 + i * 10,
                    "model": if i % 2 == 0 { "gpt-4o" } else { "gpt-4o-mini" },
                    "prompt_tokens": 100 + i, "completion_tokens": 10 * i,
                    "user_id": format!("u{}", i % 3), "country": if i % 3 == 0 { "DE" } else { "FR" }})
            })
            .collect();
        let body = json!({
            "requests": requests,
            "auth_events": [{"event_type": "login", "user_id": "u1", "timestamp": now - 8 * DAY},
                            {"event_type": "login", "user_id": "u2", "timestamp": now - HOUR}],
            "feedback": [{"request_id": "r19", "user_id": "u1", "rating": 4, "timestamp": now - 9 * DAY}],
            "threats": [{"threat_type": "xss", "severity": "high", "ip": "198.51.100.1",
                         "description": "old", "timestamp": now - 9 * DAY}],
        });
        let reply = api::ingest(&server, &ingest_key, &body).await;
        assert_eq!(reply["accepted"], 24, "{reply}");

        let hour = now / HOUR * HOUR;
        let custom = format!("range=custom&start={}&end={}", hour - 12 * DAY, hour + HOUR);
        let before = (
            dashboard(&server, &read_key, &custom).await,
            dashboard(&server, &read_key, "range=1m").await,
        );
        assert_eq!(before.0["summary"]["current"]["requests"], 20);

        // Keeping 3 days, the requests older than that go (r6..r19, and the first auth
        // event): the dashboard does not change.
        let report = retention::prune(&db.store, now - 3 * DAY, PruneOptions::default())
            .await
            .unwrap();
        assert_eq!((report.requests, report.auth_events), (14, 1));
        assert_eq!(rows(db, Prunable::Requests).await, 6);
        let after = (
            dashboard(&server, &read_key, &custom).await,
            dashboard(&server, &read_key, "range=1m").await,
        );
        assert_eq!(after.0, before.0);
        assert_eq!(after.1["summary"], before.1["summary"]);
        assert_eq!(after.1["requests"], before.1["requests"]);
    }
);

/// Runs `sightline prune ARGS` on the database; returns (success, stdout, stderr).
fn prune_command(url: &str, args: &[&str], env_days: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("prune")
        .args(args)
        .env("SIGHTLINE_DATABASE_URL", url)
        .env("SIGHTLINE_RETENTION_DAYS", env_days)
        .env("SIGHTLINE_LOG", "warn")
        .output()
        .expect("sightline runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

storage_test!(the_prune_command_reports_what_it_deletes, |db| async move {
    let now = fixture::now_ms();
    let requests: Vec<_> = [50, 20, 5, 1]
        .iter()
        .map(|d| fixture::request(&format!("d{d}"), now - d * DAY, 200))
        .collect();
    db.store.record_requests(&requests).await.unwrap();
    db.store
        .record_auth_events(&[auth_event(now - 50 * DAY)])
        .await
        .unwrap();

    // The environment says 30 days: only the 50-day-old rows; a dry run keeps them.
    let (ok, out, _) = prune_command(&db.url, &["--dry-run"], "30");
    assert!(ok);
    assert!(
        out.starts_with("would delete 1 requests and 1 auth events older than 30 days"),
        "{out}"
    );
    assert_eq!(rows(db, Prunable::Requests).await, 4);
    let (ok, out, _) = prune_command(&db.url, &[], "30");
    assert!(ok);
    assert!(
        out.starts_with("deleted 1 requests and 1 auth events older than 30 days"),
        "{out}"
    );
    assert!(!db.store.request_exists("d50").await.unwrap());

    // The settings' 10 days take precedence over the environment.
    db.store.set_retention_days(10, now).await.unwrap();
    let (ok, out, _) = prune_command(&db.url, &[], "30");
    assert!(ok);
    assert!(
        out.starts_with("deleted 1 requests and 0 auth events older than 10 days"),
        "{out}"
    );
    assert!(!db.store.request_exists("d20").await.unwrap());

    // `--days` takes precedence over both.
    let (ok, out, _) = prune_command(&db.url, &["--days", "3"], "30");
    assert!(ok);
    assert!(
        out.starts_with("deleted 1 requests and 0 auth events older than 3 days"),
        "{out}"
    );
    assert!(db.store.request_exists("d1").await.unwrap());
    assert_eq!(rows(db, Prunable::Requests).await, 1);

    // Errors: a bad number of days, an unreachable database; one line, non-zero.
    let (ok, _, err) = prune_command(&db.url, &["--days", "0"], "30");
    assert!(!ok, "{err}");
    let (ok, out, err) = prune_command("mysql://nowhere/db", &[], "30");
    assert!(!ok && out.is_empty());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("sightline: unsupported database URL"),
        "{err}"
    );
});

storage_test!(
    a_rebuild_never_silently_drops_pruned_history,
    |db| async move {
        let now = fixture::now_ms();
        let requests: Vec<_> = [50, 1]
            .iter()
            .map(|d| fixture::request(&format!("d{d}"), now - d * DAY, 200))
            .collect();
        db.store.record_requests(&requests).await.unwrap();
        let rebuild = |extra: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
                .args(["rollup", "--rebuild"])
                .args(extra)
                .env("SIGHTLINE_DATABASE_URL", &db.url)
                .output()
                .expect("sightline runs");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        // Nothing pruned: a rebuild is harmless.
        assert!(rebuild(&[]).0);
        let (ok, _, _) = prune_command(&db.url, &["--days", "30"], "90");
        assert!(ok);
        // Now the 50-day-old request lives on in the rollups only.
        let (ok, err) = rebuild(&[]);
        assert!(!ok);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains("before the oldest raw request (older ones were pruned)")
                && err.contains("--discard-pruned-history"),
            "{err}"
        );
        assert_eq!(daily_requests(db).await, 2);
        assert!(rebuild(&["--discard-pruned-history"]).0);
        assert_eq!(daily_requests(db).await, 1);
    }
);

/// Requests counted in the daily rollups.
async fn daily_requests(db: &TestDb) -> i64 {
    let mut conn = db.connection().await;
    sqlx::query_scalar::<_, i64>(
        "SELECT CAST(SUM(requests) AS BIGINT) FROM rollup_traffic WHERE bucket_ms = 86400000",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

const OLD_ROWS: usize = 200_000;
const INGEST_BATCH: usize = 20;

storage_test!(
    ingest_keeps_flowing_while_a_large_prune_runs,
    |db| async move {
        let now = fixture::now_ms();
        // 200 000 raw requests a year old, straight into the table.
        let old: Vec<_> = (0..OLD_ROWS)
            .map(|i| fixture::request(&format!("old-{i}"), now - 365 * DAY + i as i64, 200))
            .collect();
        for chunk in old.chunks(10_000) {
            db.store.insert_raw_requests(chunk).await.unwrap();
        }
        drop(old);
        let server = TestServer::start_with(&db.url, KEEP_ALL);
        let (_, key) = db
            .store
            .create_api_key("i", &[Scope::Ingest], None, 0)
            .await
            .unwrap();

        // Two clients post batches until the prune is over (and at least 5 each),
        // recording when each call ended and how long it took.
        let pruning = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let calls = Arc::new(Mutex::new(Vec::<(Instant, Duration)>::new()));
        let mut clients = Vec::new();
        for c in 0..2 {
            let (url, key, pruning, calls) = (
                server.url("/api/v1/ingest"),
                key.clone(),
                pruning.clone(),
                calls.clone(),
            );
            clients.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut ids = Vec::new();
                let mut b = 0;
                while b < 5 || pruning.load(std::sync::atomic::Ordering::SeqCst) {
                    let batch: Vec<String> = (0..INGEST_BATCH)
                        .map(|i| format!("new-{c}-{b}-{i}"))
                        .collect();
                    let requests: Vec<Value> = batch
                        .iter()
                        .map(|id| {
                            json!({"request_id": id, "endpoint": "/v1/chat", "method": "POST",
                            "status_code": 200, "latency_ms": 5, "user_id": format!("u{c}")})
                        })
                        .collect();
                    let started = Instant::now();
                    let reply = client
                        .post(&url)
                        .bearer_auth(&key)
                        .json(&json!({ "requests": requests }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(reply.status(), 200, "ingest call {c}/{b} during the prune");
                    let body: Value = reply.json().await.unwrap();
                    assert_eq!(body["accepted"], INGEST_BATCH, "{body}");
                    calls
                        .lock()
                        .unwrap()
                        .push((Instant::now(), started.elapsed()));
                    ids.extend(batch);
                    b += 1;
                }
                ids
            }));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let prune_started = Instant::now();
        let report = retention::prune(&db.store, now - 90 * DAY, PruneOptions::default())
            .await
            .unwrap();
        let prune_ended = Instant::now();
        pruning.store(false, std::sync::atomic::Ordering::SeqCst);
        let mut ingested = Vec::new();
        for c in clients {
            ingested.extend(c.await.unwrap());
        }

        assert_eq!(report.requests, OLD_ROWS as u64);
        assert!(report.batches >= (OLD_ROWS / 5_000) as u64, "{report:?}");
        // Every acknowledged event is stored, and nothing else is left.
        assert_eq!(rows(db, Prunable::Requests).await, ingested.len() as u64);
        for id in ingested.iter().step_by(7) {
            assert!(db.store.request_exists(id).await.unwrap(), "{id}");
        }
        // The prune yielded: ingest calls completed while it ran, none waited for it all.
        let calls = calls.lock().unwrap().clone();
        let took = prune_ended - prune_started;
        let during = calls
            .iter()
            .filter(|(ended, _)| *ended > prune_started && *ended < prune_ended)
            .count();
        let slowest = calls.iter().map(|(_, d)| *d).max().unwrap_or_default();
        eprintln!(
            "{:?}: pruned {} rows in {} batches in {took:?}; {} ingest calls, {during} during the prune, slowest {slowest:?}",
            db.backend(),
            report.requests,
            report.batches,
            calls.len()
        );
        assert!(
            during >= 4,
            "only {during} ingest calls ended during a {took:?} prune"
        );
        assert!(
            slowest < took / 2 || slowest < Duration::from_millis(500),
            "an ingest call took {slowest:?} during a {took:?} prune"
        );
    }
);
