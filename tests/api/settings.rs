//! The settings page's server functions over real HTTP against the real server, on
//! both databases: API keys shown once and revoked, what viewers may not do, the rules
//! on accounts, the price table and the retention setting.

use crate::common;

use common::{Browser, PASSWORD, TestServer, account, call};
use sightline::store::Scope;
use sightline_app::auth::Role;
use sightline_app::settings::{
    AccountRow, ApiKeyRow, NewAccount, NewApiKey, PasswordReset, PriceRow, PriceSource, Retention,
};
use sightline_app::units::Micros;

/// Signs `username` in on a new browser.
async fn signed_in(server: &TestServer, username: &str) -> Browser {
    let mut browser = Browser::new(&server.base_url);
    let r = browser.login(username, PASSWORD).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    browser
}

/// Calls a server function that must fail with `status` and a message containing `message`.
async fn refused(
    browser: &mut Browser,
    endpoint: &str,
    form: &[(&str, &str)],
    status: u16,
    message: &str,
) {
    let r = browser
        .post_form(&format!("/api/ui/{endpoint}"), form)
        .await;
    assert_eq!(r.status.as_u16(), status, "{endpoint} {form:?}: {}", r.body);
    assert!(r.body.contains(message), "{endpoint} {form:?}: {}", r.body);
}

async fn dashboard_status(server: &TestServer, key: &str) -> u16 {
    reqwest::Client::new()
        .get(server.url("/api/v1/dashboard?range=24h"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

storage_test!(
    an_api_key_is_shown_once_and_revoking_it_refuses_it,
    |db| async move {
        account(db, "ada", Role::Admin).await;
        let server = TestServer::start(&db.url);
        let mut admin = signed_in(&server, "ada").await;

        let new: NewApiKey = call(
            &mut admin,
            "admin/create_api_key",
            &[("name", "  reporting  "), ("read", "on")],
        )
        .await;
        assert!(new.secret.starts_with(&new.key.prefix), "{new:?}");
        assert_eq!(new.secret.len(), 43);
        assert_eq!(
            (
                new.key.name.as_str(),
                new.key.scopes.clone(),
                new.key.created_by.as_deref()
            ),
            ("reporting", vec!["read".to_owned()], Some("ada"))
        );

        // The list never holds the key itself.
        let r = admin.post_form("/api/ui/api_keys", &[]).await;
        assert_eq!(r.status.as_u16(), 200);
        assert!(!r.body.contains(&new.secret));
        let keys: Vec<ApiKeyRow> = serde_json::from_str(&r.body).unwrap();
        assert_eq!(keys, std::slice::from_ref(&new.key));

        // The key works as a bearer on the read API, until it is revoked.
        assert_eq!(dashboard_status(&server, &new.secret).await, 200);
        let id = new.key.id.to_string();
        let revoked: ApiKeyRow = call(&mut admin, "admin/revoke_api_key", &[("id", &id)]).await;
        assert!(revoked.revoked_at.is_some());
        assert_eq!(dashboard_status(&server, &new.secret).await, 401);
        let keys: Vec<ApiKeyRow> = call(&mut admin, "api_keys", &[]).await;
        assert_eq!(keys[0].revoked_at, revoked.revoked_at);
        assert!(keys[0].last_used_at.is_some());

        refused(
            &mut admin,
            "admin/revoke_api_key",
            &[("id", "999")],
            404,
            "no API key with id 999",
        )
        .await;
        refused(
            &mut admin,
            "admin/create_api_key",
            &[("name", "none")],
            400,
            "at least one scope",
        )
        .await;
        refused(
            &mut admin,
            "admin/create_api_key",
            &[("name", " "), ("ingest", "on")],
            400,
            "name",
        )
        .await;
        assert_eq!(db.store.list_api_keys().await.unwrap().len(), 1);
    }
);

storage_test!(viewers_see_settings_but_change_nothing, |db| async move {
    account(db, "ada", Role::Admin).await;
    account(db, "vera", Role::Viewer).await;
    let (key, _) = db
        .store
        .create_api_key("gate<b>way</b>", &[Scope::Ingest], Some("cli"), 1_000)
        .await
        .unwrap();
    let ada = db.store.account_for_login("ada").await.unwrap().unwrap().0;
    let server = TestServer::start_with(&db.url, &[("SIGHTLINE_RETENTION_DAYS", "90")]);
    let mut viewer = signed_in(&server, "vera").await;

    // Reading is fine.
    let keys: Vec<ApiKeyRow> = call(&mut viewer, "api_keys", &[]).await;
    assert_eq!(keys.len(), 1);
    let prices: Vec<PriceRow> = call(&mut viewer, "prices", &[]).await;
    assert!(prices.iter().all(|p| p.source == PriceSource::BuiltIn));
    let retention: Retention = call(&mut viewer, "retention", &[]).await;
    assert_eq!(retention.days, 90);

    let key_id = key.id.to_string();
    let ada_id = ada.id.to_string();
    let vera = db.store.account_for_login("vera").await.unwrap().unwrap();
    let vera_id = vera.0.id.to_string();
    let attempts: [(&str, Vec<(&str, &str)>); 12] = [
        (
            "admin/create_api_key",
            vec![("name", "mine"), ("ingest", "on")],
        ),
        ("admin/revoke_api_key", vec![("id", &key_id)]),
        ("admin/accounts", vec![]),
        (
            "admin/create_account",
            vec![
                ("username", "eve"),
                ("role", "admin"),
                ("password", PASSWORD),
            ],
        ),
        (
            "admin/set_account_role",
            vec![("id", &ada_id), ("role", "viewer")],
        ),
        ("admin/delete_account", vec![("id", &ada_id)]),
        ("admin/reset_password", vec![("id", &ada_id)]),
        ("admin/reset_password", vec![("id", &vera_id)]),
        (
            "admin/set_price",
            vec![("model", "gpt-4o"), ("prompt", "0"), ("completion", "0")],
        ),
        ("admin/reset_price", vec![("model", "gpt-4o")]),
        ("admin/set_retention", vec![("days", "7")]),
        ("admin/set_retention", vec![("days", "0")]),
    ];
    for (endpoint, form) in &attempts {
        refused(&mut viewer, endpoint, form, 403, "vera is a viewer").await;
    }

    // Nothing changed.
    assert_eq!(db.store.list_api_keys().await.unwrap(), [key]);
    let accounts = db.store.list_accounts().await.unwrap();
    assert_eq!(
        accounts
            .iter()
            .map(|a| (a.username.as_str(), a.role))
            .collect::<Vec<_>>(),
        [("ada", Role::Admin), ("vera", Role::Viewer)]
    );
    assert!(db.store.model_prices().await.unwrap().is_empty());
    assert_eq!(db.store.retention_days().await.unwrap(), None);
    for (username, before) in [("ada", None), ("vera", Some(&vera.1))] {
        let hash = db
            .store
            .account_for_login(username)
            .await
            .unwrap()
            .unwrap()
            .1;
        if let Some(before) = before {
            assert_eq!(&hash, before);
        }
        assert!(sightline::auth::password::verify(PASSWORD, Some(hash)).await);
    }
    assert_eq!(
        viewer
            .post_form("/api/ui/api_keys", &[])
            .await
            .status
            .as_u16(),
        200,
        "the viewer is still signed in"
    );

    // The page has no accounts section for a viewer, and has one for an admin.
    let page = viewer.get("/settings").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.body.contains(r#"data-testid="settings-keys""#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"data-testid="settings-accounts""#));
    assert!(!page.body.contains(r#"data-testid="create-key-form""#));
    // User text is text.
    assert!(
        page.body.contains("gate&lt;b&gt;way&lt;/b&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("gate<b>"));
    let mut admin = signed_in(&server, "ada").await;
    let page = admin.get("/settings").await;
    assert!(
        page.body.contains(r#"data-testid="settings-accounts""#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"data-testid="create-key-form""#));
    assert!(
        page.body
            .contains("Older raw requests and auth events are deleted every hour")
    );
});

storage_test!(accounts_keep_an_admin_in_charge, |db| async move {
    account(db, "ada", Role::Admin).await;
    let server = TestServer::start(&db.url);
    let mut admin = signed_in(&server, "ada").await;

    let bob: NewAccount = call(
        &mut admin,
        "admin/create_account",
        &[
            ("username", "bob"),
            ("role", "viewer"),
            ("password", "bob's long password"),
        ],
    )
    .await;
    assert_eq!(
        (bob.account.username.as_str(), bob.account.role),
        ("bob", Role::Viewer)
    );
    assert_eq!(bob.generated_password, None);
    let mut bob_browser = Browser::new(&server.base_url);
    let r = bob_browser.login("bob", "bob's long password").await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    // An empty password has one generated, returned once, that signs in.
    let carol: NewAccount = call(
        &mut admin,
        "admin/create_account",
        &[("username", "carol"), ("role", "admin"), ("password", "")],
    )
    .await;
    let generated = carol.generated_password.expect("a generated password");
    assert_eq!(generated.len(), 20);
    let mut other = Browser::new(&server.base_url);
    assert_eq!(other.login("carol", &generated).await.status.as_u16(), 200);

    let bad_accounts: [(&[(&str, &str)], &str); 4] = [
        (
            &[
                ("username", "bob"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
            "already exists",
        ),
        (
            &[
                ("username", "dan"),
                ("role", "viewer"),
                ("password", "short"),
            ],
            "too short",
        ),
        (
            &[
                ("username", "d an"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
            "not a valid username",
        ),
        (
            &[
                ("username", "dan"),
                ("role", "root"),
                ("password", PASSWORD),
            ],
            "unknown role",
        ),
    ];
    for (form, message) in bad_accounts {
        refused(&mut admin, "admin/create_account", form, 400, message).await;
    }
    let (bob_id, carol_id) = (bob.account.id.to_string(), carol.account.id.to_string());
    let bob_row: AccountRow = call(
        &mut admin,
        "admin/set_account_role",
        &[("id", &bob_id), ("role", "admin")],
    )
    .await;
    assert_eq!(bob_row.role, Role::Admin);

    // Nobody demotes or deletes themself.
    let ada = db.store.account_for_login("ada").await.unwrap().unwrap().0;
    let ada_id = ada.id.to_string();
    refused(
        &mut admin,
        "admin/set_account_role",
        &[("id", &ada_id), ("role", "viewer")],
        400,
        "cannot demote yourself",
    )
    .await;
    refused(
        &mut admin,
        "admin/delete_account",
        &[("id", &ada_id)],
        400,
        "cannot delete your own account",
    )
    .await;

    // Once ada is the last admin, the others cannot remove her either.
    let _: AccountRow = call(
        &mut admin,
        "admin/set_account_role",
        &[("id", &bob_id), ("role", "viewer")],
    )
    .await;
    let _: () = call(&mut admin, "admin/delete_account", &[("id", &carol_id)]).await;
    assert_eq!(
        other
            .post_form("/api/ui/api_keys", &[])
            .await
            .status
            .as_u16(),
        401
    );
    let accounts: Vec<AccountRow> = call(&mut admin, "admin/accounts", &[]).await;
    assert_eq!(
        accounts
            .iter()
            .map(|a| (a.username.as_str(), a.role))
            .collect::<Vec<_>>(),
        [("ada", Role::Admin), ("bob", Role::Viewer)]
    );
    assert!(accounts[0].last_login_at.is_some());
    refused(
        &mut admin,
        "admin/delete_account",
        &[("id", &carol_id)],
        404,
        "no account with id",
    )
    .await;
    refused(
        &mut admin,
        "admin/set_account_role",
        &[("id", &bob_id), ("role", "owner")],
        400,
        "unknown role",
    )
    .await;
});

storage_test!(
    a_password_reset_ends_the_accounts_sessions,
    |db| async move {
        account(db, "ada", Role::Admin).await;
        account(db, "vera", Role::Viewer).await;
        account(db, "otto", Role::Admin).await;
        let server = TestServer::start(&db.url);
        let mut admin = signed_in(&server, "ada").await;
        let mut viewer = signed_in(&server, "vera").await;
        let mut other = signed_in(&server, "otto").await;
        assert_eq!(viewer.get("/").await.status.as_u16(), 200);
        let vera_id = db
            .store
            .account_for_login("vera")
            .await
            .unwrap()
            .unwrap()
            .0
            .id;

        let reset: PasswordReset = call(
            &mut admin,
            "admin/reset_password",
            &[("id", &vera_id.to_string())],
        )
        .await;
        assert_eq!(
            (reset.account.id, reset.account.username.as_str()),
            (vera_id, "vera")
        );
        assert_eq!(reset.password.len(), 20);

        // Her session signs nobody in any more, on pages, server functions and APIs.
        let stolen = viewer.session_cookie();
        assert_eq!(
            viewer.get("/settings").await.location.as_deref(),
            Some("/login?next=%2Fsettings")
        );
        viewer.set_session_cookie(stolen);
        assert_eq!(
            viewer
                .post_form("/api/ui/api_keys", &[])
                .await
                .status
                .as_u16(),
            401
        );
        assert_eq!(
            viewer
                .get("/api/v1/dashboard?range=24h")
                .await
                .status
                .as_u16(),
            401
        );
        // The others' sessions are untouched.
        assert_eq!(admin.get("/").await.status.as_u16(), 200);
        assert_eq!(other.get("/").await.status.as_u16(), 200);

        // The old password opens nothing; the new one does.
        let mut fresh = Browser::new(&server.base_url);
        assert_eq!(fresh.login("vera", PASSWORD).await.status.as_u16(), 401);
        assert_eq!(
            fresh.login("vera", &reset.password).await.status.as_u16(),
            200
        );
        assert_eq!(fresh.get("/").await.status.as_u16(), 200);

        // Recorded, by whom and from where.
        let events: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT user_id, ip, metadata FROM auth_event \
             WHERE source = 'sightline' AND event_type = 'password_reset' AND success = TRUE",
        )
        .fetch_all(&mut db.connection().await)
        .await
        .unwrap();
        assert_eq!(
            events,
            [(
                "vera".to_owned(),
                Some("127.0.0.1".to_owned()),
                Some(r#"{"by":"ada"}"#.to_owned())
            )]
        );

        // Not your own (the CLI does that), and not an account that does not exist.
        let ada_id = db
            .store
            .account_for_login("ada")
            .await
            .unwrap()
            .unwrap()
            .0
            .id;
        refused(
            &mut admin,
            "admin/reset_password",
            &[("id", &ada_id.to_string())],
            400,
            "sightline create-admin --username ada --password-stdin",
        )
        .await;
        assert!(
            sightline::auth::password::verify(
                PASSWORD,
                Some(db.store.account_for_login("ada").await.unwrap().unwrap().1)
            )
            .await
        );
        refused(
            &mut admin,
            "admin/reset_password",
            &[("id", "999")],
            404,
            "no account with id 999",
        )
        .await;
        assert_eq!(admin.get("/").await.status.as_u16(), 200);
    }
);

storage_test!(
    prices_and_retention_are_set_and_validated,
    |db| async move {
        account(db, "ada", Role::Admin).await;
        let server = TestServer::start_with(&db.url, &[("SIGHTLINE_RETENTION_DAYS", "30")]);
        let mut admin = signed_in(&server, "ada").await;

        let before: Vec<PriceRow> = call(&mut admin, "prices", &[]).await;
        let builtin_gpt4o = before.iter().find(|p| p.model == "gpt-4o").unwrap().clone();
        assert_eq!(
            (
                builtin_gpt4o.prompt_micros_per_mtok.micros(),
                builtin_gpt4o.cache_read_micros_per_mtok.map(Micros::micros),
                builtin_gpt4o.source
            ),
            (2_500_000, Some(1_250_000), PriceSource::BuiltIn)
        );
        let _: () = call(
            &mut admin,
            "admin/set_price",
            &[
                ("model", " acme-1 "),
                ("prompt", "1.5"),
                ("completion", "3"),
                ("cache_read", "0.15"),
                ("cache_write", ""),
                ("reasoning", "6"),
            ],
        )
        .await;
        let _: () = call(
            &mut admin,
            "admin/set_price",
            &[
                ("model", "gpt-4o"),
                ("prompt", "0.25"),
                ("completion", "100000"),
            ],
        )
        .await;
        let after: Vec<PriceRow> = call(&mut admin, "prices", &[]).await;
        assert_eq!(after.len(), before.len() + 1);
        let row = |rows: &[PriceRow], model: &str| rows.iter().find(|p| p.model == model).cloned();
        assert_eq!(
            row(&after, "acme-1"),
            Some(PriceRow {
                model: "acme-1".into(),
                prompt_micros_per_mtok: Micros(1_500_000),
                completion_micros_per_mtok: Micros(3_000_000),
                cache_read_micros_per_mtok: Some(Micros(150_000)),
                cache_write_micros_per_mtok: None,
                reasoning_micros_per_mtok: Some(Micros(6_000_000)),
                source: PriceSource::Set,
            })
        );
        assert_eq!(
            row(&after, "gpt-4o").map(|p| (
                p.prompt_micros_per_mtok.micros(),
                p.completion_micros_per_mtok.micros(),
                p.source
            )),
            Some((250_000, 100_000_000_000, PriceSource::Set))
        );
        let _: () = call(&mut admin, "admin/reset_price", &[("model", "gpt-4o")]).await;
        let _: () = call(&mut admin, "admin/reset_price", &[("model", "acme-1")]).await;
        let reset: Vec<PriceRow> = call(&mut admin, "prices", &[]).await;
        assert_eq!(reset, before);
        refused(
            &mut admin,
            "admin/reset_price",
            &[("model", "gpt-4o")],
            404,
            "no price is set",
        )
        .await;
        for (model, prompt, completion, message) in [
            ("gpt-4o", "-1", "1", "between 0 and 100000"),
            ("gpt-4o", "1", "100000.01", "between 0 and 100000"),
            (
                "gpt-4o",
                "abc",
                "1",
                "the prompt price `abc` is not a number",
            ),
            ("gpt-4o", "NaN", "1", "between 0 and 100000"),
            ("  ", "1", "1", "model name"),
        ] {
            refused(
                &mut admin,
                "admin/set_price",
                &[
                    ("model", model),
                    ("prompt", prompt),
                    ("completion", completion),
                ],
                400,
                message,
            )
            .await;
        }
        refused(
            &mut admin,
            "admin/set_price",
            &[
                ("model", "gpt-4o"),
                ("prompt", "1"),
                ("completion", "1"),
                ("cache_write", "-2"),
            ],
            400,
            "the cache write price must be between 0 and 100000",
        )
        .await;
        assert!(db.store.model_prices().await.unwrap().is_empty());

        // Retention: the environment's default until an admin chooses.
        let retention: Retention = call(&mut admin, "retention", &[]).await;
        assert_eq!(
            retention,
            Retention {
                days: 30,
                setting: None,
                default_days: 30,
                pruning_enabled: true
            }
        );
        for days in ["0", "5000", "-3", "7.5", "week"] {
            refused(
                &mut admin,
                "admin/set_retention",
                &[("days", days)],
                400,
                "between 1 and 3650",
            )
            .await;
        }
        let set: Retention = call(&mut admin, "admin/set_retention", &[("days", "45")]).await;
        assert_eq!(
            (set.days, set.setting, set.default_days),
            (45, Some(45), 30)
        );
        let again: Retention = call(&mut admin, "retention", &[]).await;
        assert_eq!(again, set);
        assert_eq!(db.store.retention_days().await.unwrap(), Some(45));
    }
);

/// Ingests one request of `acme-2` (2000 prompt and 400 completion tokens, no cost) and
/// returns the cost recorded for it.
async fn ingested_cost(db: &common::TestDb, server: &TestServer, key: &str, id: &str) -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    let reply = reqwest::Client::new()
        .post(server.url("/api/v1/ingest"))
        .bearer_auth(key)
        .json(
            &serde_json::json!({"requests": [{"request_id": id, "timestamp": now - 1000,
            "endpoint": "/v1/chat", "method": "POST", "status_code": 200, "latency_ms": 5,
            "model": "acme-2", "prompt_tokens": 2000, "completion_tokens": 400}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    let detail = db.store.request_detail(id).await.unwrap().unwrap();
    detail.request.cost_micros.micros()
}

// The ingest caches the price table for 30 s; a change made in the settings must not
// wait for that on the server that took it. (Cache only: SQLite is enough.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_change_applies_to_the_next_ingested_request() {
    let db = common::TestDb::new(common::Backend::Sqlite).await;
    account(&db, "ada", Role::Admin).await;
    let server = TestServer::start(&db.url);
    let key = db
        .store
        .create_api_key("test", &[Scope::Ingest], None, 0)
        .await
        .unwrap()
        .1;
    let mut admin = signed_in(&server, "ada").await;
    // The first batch reads the table into the cache: no price for acme-2 yet.
    assert_eq!(ingested_cost(&db, &server, &key, "p0").await, 0);
    let set = [
        ("model", "acme-2"),
        ("prompt", "3.25"),
        ("completion", "12.5"),
    ];
    let _: () = call(&mut admin, "admin/set_price", &set).await;
    // 2000 × $3.25/M + 400 × $12.50/M = $0.0115.
    assert_eq!(ingested_cost(&db, &server, &key, "p1").await, 11_500);
    let _: () = call(&mut admin, "admin/reset_price", &[("model", "acme-2")]).await;
    assert_eq!(ingested_cost(&db, &server, &key, "p2").await, 0);
    // What was recorded stays.
    let p1 = db.store.request_detail("p1").await.unwrap().unwrap();
    assert_eq!(p1.request.cost_micros, Micros(11_500));
    db.drop_database().await;
}
