//! The dashboard's web sessions live in the database, on both backends.

use sightline::store::WebSessionStore;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

fn record(expires_in: time::Duration) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert(
        "user".to_string(),
        serde_json::json!({"name": "ada", "role": "admin"}),
    );
    Record {
        id: Id::default(),
        data,
        expiry_date: time::OffsetDateTime::now_utc() + expires_in,
    }
}

storage_test!(
    sessions_are_created_loaded_saved_and_deleted,
    |db| async move {
        let sessions = WebSessionStore::new(db.store.clone());
        let mut r = record(time::Duration::hours(1));
        sessions.create(&mut r).await.unwrap();
        let loaded = sessions
            .load(&r.id)
            .await
            .unwrap()
            .expect("the session is stored");
        assert_eq!(loaded.data, r.data);
        assert_eq!(
            loaded.expiry_date.unix_timestamp(),
            r.expiry_date.unix_timestamp()
        );

        r.data.insert("theme".into(), serde_json::json!("dark"));
        sessions.save(&r).await.unwrap();
        assert_eq!(sessions.load(&r.id).await.unwrap().unwrap().data.len(), 2);

        sessions.delete(&r.id).await.unwrap();
        assert_eq!(sessions.load(&r.id).await.unwrap(), None);
    }
);

storage_test!(
    expired_sessions_are_not_loaded_and_are_purged,
    |db| async move {
        let sessions = WebSessionStore::new(db.store.clone());
        let mut old = record(-time::Duration::minutes(1));
        let mut live = record(time::Duration::minutes(10));
        sessions.create(&mut old).await.unwrap();
        sessions.create(&mut live).await.unwrap();
        assert_eq!(sessions.load(&old.id).await.unwrap(), None);
        let now = chrono::Utc::now().timestamp_millis();
        assert_eq!(sessions.delete_expired(now).await.unwrap(), 1);
        assert!(sessions.load(&live.id).await.unwrap().is_some());
    }
);
