//! Spending budgets end to end, on both databases: the budgets card's exact figures,
//! alerts at 80% and 100% once per threshold and period (also across a restart), sent
//! to a webhook receiver on loopback; a user's own budget over each user's; the
//! settings' budgets over `SIGHTLINE_BUDGET_*`, and each change in the audit trail.

use crate::common;

use std::time::Duration;

use common::fixture::now_ms;
use common::webhook::receiver;
use common::{Browser, PASSWORD, TestServer, account, api, call};
use serde_json::{Value, json};
use sightline::budgets::{BudgetDefaults, Budgets};
use sightline::store::Scope;
use sightline_app::auth::Role;
use sightline_app::budgets::{
    BudgetSettings, BudgetUse, BudgetsCard, Limits, Period, Scope as BudgetScope, SharedBudget,
    UserBudget, UsersAgainstBudget,
};
use sightline_app::units::{EpochMillis, Micros};

/// Today's served requests: alice $3.00, bob $1.70, carol $4.50, dave $1.00 and an
/// anonymous $0.50; $10.70 in all.
fn traffic(now: i64) -> Value {
    let spend = [
        ("alice", 1.0),
        ("alice", 1.0),
        ("alice", 1.0),
        ("bob", 1.7),
        ("carol", 4.5),
        ("dave", 1.0),
        ("", 0.5),
    ];
    let requests: Vec<Value> = spend
        .iter()
        .enumerate()
        .map(|(i, (user, cost))| {
            let mut r = json!({
                "request_id": format!("budget-{i}"), "timestamp": now - 1_000 + i as i64,
                "endpoint": "/v1/chat/completions", "method": "POST", "status_code": 200,
                "latency_ms": 300.0, "model": "gpt-4o", "cost_usd": cost,
            });
            if !user.is_empty() {
                r["user_id"] = json!(user);
            }
            r
        })
        .collect();
    json!({ "requests": requests })
}

fn user_use(user: &str, spent: i64, limit: i64, now: i64) -> BudgetUse {
    let (period_start, period_end) = Period::Daily.bounds(EpochMillis(now));
    BudgetUse {
        user_id: Some(user.to_owned()),
        period: Period::Daily,
        limit_micros: Micros(limit),
        spent_micros: Micros(spent),
        period_start,
        period_end,
    }
}

storage_test!(
    the_budgets_card_shows_exact_spending_against_each_budget,
    |db| async move {
        let server = TestServer::start(&db.url);
        let key = api::key(db, &[Scope::Ingest]).await;
        let now = now_ms();
        api::ingest(&server, &key, &traffic(now)).await;

        let defaults = BudgetDefaults {
            daily: Some(Micros(10_000_000)),
            user_daily: Some(Micros(2_000_000)),
            ..BudgetDefaults::default()
        };
        let budgets = Budgets::new(db.store.clone(), defaults);
        // Carol has a budget of her own: $5 a day.
        let carol = Limits {
            daily_micros: Some(Micros(5_000_000)),
            monthly_micros: None,
        };
        assert!(budgets.set_user("carol", carol, now).await.unwrap());

        let card = budgets.card(EpochMillis(now)).await.unwrap();
        let (start, end) = Period::Daily.bounds(EpochMillis(now));
        assert_eq!(
            card,
            BudgetsCard {
                global: vec![BudgetUse {
                    user_id: None,
                    period: Period::Daily,
                    limit_micros: Micros(10_000_000),
                    spent_micros: Micros(10_700_000),
                    period_start: start,
                    period_end: end,
                }],
                per_user: vec![UsersAgainstBudget {
                    period: Period::Daily,
                    each_user_micros: Some(Micros(2_000_000)),
                    warned: 3,
                    over: 1,
                }],
                top_users: vec![
                    user_use("alice", 3_000_000, 2_000_000, now),
                    user_use("carol", 4_500_000, 5_000_000, now),
                    user_use("bob", 1_700_000, 2_000_000, now),
                ],
            }
        );

        // The settings: the environment's budgets, carol's own.
        let settings = budgets.settings().await.unwrap();
        let shared = |scope, period, limit, set_here, environment| SharedBudget {
            scope,
            period,
            limit_micros: limit,
            set_here,
            environment_micros: environment,
        };
        assert_eq!(
            settings,
            BudgetSettings {
                shared: vec![
                    shared(
                        BudgetScope::Global,
                        Period::Daily,
                        Some(Micros(10_000_000)),
                        false,
                        Some(Micros(10_000_000))
                    ),
                    shared(BudgetScope::Global, Period::Monthly, None, false, None),
                    shared(
                        BudgetScope::EachUser,
                        Period::Daily,
                        Some(Micros(2_000_000)),
                        false,
                        Some(Micros(2_000_000))
                    ),
                    shared(BudgetScope::EachUser, Period::Monthly, None, false, None),
                ],
                users: vec![UserBudget {
                    user_id: "carol".into(),
                    limits: carol,
                }],
            }
        );

        // Set here, the settings' budgets win over the environment's: no global daily
        // budget, $25 a month; each user $4 a day.
        budgets
            .set_shared(
                Limits {
                    daily_micros: None,
                    monthly_micros: Some(Micros(25_000_000)),
                },
                Limits {
                    daily_micros: Some(Micros(4_000_000)),
                    monthly_micros: None,
                },
                now,
            )
            .await
            .unwrap();
        let card = budgets.card(EpochMillis(now)).await.unwrap();
        let (m_start, m_end) = Period::Monthly.bounds(EpochMillis(now));
        // The month so far holds at least today (earlier days of the month are empty).
        assert_eq!(
            card.global,
            vec![BudgetUse {
                user_id: None,
                period: Period::Monthly,
                limit_micros: Micros(25_000_000),
                spent_micros: Micros(10_700_000),
                period_start: m_start,
                period_end: m_end,
            }]
        );
        // Alice is at 75% of $4 now, carol at 90% of her own $5.
        assert_eq!(
            card.per_user,
            vec![UsersAgainstBudget {
                period: Period::Daily,
                each_user_micros: Some(Micros(4_000_000)),
                warned: 1,
                over: 0,
            }]
        );
        assert_eq!(
            card.top_users,
            vec![user_use("carol", 4_500_000, 5_000_000, now)]
        );

        // Back to the environment's.
        budgets.reset_shared().await.unwrap();
        assert_eq!(
            budgets.card(EpochMillis(now)).await.unwrap().global[0].limit_micros,
            Micros(10_000_000)
        );
        // Removing carol's own budget puts her under each user's again.
        assert!(budgets.remove_user("carol").await.unwrap());
        assert!(!budgets.remove_user("carol").await.unwrap());
        let card = budgets.card(EpochMillis(now)).await.unwrap();
        assert_eq!(card.per_user[0].warned, 3);
        assert_eq!(card.per_user[0].over, 2);
    }
);

storage_test!(
    users_with_budgets_of_their_own_are_bounded,
    |db| async move {
        let one = Limits {
            daily_micros: Some(Micros(1_000_000)),
            monthly_micros: None,
        };
        assert!(db.store.set_user_budget("u1", one, 2, 1).await.unwrap());
        assert!(db.store.set_user_budget("u2", one, 2, 1).await.unwrap());
        // A third user is refused; the two may still change theirs.
        assert!(!db.store.set_user_budget("u3", one, 2, 1).await.unwrap());
        let both = Limits {
            daily_micros: Some(Micros(2_000_000)),
            monthly_micros: Some(Micros(30_000_000)),
        };
        assert!(db.store.set_user_budget("u2", both, 2, 2).await.unwrap());
        let (_, users) = db.store.budgets().await.unwrap();
        assert_eq!(
            users,
            vec![
                UserBudget {
                    user_id: "u1".into(),
                    limits: one
                },
                UserBudget {
                    user_id: "u2".into(),
                    limits: both
                },
            ]
        );
    }
);

async fn alert_keys(server: &TestServer, key: &str, state: &str) -> Vec<String> {
    let reply = api::get_json(
        server,
        key,
        &format!("/api/v1/alerts?state={state}&limit=100"),
    )
    .await;
    let mut keys: Vec<String> = reply["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "budget")
        .map(|a| a["key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

/// Waits up to `secs` seconds for the budget alerts in `state` to be `want`.
async fn wait_for_keys(server: &TestServer, key: &str, state: &str, want: &[String], secs: u64) {
    let mut got = Vec::new();
    for _ in 0..secs * 4 {
        got = alert_keys(server, key, state).await;
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{state} budget alerts: {got:?}, wanted {want:?}");
}

storage_test!(
    budget_alerts_fire_once_per_threshold_and_period_and_reach_the_webhook,
    |db| async move {
        let (mut hook, _release) = receiver(false).await;
        account(db, "root", Role::Admin).await;
        let env = [
            ("SIGHTLINE_WEBHOOK_URLS", hook.url.as_str()),
            ("SIGHTLINE_BUDGET_DAILY_USD", "10"),
            ("SIGHTLINE_BUDGET_USER_DAILY_USD", "2"),
        ];
        let server = TestServer::start_with(&db.url, &env);
        let key = api::key(db, &[Scope::Ingest, Scope::Read]).await;
        let now = now_ms();
        api::ingest(&server, &key, &traffic(now)).await;

        let day = Period::Daily.label(EpochMillis(now));
        let k = |whose: &str, t: u32| format!("budget:daily:{whose}:{day}:{t}");
        let mut firing = vec![
            k("global", 80),
            k("global", 100),
            k("user:alice", 80),
            k("user:alice", 100),
            k("user:bob", 80),
            k("user:carol", 80),
            k("user:carol", 100),
        ];
        firing.sort();
        wait_for_keys(&server, &key, "firing", &firing, 20).await;

        // Each reached the webhook once, as an `alert.firing` notice.
        for _ in 0..firing.len() {
            tokio::time::timeout(Duration::from_secs(10), hook.arrived.recv())
                .await
                .expect("webhook delivered");
        }
        let bodies = hook.received();
        let mut sent: Vec<String> = bodies
            .iter()
            .map(|b| {
                assert_eq!(b["event"], "alert.firing", "{b}");
                b["alert"]["key"].as_str().unwrap().to_owned()
            })
            .collect();
        sent.sort();
        assert_eq!(sent, firing);
        let global = bodies
            .iter()
            .find(|b| b["alert"]["key"] == k("global", 100))
            .unwrap();
        assert_eq!(
            global["text"],
            "[FIRING] [high] Daily budget spent: $10.70 of the $10.00 daily budget of the platform spent today (107%)"
        );
        let bob = bodies
            .iter()
            .find(|b| b["alert"]["key"] == k("user:bob", 80))
            .unwrap();
        assert_eq!(bob["alert"]["severity"], "medium");
        assert_eq!(bob["alert"]["title"], "User bob: daily budget 80% spent");
        assert_eq!(bob["alert"]["value"], 1.7);
        assert_eq!(bob["alert"]["threshold"], 1.6);

        // The dashboard shows the budgets and the alerts.
        let dashboard = api::get_json(&server, &key, "/api/v1/dashboard?range=24h").await;
        assert_eq!(dashboard["budgets"]["global"][0]["spentMicros"], 10_700_000);
        assert_eq!(dashboard["budgets"]["perUser"][0]["over"], 2);
        assert_eq!(dashboard["budgets"]["topUsers"][0]["userId"], "carol");

        // Carol gets $5 of her own: her 100% no longer holds and resolves (silently);
        // her 80% stays.
        let mut admin = Browser::new(&server.base_url);
        assert_eq!(admin.login("root", PASSWORD).await.status.as_u16(), 200);
        let settings: BudgetSettings = call(
            &mut admin,
            "admin/set_user_budget",
            &[("user_id", "carol"), ("daily", "5"), ("monthly", "")],
        )
        .await;
        assert_eq!(
            settings.users,
            vec![UserBudget {
                user_id: "carol".into(),
                limits: Limits {
                    daily_micros: Some(Micros(5_000_000)),
                    monthly_micros: None
                }
            }]
        );
        firing.retain(|f| *f != k("user:carol", 100));
        wait_for_keys(&server, &key, "firing", &firing, 20).await;
        assert_eq!(
            alert_keys(&server, &key, "resolved").await,
            vec![k("user:carol", 100)]
        );

        // Bounds and roles: a clear error, nothing changed.
        let r = admin
            .post_form(
                "/api/ui/admin/set_user_budget",
                &[("user_id", "dave"), ("daily", "-3"), ("monthly", "")],
            )
            .await;
        assert_eq!(r.status.as_u16(), 400, "{}", r.body);
        assert!(r.body.contains("from $0.01 to $10,000,000"), "{}", r.body);
        account(db, "vera", Role::Viewer).await;
        let mut viewer = Browser::new(&server.base_url);
        assert_eq!(viewer.login("vera", PASSWORD).await.status.as_u16(), 200);
        let r = viewer
            .post_form(
                "/api/ui/admin/set_budgets",
                &[
                    ("daily", ""),
                    ("monthly", ""),
                    ("user_daily", ""),
                    ("user_monthly", ""),
                ],
            )
            .await;
        assert_eq!(r.status.as_u16(), 403, "{}", r.body);

        // A restart fires nothing again: once per threshold and period.
        drop(server);
        let server = TestServer::start_with(&db.url, &env);
        tokio::time::sleep(Duration::from_secs(12)).await;
        assert_eq!(alert_keys(&server, &key, "firing").await, firing);
        assert_eq!(hook.received().len(), 7, "{:?}", hook.received());

        // Without her own budget carol is past 100% again: that alert stays resolved
        // and unsent in this period.
        let mut admin = Browser::new(&server.base_url);
        assert_eq!(admin.login("root", PASSWORD).await.status.as_u16(), 200);
        let _: BudgetSettings = call(
            &mut admin,
            "admin/remove_user_budget",
            &[("user_id", "carol")],
        )
        .await;
        // The settings' "no global budget" wins over SIGHTLINE_BUDGET_DAILY_USD: the
        // global alerts resolve.
        let settings: BudgetSettings = call(
            &mut admin,
            "admin/set_budgets",
            &[
                ("daily", ""),
                ("monthly", ""),
                ("user_daily", "2"),
                ("user_monthly", ""),
            ],
        )
        .await;
        assert_eq!(settings.shared[0].limit_micros, None);
        assert!(settings.shared[0].set_here);
        assert_eq!(
            settings.shared[0].environment_micros,
            Some(Micros(10_000_000))
        );
        firing.retain(|f| !f.contains(":global:"));
        wait_for_keys(&server, &key, "firing", &firing, 20).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(hook.received().len(), 7, "{:?}", hook.received());

        // Every change is in the audit trail.
        let audit = api::get_text(&server, &key, "/api/v1/export/audit.csv").await;
        for action in ["budget.user_set", "budget.user_removed", "budgets.set"] {
            assert!(audit.contains(action), "{action} not in\n{audit}");
        }
    }
);
