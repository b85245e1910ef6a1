//! `SIGHTLINE_IP_ANONYMIZE` (issue 19, part 2): whichever way an event comes in (the
//! ingest API, OTLP, the gateway, Sightline's own sign-in), only the address's network
//! (`truncate`) or nothing (`drop`) reaches the database, in every table that keeps one;
//! detection still reads the full address. On both databases.

use crate::common;

use std::time::Duration;

use common::fixture::now_ms;
use common::mock_provider::MockProvider;
use common::{Browser, PASSWORD, TestDb, TestServer, account, api};
use serde_json::{Value, json};
use sightline::store::Scope;
use sightline_app::auth::Role;
use sqlx::Row;

async fn key(db: &TestDb) -> String {
    db.store
        .create_api_key("privacy", &[Scope::Ingest, Scope::Read], None, 0)
        .await
        .unwrap()
        .1
}

fn request(id: &str, t: i64, ip: &str) -> Value {
    json!({
        "request_id": id, "timestamp": t, "endpoint": "/v1/chat/completions", "method": "POST",
        "status_code": 200, "latency_ms": 120.0, "ip": ip, "country": "NL",
    })
}

/// Every `(first column, second column)` of `sql`, sorted; NULL as "-".
async fn pairs(db: &TestDb, sql: &str) -> Vec<(String, String)> {
    let mut conn = db.connection().await;
    let text = |r: &sqlx::any::AnyRow, i: usize| {
        r.try_get::<Option<String>, _>(i)
            .unwrap()
            .unwrap_or_else(|| "-".into())
    };
    let mut rows: Vec<(String, String)> = sqlx::query(sql)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (text(r, 0), text(r, 1)))
        .collect();
    rows.sort();
    rows
}

/// Waits until `sql` counts `n` rows (detection and the gateway record after answering).
async fn await_count(db: &TestDb, sql: &str, n: i64) {
    let mut found = -1;
    for _ in 0..100 {
        let mut conn = db.connection().await;
        found = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
        if found >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found, n, "{sql}");
}

/// The traffic both tests send through the ingest API: a user's request, an SQL
/// injection, two IPv4 neighbours that each stay under the per-IP rate limit (5 a
/// minute) although their /24 together exceeds it, a third that floods, a failed
/// platform sign-in and a threat the platform reports itself.
async fn ingest_traffic(server: &TestServer, key: &str) {
    let t = now_ms() - 5_000;
    let mut requests = vec![request("user-1", t, "203.0.113.9")];
    requests[0]["user_id"] = json!("u-1");
    let mut sqli = request("sqli-1", t, "203.0.113.5");
    sqli["query"] = json!("id=1'%20OR%20'1'%3D'1");
    requests.push(sqli);
    for (host, n) in [(1, 4), (2, 4), (3, 7)] {
        for i in 0..n {
            requests.push(request(
                &format!("rate-{host}-{i}"),
                t + i,
                &format!("198.51.100.{host}"),
            ));
        }
    }
    let reply = api::ingest(
        server,
        key,
        &json!({
            "requests": requests,
            "auth_events": [{"event_type": "login_failed", "user_id": "victim",
                             "ip": "2001:db8:1:2::5", "success": false, "timestamp": t}],
            "threats": [{"threat_type": "custom", "severity": "low", "ip": "::ffff:192.0.2.9",
                         "description": "reported by the platform", "timestamp": t}],
        }),
    )
    .await;
    assert_eq!(reply["accepted"], 19, "{reply}");
}

const REQUEST_IPS: &str = "SELECT request_id, ip FROM request_log \
    WHERE request_id IN ('user-1', 'sqli-1', 'rate-1-0', 'rate-3-6')";
const THREAT_IPS: &str = "SELECT threat_type, ip FROM threat_log";

storage_test!(truncate_stores_only_the_network, |db| async move {
    account(db, "admin", Role::Admin).await;
    let mock = MockProvider::start().await;
    let upstreams = format!("openai={}", mock.base_url);
    let server = TestServer::start_with(
        &db.url,
        &[
            ("SIGHTLINE_IP_ANONYMIZE", "truncate"),
            ("SIGHTLINE_DETECT_RATE_PER_IP", "5"),
            ("SIGHTLINE_TRUSTED_PROXIES", "127.0.0.1"),
            ("SIGHTLINE_PROXY_UPSTREAMS", upstreams.as_str()),
        ],
    );
    let key = key(db).await;
    ingest_traffic(&server, &key).await;

    // OTLP: a server span with the client's address.
    let start_ns = (now_ms() as u64 - 4_000) * 1_000_000;
    let export = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
    "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
    "name": "POST /v1/chat", "kind": 2,
    "startTimeUnixNano": start_ns.to_string(),
    "endTimeUnixNano": (start_ns + 2_000_000).to_string(),
    "attributes": [
        {"key": "http.request.method", "value": {"stringValue": "POST"}},
        {"key": "http.route", "value": {"stringValue": "/v1/chat"}},
        {"key": "http.response.status_code", "value": {"intValue": "200"}},
        {"key": "client.address", "value": {"stringValue": "192.0.2.44"}}
    ]}]}]}]});
    let http = reqwest::Client::new();
    let reply = http
        .post(server.url("/v1/traces"))
        .bearer_auth(&key)
        .json(&export)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200, "{}", reply.text().await.unwrap());

    // The gateway: a call from an IPv6 client behind the trusted proxy.
    let reply = http
        .post(server.url("/proxy/openai/v1/chat/completions"))
        .header("Sightline-Key", &key)
        .header("X-Forwarded-For", "2001:db8:abcd:12::5")
        .header("Authorization", "Bearer sk-test")
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);

    // Sightline's own sign-in, from a client behind the trusted proxy.
    let mut browser = Browser::from_address(&server.base_url, "198.51.100.23");
    assert_eq!(
        browser
            .login("admin", "wrong password")
            .await
            .status
            .as_u16(),
        401
    );
    let signed_in = browser.login("admin", PASSWORD).await.status.as_u16();
    assert!((200..400).contains(&signed_in), "{signed_in}");

    await_count(db, "SELECT COUNT(*) FROM request_log", 19).await;
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        pairs(db, REQUEST_IPS).await,
        vec![
            s("rate-1-0", "198.51.100.0"),
            s("rate-3-6", "198.51.100.0"),
            s("sqli-1", "203.0.113.0"),
            s("user-1", "203.0.113.0"),
        ]
    );
    assert_eq!(
        pairs(
            db,
            "SELECT endpoint, ip FROM request_log WHERE request_id = \
            '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331'"
        )
        .await,
        vec![s("/v1/chat", "192.0.2.0")]
    );
    assert_eq!(
        pairs(
            db,
            "SELECT service, ip FROM request_log WHERE service = 'openai'"
        )
        .await,
        vec![s("openai", "2001:db8:abcd::")]
    );
    // Nothing anywhere keeps a full address.
    let full = pairs(
        db,
        "SELECT request_id, ip FROM request_log WHERE ip NOT IN \
        ('203.0.113.0', '198.51.100.0', '192.0.2.0', '2001:db8:abcd::')",
    )
    .await;
    assert_eq!(full, vec![]);
    assert_eq!(
        pairs(
            db,
            "SELECT user_id, ip FROM user_session WHERE user_id = 'u-1'"
        )
        .await,
        vec![("u-1".to_string(), "203.0.113.0".to_string())]
    );
    assert_eq!(
        pairs(db, "SELECT source, ip FROM auth_event").await,
        vec![
            ("platform".to_string(), "2001:db8:1::".to_string()),
            ("sightline".to_string(), "198.51.100.0".to_string()),
            ("sightline".to_string(), "198.51.100.0".to_string()),
        ]
    );

    // Detection read the full addresses: the neighbours' four requests each stayed
    // under the limit; only 198.51.100.3's seven raised a rate_limit threat.
    await_count(db, "SELECT COUNT(*) FROM threat_log", 3).await;
    assert_eq!(
        pairs(db, THREAT_IPS).await,
        vec![
            ("custom".to_string(), "::ffff:192.0.2.0".to_string()),
            ("rate_limit".to_string(), "198.51.100.0".to_string()),
            ("sql_injection".to_string(), "203.0.113.0".to_string()),
        ]
    );
    drop(server);
});

storage_test!(drop_stores_no_address, |db| async move {
    let server = TestServer::start_with(
        &db.url,
        &[
            ("SIGHTLINE_IP_ANONYMIZE", "drop"),
            ("SIGHTLINE_DETECT_RATE_PER_IP", "5"),
        ],
    );
    let key = key(db).await;
    ingest_traffic(&server, &key).await;
    await_count(db, "SELECT COUNT(*) FROM threat_log", 3).await;
    let kept = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE ip IS NOT NULL");
    for table in ["request_log", "user_session", "auth_event", "threat_log"] {
        await_count(db, &kept(table), 0).await;
    }
    // The rest of each row is kept as given; detection still told the flooding
    // address from its neighbours.
    await_count(
        db,
        "SELECT COUNT(*) FROM request_log WHERE country = 'NL'",
        17,
    )
    .await;
    assert_eq!(
        pairs(db, THREAT_IPS).await,
        vec![
            ("custom".to_string(), "-".to_string()),
            ("rate_limit".to_string(), "-".to_string()),
            ("sql_injection".to_string(), "-".to_string()),
        ]
    );
    drop(server);
});
