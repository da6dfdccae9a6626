//! The activity log's writer on sled: entries appended at the same time are written together,
//! one sled value per tenant per batch and one flush for the batch, instead of an insert each.
//!
//! Each insert into a sled tree costs ~10 µs of CPU (measured: ~100k inserts/s on one thread
//! of this machine; 64 entries packed into one value: ~1M entries/s), and with the build
//! service asking for 64 credentials at once, each written to the log, the per-entry insert
//! and the work around it held the credential API at a third of `/healthz`.
//!
//! One thread per store (sled's writes and flushes block) takes whatever is queued when it gets
//! to it, so an entry that arrives alone is written (and flushed) at once, and under load the
//! next batch fills while the previous one is flushed. Every caller still waits until its own
//! entry is on disk, and a caller that goes away meanwhile does not stop the write (the thread
//! owns it). The thread ends when the store is dropped.

use super::{key, next_seq};
use crate::store::sled::backend;
use crate::store::{AuditEntry, StoreError};
use tokio::sync::{mpsc, oneshot};

/// At most this many entries per batch (and queued before appenders wait their turn).
const MAX_BATCH: usize = 256;

struct Job {
    entry: AuditEntry,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle appenders use; the thread ends when the store (this handle) is dropped.
pub(in crate::store) struct AuditWriter {
    queue: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer thread.
    pub(in crate::store) fn start(db: sled::Db, tree: sled::Tree) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel(MAX_BATCH);
        std::thread::Builder::new()
            .name("activity-log-writer".into())
            .spawn(move || run(&db, &tree, jobs))?;
        Ok(AuditWriter { queue })
    }

    /// Whether the writer thread is still there (for readiness: without it no entry is written).
    pub(in crate::store) fn running(&self) -> bool {
        !self.queue.is_closed()
    }

    /// Queues one entry and waits until it is on disk.
    pub(in crate::store) async fn append(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let (done, outcome) = oneshot::channel();
        let gone = || StoreError::Unavailable("the activity log writer has stopped".into());
        self.queue
            .send(Job { entry, done })
            .await
            .map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }
}

fn run(db: &sled::Db, tree: &sled::Tree, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let entries: Vec<&AuditEntry> = batch.iter().map(|j| &j.entry).collect();
        let result = packed(&entries).and_then(|values| {
            for (k, v) in values {
                tree.insert(k, v).map_err(backend)?;
            }
            // A flush of any tree writes the whole database log.
            db.flush().map(|_| ()).map_err(backend)
        });
        let why = result.as_ref().err().map(ToString::to_string);
        for job in batch.drain(..) {
            let outcome = match &why {
                None => Ok(()),
                Some(why) => Err(StoreError::Backend(why.clone().into())),
            };
            let _ = job.done.send(outcome);
        }
    }
}

/// A sled key and its value.
type KeyValue = (Vec<u8>, Vec<u8>);

/// The batch as sled values: each tenant's entries (in time order, ties in queue order) under
/// one key `tenant \0 first-time counter`, as a JSON array.
fn packed(entries: &[&AuditEntry]) -> Result<Vec<KeyValue>, StoreError> {
    let mut tenants: Vec<(&str, Vec<&AuditEntry>)> = Vec::new();
    for e in entries {
        match tenants.iter_mut().find(|(t, _)| *t == e.tenant) {
            Some((_, group)) => group.push(e),
            None => tenants.push((&e.tenant, vec![e])),
        }
    }
    tenants
        .into_iter()
        .map(|(tenant, mut group)| {
            group.sort_by_key(|e| e.at);
            let k = key(tenant, group[0].at, next_seq());
            let v = serde_json::to_vec(&group).map_err(StoreError::Corrupt)?;
            Ok((k, v))
        })
        .collect()
}
