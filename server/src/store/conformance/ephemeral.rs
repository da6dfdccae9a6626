//! Case bodies for the short-lived state: pending items, OAuth flows, leases, and sweeps.

use super::{entry, flow, pending, winners};
use crate::store::{FlowRecord, PendingRecord, Store, Swept};
use app::api::Provider::{GitHub, GitLab, Gitee};
use std::time::Duration;

const NOW_MS: i64 = 1_800_000_000_000;

pub async fn pending_single_use_and_tenant_bound(s: &dyn Store) {
    let p = pending("p1", "t1", GitLab, NOW_MS);
    s.insert_pending(&p, 10).await.unwrap();
    let fresh = NOW_MS - 1;
    assert!(
        s.take_pending("t2", "p1", fresh).await.unwrap().is_none(),
        "other tenant"
    );
    assert!(s.peek_pending("t2", "p1", fresh).await.unwrap().is_none());
    assert_eq!(
        s.peek_pending("t1", "p1", fresh).await.unwrap(),
        Some(p.clone()),
        "untouched"
    );
    assert_eq!(s.take_pending("t1", "p1", fresh).await.unwrap(), Some(p));
    assert!(
        s.take_pending("t1", "p1", fresh).await.unwrap().is_none(),
        "single use"
    );
    assert!(s.peek_pending("t1", "p1", fresh).await.unwrap().is_none());
    assert!(s.take_pending("t1", "nope", fresh).await.unwrap().is_none());
}

pub async fn pending_expiry_bound_and_latest(s: &dyn Store) {
    let p = pending("old", "t1", GitLab, 1_000);
    s.insert_pending(&p, 10).await.unwrap();
    assert!(
        s.peek_pending("t1", "old", 1_000).await.unwrap().is_none(),
        "created at fresh_after"
    );
    assert_eq!(s.peek_pending("t1", "old", 999).await.unwrap(), Some(p));
    // Whether an expired take also deletes the entry is the backend's choice: it is never
    // handed out.
    assert!(s.take_pending("t1", "old", 1_000).await.unwrap().is_none());
    s.insert_pending(&pending("kept", "t1", GitLab, 1_500), 10)
        .await
        .unwrap();

    // Beyond the bound, the tenant's oldest go; other tenants keep theirs.
    for i in 0..4 {
        let r = pending(&format!("b{i}"), "t5", GitLab, 2_000 + i);
        s.insert_pending(&r, 3).await.unwrap();
    }
    let all = s.all_pending().await.unwrap();
    let mut t5: Vec<_> = all
        .iter()
        .filter(|r| r.tenant == "t5")
        .map(|r| r.id.as_str())
        .collect();
    t5.sort();
    assert_eq!(t5, ["b1", "b2", "b3"]);
    assert!(
        all.iter().any(|r| r.id == "kept"),
        "other tenants keep theirs"
    );

    for (id, provider, at) in [("l1", GitLab, 10), ("l2", GitLab, 20), ("l3", GitHub, 30)] {
        s.insert_pending(&pending(id, "t6", provider, at), 10)
            .await
            .unwrap();
    }
    let latest = |p, fresh| s.latest_pending("t6", p, fresh);
    assert_eq!(latest(GitLab, 0).await.unwrap().unwrap().id, "l2");
    assert_eq!(latest(GitHub, 0).await.unwrap().unwrap().id, "l3");
    assert!(latest(GitLab, 20).await.unwrap().is_none(), "expired");
    assert!(latest(Gitee, 0).await.unwrap().is_none());
    assert!(s.latest_pending("t1", GitHub, 0).await.unwrap().is_none());
}

pub async fn pending_concurrent_takes_one_wins(s: &dyn Store) {
    s.insert_pending(&pending("race", "t1", GitLab, NOW_MS), 10)
        .await
        .unwrap();
    let won = winners(8, || s.take_pending("t1", "race", 0)).await;
    assert_eq!(won, 1);
}

pub async fn pending_replace(s: &dyn Store) {
    let old = pending("p", "t1", GitLab, NOW_MS);
    s.insert_pending(&old, 10).await.unwrap();
    let mut new = old.clone();
    new.item.token.kid = "k2".into();
    assert!(s.replace_pending(&old, &new).await.unwrap());
    assert!(!s.replace_pending(&old, &new).await.unwrap(), "stale old");
    assert_eq!(
        s.peek_pending("t1", "p", 0).await.unwrap(),
        Some(new.clone())
    );
    let missing = PendingRecord {
        id: "missing".into(),
        ..new.clone()
    };
    assert!(!s.replace_pending(&missing, &missing).await.unwrap());
    assert_eq!(s.all_pending().await.unwrap(), [new]);
}

pub async fn flows_take_once_and_bound(s: &dyn Store) {
    let f = flow("h1", "t1", NOW_MS);
    s.insert_flow(&f, 10).await.unwrap();
    assert_eq!(s.take_flow("h1").await.unwrap(), Some(f));
    assert!(
        s.take_flow("h1").await.unwrap().is_none(),
        "a state is good once"
    );
    assert!(s.take_flow("nope").await.unwrap().is_none());

    for i in 0..3 {
        s.insert_flow(&flow(&format!("b{i}"), "t2", NOW_MS + i), 2)
            .await
            .unwrap();
    }
    s.insert_flow(&flow("other", "t3", NOW_MS), 2)
        .await
        .unwrap();
    let mut left: Vec<_> = s
        .all_flows()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.state_hash)
        .collect();
    left.sort();
    assert_eq!(left, ["b1", "b2", "other"]);

    let old = flow("r", "t4", NOW_MS);
    s.insert_flow(&old, 10).await.unwrap();
    let new = FlowRecord {
        verifier: None,
        ..old.clone()
    };
    assert!(s.replace_flow(&old, &new).await.unwrap());
    assert!(!s.replace_flow(&old, &new).await.unwrap(), "stale old");
    assert_eq!(s.take_flow("r").await.unwrap(), Some(new));
}

pub async fn flows_concurrent_takes_one_wins(s: &dyn Store) {
    s.insert_flow(&flow("race", "t1", NOW_MS), 10)
        .await
        .unwrap();
    assert_eq!(winners(8, || s.take_flow("race")).await, 1);
}

pub async fn leases_exclusive_reentrant_expiring(s: &dyn Store) {
    let long = Duration::from_secs(60);
    let short = Duration::from_millis(300);
    assert!(s.try_lease("refresh/t1", "h1", short).await.unwrap());
    assert!(
        !s.try_lease("refresh/t1", "h2", long).await.unwrap(),
        "held"
    );
    assert!(
        s.try_lease("refresh/t2", "h2", long).await.unwrap(),
        "another name"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        s.try_lease("refresh/t1", "h1", short).await.unwrap(),
        "re-entrant"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !s.try_lease("refresh/t1", "h2", long).await.unwrap(),
        "extended past its first end"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        s.try_lease("refresh/t1", "h2", long).await.unwrap(),
        "ran out"
    );
    assert!(!s.try_lease("refresh/t1", "h1", long).await.unwrap());
    s.release_lease("refresh/t1", "h1").await.unwrap();
    assert!(
        !s.try_lease("refresh/t1", "h1", long).await.unwrap(),
        "not h1's to release"
    );
    s.release_lease("refresh/t1", "h2").await.unwrap();
    assert!(
        s.try_lease("refresh/t1", "h1", long).await.unwrap(),
        "released"
    );

    let (a, b) = tokio::join!(
        s.try_lease("race", "h1", long),
        s.try_lease("race", "h2", long)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one holder");
}

pub async fn sweep_counts(s: &dyn Store) {
    let t = 1_800_000_000;
    for (i, at) in [t - 300, t - 200, t].into_iter().enumerate() {
        s.append(entry("t1", at, &format!("a{i}"))).await.unwrap();
    }
    s.insert_pending(&pending("p1", "t1", GitLab, 1_000), 10)
        .await
        .unwrap();
    s.insert_pending(&pending("p2", "t2", GitLab, 2_000), 10)
        .await
        .unwrap();
    s.insert_pending(&pending("p3", "t2", GitHub, 2_001), 10)
        .await
        .unwrap();
    s.insert_flow(&flow("f1", "t1", 1_000), 10).await.unwrap();
    s.insert_flow(&flow("f2", "t1", 3_000), 10).await.unwrap();
    assert!(s.try_lease("old", "h", Duration::ZERO).await.unwrap());
    assert!(s
        .try_lease("new", "h", Duration::from_secs(60))
        .await
        .unwrap());
    // Ended by the store's clock, whichever it is (milliseconds).
    tokio::time::sleep(Duration::from_millis(20)).await;

    let swept = s.sweep(t - 100, 2_000).await.unwrap();
    let expected = Swept {
        audit: 2,
        pending: 2,
        flows: 1,
        leases: 1,
        ..Swept::default()
    };
    assert_eq!(swept, expected);
    assert_eq!(
        s.sweep(t - 100, 2_000).await.unwrap(),
        Swept::default(),
        "idempotent"
    );
    let (left, _) = s.page("t1", None, 10).await.unwrap();
    assert_eq!(left, [entry("t1", t, "a2")]);
    let pending_left: Vec<_> = s
        .all_pending()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(pending_left, ["p3"]);
    assert_eq!(s.all_flows().await.unwrap(), [flow("f2", "t1", 3_000)]);
    let long = Duration::from_secs(60);
    assert!(!s.try_lease("new", "other", long).await.unwrap(), "kept");
    assert!(s.try_lease("old", "other", long).await.unwrap());
}
