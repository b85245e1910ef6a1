//! The sessions and users views' queries on both databases: the sessions and users
//! the real ingest path makes, every filter and sort, keyset pages that visit each row
//! once in order, and one user in detail.

use crate::common;

use common::TestDb;
use common::fixture::request;
use sightline::store::NewRequest;
use sightline_app::export::SessionFilter;
use sightline_app::sessions::SessionPage;
use sightline_app::units::{EpochMillis, Micros};
use sightline_app::users::{UserDetail, UserFilter, UserPage, UserRow, UserSort};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// A request of `user` (none: anonymous) in `session` (none: inferred) at `t`.
fn req(
    id: &str,
    t: i64,
    status: i32,
    user: Option<&str>,
    session: Option<&str>,
    cost: i64,
) -> NewRequest {
    let mut r = request(id, t, status);
    r.user_id = user.map(str::to_owned);
    r.session_id = session.map(str::to_owned);
    r.cost_micros = Micros(cost);
    r.ip = Some(format!("198.51.100.{}", id.trim_start_matches('r')));
    r
}

/// Every request has 150 tokens. Sessions, newest started first:
/// - `u-e@T0+5h` and `u-d@T0+5h` (inferred, one request each, $0.000005),
/// - `sess-2` (u-c, T0+5h, one request, $0.000005),
/// - `u-b@T0+4h` (inferred, one request, $0.001),
/// - `u-a@T0+1h` (inferred, T0+1h..T0+1h10m, 2 requests, $0.00002),
/// - `u-b@T0+1s` (inferred, T0+1s..T0+2s, 2 requests, a 404, $0.002),
/// - `sess-1` (u-a, T0..T0+2min, 3 requests, a 500, $0.0006).
///
/// The anonymous request belongs to no session and no user. The three sessions at
/// T0+5h are stored in three batches, so their ids rise in the order above, reversed.
async fn seed(db: &TestDb) {
    let batches = [
        vec![
            req("r1", T0, 200, Some("u-a"), Some("sess-1"), 100),
            req("r2", T0 + MIN, 500, Some("u-a"), Some("sess-1"), 200),
            req("r3", T0 + 2 * MIN, 200, Some("u-a"), Some("sess-1"), 300),
            req("r4", T0 + HOUR, 200, Some("u-a"), None, 10),
            req("r5", T0 + HOUR + 10 * MIN, 200, Some("u-a"), None, 10),
            req("r6", T0 + 1000, 200, Some("u-b"), None, 1000),
            req("r7", T0 + 2000, 404, Some("u-b"), None, 1000),
            req("r8", T0 + 4 * HOUR, 200, Some("u-b"), None, 1000),
            req("r10", T0 + 500, 200, None, None, 1),
        ],
        vec![req(
            "r9",
            T0 + 5 * HOUR,
            200,
            Some("u-c"),
            Some("sess-2"),
            5,
        )],
        vec![req("r11", T0 + 5 * HOUR, 200, Some("u-d"), None, 5)],
        vec![req("r12", T0 + 5 * HOUR, 200, Some("u-e"), None, 5)],
    ];
    for batch in batches {
        db.store.record_requests(&batch).await.unwrap();
    }
}

/// The keys of the sessions, newest started first.
const ALL_SESSIONS: [&str; 7] = [
    "u-e@1767243600000",
    "u-d@1767243600000",
    "sess-2",
    "u-b@1767240000000",
    "u-a@1767229200000",
    "u-b@1767225601000",
    "sess-1",
];

fn keys(page: &SessionPage) -> Vec<String> {
    page.rows
        .iter()
        .map(|r| r.session.session_key.clone())
        .collect()
}

fn user_ids(page: &UserPage) -> Vec<String> {
    page.rows.iter().map(|r| r.user_id.clone()).collect()
}

storage_test!(sessions_are_filtered_newest_first, |db| async move {
    seed(db).await;
    let matching = |filter: SessionFilter| async move {
        keys(&db.store.session_page(&filter, None, 100).await.unwrap())
    };
    assert_eq!(matching(SessionFilter::default()).await, ALL_SESSIONS);
    let u_b = SessionFilter {
        user: Some("u-b".into()),
        ..Default::default()
    };
    assert_eq!(
        matching(u_b).await,
        ["u-b@1767240000000", "u-b@1767225601000"]
    );
    let since = SessionFilter {
        since: Some(EpochMillis(T0 + HOUR)),
        ..Default::default()
    };
    assert_eq!(matching(since).await, ALL_SESSIONS[..5]);
    let both = SessionFilter {
        since: Some(EpochMillis(T0 + 1000)),
        user: Some("u-a".into()),
    };
    assert_eq!(matching(both).await, ["u-a@1767229200000"]);
    let nobody = SessionFilter {
        user: Some("u".into()),
        ..Default::default()
    };
    assert_eq!(matching(nobody).await, Vec::<String>::new());

    // What each row says, from the real ingest path.
    let page = db
        .store
        .session_page(&SessionFilter::default(), None, 100)
        .await
        .unwrap();
    let sess_1 = &page.rows[6];
    assert_eq!(
        (
            sess_1.session.user_id.as_deref(),
            sess_1.session.inferred,
            sess_1.session.started_at.ms(),
            sess_1.session.last_seen_at.ms(),
            sess_1.session.request_count,
            sess_1.session.error_count,
            sess_1.session.tokens,
            sess_1.session.cost_micros.micros(),
            sess_1.ip.as_deref(),
        ),
        (
            Some("u-a"),
            false,
            T0,
            T0 + 2 * MIN,
            3,
            1,
            450,
            600,
            Some("198.51.100.1")
        )
    );
    let inferred = &page.rows[5];
    assert_eq!(
        (
            inferred.session.user_id.as_deref(),
            inferred.session.inferred,
            inferred.session.started_at.ms(),
            inferred.session.last_seen_at.ms(),
            inferred.session.request_count,
            inferred.session.error_count,
            inferred.session.tokens,
            inferred.session.cost_micros.micros(),
            inferred.ip.as_deref(),
        ),
        (
            Some("u-b"),
            true,
            T0 + 1000,
            T0 + 2000,
            2,
            1,
            300,
            2000,
            Some("198.51.100.6")
        )
    );
});

storage_test!(
    session_pages_visit_every_session_once_in_order,
    |db| async move {
        seed(db).await;
        for (filter, expected) in [
            (SessionFilter::default(), ALL_SESSIONS.to_vec()),
            (
                SessionFilter {
                    user: Some("u-a".into()),
                    ..Default::default()
                },
                vec!["u-a@1767229200000", "sess-1"],
            ),
        ] {
            for limit in [1, 2, 3, 7] {
                let mut seen = Vec::new();
                let mut after = None;
                let mut pages = 0;
                loop {
                    let page = db.store.session_page(&filter, after, limit).await.unwrap();
                    assert!(page.rows.len() as i64 <= limit);
                    seen.extend(keys(&page));
                    pages += 1;
                    match page.next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                assert_eq!(seen, expected, "{filter:?}, {limit} a page");
                assert_eq!(pages, expected.len().div_ceil(limit as usize), "{limit}");
            }
        }
    }
);

storage_test!(users_are_filtered_and_sorted, |db| async move {
    seed(db).await;
    let matching = |filter: UserFilter| async move {
        user_ids(&db.store.user_page(&filter, None, 100).await.unwrap())
    };
    let sorted = |sort: UserSort| UserFilter { search: None, sort };
    // Ties (u-c, u-d, u-e: one request at T0+5h, $0.000005 each) go by user id, descending.
    assert_eq!(
        matching(sorted(UserSort::Cost)).await,
        ["u-b", "u-a", "u-e", "u-d", "u-c"]
    );
    assert_eq!(
        matching(sorted(UserSort::Requests)).await,
        ["u-a", "u-b", "u-e", "u-d", "u-c"]
    );
    assert_eq!(
        matching(sorted(UserSort::LastSeen)).await,
        ["u-e", "u-d", "u-c", "u-b", "u-a"]
    );
    let search = |text: &str| UserFilter {
        search: Some(text.into()),
        sort: UserSort::Cost,
    };
    assert_eq!(matching(search("U-B")).await, ["u-b"]);
    assert_eq!(matching(search("-")).await.len(), 5);
    // LIKE's wildcards are plain characters.
    assert_eq!(matching(search("%")).await, Vec::<String>::new());
    assert_eq!(matching(search("u_a")).await, Vec::<String>::new());

    let page = db
        .store
        .user_page(&sorted(UserSort::Cost), None, 100)
        .await
        .unwrap();
    assert_eq!(
        page.rows[..2],
        [
            UserRow {
                user_id: "u-b".into(),
                first_seen_at: EpochMillis(T0 + 1000),
                last_seen_at: EpochMillis(T0 + 4 * HOUR),
                requests: 3,
                errors: 1,
                tokens: 450,
                cost_micros: Micros(3000),
                provider_calls: 0,
                provider_cost_micros: Micros(0),
            },
            UserRow {
                user_id: "u-a".into(),
                first_seen_at: EpochMillis(T0),
                last_seen_at: EpochMillis(T0 + HOUR + 10 * MIN),
                requests: 5,
                errors: 1,
                tokens: 750,
                cost_micros: Micros(620),
                provider_calls: 0,
                provider_cost_micros: Micros(0),
            },
        ]
    );
});

storage_test!(user_pages_visit_every_user_once_in_order, |db| async move {
    seed(db).await;
    for sort in UserSort::ALL {
        let filter = UserFilter { search: None, sort };
        let all = user_ids(&db.store.user_page(&filter, None, 100).await.unwrap());
        assert_eq!(all.len(), 5);
        for limit in [1, 2, 3, 5] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = db.store.user_page(&filter, after, limit).await.unwrap();
                assert!(page.rows.len() as i64 <= limit);
                seen.extend(user_ids(&page));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, all, "{sort:?}, {limit} a page");
        }
    }
});

storage_test!(a_user_in_detail, |db| async move {
    seed(db).await;
    let UserDetail { user, sessions, .. } = db.store.user_detail("u-a", 20).await.unwrap().unwrap();
    assert_eq!(
        (
            user.requests,
            user.errors,
            user.tokens,
            user.cost_micros.micros()
        ),
        (5, 1, 750, 620)
    );
    let sessions: Vec<_> = sessions
        .iter()
        .map(|s| {
            (
                s.session.session_key.as_str(),
                s.session.request_count,
                s.session.cost_micros.micros(),
            )
        })
        .collect();
    assert_eq!(sessions, [("u-a@1767229200000", 2, 20), ("sess-1", 3, 600)]);
    // At most as many sessions as asked, latest first.
    let detail = db.store.user_detail("u-b", 1).await.unwrap().unwrap();
    let latest: Vec<_> = detail
        .sessions
        .iter()
        .map(|s| s.session.session_key.as_str())
        .collect();
    assert_eq!(latest, ["u-b@1767240000000"]);
    assert_eq!(db.store.user_detail("nobody", 20).await.unwrap(), None);
    assert_eq!(db.store.user_detail("u", 20).await.unwrap(), None);
});
