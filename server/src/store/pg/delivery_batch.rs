//! Group commit for webhook deliveries. Every delivery that emits an event takes the one-row
//! counter `build_event_seq` and holds its row lock until its transaction commits: that is what
//! keeps events committing in sequence order (see `autobuild.rs`), and it also means that
//! deliveries written one transaction each commit one at a time, each paying its round trips
//! and its own WAL flush under the lock. Measured on two cores: 605 deliveries/s, p99 123 ms,
//! with 74 % of the database's samples waiting on that lock.
//!
//! So, like the activity log's `audit_batch`, one writer task per store takes whatever
//! deliveries are queued when it gets to them and records them in **one transaction**: the
//! counter is locked once per batch and the batch shares one commit. A delivery that arrives
//! alone is written at once; under load the next batch fills while the previous one commits.
//! Each caller still waits for its own outcome, so nothing is acknowledged to a code host that
//! is not durable; a caller that goes away meanwhile does not stop the write.
//!
//! Within the batch, each delivery keeps the meaning it had on its own: its delivery id is new
//! or a duplicate (the first of two equal ids in one batch is the new one), and its events are
//! new or duplicates of events stored before it, including earlier ones in the same batch
//! (statements in one transaction see each other's rows).
//!
//! Locks are taken in one order by every batch, so batches of two replicas cannot deadlock:
//! the delivery ids' keys (sorted), the registrations' rows (sorted, `FOR UPDATE`), then the
//! counter.

use super::{pg_err, within};
use crate::store::{Recorded, StoreError};
use deadpool_postgres::Pool;
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// At most this many deliveries per transaction (and queued before callers wait their turn).
/// A batch's statements run one after the other inside the counter's lock, so a bigger batch
/// is a longer wait for the next one; 64 keeps a full batch within a few tens of milliseconds.
const MAX_BATCH: usize = 64;

/// One delivery as `record_delivery` was given it, already encoded.
pub(super) struct Delivery {
    pub rid: String,
    pub at: i64,
    pub delivery_id: Option<String>,
    /// The log entry as given, and as a duplicate.
    pub as_given: String,
    pub as_duplicate: String,
    /// The events: ids, receive times and JSON, in the order given.
    pub ids: Vec<String>,
    pub received: Vec<i64>,
    pub json: Vec<String>,
    /// Whether the new events go to the push outbox too.
    pub outbox: bool,
    /// Old log entries kept beside the new one.
    pub keep: i64,
}

struct Job {
    delivery: Delivery,
    done: oneshot::Sender<Result<Recorded, StoreError>>,
}

/// The handle `record_delivery` uses; the writer task ends when the store is dropped.
pub(super) struct DeliveryWriter {
    queue: mpsc::Sender<Job>,
}

impl DeliveryWriter {
    /// Starts the writer task on the current runtime; each batch gets `deadline`.
    pub(super) fn start(pool: Pool, deadline: Duration) -> Self {
        let (queue, jobs) = mpsc::channel(MAX_BATCH);
        tokio::spawn(run(pool, deadline, jobs));
        DeliveryWriter { queue }
    }

    /// Whether the writer task is still there (for readiness: without it no delivery is
    /// recorded).
    pub(super) fn running(&self) -> bool {
        !self.queue.is_closed()
    }

    /// Queues one delivery and waits until it is recorded (or has failed).
    pub(super) async fn record(&self, delivery: Delivery) -> Result<Recorded, StoreError> {
        let (done, outcome) = oneshot::channel();
        // Only fails if the writer task is gone (its runtime is shutting down).
        let gone = || StoreError::Unavailable("the delivery writer has stopped".into());
        self.queue
            .send(Job { delivery, done })
            .await
            .map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }
}

async fn run(pool: Pool, deadline: Duration, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A pooled connection that died unnoticed fails its first statement: one more try on
        // another connection. (Were a connection cut after its commit, the second try would
        // find every delivery id stored and answer "duplicate": still a 2xx to the host, and
        // the events are there.)
        let mut result = write(&pool, deadline, &batch).await;
        if let Err(Failure::Stale(_)) = result {
            result = write(&pool, deadline, &batch).await;
        }
        match result.map_err(Failure::error) {
            Ok(recorded) => {
                for (job, r) in batch.drain(..).zip(recorded) {
                    let _ = job.done.send(Ok(r));
                }
            }
            // The database cannot be reached: each caller hears it at once rather than
            // waiting for it again one after the other.
            Err(StoreError::Unavailable(e)) => {
                let why = e.to_string();
                for job in batch.drain(..) {
                    let _ = job
                        .done
                        .send(Err(StoreError::Unavailable(why.clone().into())));
                }
            }
            // Something in the batch was refused: one transaction each, so one bad delivery
            // does not cost the others theirs.
            Err(_) => {
                for job in batch.drain(..) {
                    let one = std::slice::from_ref(&job);
                    let result = write(&pool, deadline, one).await.map_err(Failure::error);
                    let _ = job
                        .done
                        .send(result.map(|mut r| r.pop().unwrap_or_default()));
                }
            }
        }
    }
}

/// Records `deliveries` as one batch, whatever else is queued: tests use it to see a batch's
/// meaning without depending on how the writer task happens to group concurrent callers.
#[cfg(test)]
pub(super) async fn write_together(
    pool: &Pool,
    deadline: Duration,
    deliveries: Vec<Delivery>,
) -> Result<Vec<Recorded>, StoreError> {
    let batch: Vec<Job> = deliveries
        .into_iter()
        .map(|delivery| Job {
            delivery,
            done: oneshot::channel().0,
        })
        .collect();
    write(pool, deadline, &batch).await.map_err(Failure::error)
}

/// Why a batch was not written.
enum Failure {
    /// On a connection that turned out to be closed: worth one more try on another.
    Stale(StoreError),
    Other(StoreError),
}

impl Failure {
    fn error(self) -> StoreError {
        match self {
            Failure::Stale(e) | Failure::Other(e) => e,
        }
    }
}

/// Remembers the delivery ids ($1 rids, $2 ids, $3 times), in key order; returns the new ones.
const REMEMBER: &str = "INSERT INTO autobuild_delivery_ids (rid, delivery_id, at_ms) \
     SELECT r, d, a FROM UNNEST($1::text[], $2::text[], $3::int8[]) AS u(r, d, a) \
     ORDER BY r, d ON CONFLICT DO NOTHING RETURNING rid, delivery_id";

/// Locks the registrations' rows ($1) in key order, before anything else of theirs is touched:
/// `ORDER BY` below `FOR UPDATE` takes the locks in that order.
const LOCK: &str = "SELECT 1 FROM autobuild_registrations WHERE rid = ANY($1) \
     ORDER BY rid FOR UPDATE";

/// Moves each registration's `last_delivery_at` ($1 rids, $2 times) forward.
const TOUCH: &str = "UPDATE autobuild_registrations r \
     SET last_delivery_at = GREATEST(COALESCE(r.last_delivery_at, t.at), t.at) \
     FROM (SELECT rid, max(at) AS at FROM UNNEST($1::text[], $2::int8[]) AS u(rid, at) \
           GROUP BY rid) t \
     WHERE r.rid = t.rid";

/// The batch in one transaction, answered within `deadline` (see `super::within`): an outcome
/// per delivery, in the batch's order.
async fn write(pool: &Pool, deadline: Duration, batch: &[Job]) -> Result<Vec<Recorded>, Failure> {
    let deliveries: Vec<&Delivery> = batch.iter().map(|j| &j.delivery).collect();
    let outcome = within(pool, deadline, async |client| {
        let written = async {
            let tx = client.transaction().await?;
            let (remember, lock, touch, log, append) = (
                tx.prepare_cached(REMEMBER).await?,
                tx.prepare_cached(LOCK).await?,
                tx.prepare_cached(TOUCH).await?,
                tx.prepare_cached(super::autobuild::LOG).await?,
                tx.prepare_cached(super::autobuild::APPEND).await?,
            );

            let with_id: Vec<(&str, &str, i64)> = deliveries
                .iter()
                .filter_map(|d| Some((d.rid.as_str(), d.delivery_id.as_deref()?, d.at)))
                .collect();
            let mut new_ids: HashSet<(String, String)> = HashSet::new();
            if !with_id.is_empty() {
                let rids: Vec<&str> = with_id.iter().map(|k| k.0).collect();
                let ids: Vec<&str> = with_id.iter().map(|k| k.1).collect();
                let ats: Vec<i64> = with_id.iter().map(|k| k.2).collect();
                for row in tx.query(&remember, &[&rids, &ids, &ats]).await? {
                    new_ids.insert((row.get(0), row.get(1)));
                }
            }

            let rids: Vec<&str> = deliveries.iter().map(|d| d.rid.as_str()).collect();
            let ats: Vec<i64> = deliveries.iter().map(|d| d.at).collect();
            tx.query(&lock, &[&rids]).await?;
            tx.execute(&touch, &[&rids, &ats]).await?;

            // Which deliveries were seen before: in the table, or earlier in this batch.
            let duplicate: Vec<bool> = deliveries
                .iter()
                .map(|d| match &d.delivery_id {
                    Some(id) => !new_ids.remove(&(d.rid.clone(), id.clone())),
                    None => false,
                })
                .collect();

            // One statement per delivery, sent together (pipelined on the connection) and
            // run by the database in this order.
            let statements = deliveries.iter().zip(&duplicate).map(|(d, &dup)| {
                let (tx, log, append) = (&tx, &log, &append);
                async move {
                    if dup {
                        tx.execute(log, &[&d.rid, &d.at, &d.as_duplicate, &d.keep])
                            .await?;
                        return Ok(Vec::new());
                    }
                    let rows = tx
                        .query(
                            append,
                            &[
                                &d.ids,
                                &d.received,
                                &d.json,
                                &d.at,
                                &d.outbox,
                                &d.rid,
                                &d.as_given,
                                &d.as_duplicate,
                                &d.keep,
                            ],
                        )
                        .await?;
                    Ok::<_, tokio_postgres::Error>(
                        rows.iter()
                            .map(|r| r.get::<_, i64>(0) as u64)
                            .collect::<Vec<u64>>(),
                    )
                }
            });
            let emitted = futures_util::future::try_join_all(statements).await?;
            tx.commit().await?;

            Ok(deliveries
                .iter()
                .zip(duplicate)
                .zip(emitted)
                .map(|((d, duplicate_delivery), emitted)| Recorded {
                    duplicate_delivery,
                    duplicate_events: if duplicate_delivery {
                        0
                    } else {
                        d.ids.len() - emitted.len()
                    },
                    emitted,
                })
                .collect())
        };
        // Whether the connection is closed now, after the failure.
        written.await.map_err(|e: tokio_postgres::Error| {
            let closed = e.is_closed() || client.is_closed();
            (e, closed)
        })
    })
    .await;
    match outcome {
        Ok(Ok(recorded)) => Ok(recorded),
        Ok(Err((e, true))) => Err(Failure::Stale(pg_err(e))),
        Ok(Err((e, false))) => Err(Failure::Other(pg_err(e))),
        Err(ours) => Err(Failure::Other(ours)),
    }
}
