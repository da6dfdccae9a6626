//! Pending items and OAuth flows between replicas on one PostgreSQL whose clocks disagree
//! (issue #25, "time from one clock"): a replica an hour ahead must not see a fresh item as
//! expired, and one an hour behind must not hand out an expired one. Each "replica" is a
//! store handle of its own; the skewed one runs inside `util::CLOCK_SKEW_MS.scope`.

use super::Pending;
use crate::store::conformance::{pending, TestDb};
use crate::store::Store;
use crate::util::CLOCK_SKEW_MS;
use app::api::Provider::GitLab;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;
const HOUR: Duration = Duration::from_secs(3600);

async fn skewed<T>(skew_ms: i64, f: impl Future<Output = T>) -> T {
    CLOCK_SKEW_MS.scope(skew_ms, f).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_replica_neither_expires_a_fresh_item_nor_hands_out_an_expired_one() {
    let db = TestDb::new(true).await;
    let a: Arc<dyn Store> = Arc::new(db.replica().await);
    let b: Arc<dyn Store> = Arc::new(db.replica().await);
    let long = Pending::new(a.clone(), Duration::from_secs(60));
    let long_b = Pending::new(b.clone(), Duration::from_secs(60));
    let short_b = Pending::new(b.clone(), Duration::from_secs(1));
    let item = || pending("x", "t1", GitLab, 0).item;

    let mut wrong = Vec::new();
    // Made on time, read by a replica an hour ahead; made an hour behind, read on time.
    let on_time = long.insert("t1", item()).await.unwrap();
    if skewed(HOUR_MS, long_b.peek("t1", &on_time))
        .await
        .unwrap()
        .is_none()
    {
        wrong.push("B ahead: a fresh item looked expired (peek)");
    }
    if skewed(HOUR_MS, long_b.latest("t1", GitLab))
        .await
        .unwrap()
        .is_none()
    {
        wrong.push("B ahead: a fresh item looked expired (latest)");
    }
    if skewed(HOUR_MS, long_b.take("t1", &on_time))
        .await
        .unwrap()
        .is_none()
    {
        wrong.push("B ahead: a fresh item looked expired (take)");
    }
    let behind = skewed(-HOUR_MS, long.insert("t1", item())).await.unwrap();
    if long_b.take("t1", &behind).await.unwrap().is_none() {
        wrong.push("A behind: its fresh item looked expired to B");
    }

    // Expired after a second, read by a replica an hour behind.
    let old = long.insert("t2", item()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    if skewed(-HOUR_MS, short_b.peek("t2", &old))
        .await
        .unwrap()
        .is_some()
    {
        wrong.push("B behind: handed out an expired item (peek)");
    }
    if skewed(-HOUR_MS, short_b.take("t2", &old))
        .await
        .unwrap()
        .is_some()
    {
        wrong.push("B behind: handed out an expired item (take)");
    }

    // The sweep measures its cutoffs on the database's clock too: a replica an hour ahead
    // sweeping 60 s items leaves a fresh one.
    let fresh = long.insert("t3", item()).await.unwrap();
    skewed(HOUR_MS, b.sweep(HOUR, Duration::from_secs(60)))
        .await
        .unwrap();
    if long.peek("t3", &fresh).await.unwrap().is_none() {
        wrong.push("B ahead: its sweep removed a fresh item");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    drop((long, long_b, short_b, a, b));
    db.finish().await;
}
