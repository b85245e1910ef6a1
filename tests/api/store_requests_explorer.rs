//! The requests explorer's queries on both databases: every filter, every sort, keyset
//! pages that visit each row once, and one request in detail.

use crate::common;

use common::fixture::request;
use sightline::store::{NewFeedback, NewRequest};
use sightline_app::requests::{
    FeedbackEntry, RequestFilter, RequestPage, RequestRecord, RequestSort, SessionSummary,
    StatusClass,
};
use sightline_app::units::{EpochMillis, Micros};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const STATUSES: [i32; 5] = [200, 200, 302, 404, 500];

/// Request `i` of the fixture (0..30, one a second from T0):
/// status `STATUSES[i % 5]`; model gpt-4o / gpt-4o-mini / none by `i % 3`; chat
/// completions when `i` is even, else embeddings; user `user-<i % 4>` (none for 27);
/// country DE below 10, US below 20, else none; latency `(7i mod 10) * 10 + 0.5` ms
/// (each value three times); cost `(i % 4) * 1000` micro-dollars; errors say "upstream
/// timeout", but 13 says "rate 100% exceeded" and 23 "quota_limit reached"; 0, 1, 2 are
/// in session `sess-A`.
fn fixture(i: i64) -> NewRequest {
    let mut r = request(
        &format!("r{i:02}"),
        T0 + i * 1000,
        STATUSES[(i % 5) as usize],
    );
    r.model_name = match i % 3 {
        0 => Some("gpt-4o".into()),
        1 => Some("gpt-4o-mini".into()),
        _ => None,
    };
    r.endpoint = if i % 2 == 0 {
        "/v1/chat/completions".into()
    } else {
        "/v1/embeddings".into()
    };
    r.user_id = (i != 27).then(|| format!("user-{}", i % 4));
    r.country = match i {
        0..10 => Some("DE".into()),
        10..20 => Some("US".into()),
        _ => None,
    };
    r.latency_ms = ((i * 7) % 10) as f64 * 10.0 + 0.5;
    r.cost_micros = Micros((i % 4) * 1000);
    r.error = match i {
        13 => Some("rate 100% exceeded".into()),
        23 => Some("quota_limit reached".into()),
        _ if r.status_code >= 400 => Some("upstream timeout".into()),
        _ => None,
    };
    if i < 3 {
        r.session_id = Some("sess-A".into());
    }
    r
}

async fn seed(db: &common::TestDb) -> Vec<NewRequest> {
    let rows: Vec<NewRequest> = (0..30).map(fixture).collect();
    db.store.record_requests(&rows).await.unwrap();
    rows
}

/// Which fixture rows a filter should keep.
type Keep = Box<dyn Fn(&NewRequest) -> bool>;

fn ids(page: &RequestPage) -> Vec<String> {
    page.rows.iter().map(|r| r.request_id.clone()).collect()
}

/// The request ids of the fixture rows that `keep` accepts, newest first.
fn newest_first(rows: &[NewRequest], keep: impl Fn(&NewRequest) -> bool) -> Vec<String> {
    rows.iter()
        .rev()
        .filter(|r| keep(r))
        .map(|r| r.request_id.clone())
        .collect()
}

storage_test!(each_filter_keeps_exactly_its_rows, |db| async move {
    let rows = seed(db).await;
    let matching = |filter: RequestFilter| async move {
        ids(&db.store.request_page(&filter, None, 100).await.unwrap())
    };
    let cases: Vec<(RequestFilter, usize, Keep)> = vec![
        (RequestFilter::default(), 30, Box::new(|_| true)),
        (
            RequestFilter {
                since: Some(EpochMillis(T0 + 10_000)),
                until: Some(EpochMillis(T0 + 20_000)),
                ..Default::default()
            },
            10,
            Box::new(|r| (T0 + 10_000..T0 + 20_000).contains(&r.created_at)),
        ),
        (
            RequestFilter {
                status: Some(StatusClass::Success),
                ..Default::default()
            },
            12,
            Box::new(|r| r.status_code == 200),
        ),
        (
            RequestFilter {
                status: Some(StatusClass::Redirect),
                ..Default::default()
            },
            6,
            Box::new(|r| r.status_code == 302),
        ),
        (
            RequestFilter {
                status: Some(StatusClass::ClientError),
                ..Default::default()
            },
            6,
            Box::new(|r| r.status_code == 404),
        ),
        (
            RequestFilter {
                status: Some(StatusClass::ServerError),
                ..Default::default()
            },
            6,
            Box::new(|r| r.status_code == 500),
        ),
        (
            RequestFilter {
                status: Some(StatusClass::Errors),
                ..Default::default()
            },
            12,
            Box::new(|r| r.status_code >= 400),
        ),
        (
            RequestFilter {
                model: Some("gpt-4o".into()),
                ..Default::default()
            },
            10,
            Box::new(|r| r.model_name.as_deref() == Some("gpt-4o")),
        ),
        (
            RequestFilter {
                endpoint: Some("/v1/embeddings".into()),
                ..Default::default()
            },
            15,
            Box::new(|r| r.endpoint == "/v1/embeddings"),
        ),
        (
            RequestFilter {
                user: Some("user-3".into()),
                ..Default::default()
            },
            6,
            Box::new(|r| r.user_id.as_deref() == Some("user-3")),
        ),
        (
            RequestFilter {
                country: Some("US".into()),
                ..Default::default()
            },
            10,
            Box::new(|r| r.country.as_deref() == Some("US")),
        ),
        // Text: part of the endpoint or the error, any case.
        (
            RequestFilter {
                text: Some("EMBED".into()),
                ..Default::default()
            },
            15,
            Box::new(|r| r.endpoint.contains("embed")),
        ),
        (
            RequestFilter {
                text: Some("Timeout".into()),
                ..Default::default()
            },
            10,
            Box::new(|r| r.error.as_deref() == Some("upstream timeout")),
        ),
        // LIKE's wildcards are plain characters.
        (
            RequestFilter {
                text: Some("%".into()),
                ..Default::default()
            },
            1,
            Box::new(|r| r.request_id == "r13"),
        ),
        (
            RequestFilter {
                text: Some("100% e".into()),
                ..Default::default()
            },
            1,
            Box::new(|r| r.request_id == "r13"),
        ),
        (
            RequestFilter {
                text: Some("_".into()),
                ..Default::default()
            },
            1,
            Box::new(|r| r.request_id == "r23"),
        ),
        (
            RequestFilter {
                text: Some("a_l".into()),
                ..Default::default()
            },
            1,
            Box::new(|r| r.request_id == "r23"),
        ),
        (
            RequestFilter {
                // As a wildcard it would match "upstream timeout".
                text: Some("o_t".into()),
                ..Default::default()
            },
            0,
            Box::new(|_| false),
        ),
        // A client-given session, exactly; within a span, as its drill-down link asks.
        (
            RequestFilter {
                session: Some("sess-A".into()),
                ..Default::default()
            },
            3,
            Box::new(|r| r.session_id.as_deref() == Some("sess-A")),
        ),
        (
            RequestFilter {
                session: Some("sess-A".into()),
                since: Some(EpochMillis(T0 + 1000)),
                until: Some(EpochMillis(T0 + 2001)),
                ..Default::default()
            },
            2,
            Box::new(|r| ["r01", "r02"].contains(&r.request_id.as_str())),
        ),
        (
            RequestFilter {
                session: Some("sess".into()),
                ..Default::default()
            },
            0,
            Box::new(|_| false),
        ),
        // Filters combine with AND: 5xx on chat completions from DE: 4 only.
        (
            RequestFilter {
                status: Some(StatusClass::ServerError),
                endpoint: Some("/v1/chat/completions".into()),
                country: Some("DE".into()),
                ..Default::default()
            },
            1,
            Box::new(|r| r.request_id == "r04"),
        ),
    ];
    for (filter, count, keep) in cases {
        let got = matching(filter.clone()).await;
        assert_eq!(got, newest_first(&rows, keep), "{filter:?}");
        assert_eq!(got.len(), count, "{filter:?}");
    }
});

storage_test!(each_sort_orders_by_its_value_then_newest, |db| async move {
    let rows = seed(db).await;
    let page = |sort| async move {
        let filter = RequestFilter {
            sort,
            ..Default::default()
        };
        db.store.request_page(&filter, None, 100).await.unwrap()
    };
    let by_time = page(RequestSort::Time).await;
    assert_eq!(ids(&by_time), newest_first(&rows, |_| true));
    let first = &by_time.rows[0];
    assert_eq!(
        (
            first.method.as_str(),
            first.endpoint.as_str(),
            first.status,
            first.model.as_deref(),
            first.tokens,
            first.cost_micros.micros(),
            first.latency_ms,
            first.user_id.as_deref(),
            first.country.as_deref(),
            first.created_at.ms(),
        ),
        (
            "POST",
            "/v1/embeddings",
            500,
            None,
            150,
            1000,
            30.5,
            Some("user-1"),
            None,
            T0 + 29_000
        )
    );
    assert_eq!(by_time.next, None);

    // Latency 90.5 ms: 7, 17, 27; 80.5 ms: 4, 14, 24; … newest first among equals.
    let by_latency = ids(&page(RequestSort::Latency).await);
    assert_eq!(
        &by_latency[..6],
        &["r27", "r17", "r07", "r24", "r14", "r04"]
    );
    let mut expected: Vec<&NewRequest> = rows.iter().collect();
    expected.sort_by(|a, b| {
        b.latency_ms
            .total_cmp(&a.latency_ms)
            .then(b.created_at.cmp(&a.created_at))
    });
    let expected: Vec<String> = expected.iter().map(|r| r.request_id.clone()).collect();
    assert_eq!(by_latency, expected);

    // Cost 3000: 3, 7, 11, …, 27 (i % 4 == 3), newest first; then 2000, 1000, 0.
    let by_cost = ids(&page(RequestSort::Cost).await);
    assert_eq!(&by_cost[..3], &["r27", "r23", "r19"]);
    let mut expected: Vec<&NewRequest> = rows.iter().collect();
    expected.sort_by(|a, b| {
        b.cost_micros
            .cmp(&a.cost_micros)
            .then(b.created_at.cmp(&a.created_at))
    });
    let expected: Vec<String> = expected.iter().map(|r| r.request_id.clone()).collect();
    assert_eq!(by_cost, expected);
});

storage_test!(
    keyset_pages_visit_every_row_once_in_order,
    |db| async move {
        seed(db).await;
        for (sort, status) in [
            (RequestSort::Time, None),
            (RequestSort::Latency, None),
            (RequestSort::Cost, None),
            (RequestSort::Latency, Some(StatusClass::Errors)),
            (RequestSort::Cost, Some(StatusClass::Success)),
        ] {
            let filter = RequestFilter {
                sort,
                status,
                ..Default::default()
            };
            let all = ids(&db.store.request_page(&filter, None, 100).await.unwrap());
            let mut walked = Vec::new();
            let mut sizes = Vec::new();
            let mut after = None;
            loop {
                let page = db.store.request_page(&filter, after, 7).await.unwrap();
                sizes.push(page.rows.len());
                walked.extend(ids(&page));
                match page.next {
                    // The cursor survives the trip through the URL.
                    Some(c) => {
                        after = Some(
                            sightline_app::requests::RequestCursor::parse(&c.to_param(), sort)
                                .unwrap(),
                        )
                    }
                    None => break,
                }
            }
            assert_eq!(walked, all, "{filter:?}");
            let mut expected_sizes = vec![7; all.len() / 7];
            if !all.len().is_multiple_of(7) {
                expected_sizes.push(all.len() % 7);
            }
            assert_eq!(sizes, expected_sizes, "{filter:?}");
        }
        // A page that ends exactly at the last row says there is no next page.
        let filter = RequestFilter {
            status: Some(StatusClass::Redirect),
            ..Default::default()
        };
        let page = db.store.request_page(&filter, None, 6).await.unwrap();
        assert_eq!((page.rows.len(), page.next), (6, None));
    }
);

storage_test!(
    detail_has_every_field_its_session_and_its_ratings,
    |db| async move {
        let rows = seed(db).await;
        assert_eq!(db.store.request_detail("nope").await.unwrap(), None);

        // r00 names its session.
        let d = db.store.request_detail("r00").await.unwrap().unwrap();
        let f = rows[0].clone();
        assert_eq!(
            d.request,
            RequestRecord {
                id: d.request.id,
                request_id: "r00".into(),
                created_at: EpochMillis(T0),
                kind: "api".into(),
                service: None,
                endpoint: "/v1/chat/completions".into(),
                method: "POST".into(),
                status_code: 200,
                latency_ms: 0.5,
                ttft_ms: None,
                model_name: Some("gpt-4o".into()),
                prompt_tokens: 100,
                completion_tokens: 50,
                cache_read_tokens: 0,
                cache_write_tokens: 0,
                reasoning_tokens: 0,
                cost_micros: Micros(0),
                finish_reason: Some("stop".into()),
                user_id: Some("user-0".into()),
                session_id: Some("sess-A".into()),
                is_authenticated: true,
                ip: f.ip,
                country: Some("DE".into()),
                user_agent: f.user_agent,
                request_bytes: Some(512),
                response_bytes: Some(2048),
                error: None,
                metadata: None,
            }
        );
        // Every column reads back, the optional ones too.
        let mut full = request("full", T0 - 5000, 503);
        full.kind = sightline_tracker::wire::RequestKind::External;
        full.service = Some("openai".into());
        full.ttft_ms = Some(12.25);
        full.session_id = None;
        full.user_id = None;
        full.error = Some("bad gateway".into());
        full.metadata = Some(r#"{"attempt":2}"#.into());
        db.store.record_requests(&[full]).await.unwrap();
        let d2 = db.store.request_detail("full").await.unwrap().unwrap();
        assert_eq!(
            (
                d2.request.kind.as_str(),
                d2.request.service.as_deref(),
                d2.request.ttft_ms,
                d2.request.error.as_deref(),
                d2.request.metadata.as_deref(),
                d2.session,
            ),
            (
                "external",
                Some("openai"),
                Some(12.25),
                Some("bad gateway"),
                Some(r#"{"attempt":2}"#),
                None
            )
        );
        assert_eq!(
            d.session,
            Some(SessionSummary {
                session_key: "sess-A".into(),
                user_id: Some("user-0".into()),
                inferred: false,
                started_at: EpochMillis(T0),
                last_seen_at: EpochMillis(T0 + 2000),
                request_count: 3,
                error_count: 0,
                tokens: 450,
                cost_micros: Micros(3000),
            })
        );
        assert!(d.feedback.is_empty());

        // r05 has none: it is in user-1's inferred session (5, 9, 13, …, 29).
        let d = db.store.request_detail("r05").await.unwrap().unwrap();
        assert_eq!(
            d.session,
            Some(SessionSummary {
                session_key: format!("user-1@{}", T0 + 5000),
                user_id: Some("user-1".into()),
                inferred: true,
                started_at: EpochMillis(T0 + 5000),
                last_seen_at: EpochMillis(T0 + 29_000),
                request_count: 7,
                error_count: 3,
                tokens: 1050,
                cost_micros: Micros(7000),
            })
        );
        // r27 has no user and no session id: no session.
        let d = db.store.request_detail("r27").await.unwrap().unwrap();
        assert_eq!((d.request.user_id, d.session), (None, None));

        // Ratings: all of them, most recently changed first, with their comments.
        db.store
            .record_feedback(&[
                NewFeedback {
                    request_id: "r05".into(),
                    user_id: "user-1".into(),
                    rating: 4,
                    comment: Some("<b>good</b>".into()),
                    created_at: T0 + 60_000,
                },
                NewFeedback {
                    request_id: "r05".into(),
                    user_id: "sightline:vera".into(),
                    rating: 2,
                    comment: None,
                    created_at: T0 + 61_000,
                },
                NewFeedback {
                    request_id: "r06".into(),
                    user_id: "user-2".into(),
                    rating: 5,
                    comment: None,
                    created_at: T0 + 62_000,
                },
            ])
            .await
            .unwrap();
        let d = db.store.request_detail("r05").await.unwrap().unwrap();
        assert_eq!(
            d.feedback,
            vec![
                FeedbackEntry {
                    user_id: "sightline:vera".into(),
                    rating: 2,
                    comment: None,
                    created_at: EpochMillis(T0 + 61_000),
                    updated_at: EpochMillis(T0 + 61_000),
                },
                FeedbackEntry {
                    user_id: "user-1".into(),
                    rating: 4,
                    comment: Some("<b>good</b>".into()),
                    created_at: EpochMillis(T0 + 60_000),
                    updated_at: EpochMillis(T0 + 60_000),
                },
            ]
        );
        assert_eq!(
            d.my_rating, None,
            "the caller picks the account's own rating"
        );
    }
);

/// The query plan of `sql` as one text: SQLite's `EXPLAIN QUERY PLAN` details, or
/// PostgreSQL's `EXPLAIN` lines (sequential scans off, so the choice is between indexes).
async fn query_plan(db: &common::TestDb, sql: &str) -> String {
    use sqlx::{Executor, Row};
    let mut conn = db.connection().await;
    let (explain, column) = match db.backend() {
        common::Backend::Sqlite => ("EXPLAIN QUERY PLAN", 3),
        common::Backend::Postgres => {
            conn.execute("ANALYZE request_log").await.unwrap();
            conn.execute("SET enable_seqscan = off").await.unwrap();
            ("EXPLAIN", 0)
        }
    };
    let rows = sqlx::query(&format!("{explain} {sql}"))
        .fetch_all(&mut conn)
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String, _>(column).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

storage_test!(
    the_session_drill_down_reads_the_session_index,
    |db| async move {
        seed(db).await;
        // Many other sessions' requests in the same span, so a scan of the span by time
        // alone would read far more rows than the session has.
        let others: Vec<NewRequest> = (0..400)
            .map(|i| {
                let mut r = request(&format!("other-{i}"), T0 + (i % 30) * 1000, 200);
                r.session_id = Some(format!("sess-{}", i % 40));
                r
            })
            .collect();
        db.store.record_requests(&others).await.unwrap();

        // What `/requests?session=sess-A&since=…&until=…` reads (the explorer's WHERE
        // and ORDER BY for this filter, see `request_page`).
        let filter = RequestFilter {
            session: Some("sess-A".into()),
            since: Some(EpochMillis(T0)),
            until: Some(EpochMillis(T0 + 30_000)),
            ..Default::default()
        };
        let page = db.store.request_page(&filter, None, 50).await.unwrap();
        assert_eq!(ids(&page), ["r02", "r01", "r00"]);
        let sql = format!(
            "SELECT id, request_id, created_at FROM request_log \
             WHERE created_at >= {} AND created_at < {} AND session_id = 'sess-A' \
             ORDER BY created_at DESC, id DESC LIMIT 51",
            T0,
            T0 + 30_000
        );
        let plan = query_plan(db, &sql).await;
        assert!(
            plan.contains("request_log_session_created"),
            "the drill-down should use the (session_id, created_at) index:\n{plan}"
        );
    }
);
