//! Hardening: the 10 000-event limit of one ingest body is enforced while the body is
//! read (issue 15, item 7): event 10 001 ends the parse with a 413, whatever follows
//! it, so a body of millions of tiny lines never becomes millions of error objects.

use crate::common;

use common::api::{error_of, key, post_ingest as post};
use common::{Backend, TestDb, TestServer};
use sightline::store::{Prunable, Scope};

const TOO_MANY: &str =
    "more than 10000 events in one body; the limit is 10000: send them in smaller batches";

const LOGIN: &str = r#"{"type":"auth_event","event_type":"login","user_id":"u"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_after_the_limit_ends_the_body_with_413() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db.url);
    let key = key(&db, &[Scope::Ingest]).await;
    let ndjson = "application/x-ndjson";

    // Line 10 001 is not even JSON: the limit is reached before it is read.
    let body = format!("{}\n{{oops\n", vec![LOGIN; 10_000].join("\n"));
    let (status, reply) = post(&server, &key, ndjson, body).await;
    assert_eq!((status, error_of(&reply)), (413, TOO_MANY.to_owned()));
    // The same in the JSON form, counted across its lists.
    let body = format!(
        "{{\"auth_events\":[{}],\"feedback\":[{{}}],\"threats\":[oops",
        vec![r#"{"event_type":"login"}"#; 10_000].join(",")
    );
    let (status, reply) = post(&server, &key, "application/json", body).await;
    assert_eq!((status, error_of(&reply)), (413, TOO_MANY.to_owned()));
    assert_eq!(
        db.store
            .count_before(Prunable::AuthEvents, i64::MAX)
            .await
            .unwrap(),
        0,
        "nothing of a refused body is stored"
    );

    // Exactly 10 000 events pass, blank lines not counted.
    let body = vec![LOGIN; 10_000].join("\n\n");
    let (status, reply) = post(&server, &key, ndjson, body).await;
    assert_eq!(status, 200, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(
        (&reply["accepted"], &reply["rejected"]),
        (&10_000.into(), &0.into())
    );
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn millions_of_tiny_lines_keep_memory_flat() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db.url);
    let key = key(&db, &[Scope::Ingest]).await;
    // One small body first, so what the server allocates once is in "before".
    let (status, _) = post(&server, &key, "application/x-ndjson", LOGIN.into()).await;
    assert_eq!(status, 200);
    let before = server.peak_rss_kib();

    // 3.5 million lines without a type, just under the 10 MiB body limit.
    let lines = (10 * 1024 * 1024 - 1024) / 3;
    let body = "{}\n".repeat(lines);
    let (status, reply) = post(&server, &key, "application/x-ndjson", body).await;
    let after = server.peak_rss_kib();
    // The body itself (10 MiB) is read into memory; what is built from it is not more.
    assert!(
        after.saturating_sub(before) < 48 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB for {lines} lines"
    );
    assert_eq!((status, error_of(&reply)), (413, TOO_MANY.to_owned()));
    db.drop_database().await;
}
