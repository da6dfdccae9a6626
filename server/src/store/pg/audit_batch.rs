//! Group insert for the activity log. Entries appended at the same time (the build service
//! asking for 64 credentials at once, each written to the log) go into one `INSERT` and one
//! commit instead of one each: on two cores the per-statement work and the commit's WAL flush
//! were what held the credential API at half the page's rate (5.7k against 11.6k req/s).
//!
//! One writer task per store takes whatever is queued when it gets to it, so an entry that
//! arrives alone is written at once, and under load the next batch fills while the previous
//! one commits. Every caller still waits until its own entry is written (or has failed), so
//! nothing is acknowledged that is not in the database; a caller that goes away meanwhile
//! does not stop the write (the task owns it). Nothing outlives a request in this process's
//! memory: a replica that dies loses only entries whose requests die with it. Each statement
//! has the store's deadline (`super::within`): a connection gone silent cannot hold up every
//! writer behind it.

use super::{within, BatchFailure as Failure};
use crate::store::StoreError;
use deadpool_postgres::Pool;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// At most this many entries per statement (and queued before appenders wait their turn).
const MAX_BATCH: usize = 256;

/// One entry's columns, and where its outcome goes.
struct Job {
    tenant: String,
    at: i64,
    record: String,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle appenders use; the writer task ends when the store (this handle) is dropped.
pub(super) struct AuditWriter {
    queue: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer task on the current runtime; each statement gets `deadline`.
    pub(super) fn start(pool: Pool, deadline: Duration) -> Self {
        let (queue, jobs) = mpsc::channel(MAX_BATCH);
        tokio::spawn(run(pool, deadline, jobs));
        AuditWriter { queue }
    }

    /// Whether the writer task is still there (for readiness: without it no entry is written).
    pub(super) fn running(&self) -> bool {
        !self.queue.is_closed()
    }

    /// Queues one entry and waits until it is in the database.
    pub(super) async fn append(
        &self,
        tenant: String,
        at: i64,
        record: String,
    ) -> Result<(), StoreError> {
        let (done, outcome) = oneshot::channel();
        let job = Job {
            tenant,
            at,
            record,
            done,
        };
        // Only fails if the writer task is gone (its runtime is shutting down).
        let gone = || StoreError::Unavailable("the activity log writer has stopped".into());
        self.queue.send(job).await.map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }
}

async fn run(pool: Pool, deadline: Duration, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A pooled connection that died unnoticed (the database restarted since) fails its
        // first statement: that costs the batch one more try on another connection, not 503s.
        // (Were a connection cut after its commit, the retry would write the batch twice: a
        // rarer and milder fault than refusing every credential in it.)
        let mut result = insert(&pool, deadline, &batch).await;
        if let Err(Failure::Stale(_)) = result {
            result = insert(&pool, deadline, &batch).await;
        }
        match result.map_err(Failure::error) {
            Ok(()) => batch.drain(..).for_each(|job| {
                let _ = job.done.send(Ok(()));
            }),
            // The database cannot be reached: every entry would wait for it again, one after
            // the other. Each appender hears it at once instead.
            Err(StoreError::Unavailable(e)) => {
                let why = e.to_string();
                batch.drain(..).for_each(|job| {
                    let _ = job
                        .done
                        .send(Err(StoreError::Unavailable(why.clone().into())));
                });
            }
            // Something in the batch was refused: write the entries one by one, so each gets
            // its own outcome and one bad entry does not cost the others theirs.
            Err(_) => {
                for job in batch.drain(..) {
                    let one = std::slice::from_ref(&job);
                    let result = insert(&pool, deadline, one).await;
                    let _ = job.done.send(result.map_err(Failure::error));
                }
            }
        }
    }
}

/// One statement for the whole batch, rows in queue order (so `id`s follow arrival), answered
/// within `deadline` (see `super::within`).
async fn insert(pool: &Pool, deadline: Duration, batch: &[Job]) -> Result<(), Failure> {
    let tenants: Vec<&str> = batch.iter().map(|j| j.tenant.as_str()).collect();
    let ats: Vec<i64> = batch.iter().map(|j| j.at).collect();
    let records: Vec<&str> = batch.iter().map(|j| j.record.as_str()).collect();
    let outcome = within(pool, deadline, async |client| {
        let written = async {
            let statement = client
                .prepare_cached(
                    "INSERT INTO audit (tenant, at, entry) SELECT t, a, e FROM \
                     UNNEST($1::text[], $2::int8[], $3::text[]) WITH ORDINALITY AS u(t, a, e, n) \
                     ORDER BY n",
                )
                .await?;
            client
                .execute(&statement, &[&tenants, &ats, &records])
                .await
        };
        // Whether the connection is closed now, after the failure.
        written.await.map_err(|e| (e, client.is_closed()))
    })
    .await;
    Failure::judge(outcome).map(drop)
}
