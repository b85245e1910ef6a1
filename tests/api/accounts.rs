//! Dashboard accounts and who may do what, over real HTTP against the real server, on
//! both databases: sign-in, throttling, sessions, roles, the Origin check.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Browser, PASSWORD, TestDb, TestServer, account};
use serde_json::json;
use sightline::store::NewThreat;
use sightline_app::auth::Role;
use sightline_tracker::wire::{Severity, ThreatType};

/// `sightline create-admin …` with `stdin`: (success, stdout, stderr).
fn create_admin(url: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("create-admin")
        .args(args)
        .env("SIGHTLINE_DATABASE_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn open_threats(db: &TestDb, n: usize) -> Vec<i64> {
    let threats: Vec<NewThreat> = (0..n)
        .map(|i| NewThreat {
            created_at: 1_000 + i as i64,
            threat_type: ThreatType::SqlInjection,
            severity: Severity::High,
            ip: Some(format!("203.0.113.{i}")),
            user_id: None,
            country: None,
            endpoint: Some("/v1/search".into()),
            request_id: None,
            description: "UNION SELECT in the query".into(),
        })
        .collect();
    db.store.record_threats(&threats).await.unwrap()
}

storage_test!(create_admin_makes_and_updates_accounts, |db| async move {
    let (ok, out, _) = create_admin(
        &db.url,
        &["--username", "ops", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(ok);
    assert_eq!(out.trim(), "Created admin account ops");
    let (ok, out, _) = create_admin(&db.url, &["--username", "ops", "--role", "viewer"], None);
    assert!(ok);
    let lines: Vec<&str> = out.trim().lines().collect();
    assert_eq!(lines[0], "Updated viewer account ops");
    let generated = lines.last().unwrap();
    assert_eq!(generated.len(), 20);
    let (account, hash) = db.store.account_for_login("ops").await.unwrap().unwrap();
    assert_eq!(account.role, Role::Viewer);
    assert!(hash.starts_with("$argon2id$"));
    assert!(sightline::auth::password::verify(generated, Some(hash)).await);

    let (ok, _, err) = create_admin(
        &db.url,
        &["--username", "a b", "--password-stdin"],
        Some("long enough\n"),
    );
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1);
    assert!(err.contains("not a valid username"), "{err}");
    let (ok, _, err) = create_admin(
        &db.url,
        &["--username", "x", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok);
    assert!(err.contains("too short"), "{err}");
});

storage_test!(
    anonymous_visitors_reach_only_the_login_page,
    |db| async move {
        let server = TestServer::start(&db.url);
        let mut browser = Browser::new(&server.base_url);
        let r = browser.get("/").await;
        assert_eq!(
            (r.status.as_u16(), r.location.as_deref()),
            (303, Some("/login"))
        );
        let r = browser.get("/threats?state=all").await;
        assert_eq!(
            r.location.as_deref(),
            Some("/login?next=%2Fthreats%3Fstate%3Dall")
        );
        let r = browser.get("/login").await;
        assert_eq!(r.status.as_u16(), 200);
        assert!(r.body.contains("Sign in to Sightline"));
        assert_eq!(browser.get("/healthz").await.status.as_u16(), 200);
        assert_eq!(browser.get("/pkg/missing.js").await.status.as_u16(), 404);
        let r = browser
            .post_form("/api/ui/dashboard", &[("range", "24h")])
            .await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (401, "sign in first"));
        let r = browser
            .post_json(
                "/api/ui/admin/threat_state",
                json!({"selection": {"kind": "ids", "value": [1]}, "resolve": true}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 401);
        assert_eq!(browser.get("/api/v1/dashboard").await.status.as_u16(), 401);
    }
);

storage_test!(
    signing_in_opens_a_session_and_signing_out_ends_it,
    |db| async move {
        account(db, "alice", Role::Admin).await;
        let server = TestServer::start(&db.url);
        let mut browser = Browser::new(&server.base_url);

        let r = browser.login("alice", "wrong password").await;
        assert_eq!(r.status.as_u16(), 401);
        assert!(r.body.contains("Wrong username or password."), "{}", r.body);
        assert!(!browser.signed_in());
        let r = browser.login("nobody", PASSWORD).await;
        assert_eq!(r.status.as_u16(), 401);

        let r = browser.login("alice", PASSWORD).await;
        assert!(r.status.is_success() || r.status.is_redirection(), "{r:?}");
        assert!(browser.signed_in());
        let page = browser.get("/").await;
        assert_eq!(page.status.as_u16(), 200);
        assert!(page.body.contains("alice"));
        // Signed in, the login page sends you on.
        let r = browser.get("/login?next=/threats").await;
        assert_eq!(r.location.as_deref(), Some("/threats"));
        let r = browser.get("/api/v1/dashboard?range=24h").await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
        assert!(r.body.contains("\"summary\""));
        let last_login = db
            .store
            .account_for_login("alice")
            .await
            .unwrap()
            .unwrap()
            .0
            .last_login_at;
        assert!(last_login.is_some());

        let stolen = browser.session_cookie();
        let r = browser.post_form("/logout", &[]).await;
        assert_eq!(r.location.as_deref(), Some("/login"));
        // The old cookie is worth nothing after signing out.
        browser.set_session_cookie(stolen);
        assert_eq!(browser.get("/").await.status.as_u16(), 303);
        let events: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM auth_event WHERE source = 'sightline' AND user_id = 'alice' \
         AND event_type IN ('login', 'logout')",
        )
        .fetch_one(&mut db.connection().await)
        .await
        .unwrap();
        assert_eq!(events, 2);
    }
);

storage_test!(
    create_admin_resetting_a_password_ends_the_sessions,
    |db| async move {
        account(db, "alice", Role::Admin).await;
        account(db, "bob", Role::Viewer).await;
        let server = TestServer::start(&db.url);
        let mut alice = Browser::new(&server.base_url);
        alice.login("alice", PASSWORD).await;
        let mut bob = Browser::new(&server.base_url);
        bob.login("bob", PASSWORD).await;
        assert_eq!(alice.get("/").await.status.as_u16(), 200);
        assert_eq!(bob.get("/").await.status.as_u16(), 200);

        // Even the same password again: a new hash is a new credential.
        let (ok, out, err) = create_admin(
            &db.url,
            &["--username", "alice", "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(ok, "{err}");
        assert_eq!(out.trim(), "Updated admin account alice");
        assert_eq!(
            alice.get("/threats").await.location.as_deref(),
            Some("/login?next=%2Fthreats")
        );
        assert!(!alice.signed_in(), "the dead session is flushed");
        assert_eq!(bob.get("/").await.status.as_u16(), 200);
        alice.login("alice", PASSWORD).await;
        assert_eq!(alice.get("/").await.status.as_u16(), 200);
    }
);

storage_test!(
    a_session_without_a_credential_stamp_signs_nobody_in,
    |db| async move {
        account(db, "alice", Role::Admin).await;
        let server = TestServer::start(&db.url);
        let mut alice = Browser::new(&server.base_url);
        alice.login("alice", PASSWORD).await;
        assert_eq!(alice.get("/").await.status.as_u16(), 200);
        // As sessions opened before stamps existed hold only the account id.
        let mut conn = db.connection().await;
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT id, data FROM tower_sessions")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        let mut data: serde_json::Value = serde_json::from_slice(&rows[0].1).unwrap();
        assert!(data["credential_stamp"].is_string(), "{data}");
        data.as_object_mut().unwrap().remove("credential_stamp");
        sqlx::query("UPDATE tower_sessions SET data = $1 WHERE id = $2")
            .bind(serde_json::to_vec(&data).unwrap())
            .bind(&rows[0].0)
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(alice.get("/").await.location.as_deref(), Some("/login"));
    }
);

storage_test!(
    five_failures_lock_sign_in_and_raise_a_threat,
    |db| async move {
        account(db, "bob", Role::Admin).await;
        let server = TestServer::start(&db.url);
        let mut browser = Browser::new(&server.base_url);
        for _ in 0..5 {
            assert_eq!(browser.login("bob", "guess").await.status.as_u16(), 401);
        }
        // Locked: even the right password is refused now.
        let r = browser.login("bob", PASSWORD).await;
        assert_eq!(r.status.as_u16(), 429);
        assert!(
            r.body
                .contains("Too many failed sign-ins. Try again in 10 minutes."),
            "{}",
            r.body
        );
        assert!(!browser.signed_in());
        assert_eq!(r.retry_after.as_deref(), Some("600"));
        // Another username from the same address is not locked (the lock is per
        // username and address; the per-address lock needs 50 failures).
        account(db, "carol", Role::Viewer).await;
        let mut other = Browser::new(&server.base_url);
        let r = other.login("carol", PASSWORD).await;
        assert!(r.status.is_success() || r.status.is_redirection(), "{r:?}");
        assert!(other.signed_in());

        let mut conn = db.connection().await;
        let failed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM auth_event WHERE source = 'sightline' AND event_type = 'login_failed' \
         AND ip = '127.0.0.1'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
        assert_eq!(
            failed, 6,
            "5 wrong passwords and the summary of 1 throttled attempt"
        );
        let threats: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT threat_type, severity, ip, occurrences FROM threat_log WHERE resolved = FALSE \
         ORDER BY id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert_eq!(
            threats,
            vec![("invalid_auth".into(), "high".into(), "127.0.0.1".into(), 2)],
            "one threat for bob (raised at the 5th failure, bumped when throttled)"
        );
    }
);

storage_test!(viewers_read_but_cannot_resolve_threats, |db| async move {
    account(db, "vera", Role::Viewer).await;
    account(db, "adam", Role::Admin).await;
    let ids = open_threats(db, 3).await;
    let server = TestServer::start(&db.url);
    let body = json!({"selection": {"kind": "ids", "value": ids}, "resolve": true});

    let mut viewer = Browser::new(&server.base_url);
    assert!(viewer.login("vera", PASSWORD).await.status.is_redirection() || viewer.signed_in());
    let r = viewer.post_form("/api/ui/threats", &[]).await;
    assert_eq!(r.status.as_u16(), 200, "viewers read threats: {}", r.body);
    assert!(r.body.contains("UNION SELECT"));
    let r = viewer
        .post_json("/api/ui/admin/threat_state", body.clone())
        .await;
    assert_eq!(r.status.as_u16(), 403);
    assert_eq!(r.body, "vera is a viewer: this needs the admin role");
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM threat_log WHERE resolved = FALSE")
        .fetch_one(&mut db.connection().await)
        .await
        .unwrap();
    assert_eq!(open, 3);

    let mut admin = Browser::new(&server.base_url);
    admin.login("adam", PASSWORD).await;
    let r = admin.post_json("/api/ui/admin/threat_state", body).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "3"));
    let resolved: Vec<(String, i64)> =
        sqlx::query_as("SELECT resolved_by, resolved_at FROM threat_log WHERE resolved = TRUE")
            .fetch_all(&mut db.connection().await)
            .await
            .unwrap();
    assert_eq!(resolved.len(), 3);
    assert!(resolved.iter().all(|(by, at)| by == "adam" && *at > 0));
});

storage_test!(
    state_changes_from_other_sites_are_refused,
    |db| async move {
        account(db, "adam", Role::Admin).await;
        let ids = open_threats(db, 1).await;
        let server = TestServer::start(&db.url);
        let mut browser = Browser::new(&server.base_url);
        browser.origin = None;
        let r = browser.login("adam", PASSWORD).await;
        assert_eq!(r.status.as_u16(), 403, "no Origin, no sign-in");
        browser.origin = Some("http://evil.example".into());
        assert_eq!(browser.login("adam", PASSWORD).await.status.as_u16(), 403);
        browser.origin = Some(server.base_url.clone());
        browser.login("adam", PASSWORD).await;
        assert!(browser.signed_in());
        browser.origin = Some("http://evil.example".into());
        let r = browser
            .post_json(
                "/api/ui/admin/threat_state",
                json!({"selection": {"kind": "ids", "value": ids}, "resolve": true}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 403);
        assert!(r.body.contains("cross-site request refused"));
        // Signing out is a state change too.
        let r = browser.post_form("/logout", &[]).await;
        assert_eq!(r.status.as_u16(), 403);
    }
);
