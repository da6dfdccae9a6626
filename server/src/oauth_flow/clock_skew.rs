//! OAuth flows between replicas on one PostgreSQL whose clocks disagree (issue #25, "time from
//! one clock"): the callback reaching a replica an hour ahead must not find a fresh state
//! expired, and one reaching a replica an hour behind must not accept an expired state.

use super::tests::{caller, flows_on, state_of};
use super::Refused;
use crate::store::conformance::TestDb;
use crate::store::Store;
use crate::util::CLOCK_SKEW_MS;
use app::api::Provider::GitHub;
use std::sync::Arc;
use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_replica_judges_a_state_by_the_database_clock() {
    let db = TestDb::new(true).await;
    let a = flows_on(Arc::new(db.replica().await) as Arc<dyn Store>);
    let mut b = flows_on(Arc::new(db.replica().await) as Arc<dyn Store>);
    let c = caller("t1");

    let mut wrong = Vec::new();
    let (url, browser) = a.start(&c, GitHub, false, false).await.unwrap();
    let taken = CLOCK_SKEW_MS
        .scope(
            HOUR_MS,
            b.take(&c, GitHub, Some(&state_of(&url)), Some(&browser)),
        )
        .await;
    if let Err(e) = taken {
        wrong.push(format!("B ahead: a fresh state was refused: {e:?}"));
    }

    b.ttl = Duration::from_secs(1);
    let (url, browser) = a.start(&c, GitHub, false, false).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let taken = CLOCK_SKEW_MS
        .scope(
            -HOUR_MS,
            b.take(&c, GitHub, Some(&state_of(&url)), Some(&browser)),
        )
        .await;
    if taken.as_ref().err() != Some(&Refused::Expired) {
        wrong.push(format!("B behind: an expired state gave {:?}", taken.err()));
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    drop((a, b));
    db.finish().await;
}
