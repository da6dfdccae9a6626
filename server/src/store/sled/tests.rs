//! The sled backend on its own: tenant scoping, reopening (and refusing newer records),
//! concurrent writes.

use super::*;
use crate::store::{BindingStore, StoredBinding};

/// A GitLab binding (the conformance suite's builder).
fn binding(tenant: &str, login: &str) -> StoredBinding {
    crate::store::conformance::binding(tenant, Provider::GitLab, login)
}

#[tokio::test]
async fn put_get_list_delete_are_tenant_scoped() {
    let dir = tempfile::tempdir().unwrap();
    let s = SledStore::open(dir.path()).unwrap();
    assert!(!s.put(&binding("t1", "alice")).await.unwrap(), "new");
    s.put(&binding("t10", "bob")).await.unwrap();
    assert!(s.put(&binding("t1", "alice")).await.unwrap(), "replaced");
    assert_eq!(
        s.list("t1").await.unwrap().len(),
        1,
        "t1 must not see t10 (prefix overlap)"
    );
    assert_eq!(
        s.get("t1", Provider::GitLab)
            .await
            .unwrap()
            .unwrap()
            .account
            .login,
        "alice"
    );
    assert!(s.get("t2", Provider::GitLab).await.unwrap().is_none());
    assert!(s.delete("t1", Provider::GitLab).await.unwrap().is_some());
    assert!(s.delete("t1", Provider::GitLab).await.unwrap().is_none());
    assert_eq!(s.list("t10").await.unwrap().len(), 1);
    assert!(s.ready().await);
}

#[tokio::test]
async fn survives_reopen_and_refuses_newer_records() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SledStore::open(dir.path()).unwrap();
        s.put(&binding("t1", "alice")).await.unwrap();
        let mut newer = serde_json::to_value(binding("t1", "x")).unwrap();
        newer["v"] = 99.into();
        s.bindings
            .insert(
                SledStore::key("t9", Provider::GitLab),
                serde_json::to_vec(&newer).unwrap(),
            )
            .unwrap();
        s.db.flush().unwrap();
    }
    // sled's background flusher holds the directory's lock a moment after the handle is
    // dropped (a new process never meets this): try again for a while.
    let mut tries = 0;
    let s = loop {
        match SledStore::open(dir.path()) {
            Ok(s) => break s,
            Err(e) if tries < 50 => {
                tries += 1;
                eprintln!("reopening: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("reopening failed: {e}"),
        }
    };
    assert_eq!(s.list("t1").await.unwrap()[0].account.login, "alice");
    assert!(matches!(
        s.get("t9", Provider::GitLab).await,
        Err(StoreError::NewerVersion(99))
    ));
}

#[tokio::test]
async fn concurrent_writes_leave_one_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(SledStore::open(dir.path()).unwrap());
    s.put(&binding("t1", "start")).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                s.put(&binding("t1", &format!("user{i}"))).await.unwrap();
                None
            } else {
                Some(s.delete("t1", Provider::GitLab).await.unwrap().is_some())
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Whatever the interleaving, the row is either absent or one complete record.
    if let Some(b) = s.get("t1", Provider::GitLab).await.unwrap() {
        assert!(b.account.login.starts_with("user"));
        assert_eq!(b.address.as_deref(), Some("https://gitlab.com"));
    }
}

#[tokio::test]
async fn replace_matches_a_record_an_older_version_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let s = SledStore::open(dir.path()).unwrap();
    let b = StoredBinding {
        avatar: None,
        ..binding("t1", "alice")
    };
    let older = crate::store::conformance::older_record(&b);
    let key = SledStore::key("t1", Provider::GitLab);
    s.bindings.insert(key, older.as_bytes()).unwrap();
    let read = s.get("t1", Provider::GitLab).await.unwrap().unwrap();
    assert_eq!(read, b);
    let next = StoredBinding {
        last_checked_at: Some(42),
        ..read.clone()
    };
    assert!(s.replace(&read, &next).await.unwrap(), "the same record");
    assert_eq!(
        s.get("t1", Provider::GitLab).await.unwrap(),
        Some(next.clone())
    );
    assert!(
        !s.replace(&read, &next).await.unwrap(),
        "no longer the same"
    );
}

/// `/metrics` counts from keys and the reauth index: a record that does not decode is still
/// counted (decoding every record on each scrape is what this avoids).
#[tokio::test]
async fn counts_do_not_decode_records() {
    let dir = tempfile::tempdir().unwrap();
    let s = SledStore::open(dir.path()).unwrap();
    s.put(&binding("t1", "alice")).await.unwrap();
    let mut refused = binding("t2", "bob");
    refused.reauth_reason = Some(app::api::ReauthReason::RefreshRefused("x".into()));
    s.put(&refused).await.unwrap();
    s.bindings
        .insert(SledStore::key("t1", Provider::GitLab), &b"{not json"[..])
        .unwrap();
    assert!(s.get("t1", Provider::GitLab).await.is_err(), "unreadable");
    assert_eq!(
        s.counts().await.unwrap(),
        [(Provider::GitLab, false, 1), (Provider::GitLab, true, 1)]
    );
}

/// A store written before the reauth index existed gets it built when opened.
#[tokio::test]
async fn opening_an_older_store_builds_the_reauth_index() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SledStore::open(dir.path()).unwrap();
        s.put(&binding("t1", "alice")).await.unwrap();
        let mut refused = binding("t2", "bob");
        refused.reauth_reason = Some(app::api::ReauthReason::RefreshRefused("x".into()));
        s.put(&refused).await.unwrap();
        // As an older version left it: records only.
        s.reauth.clear().unwrap();
        s.db.remove(REAUTH_INDEX_BUILT).unwrap();
        s.db.flush().unwrap();
    }
    let mut tries = 0;
    let s = loop {
        match SledStore::open(dir.path()) {
            Ok(s) => break s,
            Err(_) if tries < 100 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(
        s.counts().await.unwrap(),
        [(Provider::GitLab, false, 1), (Provider::GitLab, true, 1)]
    );
}

/// A record an older version wrote holds its avatar image inline; opening the store moves the
/// image to `avatars/v1` and leaves the record with the reference only.
#[tokio::test]
async fn opening_an_older_store_moves_avatars_out_of_records() {
    let dir = tempfile::tempdir().unwrap();
    let image = crate::store::conformance::avatar();
    let b = binding("t1", "alice");
    let key = SledStore::key("t1", Provider::GitLab);
    {
        let s = SledStore::open(dir.path()).unwrap();
        let mut older = serde_json::to_value(&b).unwrap();
        older["avatar"] = serde_json::to_value(&image).unwrap();
        s.bindings
            .insert(&key, serde_json::to_vec(&older).unwrap())
            .unwrap();
        s.db.remove(AVATARS_MOVED).unwrap();
        s.db.flush().unwrap();
    }
    let mut tries = 0;
    let s = loop {
        match SledStore::open(dir.path()) {
            Ok(s) => break s,
            Err(_) if tries < 100 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    let raw = s.bindings.get(&key).unwrap().unwrap();
    assert!(
        !String::from_utf8_lossy(&raw).contains("data_b64"),
        "the record no longer carries the image"
    );
    assert_eq!(s.get("t1", Provider::GitLab).await.unwrap(), Some(b));
    assert_eq!(s.avatar("t1", Provider::GitLab).await.unwrap(), Some(image));
}
