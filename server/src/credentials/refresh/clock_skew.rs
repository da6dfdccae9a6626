//! The refresh lease between two replicas on one PostgreSQL whose clocks disagree (issue #25,
//! "time from one clock"): a replica whose clock is an hour ahead or behind must neither take
//! a lease another one holds nor keep one past its end. Each "replica" is a store handle of
//! its own; the skewed one runs inside `util::CLOCK_SKEW_MS.scope`.

use super::Lease;
use crate::store::conformance::TestDb;
use crate::store::Store;
use crate::util::CLOCK_SKEW_MS;
use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;

fn lease(name: &str, holder: &str) -> Lease {
    Lease {
        name: format!("refresh/{name}"),
        holder: holder.into(),
    }
}

/// `lease.take` on `store` by a replica whose clock is off by `skew_ms`.
async fn take(store: &dyn Store, skew_ms: i64, lease: &Lease, lease_for: Duration) -> bool {
    CLOCK_SKEW_MS
        .scope(skew_ms, lease.take(store, lease_for))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_replica_neither_steals_nor_keeps_a_refresh_lease() {
    let db = TestDb::new(true).await;
    let other = db.replica().await;
    let (a, b): (&dyn Store, &dyn Store) = (&db.store, &other);
    let long = Duration::from_secs(30);
    let short = Duration::from_secs(1);

    // Every way it goes wrong, so that a failure names them all.
    let mut wrong = Vec::new();
    for (case, skew_a, skew_b) in [("B ahead", 0, HOUR_MS), ("A behind", -HOUR_MS, 0)] {
        assert!(take(a, skew_a, &lease(case, "A"), long).await);
        if take(b, skew_b, &lease(case, "B"), long).await {
            wrong.push(format!("{case}: B took the lease A holds for another 30 s"));
        }
    }

    // Held for a second by a replica an hour ahead, and by one on time whose rival is an hour
    // behind: once the second is over, the lease is free for the other replica.
    assert!(take(a, HOUR_MS, &lease("kept-ahead", "A"), short).await);
    assert!(take(a, 0, &lease("kept-behind", "A"), short).await);
    tokio::time::sleep(short + Duration::from_millis(500)).await;
    if !take(b, 0, &lease("kept-ahead", "B"), long).await {
        wrong.push("A ahead: its lease did not end when it ended".to_string());
    }
    if !take(b, -HOUR_MS, &lease("kept-behind", "B"), long).await {
        wrong.push("B behind: it did not see an ended lease as ended".to_string());
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    drop(other);
    db.finish().await;
}
