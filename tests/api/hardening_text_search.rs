//! Hardening: text search finds the same rows on SQLite and PostgreSQL, in any case and
//! in any script (issue 15, item 15). SQLite's `LOWER` folds ASCII only, PostgreSQL's
//! follows the database's locale; Sightline folds case itself (Unicode simple case
//! folding, character by character) and asks both databases for the same
//! case-sensitive match. Wildcards and pattern characters in the search are literal.

use crate::common;

use common::fixture::{now_ms, request};
use sightline::store::NewThreat;
use sightline_app::requests::RequestFilter;
use sightline_app::threats::{ThreatFilter, ThreatState};
use sightline_app::users::UserFilter;
use sightline_tracker::wire::{Severity, ThreatType};

storage_test!(
    searches_fold_case_alike_on_both_databases,
    |db| async move {
        let t = now_ms() - 60_000;
        let rows = [
            ("r-unicode", "/v1/Ünïcödé/items", None, "Ünïcödé-user"),
            (
                "r-cyrillic",
                "/v1/chat",
                Some("ДОБРО пожаловать: timeout"),
                "добро-user",
            ),
            ("r-dotted", "/v1/İstanbul", None, "İlker"),
            ("r-plain", "/v1/istanbul", None, "ilker"),
            (
                "r-upper",
                "/v1/ISTANBUL",
                Some("ünïcödé failure"),
                "ILKER-2",
            ),
            ("r-pattern", "/v1/a*b[x].json?50%_off", None, "a_b"),
        ];
        let requests: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(i, (id, endpoint, error, user))| {
                let mut r = request(id, t + i as i64, 500);
                r.endpoint = endpoint.to_string();
                r.error = error.map(str::to_owned);
                r.user_id = Some(user.to_string());
                r
            })
            .collect();
        db.store.record_requests(&requests).await.unwrap();
        let threat = |ip: &str, user: &str| NewThreat {
            created_at: t,
            threat_type: ThreatType::Custom,
            severity: Severity::Low,
            ip: Some(ip.into()),
            user_id: Some(user.into()),
            country: None,
            endpoint: None,
            request_id: None,
            description: String::new(),
        };
        db.store
            .record_threats(&[
                threat("203.0.113.9", "ДОБРО"),
                threat("198.51.100.1", "Ünïcödé"),
                threat("2001:db8::1", "İlker"),
            ])
            .await
            .unwrap();

        let explorer = |text: &str| {
            let filter = RequestFilter {
                text: Some(text.into()),
                ..Default::default()
            };
            async move {
                let page = db.store.request_page(&filter, None, 50).await.unwrap();
                let mut ids: Vec<String> = page.rows.into_iter().map(|r| r.request_id).collect();
                ids.sort();
                ids
            }
        };
        for (text, expected) in [
            ("ünïcödé", &["r-unicode", "r-upper"][..]),
            ("ÜNÏCÖDÉ", &["r-unicode", "r-upper"][..]),
            ("добро", &["r-cyrillic"][..]),
            ("ДОБРО ПОЖАЛОВАТЬ", &["r-cyrillic"][..]),
            // `İ` has no simple case folding: it matches itself only, and `i` not it.
            ("İ", &["r-dotted"][..]),
            ("istanbul", &["r-plain", "r-upper"][..]),
            ("*b[x].", &["r-pattern"][..]),
            ("50%_", &["r-pattern"][..]),
            ("%", &["r-pattern"][..]),
            (".", &["r-pattern"][..]),
        ] {
            assert_eq!(explorer(text).await, expected, "explorer `{text}`");
        }

        let users = |search: &str| {
            let filter = UserFilter {
                search: Some(search.into()),
                ..Default::default()
            };
            async move {
                let page = db.store.user_page(&filter, None, 50).await.unwrap();
                let mut ids: Vec<String> = page.rows.into_iter().map(|r| r.user_id).collect();
                ids.sort();
                ids
            }
        };
        for (search, expected) in [
            ("ÜNÏCÖDÉ", &["Ünïcödé-user"][..]),
            ("ДОБРО", &["добро-user"][..]),
            ("ilker", &["ILKER-2", "ilker"][..]),
            ("İ", &["İlker"][..]),
            ("_", &["a_b"][..]),
        ] {
            assert_eq!(users(search).await, expected, "users `{search}`");
        }

        let threats = |search: &str| {
            let filter = ThreatFilter {
                search: Some(search.into()),
                state: ThreatState::All,
                ..Default::default()
            };
            async move {
                let page = db.store.threat_page(&filter, None, 50).await.unwrap();
                let mut users: Vec<String> = page
                    .rows
                    .into_iter()
                    .filter_map(|r| r.threat.user_id)
                    .collect();
                users.sort();
                (page.total, users)
            }
        };
        for (search, expected) in [
            ("добро", &["ДОБРО"][..]),
            ("üNÏ", &["Ünïcödé"][..]),
            ("İLKER", &["İlker"][..]),
            ("ilker", &[][..]),
            ("DB8::", &["İlker"][..]),
            ("203.0.", &["ДОБРО"][..]),
        ] {
            let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            assert_eq!(
                threats(search).await,
                (expected.len() as i64, expected),
                "threats `{search}`"
            );
        }
    }
);
