//! Structured logs: with `SIGHTLINE_LOG_FORMAT=json` every line is a JSON object, each
//! HTTP request is logged once with its method, route, status, latency and request id,
//! and no secret (API key, password, session cookie, database password, query string)
//! ever appears.

use crate::common;

use common::{Backend, Browser, PASSWORD, TestDb, TestServer, account};
use serde_json::{Value, json};
use sightline::store::Scope;
use sightline_app::auth::Role;

/// The database URL the server gets: on PostgreSQL with a password (trust auth ignores
/// it), which must not be logged either.
fn url_with_password(db: &TestDb) -> String {
    match db.backend() {
        Backend::Sqlite => db.url.clone(),
        Backend::Postgres => {
            let mut url = url::Url::parse(&db.url).unwrap();
            url.set_password(Some("db-pass-7Q2x")).unwrap();
            url.to_string()
        }
    }
}

storage_test!(
    logs_are_json_lines_with_one_line_per_request_and_no_secrets,
    |db| async move {
        account(db, "ada", Role::Admin).await;
        let (_, key) = db
            .store
            .create_api_key("logs", &[Scope::Ingest, Scope::Read], None, 0)
            .await
            .unwrap();
        let server = TestServer::start_logged(
            &url_with_password(db),
            &[("SIGHTLINE_LOG_FORMAT", "json"), ("SIGHTLINE_LOG", "info")],
        );
        let client = reqwest::Client::new();

        // An authenticated ingest call with the client's request id.
        let reply = client
            .post(server.url("/api/v1/ingest"))
            .bearer_auth(&key)
            .header("x-request-id", "trace-ingest-42")
            .json(
                &json!({"requests": [{"request_id": "r1", "endpoint": "/v1/chat", "method": "POST",
                "status_code": 200, "latency_ms": 12}]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.headers()["x-request-id"], "trace-ingest-42");

        // A read with a query string: the route template is logged, not the query.
        let reply = client
            .get(server.url("/api/v1/export/requests.csv?range=all&user=query-secret-9"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        let generated = reply.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(generated.len(), 36, "a UUID when the client sends none");

        // A failed and a successful sign-in.
        let mut browser = Browser::new(&server.base_url);
        browser.login("ada", "wrong-horse-battery-staple").await;
        let r = browser.login("ada", PASSWORD).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        let cookie = browser.session_cookie().unwrap();
        let cookie_value = cookie.split_once('=').unwrap().1.to_owned();
        assert_eq!(browser.get("/settings").await.status.as_u16(), 200);

        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let lines = server.log_lines();
        let all = lines.join("\n");
        let logged: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let requests: Vec<&Value> = logged
            .iter()
            .filter(|l| l["message"] == "request")
            .collect();

        let ingest: Vec<&&Value> = requests
            .iter()
            .filter(|l| l["request_id"] == "trace-ingest-42")
            .collect();
        assert_eq!(ingest.len(), 1, "one line per request:\n{all}");
        let line = ingest[0];
        assert_eq!(
            (
                &line["method"],
                &line["path"],
                &line["status"],
                &line["level"]
            ),
            (
                &json!("POST"),
                &json!("/api/v1/ingest"),
                &json!(200),
                &json!("INFO")
            ),
            "{line}"
        );
        assert!(line["latency_ms"].as_f64().unwrap() >= 0.0, "{line}");
        let export = requests
            .iter()
            .find(|l| l["request_id"] == generated.as_str())
            .unwrap_or_else(|| panic!("the export is logged:\n{all}"));
        assert_eq!(export["path"], "/api/v1/export/{file}");
        assert_eq!(export["method"], "GET");
        assert!(
            requests
                .iter()
                .any(|l| l["path"].as_str().is_some_and(|p| p.contains("login"))
                    && l["status"] == 200),
            "the sign-in is logged:\n{all}"
        );

        for secret in [
            key.as_str(),
            PASSWORD,
            "wrong-horse-battery-staple",
            cookie_value.as_str(),
            "db-pass-7Q2x",
            "query-secret-9",
        ] {
            assert!(!all.contains(secret), "`{secret}` is logged:\n{all}");
        }
        assert!(!all.to_ascii_lowercase().contains("bearer"), "{all}");
    }
);
