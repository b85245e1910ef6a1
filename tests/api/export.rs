//! The CSV exports over real HTTP against the real server: the exact bytes of each
//! export for a small fixture on both databases, filters, who may export, and (on
//! SQLite) that 200 000 rows stream through in flat memory.

use crate::common;

use common::fixture::request;
use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account};
use sightline::store::{NewFeedback, NewThreat, Scope};
use sightline_app::auth::Role;
use sightline_app::units::Micros;
use sightline_tracker::wire::{Severity, ThreatType};

/// 2026-11-22T18:33:16.123Z
const T: i64 = 1_795_372_396_123;

/// Text with a quote, a comma and a line break.
const AGENT: &str = "Agent \"X\", v2\nline 2";
/// A formula, and a cell that starts with `@`.
const FORMULA_USER: &str = "=cmd|' /C calc'!A0";
const AT_AGENT: &str = "@SUM(1+1)*cmd";
const SCRIPT: &str = "<script>alert(1)</script>";

/// Two requests (one a 502), two threats (the XSS one resolved), two ratings; the
/// requests' explicit session ids make two sessions.
async fn seed(db: &TestDb) -> (i64, i64) {
    let mut r1 = request("req-1", T - 60_000, 200);
    r1.session_id = Some("sess-a".into());
    r1.user_agent = Some(AGENT.into());
    let mut r2 = request("req-2", T, 502);
    r2.session_id = Some("sess-b".into());
    r2.user_id = Some(FORMULA_USER.into());
    r2.user_agent = Some(AT_AGENT.into());
    r2.error = Some(SCRIPT.into());
    r2.cost_micros = Micros(1_234);
    r2.latency_ms = 87.5;
    r2.ttft_ms = Some(12.25);
    r2.country = None;
    r2.metadata = Some(r#"{"plan":"pro"}"#.into());
    (
        r2.cache_read_tokens,
        r2.cache_write_tokens,
        r2.reasoning_tokens,
    ) = (64, 16, 20);
    db.store.record_requests(&[r1, r2]).await.unwrap();

    let ids = db
        .store
        .record_threats(&[
            NewThreat {
                created_at: T - 4_000,
                threat_type: ThreatType::Xss,
                severity: Severity::High,
                ip: Some("198.51.100.7".into()),
                user_id: Some("user-1".into()),
                country: Some("DE".into()),
                endpoint: Some("/search".into()),
                request_id: Some("req-2".into()),
                description: format!("{SCRIPT} in q, \"quoted\"\nsecond line"),
            },
            NewThreat {
                created_at: T - 5_000,
                threat_type: ThreatType::SqlInjection,
                severity: Severity::Medium,
                ip: Some("203.0.113.9".into()),
                user_id: None,
                country: None,
                endpoint: None,
                request_id: None,
                description: "-1 OR 1=1".into(),
            },
        ])
        .await
        .unwrap();
    db.store
        .set_threats_resolved(&ids[..1], true, "admin", T - 100)
        .await
        .unwrap();

    db.store
        .record_feedback(&[
            NewFeedback {
                request_id: "req-1".into(),
                user_id: String::new(),
                rating: 4,
                comment: Some("Good, but \"slow\"\nok".into()),
                created_at: T - 30_000,
            },
            NewFeedback {
                request_id: "req-2".into(),
                user_id: "sightline:vera".into(),
                rating: 1,
                comment: Some(format!("+1 {SCRIPT}")),
                created_at: T - 20_000,
            },
        ])
        .await
        .unwrap();
    (ids[0], ids[1])
}

/// `GET path` with an optional header: (status, content type, content disposition, body).
async fn get(
    server: &TestServer,
    path: &str,
    header: Option<(&str, String)>,
) -> (u16, String, String, String) {
    let mut request = reqwest::Client::new().get(server.url(path));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let reply = request.send().await.unwrap();
    let header = |name: &str| {
        reply
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let status = reply.status().as_u16();
    (
        status,
        content_type,
        disposition,
        reply.text().await.unwrap(),
    )
}

fn csv(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

const REQUEST_HEADER: &str = "request_id,created_at,kind,service,method,endpoint,status_code,\
latency_ms,ttft_ms,model_name,prompt_tokens,completion_tokens,cache_read_tokens,\
cache_write_tokens,reasoning_tokens,cost_usd,finish_reason,user_id,\
session_id,is_authenticated,ip,country,user_agent,request_bytes,response_bytes,error,metadata";
const REQ_2: &str = "req-2,2026-11-22T18:33:16.123Z,api,,POST,/v1/chat/completions,502,87.5,\
12.25,gpt-4o-mini,100,50,64,16,20,0.001234,stop,'=cmd|' /C calc'!A0,sess-b,true,203.0.113.7,,\
'@SUM(1+1)*cmd,512,2048,<script>alert(1)</script>,\"{\"\"plan\"\":\"\"pro\"\"}\"";
const REQ_1: &str = "req-1,2026-11-22T18:32:16.123Z,api,,POST,/v1/chat/completions,200,120,,\
gpt-4o-mini,100,50,0,0,0,0.000045,stop,user-1,sess-a,true,203.0.113.7,DE,\
\"Agent \"\"X\"\", v2\nline 2\",512,2048,,";

const THREAT_HEADER: &str = "id,created_at,last_seen_at,threat_type,severity,occurrences,ip,\
user_id,country,endpoint,request_id,description,resolved,resolved_at,resolved_by";

const FEEDBACK_HEADER: &str = "request_id,user_id,rating,comment,created_at,updated_at";
const FEEDBACK_2: &str = "req-2,sightline:vera,1,'+1 <script>alert(1)</script>,\
2026-11-22T18:32:56.123Z,2026-11-22T18:32:56.123Z";
const FEEDBACK_1: &str = "req-1,,4,\"Good, but \"\"slow\"\"\nok\",\
2026-11-22T18:32:46.123Z,2026-11-22T18:32:46.123Z";

const SESSION_HEADER: &str = "session_key,user_id,inferred,started_at,last_seen_at,duration_ms,\
request_count,error_count,tokens,cost_usd,ip,user_agent";
const SESS_B: &str = "sess-b,'=cmd|' /C calc'!A0,false,2026-11-22T18:33:16.123Z,\
2026-11-22T18:33:16.123Z,0,1,1,150,0.001234,203.0.113.7,'@SUM(1+1)*cmd";
const SESS_A: &str = "sess-a,user-1,false,2026-11-22T18:32:16.123Z,2026-11-22T18:32:16.123Z,\
0,1,0,150,0.000045,203.0.113.7,\"Agent \"\"X\"\", v2\nline 2\"";

storage_test!(exports_are_exact_csv, |db| async move {
    let (xss, sqli) = seed(db).await;
    account(db, "vera", Role::Viewer).await;
    let server = TestServer::start(&db.url);
    let mut browser = Browser::new(&server.base_url);
    browser.login("vera", PASSWORD).await;
    let cookie = || Some(("cookie", browser.session_cookie().unwrap()));

    let threat_xss = format!(
        "{xss},2026-11-22T18:33:12.123Z,2026-11-22T18:33:12.123Z,xss,high,1,198.51.100.7,\
         user-1,DE,/search,req-2,\"<script>alert(1)</script> in q, \"\"quoted\"\"\nsecond line\",\
         true,2026-11-22T18:33:16.023Z,admin"
    );
    let threat_sqli = format!(
        "{sqli},2026-11-22T18:33:11.123Z,2026-11-22T18:33:11.123Z,sql_injection,medium,1,\
         203.0.113.9,,,,,'-1 OR 1=1,false,,"
    );
    let cases: Vec<(&str, String)> = vec![
        (
            "/api/v1/export/requests.csv?range=all",
            csv(&[REQUEST_HEADER, REQ_2, REQ_1]),
        ),
        (
            "/api/v1/export/requests.csv?range=all&status=errors&after=junk",
            csv(&[REQUEST_HEADER, REQ_2]),
        ),
        // Sorted like the explorer: slowest first.
        (
            "/api/v1/export/requests.csv?range=all&sort=latency",
            csv(&[REQUEST_HEADER, REQ_1, REQ_2]),
        ),
        (
            "/api/v1/export/threats.csv?state=all",
            csv(&[THREAT_HEADER, &threat_xss, &threat_sqli]),
        ),
        // Open threats by default, as the view.
        (
            "/api/v1/export/threats.csv",
            csv(&[THREAT_HEADER, &threat_sqli]),
        ),
        (
            "/api/v1/export/threats.csv?type=xss&state=all",
            csv(&[THREAT_HEADER, &threat_xss]),
        ),
        ("/api/v1/export/threats.csv?type=xss", csv(&[THREAT_HEADER])),
        (
            "/api/v1/export/feedback.csv",
            csv(&[FEEDBACK_HEADER, FEEDBACK_2, FEEDBACK_1]),
        ),
        (
            "/api/v1/export/feedback.csv?request_id=req-1&range=all",
            csv(&[FEEDBACK_HEADER, FEEDBACK_1]),
        ),
        (
            "/api/v1/export/sessions.csv",
            csv(&[SESSION_HEADER, SESS_B, SESS_A]),
        ),
        (
            "/api/v1/export/sessions.csv?user=user-1",
            csv(&[SESSION_HEADER, SESS_A]),
        ),
    ];
    for (path, expected) in cases {
        let (status, content_type, disposition, body) = get(&server, path, cookie()).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(content_type, "text/csv; charset=utf-8", "{path}");
        let kind = path
            .trim_start_matches("/api/v1/export/")
            .split('.')
            .next()
            .unwrap();
        let prefix = format!("attachment; filename=\"sightline-{kind}-");
        assert!(
            disposition.starts_with(&prefix) && disposition.ends_with(".csv\""),
            "{path}: {disposition}"
        );
        assert_eq!(
            disposition.len(),
            prefix.len() + "YYYYMMDD-HHMM.csv\"".len(),
            "{disposition}"
        );
        assert_eq!(body, expected, "{path}");
    }

    // The views link to the export of what they show, without the page cursor.
    let page = browser.get("/threats?type=xss&state=all&after=1_2").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.body
            .contains("/api/v1/export/threats.csv?type=xss&amp;state=all\"")
            || page
                .body
                .contains("/api/v1/export/threats.csv?type=xss&state=all\""),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"data-testid="export-csv""#));
    let page = browser.get("/requests?range=all&status=5xx").await;
    assert!(
        page.body
            .contains("/api/v1/export/requests.csv?range=all&amp;status=5xx\"")
            || page
                .body
                .contains("/api/v1/export/requests.csv?range=all&status=5xx\""),
        "{}",
        page.body
    );
});

storage_test!(exports_need_a_session_or_a_read_key, |db| async move {
    seed(db).await;
    account(db, "vera", Role::Viewer).await;
    let (_, read) = db
        .store
        .create_api_key("t", &[Scope::Read], None, 0)
        .await
        .unwrap();
    let (_, ingest) = db
        .store
        .create_api_key("i", &[Scope::Ingest], None, 0)
        .await
        .unwrap();
    let server = TestServer::start(&db.url);
    let bearer = |key: &str| Some(("authorization", format!("Bearer {key}")));
    let path = "/api/v1/export/feedback.csv";

    let (status, _, _, body) = get(&server, path, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("missing API key"), "{body}");
    let (status, _, _, body) = get(&server, path, bearer(&ingest)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("lacks the read scope"), "{body}");
    let (status, _, _, body) = get(&server, path, bearer(&read)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, csv(&[FEEDBACK_HEADER, FEEDBACK_2, FEEDBACK_1]));

    for (path, status, message) in [
        (
            "/api/v1/export/requests.csv?status=6xx",
            400,
            "unknown status class `6xx`",
        ),
        (
            "/api/v1/export/threats.csv?type=worm",
            400,
            "unknown threat type `worm`",
        ),
        (
            "/api/v1/export/sessions.csv?range=1y",
            400,
            "unknown range `1y`",
        ),
        (
            "/api/v1/export/feedback.csv?range=custom",
            400,
            "unknown range `custom`",
        ),
        (
            "/api/v1/export/users.csv",
            404,
            "no export `users.csv`: use requests.csv, threats.csv, feedback.csv, sessions.csv, auth_events.csv, errors.csv or audit.csv",
        ),
    ] {
        let (got, _, _, body) = get(&server, path, bearer(&read)).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body.contains(message), "{path}: {body}");
    }

    // A signed-in browser needs no key.
    let mut browser = Browser::new(&server.base_url);
    browser.login("vera", PASSWORD).await;
    let r = browser.get("/api/v1/export/sessions.csv?user=user-1").await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.body, csv(&[SESSION_HEADER, SESS_A]));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_rows_stream_in_flat_memory() {
    const ROWS: usize = 200_000;
    let db = TestDb::new(Backend::Sqlite).await;
    let started = std::time::Instant::now();
    for batch in 0..ROWS / 10_000 {
        let rows: Vec<_> = (0..10_000)
            .map(|i| {
                let n = batch * 10_000 + i;
                let mut r = request(&format!("req-{n:06}"), T - n as i64, 200);
                // No user: no sessions to infer, so the rows go in fast.
                r.user_id = None;
                r
            })
            .collect();
        db.store.record_requests(&rows).await.unwrap();
    }
    let inserted = started.elapsed();
    let (_, key) = db
        .store
        .create_api_key("t", &[Scope::Read], None, 0)
        .await
        .unwrap();
    let server = TestServer::start(&db.url);
    // One small export first, so what the server allocates once is in "before".
    let (status, _, _, _) = get(
        &server,
        "/api/v1/export/requests.csv?range=all&status=5xx",
        Some(("authorization", format!("Bearer {key}"))),
    )
    .await;
    assert_eq!(status, 200);
    let before = server.peak_rss_kib();

    let mut reply = reqwest::Client::new()
        .get(server.url("/api/v1/export/requests.csv?range=all"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let (mut lines, mut bytes, mut last) = (0usize, 0usize, 0u8);
    while let Some(chunk) = reply.chunk().await.unwrap() {
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        bytes += chunk.len();
        last = *chunk.last().unwrap_or(&last);
    }
    let after = server.peak_rss_kib();
    let exported = started.elapsed() - inserted;
    assert_eq!(lines, ROWS + 1);
    assert_eq!(last, b'\n');
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB exporting {ROWS} rows ({bytes} bytes)"
    );
    eprintln!(
        "{ROWS} rows inserted in {inserted:?}, exported ({} MiB of CSV) in {exported:?}; \
         server peak RSS {before} KiB before, {after} KiB after",
        bytes / (1024 * 1024)
    );
    drop(server);
    db.drop_database().await;
}
