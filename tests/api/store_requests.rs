//! The request log on both databases: idempotent inserts and bucketed counts.

use crate::common;

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
/// The rollup rows of the first hour from T0.
const FIRST_HOUR: Buckets = Buckets {
    grain: HOUR,
    start: T0,
    end: T0 + HOUR,
};

use common::fixture::request;
use sightline::store::Buckets;

storage_test!(inserts_are_idempotent_on_request_id, |db| async move {
    let rows = vec![request("a", T0, 200), request("b", T0 + 1, 500)];
    assert_eq!(
        db.store.record_requests(&rows).await.unwrap(),
        vec![true, true]
    );
    // A retry of the same batch plus one new row: only the new row is stored.
    let retry = vec![
        request("a", T0, 200),
        request("b", T0 + 1, 500),
        request("c", T0 + 2, 200),
    ];
    assert_eq!(
        db.store.record_requests(&retry).await.unwrap(),
        vec![false, false, true]
    );
    let counts = db.store.request_counts(T0, T0 + HOUR, HOUR).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].ok, counts[0].errors), (2, 1));
});

storage_test!(counts_are_bucketed_by_hour_and_outcome, |db| async move {
    let rows = vec![
        request("1", T0, 200),
        request("2", T0 + HOUR - 1, 404),
        request("3", T0 + HOUR, 200),
        request("4", T0 + HOUR + 10, 399),
        request("5", T0 + 3 * HOUR, 503),
        request("outside", T0 + 5 * HOUR, 200),
    ];
    db.store.record_requests(&rows).await.unwrap();
    let counts = db
        .store
        .request_counts(T0, T0 + 4 * HOUR, HOUR)
        .await
        .unwrap();
    let got: Vec<_> = counts
        .iter()
        .map(|c| (c.bucket_start - T0, c.ok, c.errors))
        .collect();
    assert_eq!(got, vec![(0, 1, 1), (HOUR, 2, 0), (3 * HOUR, 0, 1)]);
});

storage_test!(large_batches_span_several_statements, |db| async move {
    // More rows than one INSERT statement carries, with a duplicate across chunks.
    let mut rows: Vec<_> = (0..1203)
        .map(|i| request(&format!("r{i}"), T0 + i, 200))
        .collect();
    rows.push(request("r7", T0 + 7, 200));
    let fresh = db.store.record_requests(&rows).await.unwrap();
    assert_eq!(fresh.iter().filter(|f| **f).count(), 1203);
    assert!(!fresh[1203]);
    let counts = db.store.request_counts(T0, T0 + HOUR, HOUR).await.unwrap();
    assert_eq!(counts[0].ok, 1203);
});

storage_test!(
    ingest_batches_mixing_new_and_duplicate_rows_count_each_once,
    |db| async move {
        // Through the store's ingest insert (one statement a row on SQLite, one set-based
        // statement on PostgreSQL): duplicates of stored rows and repeats within the batch
        // are told apart from new rows, and only the first row of an id is counted.
        db.store
            .record_requests(&[request("a", T0, 200), request("b", T0 + 1, 200)])
            .await
            .unwrap();
        let batch = vec![
            request("a", T0 + 2, 500),
            request("c", T0 + 3, 200),
            request("c", T0 + 4, 500),
            request("d", T0 + 5, 500),
            request("b", T0 + 6, 500),
            request("e", T0 + 7, 200),
        ];
        let fresh = db.store.record_requests(&batch).await.unwrap();
        assert_eq!(fresh, vec![false, true, false, true, false, true]);
        // Raw rows: a, b, c (200), d (500), e.
        let counts = db.store.request_counts(T0, T0 + HOUR, HOUR).await.unwrap();
        assert_eq!((counts[0].ok, counts[0].errors), (4, 1));
        // Rollups: the same five requests, one failed.
        let traffic = db.store.traffic(FIRST_HOUR).await.unwrap();
        let requests: i64 = traffic.iter().map(|b| b.sums.requests).sum();
        let errors: i64 = traffic.iter().map(|b| b.sums.errors).sum();
        assert_eq!((requests, errors), (5, 1));
        // A whole batch of duplicates stores and counts nothing.
        let again = db.store.record_requests(&batch).await.unwrap();
        assert_eq!(again, vec![false; 6]);
        let traffic = db.store.traffic(FIRST_HOUR).await.unwrap();
        assert_eq!(traffic.iter().map(|b| b.sums.requests).sum::<i64>(), 5);
    }
);
