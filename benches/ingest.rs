//! Ingest throughput: events/s through the HTTP API (batches of 1 000 from several
//! concurrent clients, real server binary on loopback) as a fraction of what the
//! database itself can take of the same rows into `request_log` alone, measured in the
//! same run, on SQLite and on PostgreSQL:
//! - the database's bulk path: on SQLite one prepared single-row INSERT run per row in
//!   transactions of 10 000 through SQLite's C API (what `executemany` does), on
//!   PostgreSQL `COPY … FROM STDIN (FORMAT binary)` of 10 000 rows at a time;
//! - on SQLite also the same prepared statement per row through sqlx (a cached statement
//!   on one `SqliteConnection`), which hands every statement to its worker thread;
//! - for reference, the store's own insert of the raw rows alone (`insert_raw_requests`,
//!   the statements ingest uses for `request_log`, batches of 1 000).
//!
//! Each runs twice: time-ordered traffic, and a replay whose batches all repeat the same
//! 1 000 timestamps (as replays and backfills of old data do).
//!
//! Run with `cargo bench --bench ingest` (PostgreSQL at `SIGHTLINE_TEST_POSTGRES_URL`,
//! default the local server; `SIGHTLINE_BENCH_EVENTS` to change the 200 000 events).

mod support;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use sightline::store::{Buckets, NewRequest, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, PgConnection};
use support::BenchDb;

const BATCH: usize = 1_000;
const BULK_TRANSACTION: usize = 10_000;
const CLIENTS: usize = 4;

#[derive(Clone, Copy, PartialEq)]
enum Order {
    TimeOrdered,
    Replay,
}

impl Order {
    fn label(self) -> &'static str {
        match self {
            Order::TimeOrdered => "time-ordered",
            Order::Replay => "replay",
        }
    }
}

fn events(prefix: &str, n: usize, order: Order) -> Vec<NewRequest> {
    let t0 = chrono::Utc::now().timestamp_millis() - 6 * 3_600_000;
    let mut rows = support::chat_requests(prefix, n, t0);
    if order == Order::Replay {
        // Every batch of BATCH repeats the first batch's timestamps.
        for (i, r) in rows.iter_mut().enumerate() {
            r.created_at = t0 + ((i % BATCH) as i64) * 100;
        }
    }
    rows
}

async fn migrated(url: &str) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
}

/// The single-row INSERT both SQLite paths prepare.
fn sqlite_insert_sql() -> String {
    format!(
        "INSERT INTO request_log ({}) VALUES ({})",
        sightline::store::REQUEST_INSERT_COLUMNS,
        vec!["?"; 28].join(", ")
    )
}

/// SQLite's own bulk path: one prepared single-row INSERT run per row through the C API
/// (bind, step, reset), with the server's pragmas, in transactions of [`BULK_TRANSACTION`].
async fn sqlite_c_api_rate(url: &str, rows: &[NewRequest]) -> f64 {
    migrated(url).await;
    let path = url.strip_prefix("sqlite://").unwrap().to_string();
    let rows = rows.to_vec();
    tokio::task::spawn_blocking(move || sqlite_c_api::insert_all(&path, &rows))
        .await
        .unwrap()
}

mod sqlite_c_api {
    use libsqlite3_sys as ffi;
    use sightline::store::NewRequest;
    use std::ffi::{CString, c_int};
    use std::ptr;
    use std::time::Instant;

    fn check(db: *mut ffi::sqlite3, rc: c_int, what: &str) {
        if rc != ffi::SQLITE_OK && rc != ffi::SQLITE_DONE {
            // SAFETY: `db` is an open handle; the message is a NUL-terminated string it owns.
            let msg = unsafe { std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
            panic!("{what}: {rc} {}", msg.to_string_lossy());
        }
    }

    fn exec(db: *mut ffi::sqlite3, sql: &str) {
        let sql = CString::new(sql).unwrap();
        // SAFETY: an open handle and a NUL-terminated statement.
        let rc =
            unsafe { ffi::sqlite3_exec(db, sql.as_ptr(), None, ptr::null_mut(), ptr::null_mut()) };
        check(db, rc, "exec");
    }

    /// Inserts `rows` into the database file at `path`; rows per second.
    pub fn insert_all(path: &str, rows: &[NewRequest]) -> f64 {
        let c_path = CString::new(path).unwrap();
        let sql = CString::new(super::sqlite_insert_sql()).unwrap();
        let mut db = ptr::null_mut();
        let mut stmt = ptr::null_mut();
        // SAFETY: plain use of the C API on one thread: the handle and the statement are
        // used only while open, every bound string outlives the step that reads it
        // (SQLITE_STATIC), and both are finalized and closed at the end.
        unsafe {
            let rc = ffi::sqlite3_open_v2(
                c_path.as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE,
                ptr::null(),
            );
            check(db, rc, "open");
            exec(
                db,
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;",
            );
            let rc = ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, ptr::null_mut());
            check(db, rc, "prepare");
            let started = Instant::now();
            for chunk in rows.chunks(super::BULK_TRANSACTION) {
                exec(db, "BEGIN IMMEDIATE");
                for r in chunk {
                    let text = |i: c_int, v: Option<&str>| match v {
                        Some(s) => ffi::sqlite3_bind_text(
                            stmt,
                            i,
                            s.as_ptr().cast(),
                            s.len() as c_int,
                            ffi::SQLITE_STATIC(),
                        ),
                        None => ffi::sqlite3_bind_null(stmt, i),
                    };
                    let int = |i: c_int, v: Option<i64>| match v {
                        Some(n) => ffi::sqlite3_bind_int64(stmt, i, n),
                        None => ffi::sqlite3_bind_null(stmt, i),
                    };
                    text(1, Some(&r.request_id));
                    int(2, Some(r.created_at));
                    text(3, Some(r.kind.as_str()));
                    text(4, r.service.as_deref());
                    text(5, Some(&r.endpoint));
                    text(6, Some(&r.method));
                    int(7, Some(i64::from(r.status_code)));
                    ffi::sqlite3_bind_double(stmt, 8, r.latency_ms);
                    match r.ttft_ms {
                        Some(v) => ffi::sqlite3_bind_double(stmt, 9, v),
                        None => ffi::sqlite3_bind_null(stmt, 9),
                    };
                    text(10, r.model_name.as_deref());
                    int(11, Some(r.prompt_tokens));
                    int(12, Some(r.completion_tokens));
                    int(13, Some(r.cost_micros.micros()));
                    text(14, r.finish_reason.as_deref());
                    text(15, r.user_id.as_deref());
                    text(16, r.session_id.as_deref());
                    int(17, Some(i64::from(r.is_authenticated)));
                    text(18, r.ip.as_deref());
                    text(19, r.country.as_deref());
                    text(20, r.user_agent.as_deref());
                    int(21, r.request_bytes);
                    int(22, r.response_bytes);
                    text(23, r.error.as_deref());
                    text(24, r.metadata.as_deref());
                    int(25, Some(r.cache_read_tokens));
                    int(26, Some(r.cache_write_tokens));
                    int(27, Some(r.reasoning_tokens));
                    text(28, None);
                    let rc = ffi::sqlite3_step(stmt);
                    check(db, rc, "step");
                    ffi::sqlite3_reset(stmt);
                }
                exec(db, "COMMIT");
            }
            let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
            ffi::sqlite3_finalize(stmt);
            ffi::sqlite3_close(db);
            rate
        }
    }
}

/// The same prepared single-row INSERT per row through sqlx: a cached statement on one
/// `SqliteConnection` with the server's pragmas, transactions of [`BULK_TRANSACTION`].
async fn sqlite_sqlx_row_rate(url: &str, rows: &[NewRequest]) -> f64 {
    migrated(url).await;
    let mut conn = SqliteConnectOptions::from_str(url)
        .unwrap()
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .pragma("cache_size", "-65536")
        .connect()
        .await
        .unwrap();
    let sql = sqlite_insert_sql();
    let started = Instant::now();
    for chunk in rows.chunks(BULK_TRANSACTION) {
        let mut tx = conn.begin().await.unwrap();
        for r in chunk {
            sightline::store::bind_request(sqlx::query(&sql), r, None)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    conn.close().await.unwrap();
    rate
}

/// PostgreSQL's own bulk path: binary `COPY` of [`BULK_TRANSACTION`] rows at a time
/// (encoding included).
async fn postgres_copy_rate(url: &str, rows: &[NewRequest]) -> f64 {
    migrated(url).await;
    let mut conn = PgConnection::connect(url).await.unwrap();
    let sql = sightline::store::request_copy_statement("request_log");
    let started = Instant::now();
    for chunk in rows.chunks(BULK_TRANSACTION) {
        let refs: Vec<&NewRequest> = chunk.iter().collect();
        let data = sightline::store::request_copy_binary(&refs, &[]);
        let mut copy = conn.copy_in_raw(&sql).await.unwrap();
        copy.send(data).await.unwrap();
        assert_eq!(copy.finish().await.unwrap() as usize, chunk.len());
    }
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    conn.close().await.unwrap();
    rate
}

/// The store's own insert of the raw rows alone, in transactions of [`BATCH`].
async fn store_raw_rate(url: &str, rows: &[NewRequest]) -> f64 {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let started = Instant::now();
    for chunk in rows.chunks(BATCH) {
        store.insert_raw_requests(chunk).await.unwrap();
    }
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    rate
}

async fn http_rate(url: &str, rows: &[NewRequest]) -> f64 {
    let (store, key, mut server, base) = support::ingest_server(url).await;
    let bodies: Vec<String> = rows.chunks(BATCH).map(support::ingest_body).collect();
    let started = Instant::now();
    support::post_bodies(
        &base,
        &key,
        CLIENTS,
        Arc::new(move |i| bodies.get(i).cloned()),
    )
    .await;
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    let _ = server.kill();
    let _ = server.wait();
    let stored: i64 = store
        .traffic(Buckets {
            grain: 86_400_000,
            start: 0,
            end: i64::MAX / 2,
        })
        .await
        .unwrap()
        .iter()
        .map(|b| b.sums.requests)
        .sum();
    assert_eq!(stored as usize, rows.len(), "every event counted once");
    store.close().await;
    rate
}

/// Creates a fresh database, runs `measure` on it, drops it.
async fn on_fresh<F, Fut>(backend: &str, dir: &std::path::Path, file: &str, measure: F) -> f64
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = f64>,
{
    let db = BenchDb::create(backend, dir, file).await;
    let rate = measure(db.url.clone()).await;
    db.drop_database().await;
    rate
}

#[tokio::main]
async fn main() {
    let n = support::env_count("SIGHTLINE_BENCH_EVENTS", 200_000);
    let dir = tempfile::tempdir().unwrap();
    println!("Ingest: {n} request events, batches of {BATCH}, {CLIENTS} concurrent HTTP clients\n");
    println!(
        "| database | traffic | database bulk path (raw only) | sqlx single-row prepared (raw only) | store's raw insert (raw only) | HTTP ingest (every table) | HTTP / bulk | HTTP / store raw |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut notes = Vec::new();
    for backend in support::backends() {
        let mut http_by_order = Vec::new();
        for order in [Order::TimeOrdered, Order::Replay] {
            let tag = format!("{}-{}", backend, order.label());
            let rows = events(&format!("bulk-{tag}"), n, order);
            let bulk = on_fresh(
                backend,
                dir.path(),
                &format!("bulk-{tag}.db"),
                |url| async move {
                    if backend == "SQLite" {
                        sqlite_c_api_rate(&url, &rows).await
                    } else {
                        postgres_copy_rate(&url, &rows).await
                    }
                },
            )
            .await;
            let sqlx_row = if backend == "SQLite" {
                let rows = events(&format!("sqlx-{tag}"), n, order);
                let rate = on_fresh(
                    backend,
                    dir.path(),
                    &format!("sqlx-{tag}.db"),
                    |url| async move { sqlite_sqlx_row_rate(&url, &rows).await },
                )
                .await;
                format!("{rate:.0} ev/s")
            } else {
                "–".to_string()
            };
            let rows = events(&format!("multi-{tag}"), n, order);
            let multi = on_fresh(
                backend,
                dir.path(),
                &format!("multi-{tag}.db"),
                |url| async move { store_raw_rate(&url, &rows).await },
            )
            .await;
            let rows = events(&format!("http-{tag}"), n, order);
            let http = on_fresh(
                backend,
                dir.path(),
                &format!("http-{tag}.db"),
                |url| async move { http_rate(&url, &rows).await },
            )
            .await;
            http_by_order.push(http);
            let path = if backend == "SQLite" {
                "prepared INSERT, C API"
            } else {
                "binary COPY"
            };
            println!(
                "| {backend} | {} | {bulk:.0} ev/s ({path}) | {sqlx_row} | {multi:.0} ev/s | {http:.0} ev/s | {:.0}% | {:.0}% |",
                order.label(),
                100.0 * http / bulk,
                100.0 * http / multi,
            );
        }
        notes.push(format!(
            "{backend}: replay HTTP ingest at {:.0}% of time-ordered",
            100.0 * http_by_order[1] / http_by_order[0]
        ));
    }
    println!();
    for note in notes {
        println!("{note}");
    }
}
