//! The audit trail (issue 19, part 4): every admin action through the real server
//! functions, the command line's, and Sightline's own sign-ins and sign-outs become
//! `audit_log` entries with who, when, from where and what; the database refuses to
//! change one; the settings section pages and filters them; `audit.csv` exports them to
//! admins and read keys, not to viewers; retention deletes them by age. Both databases.

use crate::common;

use std::process::Command;

use common::{Browser, PASSWORD, TestDb, TestServer, account, call};
use serde_json::{Value, json};
use sightline::store::Scope;
use sightline_app::audit::AuditPage;
use sightline_app::auth::Role;
use sightline_app::settings::{AccountRow, ApiKeyRow, NewAccount, NewApiKey};
use sqlx::Row;

const TRUST_LOOPBACK: (&str, &str) = ("SIGHTLINE_TRUSTED_PROXIES", "127.0.0.1");

/// `(actor, actor_ip, action, target, detail)` of every entry, oldest first.
type Entry = (String, String, String, String, Value);

async fn entries(db: &TestDb) -> Vec<Entry> {
    let mut conn = db.connection().await;
    sqlx::query("SELECT actor, actor_ip, action, target, detail FROM audit_log ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let text = |i: usize| r.get::<Option<String>, _>(i).unwrap_or_default();
            let detail = r
                .get::<Option<String>, _>(4)
                .map_or(Value::Null, |d| serde_json::from_str(&d).unwrap());
            (text(0), text(1), text(2), text(3), detail)
        })
        .collect()
}

fn entry(actor: &str, ip: &str, action: &str, target: &str, detail: Value) -> Entry {
    (
        actor.into(),
        ip.into(),
        action.into(),
        target.into(),
        detail,
    )
}

async fn csv(server: &TestServer, auth: Result<&str, &mut Browser>, query: &str) -> (u16, String) {
    let path = format!("/api/v1/export/audit.csv{query}");
    match auth {
        Ok(key) => {
            let r = reqwest::Client::new()
                .get(server.url(&path))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
        Err(browser) => {
            let r = browser.get(&path).await;
            (r.status.as_u16(), r.body)
        }
    }
}

storage_test!(
    every_admin_action_is_an_entry_that_cannot_be_changed,
    |db| async move {
        account(db, "root", Role::Admin).await;
        account(db, "vera", Role::Viewer).await;
        let server = TestServer::start_with(&db.url, &[TRUST_LOOPBACK]);

        let mut admin = Browser::from_address(&server.base_url, "198.51.100.23");
        assert_eq!(admin.login("root", PASSWORD).await.status.as_u16(), 200);
        let key: NewApiKey = call(
            &mut admin,
            "admin/create_api_key",
            &[("name", "gateway"), ("ingest", "on")],
        )
        .await;
        let prefix = key.key.prefix.clone();
        let _: ApiKeyRow = call(
            &mut admin,
            "admin/revoke_api_key",
            &[("id", &key.key.id.to_string())],
        )
        .await;
        let made: NewAccount = call(
            &mut admin,
            "admin/create_account",
            &[("username", "ops"), ("role", "viewer"), ("password", "")],
        )
        .await;
        let id = made.account.id.to_string();
        let _: AccountRow = call(
            &mut admin,
            "admin/set_account_role",
            &[("id", &id), ("role", "admin")],
        )
        .await;
        let _: Value = call(&mut admin, "admin/reset_password", &[("id", &id)]).await;
        let _: () = call(&mut admin, "admin/delete_account", &[("id", &id)]).await;
        let _: () = call(
            &mut admin,
            "admin/set_price",
            &[
                ("model", "acme-large"),
                ("prompt", "2.5"),
                ("completion", "10"),
                ("cache_read", "1.25"),
            ],
        )
        .await;
        let _: () = call(&mut admin, "admin/reset_price", &[("model", "acme-large")]).await;
        let _: Value = call(&mut admin, "admin/set_retention", &[("days", "30")]).await;
        let r = admin
            .post_json(
                "/api/ui/admin/threat_state",
                json!({"selection": {"kind": "ids", "value": [41, 42]}, "resolve": true}),
            )
            .await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "0"));
        assert!(
            admin
                .post_form("/logout", &[])
                .await
                .status
                .is_redirection()
        );

        // A viewer's sign-in is recorded; what viewers may not do is not.
        let mut viewer = Browser::from_address(&server.base_url, "2001:db8::7");
        assert_eq!(viewer.login("vera", PASSWORD).await.status.as_u16(), 200);
        let r = viewer
            .post_form("/api/ui/admin/set_retention", &[("days", "1")])
            .await;
        assert_eq!(r.status.as_u16(), 403);

        // The command line's own actions.
        let cli = Command::new(env!("CARGO_BIN_EXE_sightline"))
            .args([
                "price",
                "set",
                "acme-small",
                "--prompt",
                "0.5",
                "--completion",
                "1.5",
            ])
            .env("SIGHTLINE_DATABASE_URL", &db.url)
            .output()
            .unwrap();
        assert!(
            cli.status.success(),
            "{}",
            String::from_utf8_lossy(&cli.stderr)
        );

        let ip = "198.51.100.23";
        let selection = json!({"kind": "ids", "value": [41, 42]});
        assert_eq!(
            entries(db).await,
            vec![
                entry("root", ip, "signed_in", "", Value::Null),
                entry(
                    "root",
                    ip,
                    "api_key.created",
                    &prefix,
                    json!({"name": "gateway", "scopes": ["ingest"]})
                ),
                entry(
                    "root",
                    ip,
                    "api_key.revoked",
                    &prefix,
                    json!({"name": "gateway"})
                ),
                entry(
                    "root",
                    ip,
                    "account.created",
                    "ops",
                    json!({"role": "viewer", "generated_password": true})
                ),
                entry(
                    "root",
                    ip,
                    "account.role_changed",
                    "ops",
                    json!({"role": "admin"})
                ),
                entry("root", ip, "account.password_reset", "ops", Value::Null),
                entry("root", ip, "account.deleted", "ops", Value::Null),
                entry(
                    "root",
                    ip,
                    "price.set",
                    "acme-large",
                    json!({"prompt": 2.5, "completion": 10.0, "cache_read": 1.25})
                ),
                entry("root", ip, "price.reset", "acme-large", Value::Null),
                entry("root", ip, "retention.set", "", json!({"days": 30})),
                entry(
                    "root",
                    ip,
                    "threats.resolved",
                    "",
                    json!({"changed": 0, "selection": selection})
                ),
                entry("root", ip, "signed_out", "", Value::Null),
                entry("vera", "2001:db8::7", "signed_in", "", Value::Null),
                entry(
                    "cli",
                    "",
                    "price.set",
                    "acme-small",
                    json!({"prompt": 0.5, "completion": 1.5})
                ),
            ]
        );

        // The database refuses to change an entry.
        let mut conn = db.connection().await;
        let edit = sqlx::query("UPDATE audit_log SET actor = 'someone else'")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(
            edit.to_string()
                .contains("audit_log rows cannot be changed"),
            "{edit}"
        );
        drop(conn);

        // The settings section's pages: filtered by action and account, newest first.
        let mut admin = Browser::from_address(&server.base_url, ip);
        assert_eq!(admin.login("root", PASSWORD).await.status.as_u16(), 200);
        let r = admin
            .post_json(
                "/api/ui/admin/audit",
                json!({"filter": {"actor": "root", "action": "price.set"}}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        let found: AuditPage = serde_json::from_str(&r.body).unwrap();
        assert_eq!(found.rows.len(), 1);
        assert_eq!(found.rows[0].target.as_deref(), Some("acme-large"));
        assert_eq!(found.next_before_id, None);
        let r = admin
            .post_json("/api/ui/admin/audit", json!({"filter": {"action": "drop"}}))
            .await;
        assert_eq!(r.status.as_u16(), 400);
        assert!(r.body.contains("unknown action `drop`"), "{}", r.body);
        let r = viewer
            .post_json("/api/ui/admin/audit", json!({"filter": {}}))
            .await;
        assert_eq!(r.status.as_u16(), 403);

        // The CSV export: to an admin's session and a read key, never to a viewer's.
        let (status, body) = csv(&server, Err(&mut admin), "?action=account.created").await;
        assert_eq!(status, 200, "{body}");
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(
            lines[0],
            "id,created_at,actor,actor_ip,action,target,detail"
        );
        assert_eq!(lines.len(), 2, "{body}");
        assert!(
            lines[1].contains(&format!(",root,{ip},account.created,ops,\"{{")),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains("\"\"role\"\":\"\"viewer\"\""),
            "{}",
            lines[1]
        );
        let (status, body) = csv(&server, Err(&mut viewer), "").await;
        assert_eq!(status, 403, "{body}");
        let read = db
            .store
            .create_api_key("auditor", &[Scope::Read], None, 0)
            .await
            .unwrap()
            .1;
        let (status, body) = csv(&server, Ok(&read), "?actor=cli").await;
        assert_eq!((status, body.lines().count()), (200, 2), "{body}");
        let (status, body) = csv(&server, Ok(&read), "?since=yesterday").await;
        assert_eq!(status, 400, "{body}");
        drop(server);
    }
);

storage_test!(retention_deletes_entries_by_age, |db| async move {
    let day = 86_400_000;
    let now = chrono::Utc::now().timestamp_millis();
    for (at, action) in [
        (now - 40 * day, "price.reset"),
        (now - day, "retention.set"),
    ] {
        db.store
            .record_audit(&sightline::store::NewAudit {
                created_at: at,
                actor: "root".into(),
                actor_ip: None,
                action,
                target: None,
                detail: None,
            })
            .await
            .unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["prune", "--days", "30"])
        .env("SIGHTLINE_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("deleted as well 1 audit entries"),
        "{stdout}"
    );
    let left: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log")
        .fetch_all(&mut db.connection().await)
        .await
        .unwrap();
    assert_eq!(left, vec!["retention.set".to_string()]);
});
