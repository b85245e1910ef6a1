//! Hardening: the sign-in throttle cannot be raced or turned against an account's
//! owner, and a burst of sign-ins cannot exhaust memory (issue 15, items 4 and 6).
//! The server trusts the loopback as a proxy here, so each browser's
//! `X-Forwarded-For` is its address.

use crate::common;

use common::{Browser, PASSWORD, TestServer, account};
use sightline_app::auth::Role;

const TRUST_LOOPBACK: (&str, &str) = ("SIGHTLINE_TRUSTED_PROXIES", "127.0.0.1");

async fn count(db: &common::TestDb, error: &str) -> i64 {
    let mut conn = db.connection().await;
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM auth_event WHERE source = 'sightline' \
         AND event_type = 'login_failed' AND error = $1",
    )
    .bind(error)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

/// Signs in as `username` from `ip`: the status code.
async fn attempt(server: &TestServer, ip: &str, username: &str, password: &str) -> u16 {
    let mut browser = Browser::from_address(&server.base_url, ip);
    browser.login(username, password).await.status.as_u16()
}

fn signed_in(status: u16) -> bool {
    (200..400).contains(&status)
}

storage_test!(
    parallel_guesses_cannot_race_past_five_failures,
    |db| async move {
        account(db, "bob", Role::Admin).await;
        let server = TestServer::start_with(&db.url, &[TRUST_LOOPBACK]);
        // Forty guesses at once, then more one by one until the lock answers: however
        // they interleave, exactly five wrong passwords are ever checked.
        let guesses = (0..40).map(|_| attempt(&server, "203.0.113.9", "bob", "guess"));
        let statuses = futures::future::join_all(guesses).await;
        assert!(
            statuses.iter().all(|s| *s == 401 || *s == 429),
            "{statuses:?}"
        );
        assert!(statuses.iter().filter(|s| **s == 401).count() <= 5);
        let mut tries = 0;
        while attempt(&server, "203.0.113.9", "bob", "guess").await == 401 {
            tries += 1;
            assert!(tries <= 5, "more than five wrong passwords were checked");
        }
        assert_eq!(count(db, "wrong username or password").await, 5);
        // And the right password from that address is refused now.
        assert_eq!(attempt(&server, "203.0.113.9", "bob", PASSWORD).await, 429);
    }
);

storage_test!(
    a_guesser_locks_out_only_their_own_address,
    |db| async move {
        account(db, "admin", Role::Admin).await;
        let server = TestServer::start_with(&db.url, &[TRUST_LOOPBACK]);
        for _ in 0..5 {
            assert_eq!(attempt(&server, "203.0.113.9", "admin", "guess").await, 401);
        }
        assert_eq!(
            attempt(&server, "203.0.113.9", "admin", PASSWORD).await,
            429
        );
        // The owner, from their own address, still signs in.
        assert!(signed_in(
            attempt(&server, "198.51.100.2", "admin", PASSWORD).await
        ));
    }
);

storage_test!(
    fifty_failures_from_anywhere_lock_the_username_everywhere,
    |db| async move {
        account(db, "admin", Role::Admin).await;
        account(db, "vera", Role::Viewer).await;
        let server = TestServer::start_with(&db.url, &[TRUST_LOOPBACK]);
        // A distributed guesser: ten addresses, five guesses each.
        for a in 0..10 {
            let ip = format!("203.0.113.{a}");
            for _ in 0..5 {
                assert_eq!(attempt(&server, &ip, "admin", "guess").await, 401);
            }
        }
        // The slower global back-off: now no address may try `admin`…
        let mut owner = Browser::from_address(&server.base_url, "198.51.100.2");
        let r = owner.login("admin", PASSWORD).await;
        assert_eq!(r.status.as_u16(), 429, "{r:?}");
        assert!(r.body.contains("Too many failed sign-ins."), "{}", r.body);
        // …while other accounts are untouched.
        assert!(signed_in(
            attempt(&server, "198.51.100.2", "vera", PASSWORD).await
        ));
    }
);

storage_test!(
    throttled_attempts_are_summarised_not_written_one_by_one,
    |db| async move {
        account(db, "bob", Role::Admin).await;
        let server = TestServer::start_with(&db.url, &[TRUST_LOOPBACK]);
        for _ in 0..5 {
            assert_eq!(attempt(&server, "203.0.113.9", "bob", "guess").await, 401);
        }
        for _ in 0..30 {
            assert_eq!(attempt(&server, "203.0.113.9", "bob", "guess").await, 429);
        }
        // One summary event now (the rest follow within a minute, one event each).
        assert_eq!(count(db, "throttled").await, 1);
        let mut conn = db.connection().await;
        let metadata: String = sqlx::query_scalar(
            "SELECT metadata FROM auth_event WHERE error = 'throttled' AND user_id = 'bob'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(metadata, r#"{"attempts":1}"#);
    }
);

storage_test!(
    sign_ins_beyond_the_hashing_slots_are_refused_at_once,
    |db| async move {
        account(db, "bob", Role::Admin).await;
        let server = TestServer::start_with(
            &db.url,
            &[TRUST_LOOPBACK, ("SIGHTLINE_SIGN_IN_CONCURRENCY", "1")],
        );
        // Twelve attempts at once from twelve addresses (no throttle applies), one
        // hashing slot: whoever finds it taken gets 429 with Retry-After: 1.
        let burst = (0..12).map(|a| {
            let base = server.base_url.clone();
            async move {
                let mut b = Browser::from_address(&base, &format!("192.0.2.{a}"));
                b.login("bob", "guess").await
            }
        });
        let replies = futures::future::join_all(burst).await;
        let busy: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
        assert!(!busy.is_empty(), "{replies:?}");
        for r in &busy {
            assert!(
                r.body
                    .contains("Too many sign-ins at once. Try again in a moment."),
                "{}",
                r.body
            );
            assert_eq!(r.retry_after.as_deref(), Some("1"));
        }
        assert!(
            replies.iter().all(|r| r.status == 401 || r.status == 429),
            "{replies:?}"
        );
        // Refused before any work: nothing recorded for them.
        let checked = replies.iter().filter(|r| r.status == 401).count() as i64;
        assert_eq!(count(db, "wrong username or password").await, checked);
        // And once the burst is over, the owner signs in.
        assert!(signed_in(
            attempt(&server, "198.51.100.2", "bob", PASSWORD).await
        ));
    }
);
