//! Hardening: the tables that grew forever are pruned by the retention job too (issue
//! 15, item 14), in the same short batches, and the dashboard's figures stay the same.
//! What goes, with a cutoff of `now - retention`:
//! - resolved threats last seen and resolved before the cutoff (open ones stay);
//! - sessions last seen more than 30 minutes (one inactivity gap) before the cutoff;
//! - platform users last seen before the cutoff;
//! - per-user rollups: hourly rows before the cutoff or 15 days, whichever is older;
//!   daily rows before the cutoff or 181 days (every preset range and the period
//!   before it keeps its users);
//! - resolved alerts resolved before the cutoff; ratings last changed before it.

use crate::common;

use common::TestDb;
use common::fixture::{now_ms, request};
use sightline::jobs::retention::{self, PruneOptions};
use sightline::store::{NewAlert, NewAuthEvent, NewFeedback, NewThreat};
use sightline_app::range::{RangeKind, TimeRange};
use sightline_app::units::{EpochMillis, Micros};
use sightline_tracker::wire::{AuthEventType, Severity, ThreatType};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

async fn count(db: &TestDb, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut db.connection().await)
        .await
        .unwrap()
}

/// Rows of each pruned table, in a fixed order.
async fn counts(db: &TestDb) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in [
        "request_log",
        "auth_event",
        "threat_log",
        "user_session",
        "tracked_user",
        "rollup_user WHERE bucket_ms = 3600000",
        "rollup_user WHERE bucket_ms = 86400000",
        "alerts",
        "feedback_log",
        "user_provider_cost",
    ] {
        out.push((table, count(db, table).await));
    }
    out
}

fn threat(t: i64, ip: &str) -> NewThreat {
    NewThreat {
        created_at: t,
        threat_type: ThreatType::Xss,
        severity: Severity::High,
        ip: Some(ip.into()),
        user_id: None,
        country: None,
        endpoint: None,
        request_id: None,
        description: String::new(),
    }
}

fn alert(key: &str, at: i64) -> NewAlert {
    NewAlert {
        key: key.into(),
        rule: "error_burst".into(),
        severity: Severity::High,
        title: key.into(),
        description: String::new(),
        endpoint: None,
        value: 20.0,
        threshold: 10.0,
        at,
    }
}

fn rating(request_id: &str, t: i64) -> NewFeedback {
    NewFeedback {
        request_id: request_id.into(),
        user_id: "rater".into(),
        rating: 4,
        comment: None,
        created_at: t,
    }
}

async fn reports(db: &TestDb, now: i64) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let budgets = sightline::budgets::Budgets::new(db.store.clone(), Default::default());
    for kind in RangeKind::PRESETS {
        let range = TimeRange::preset(kind, EpochMillis(now));
        let report = sightline::dashboard::report(&db.store, &budgets, &range, EpochMillis(now))
            .await
            .unwrap();
        out.push(serde_json::to_value(report).unwrap());
    }
    out
}

storage_test!(the_prune_bounds_every_growing_table, |db| async move {
    let now = now_ms();
    let cutoff = now - 30 * DAY;
    let with_user = |id: &str, t: i64, user: Option<&str>| {
        let mut r = request(id, t, 200);
        r.user_id = user.map(str::to_owned);
        r
    };
    let mut explicit = with_user("sess-old", cutoff - DAY, None);
    explicit.session_id = Some("s-old".into());
    db.store
        .record_requests(&[
            with_user("ancient", now - 200 * DAY, Some("ancient")),
            explicit,
            with_user("back-1", cutoff - 3 * HOUR, Some("back")),
            with_user("gone-1", cutoff - 2 * HOUR, Some("gone")),
            with_user("edge-1", cutoff - 10 * 60_000, Some("edge")),
            with_user("back-2", now - HOUR, Some("back")),
            with_user("recent", now - HOUR, Some("user-1")),
        ])
        .await
        .unwrap();
    // Provider calls made on users' behalf: gone's (inactive since before the cutoff:
    // pruned), back's (back since: kept) and calls-only's, a user seen only in provider
    // calls, the latest of them recent (kept).
    let call = |id: &str, t: i64, user: &str| {
        let mut r = with_user(id, t, Some(user));
        r.kind = sightline_tracker::wire::RequestKind::External;
        r.service = Some("openai".into());
        r.cost_micros = Micros(1_000);
        r
    };
    db.store
        .record_requests(&[
            call("call-gone", cutoff - 2 * HOUR, "gone"),
            call("call-back", cutoff - 3 * HOUR, "back"),
            call("call-only-old", cutoff - 4 * HOUR, "calls-only"),
            call("call-only-new", now - HOUR, "calls-only"),
        ])
        .await
        .unwrap();
    let login = |t: i64| NewAuthEvent {
        created_at: t,
        event_type: AuthEventType::Login,
        user_id: Some("back".into()),
        ip: None,
        user_agent: None,
        success: true,
        error: None,
        metadata: None,
    };
    db.store
        .record_auth_events(&[login(cutoff - DAY), login(now - HOUR)])
        .await
        .unwrap();

    let ids = db
        .store
        .record_threats(&[
            threat(cutoff - DAY, "198.51.100.1"),     // open, old: kept
            threat(cutoff - 2 * DAY, "198.51.100.2"), // resolved before the cutoff: pruned
            threat(cutoff - 2 * DAY, "198.51.100.3"), // resolved after it: kept
            threat(now - HOUR, "198.51.100.4"),       // open, recent: kept
        ])
        .await
        .unwrap();
    db.store
        .set_threats_resolved(&[ids[1]], true, "ada", cutoff - DAY)
        .await
        .unwrap();
    db.store
        .set_threats_resolved(&[ids[2]], true, "ada", now - DAY)
        .await
        .unwrap();

    for (key, fired, resolved) in [
        ("resolved-old", cutoff - 2 * DAY, Some(cutoff - DAY)), // pruned
        ("firing-old", cutoff - 2 * DAY, None),                 // kept
        ("resolved-recent", cutoff - 2 * DAY, Some(now - DAY)), // kept
    ] {
        db.store.fire_alert(&alert(key, fired)).await.unwrap();
        if let Some(at) = resolved {
            db.store.resolve_alert(key, 1.0, at).await.unwrap();
        }
    }

    db.store
        .record_feedback(&[
            rating("gone-1", cutoff - DAY),     // pruned
            rating("recent", now - HOUR),       // kept
            rating("back-1", cutoff - 2 * DAY), // changed since: kept
        ])
        .await
        .unwrap();
    db.store
        .record_feedback(&[NewFeedback {
            rating: 2,
            ..rating("back-1", now - HOUR)
        }])
        .await
        .unwrap();

    assert_eq!(
        counts(db).await,
        [
            ("request_log", 11),
            ("auth_event", 2),
            ("threat_log", 4),
            ("user_session", 7),
            ("tracked_user", 5),
            ("rollup_user WHERE bucket_ms = 3600000", 6),
            ("rollup_user WHERE bucket_ms = 86400000", 6),
            ("alerts", 3),
            ("feedback_log", 3),
            ("user_provider_cost", 3),
        ]
    );
    let before = reports(db, now).await;
    let options = PruneOptions {
        batch_rows: 2,
        pause: std::time::Duration::ZERO,
    };
    retention::prune(&db.store, cutoff, options).await.unwrap();
    assert_eq!(
        counts(db).await,
        [
            ("request_log", 3),
            ("auth_event", 1),
            ("threat_log", 3),
            // edge's session ended within one inactivity gap of the cutoff: kept,
            // so a late request of theirs would still extend it.
            ("user_session", 3),
            ("tracked_user", 2),
            ("rollup_user WHERE bucket_ms = 3600000", 2),
            ("rollup_user WHERE bucket_ms = 86400000", 5),
            ("alerts", 2),
            ("feedback_log", 2),
            ("user_provider_cost", 2),
        ]
    );
    let mut conn = db.connection().await;
    let users: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM tracked_user ORDER BY user_id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(users, ["back", "user-1"]);
    let paying: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM user_provider_cost ORDER BY user_id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(paying, ["back", "calls-only"]);
    let alerts: Vec<String> = sqlx::query_scalar("SELECT alert_key FROM alerts ORDER BY alert_key")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(alerts, ["firing-old", "resolved-recent"]);
    let threats: Vec<i64> = sqlx::query_scalar("SELECT id FROM threat_log ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(threats, [ids[0], ids[2], ids[3]]);

    // Every figure of every preset range is the same; the list of latest threats
    // lost the pruned one.
    let mut after = reports(db, now).await;
    for (b, a) in before.iter().zip(after.iter_mut()) {
        let latest: Vec<&serde_json::Value> = b["threats"]["latest"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["id"] != ids[1])
            .collect();
        assert_eq!(
            a["threats"]["latest"]
                .as_array()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            latest
        );
        a["threats"]["latest"] = b["threats"]["latest"].clone();
        assert_eq!(a, b);
    }

    // A second run finds nothing more.
    retention::prune(&db.store, cutoff, options).await.unwrap();
    assert_eq!(count(db, "user_session").await, 3);
});
