//! Case bodies for the short-lived state: pending items, OAuth flows, leases, and sweeps.

use super::{entry, flow, pending, winners};
use crate::store::{FlowRecord, PendingRecord, Store, Swept, TakenFlow};
use app::api::Provider::{GitHub, GitLab, Gitee};
use std::time::Duration;

/// Long enough that nothing a case inserts expires during it.
const HOUR: Duration = Duration::from_secs(3600);

/// `r` as stored: the store stamps `created_at` with its own clock on insert.
fn unstamped<T: Stamped>(r: Option<T>) -> Option<T> {
    r.map(|mut r| {
        *r.created_at() = 0;
        r
    })
}

trait Stamped {
    fn created_at(&mut self) -> &mut i64;
}

impl Stamped for PendingRecord {
    fn created_at(&mut self) -> &mut i64 {
        &mut self.created_at
    }
}

impl Stamped for FlowRecord {
    fn created_at(&mut self) -> &mut i64 {
        &mut self.created_at
    }
}

/// A fresh flow taken, unstamped; `None` for an unknown one; panics on an expired one.
async fn take_fresh(s: &dyn Store, state_hash: &str) -> Option<FlowRecord> {
    match s.take_flow(state_hash, HOUR).await.unwrap() {
        Some(TakenFlow::Fresh(f)) => unstamped(Some(f)),
        Some(TakenFlow::Expired) => panic!("{state_hash} expired within an hour"),
        None => None,
    }
}

/// Lets the store's millisecond clock move on, so that inserts are ordered by `created_at`.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

pub async fn pending_single_use_and_tenant_bound(s: &dyn Store) {
    let p = pending("p1", "t1", GitLab, 0);
    s.insert_pending(&p, 10, HOUR).await.unwrap();
    assert!(
        s.take_pending("t2", "p1", HOUR).await.unwrap().is_none(),
        "other tenant"
    );
    assert!(s.peek_pending("t2", "p1", HOUR).await.unwrap().is_none());
    assert_eq!(
        unstamped(s.peek_pending("t1", "p1", HOUR).await.unwrap()),
        Some(p.clone()),
        "untouched"
    );
    assert_eq!(
        unstamped(s.take_pending("t1", "p1", HOUR).await.unwrap()),
        Some(p)
    );
    assert!(
        s.take_pending("t1", "p1", HOUR).await.unwrap().is_none(),
        "single use"
    );
    assert!(s.peek_pending("t1", "p1", HOUR).await.unwrap().is_none());
    assert!(s.take_pending("t1", "nope", HOUR).await.unwrap().is_none());
}

pub async fn pending_expiry_bound_and_latest(s: &dyn Store) {
    let before = s.now_ms().await.unwrap();
    let p = pending("old", "t1", GitLab, 0);
    s.insert_pending(&p, 10, HOUR).await.unwrap();
    let stamped = s.peek_pending("t1", "old", HOUR).await.unwrap().unwrap();
    let after = s.now_ms().await.unwrap();
    assert!(
        (before..=after).contains(&stamped.created_at),
        "stamped by the store's clock"
    );
    tick().await;
    assert!(
        s.peek_pending("t1", "old", Duration::ZERO)
            .await
            .unwrap()
            .is_none(),
        "older than the TTL"
    );
    // Whether an expired take also deletes the entry is the backend's choice: it is never
    // handed out.
    assert!(s
        .take_pending("t1", "old", Duration::ZERO)
        .await
        .unwrap()
        .is_none());
    s.insert_pending(&pending("kept", "t1", GitLab, 0), 10, HOUR)
        .await
        .unwrap();

    // Beyond the bound, the tenant's oldest go; other tenants keep theirs.
    for i in 0..4 {
        tick().await;
        let r = pending(&format!("b{i}"), "t5", GitLab, 0);
        s.insert_pending(&r, 3, HOUR).await.unwrap();
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

    for (id, provider) in [("l1", GitLab), ("l2", GitLab), ("l3", GitHub)] {
        tick().await;
        s.insert_pending(&pending(id, "t6", provider, 0), 10, HOUR)
            .await
            .unwrap();
    }
    tick().await;
    let latest = |p, ttl| s.latest_pending("t6", p, ttl);
    assert_eq!(latest(GitLab, HOUR).await.unwrap().unwrap().id, "l2");
    assert_eq!(latest(GitHub, HOUR).await.unwrap().unwrap().id, "l3");
    assert!(
        latest(GitLab, Duration::ZERO).await.unwrap().is_none(),
        "expired"
    );
    assert!(latest(Gitee, HOUR).await.unwrap().is_none());
    assert!(s
        .latest_pending("t1", GitHub, HOUR)
        .await
        .unwrap()
        .is_none());
}

pub async fn pending_concurrent_takes_one_wins(s: &dyn Store) {
    s.insert_pending(&pending("race", "t1", GitLab, 0), 10, HOUR)
        .await
        .unwrap();
    let won = winners(8, || s.take_pending("t1", "race", HOUR)).await;
    assert_eq!(won, 1);
}

pub async fn pending_replace(s: &dyn Store) {
    s.insert_pending(&pending("p", "t1", GitLab, 0), 10, HOUR)
        .await
        .unwrap();
    let old = s.peek_pending("t1", "p", HOUR).await.unwrap().unwrap();
    let mut new = old.clone();
    new.item.token.kid = "k2".into();
    assert!(s.replace_pending(&old, &new).await.unwrap());
    assert!(!s.replace_pending(&old, &new).await.unwrap(), "stale old");
    assert_eq!(
        s.peek_pending("t1", "p", HOUR).await.unwrap(),
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
    let f = flow("h1", "t1", 0);
    s.insert_flow(&f, 10, HOUR).await.unwrap();
    assert_eq!(take_fresh(s, "h1").await, Some(f));
    assert!(take_fresh(s, "h1").await.is_none(), "a state is good once");
    assert!(take_fresh(s, "nope").await.is_none());
    s.insert_flow(&flow("old", "t1", 0), 10, HOUR)
        .await
        .unwrap();
    tick().await;
    assert_eq!(
        s.take_flow("old", Duration::ZERO).await.unwrap(),
        Some(TakenFlow::Expired)
    );
    assert!(
        take_fresh(s, "old").await.is_none(),
        "consumed all the same"
    );

    for i in 0..3 {
        tick().await;
        s.insert_flow(&flow(&format!("b{i}"), "t2", 0), 2, HOUR)
            .await
            .unwrap();
    }
    s.insert_flow(&flow("other", "t3", 0), 2, HOUR)
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

    s.insert_flow(&flow("r", "t4", 0), 10, HOUR).await.unwrap();
    let old = s
        .all_flows()
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.state_hash == "r")
        .unwrap();
    let new = FlowRecord {
        verifier: None,
        ..old.clone()
    };
    assert!(s.replace_flow(&old, &new).await.unwrap());
    assert!(!s.replace_flow(&old, &new).await.unwrap(), "stale old");
    assert_eq!(take_fresh(s, "r").await, unstamped(Some(new)));
}

pub async fn flows_concurrent_takes_one_wins(s: &dyn Store) {
    s.insert_flow(&flow("race", "t1", 0), 10, HOUR)
        .await
        .unwrap();
    assert_eq!(winners(8, || s.take_flow("race", HOUR)).await, 1);
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
    s.insert_pending(&pending("p1", "t1", GitLab, 0), 10, HOUR)
        .await
        .unwrap();
    s.insert_pending(&pending("p2", "t2", GitLab, 0), 10, HOUR)
        .await
        .unwrap();
    s.insert_flow(&flow("f1", "t1", 0), 10, HOUR).await.unwrap();
    tick().await;
    let cut = s.now_ms().await.unwrap();
    tick().await;
    s.insert_pending(&pending("p3", "t2", GitHub, 0), 10, HOUR)
        .await
        .unwrap();
    s.insert_flow(&flow("f2", "t1", 0), 10, HOUR).await.unwrap();
    assert!(s.try_lease("old", "h", Duration::ZERO).await.unwrap());
    assert!(s
        .try_lease("new", "h", Duration::from_secs(60))
        .await
        .unwrap());
    // Ended by the store's clock, whichever it is (milliseconds).
    tokio::time::sleep(Duration::from_millis(20)).await;

    let swept = s.sweep_before(t - 100, cut).await.unwrap();
    let expected = Swept {
        audit: 2,
        pending: 2,
        flows: 1,
        leases: 1,
        ..Swept::default()
    };
    assert_eq!(swept, expected);
    assert_eq!(
        s.sweep_before(t - 100, cut).await.unwrap(),
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
    assert_eq!(
        unstamped(s.all_flows().await.unwrap().pop()),
        Some(flow("f2", "t1", 0))
    );
    assert_eq!(s.all_flows().await.unwrap().len(), 1);
    let long = Duration::from_secs(60);
    assert!(!s.try_lease("new", "other", long).await.unwrap(), "kept");
    assert!(s.try_lease("old", "other", long).await.unwrap());
}
