//! The threats view's queries and bulk actions, on both databases.

use crate::common;

use sightline::store::NewThreat;
use sightline_app::threats::{PAGE_SIZE, ThreatFilter, ThreatSelection, ThreatState};
use sightline_app::units::EpochMillis;
use sightline_tracker::wire::{Severity, ThreatType};

fn threat(t: i64, kind: ThreatType, severity: Severity, ip: &str, user: Option<&str>) -> NewThreat {
    NewThreat {
        created_at: t,
        threat_type: kind,
        severity,
        ip: Some(ip.into()),
        user_id: user.map(str::to_owned),
        country: Some("DE".into()),
        endpoint: Some("/v1/chat/completions".into()),
        request_id: None,
        description: format!("{} from {ip}", kind.as_str()),
    }
}

/// 120 threats: every 3rd XSS (high), the rest SQL injection (medium), from distinct
/// IPs `10.0.<i/100>.<i%100>`, one a second from t = 1 000 000; users `u<i%7>`.
async fn seed(db: &common::TestDb) -> Vec<i64> {
    let threats: Vec<NewThreat> = (0..120)
        .map(|i| {
            let (kind, severity) = if i % 3 == 0 {
                (ThreatType::Xss, Severity::High)
            } else {
                (ThreatType::SqlInjection, Severity::Medium)
            };
            threat(
                1_000_000 + i * 1000,
                kind,
                severity,
                &format!("10.0.{}.{}", i / 100, i % 100),
                Some(&format!("u{}", i % 7)),
            )
        })
        .collect();
    db.store.record_threats(&threats).await.unwrap()
}

fn ids_of(page: &sightline_app::threats::ThreatPage) -> Vec<i64> {
    page.rows.iter().map(|r| r.threat.id).collect()
}

storage_test!(pages_walk_every_match_newest_first, |db| async move {
    let ids = seed(db).await;
    let filter = ThreatFilter::default();
    let mut seen = Vec::new();
    let mut after = None;
    let mut sizes = Vec::new();
    loop {
        let page = db
            .store
            .threat_page(&filter, after, PAGE_SIZE)
            .await
            .unwrap();
        assert_eq!(page.total, 120);
        sizes.push(page.rows.len());
        seen.extend(ids_of(&page));
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(sizes, vec![50, 50, 20]);
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    let first = &db.store.threat_page(&filter, None, 1).await.unwrap().rows[0];
    assert_eq!(first.threat.description, "sql_injection from 10.0.1.19");
    assert_eq!(first.country.as_deref(), Some("DE"));
    assert_eq!(first.endpoint.as_deref(), Some("/v1/chat/completions"));
});

storage_test!(filters_combine, |db| async move {
    seed(db).await;
    let count = |filter: ThreatFilter| async move {
        db.store
            .threat_page(&filter, None, 500)
            .await
            .unwrap()
            .total
    };
    assert_eq!(
        count(ThreatFilter {
            threat_type: Some(ThreatType::Xss),
            ..Default::default()
        })
        .await,
        40
    );
    assert_eq!(
        count(ThreatFilter {
            severity: Some(Severity::Medium),
            ..Default::default()
        })
        .await,
        80
    );
    // Last seen from the 100th second on: threats 100..119.
    assert_eq!(
        count(ThreatFilter {
            since: Some(EpochMillis(1_100_000)),
            ..Default::default()
        })
        .await,
        20
    );
    assert_eq!(
        count(ThreatFilter {
            since: Some(EpochMillis(1_100_000)),
            until: Some(EpochMillis(1_110_000)),
            threat_type: Some(ThreatType::Xss),
            ..Default::default()
        })
        .await,
        // 102, 105, 108
        3
    );
    // Part of the IP: 10.0.1.x are threats 100..119.
    assert_eq!(
        count(ThreatFilter {
            search: Some("10.0.1.".into()),
            ..Default::default()
        })
        .await,
        20
    );
    // Part of the user id, case-insensitive: u3 are i % 7 == 3.
    assert_eq!(
        count(ThreatFilter {
            search: Some("U3".into()),
            ..Default::default()
        })
        .await,
        17
    );
    // LIKE wildcards are plain characters.
    assert_eq!(
        count(ThreatFilter {
            search: Some("%".into()),
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(ThreatFilter {
            search: Some("_".into()),
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(ThreatFilter {
            state: ThreatState::Resolved,
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(ThreatFilter {
            state: ThreatState::All,
            ..Default::default()
        })
        .await,
        120
    );
});

storage_test!(
    everything_matching_a_filter_is_resolved_at_once,
    |db| async move {
        seed(db).await;
        let xss = ThreatFilter {
            threat_type: Some(ThreatType::Xss),
            ..Default::default()
        };
        let changed = db
            .store
            .set_threat_state(
                &ThreatSelection::Matching(xss.clone()),
                true,
                "adam",
                5_000_000,
            )
            .await
            .unwrap();
        assert_eq!(changed, 40);
        let open = db
            .store
            .threat_page(&ThreatFilter::default(), None, 500)
            .await
            .unwrap();
        assert_eq!(open.total, 80);
        assert!(
            open.rows
                .iter()
                .all(|r| r.threat.threat_type == ThreatType::SqlInjection)
        );
        let resolved = db
            .store
            .threat_page(
                &ThreatFilter {
                    state: ThreatState::Resolved,
                    ..Default::default()
                },
                None,
                500,
            )
            .await
            .unwrap();
        assert_eq!(resolved.total, 40);
        assert!(
            resolved
                .rows
                .iter()
                .all(|r| r.resolved_by.as_deref() == Some("adam")
                    && r.resolved_at == Some(EpochMillis(5_000_000))
                    && r.threat.resolved)
        );
        // Again: nothing left to resolve.
        let again = db
            .store
            .set_threat_state(
                &ThreatSelection::Matching(xss.clone()),
                true,
                "adam",
                6_000_000,
            )
            .await
            .unwrap();
        assert_eq!(again, 0);
        // Reopen everything matching (state = all): the 40 come back.
        let reopened = db
            .store
            .set_threat_state(
                &ThreatSelection::Matching(ThreatFilter {
                    state: ThreatState::All,
                    ..xss
                }),
                false,
                "adam",
                7_000_000,
            )
            .await
            .unwrap();
        assert_eq!(reopened, 40);
        let open = db
            .store
            .threat_page(&ThreatFilter::default(), None, 500)
            .await
            .unwrap();
        assert_eq!(open.total, 120);
        assert!(
            open.rows
                .iter()
                .all(|r| r.resolved_by.is_none() && r.resolved_at.is_none())
        );
    }
);

storage_test!(
    reopening_never_leaves_two_open_threats_of_one_key,
    |db| async move {
        let same = || threat(1_000, ThreatType::Scanner, Severity::Low, "192.0.2.1", None);
        let first = db.store.record_threats(&[same()]).await.unwrap()[0];
        db.store
            .set_threats_resolved(&[first], true, "adam", 2_000)
            .await
            .unwrap();
        let second = db.store.record_threats(&[same()]).await.unwrap()[0];
        assert_ne!(first, second, "a repeat after resolving is a new threat");
        db.store
            .set_threats_resolved(&[second], true, "adam", 3_000)
            .await
            .unwrap();
        // Both resolved, same key: reopening both reopens only the newest.
        let changed = db
            .store
            .set_threat_state(
                &ThreatSelection::Ids(vec![first, second]),
                false,
                "adam",
                4_000,
            )
            .await
            .unwrap();
        assert_eq!(changed, 1);
        let open = db
            .store
            .threat_page(&ThreatFilter::default(), None, 10)
            .await
            .unwrap();
        assert_eq!(ids_of(&open), vec![second]);
        // With one open, the other cannot be reopened.
        let changed = db
            .store
            .set_threats_resolved(&[first], false, "adam", 5_000)
            .await
            .unwrap();
        assert_eq!(changed, 0);
    }
);
