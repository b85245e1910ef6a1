//! The store's account and settings functions on both databases: creating without
//! overwriting, the last admin kept, retention stored.

use sightline::store::AccountRefusal;
use sightline_app::auth::Role;

storage_test!(
    accounts_are_created_once_and_the_last_admin_stays,
    |db| async move {
        let store = &db.store;
        let ada = store
            .create_account("ada", "hash-a", Role::Admin, 10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (ada.username.as_str(), ada.role, ada.created_at.ms()),
            ("ada", Role::Admin, 10)
        );
        // A taken username leaves the account as it was.
        assert_eq!(
            store
                .create_account("ada", "hash-x", Role::Viewer, 20)
                .await
                .unwrap(),
            None
        );
        let (kept, hash) = store.account_for_login("ada").await.unwrap().unwrap();
        assert_eq!((kept, hash.as_str()), (ada.clone(), "hash-a"));

        // The only admin can be neither demoted nor deleted.
        assert_eq!(
            store.set_account_role(ada.id, Role::Viewer).await.unwrap(),
            Err(AccountRefusal::LastAdmin)
        );
        assert_eq!(
            store.delete_account(ada.id).await.unwrap(),
            Err(AccountRefusal::LastAdmin)
        );
        // Keeping an admin an admin is fine.
        assert_eq!(
            store
                .set_account_role(ada.id, Role::Admin)
                .await
                .unwrap()
                .map(|a| a.role),
            Ok(Role::Admin)
        );

        let bob = store
            .create_account("bob", "hash-b", Role::Viewer, 30)
            .await
            .unwrap()
            .unwrap();
        let bob_admin = store
            .set_account_role(bob.id, Role::Admin)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bob_admin.role, Role::Admin);
        // With two admins, one may go.
        let demoted = store
            .set_account_role(ada.id, Role::Viewer)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(demoted.role, Role::Viewer);
        assert_eq!(
            store.delete_account(bob.id).await.unwrap(),
            Err(AccountRefusal::LastAdmin)
        );
        assert_eq!(store.delete_account(ada.id).await.unwrap(), Ok(demoted));
        assert_eq!(store.account(ada.id).await.unwrap(), None);
        assert_eq!(
            store.delete_account(ada.id).await.unwrap(),
            Err(AccountRefusal::NotFound)
        );
        assert_eq!(
            store.set_account_role(ada.id, Role::Admin).await.unwrap(),
            Err(AccountRefusal::NotFound)
        );
        let left = store.list_accounts().await.unwrap();
        assert_eq!(
            left.iter().map(|a| a.username.as_str()).collect::<Vec<_>>(),
            ["bob"]
        );
    }
);

storage_test!(retention_is_stored_and_replaced, |db| async move {
    let store = &db.store;
    assert_eq!(store.retention_days().await.unwrap(), None);
    store.set_retention_days(30, 1).await.unwrap();
    assert_eq!(store.retention_days().await.unwrap(), Some(30));
    store.set_retention_days(3650, 2).await.unwrap();
    assert_eq!(store.retention_days().await.unwrap(), Some(3650));
});
