//! Cleanup jobs in sled: tree `jobs/v1`, job id → the job and its lease. Enqueuing a job is a
//! sled transaction across `bindings/v1` and `jobs/v1`, so the binding's removal and its job
//! are one write (both or neither, flushed before returning); a removed binding's avatar image
//! (`avatars/v1`) goes in the same transaction.

use super::bindings::{decode as decode_binding, index_reauth};
use super::SledStore;
use super::{backend, blocking, claim_due, Leased};
use crate::store::jobs::{CleanupJob, JobStore};
use crate::store::{StoreError, StoredBinding, RECORD_VERSION};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

/// A job as stored, with its lease (0: not leased).
#[derive(Serialize, Deserialize)]
struct Row {
    job: CleanupJob,
    leased_until_ms: i64,
}

impl Leased for Row {
    fn due_at_ms(&self) -> i64 {
        self.job.next_at_ms
    }
    fn leased_until_ms(&mut self) -> &mut i64 {
        &mut self.leased_until_ms
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(StoreError::Corrupt)
}

fn decode(v: &[u8]) -> Result<Row, StoreError> {
    let row: Row = serde_json::from_slice(v).map_err(StoreError::Corrupt)?;
    if row.job.v > RECORD_VERSION {
        return Err(StoreError::NewerVersion(row.job.v));
    }
    Ok(row)
}

/// Why the binding's write did not happen inside the transaction.
fn tx_err(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => backend(e),
    }
}

impl SledStore {
    /// Replaces the binding `old` by `new` (`None`: removes it) and stores the job, if the
    /// binding is still exactly `old`.
    async fn swap_with_job(
        &self,
        old: &StoredBinding,
        new: Option<&StoredBinding>,
        job: &CleanupJob,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let (bindings, reauth, jobs, avatars, db) = (
            self.bindings.clone(),
            self.reauth.clone(),
            self.jobs.clone(),
            self.avatars.clone(),
            self.db.clone(),
        );
        let new_reauth = new.is_some_and(|n| n.reauth_reason.is_some());
        let key = Self::key(&old.tenant, old.provider);
        let new = new.map(encode).transpose()?;
        let row = encode(&Row {
            job: job.clone(),
            leased_until_ms: lease_until_ms,
        })?;
        let (old, id) = (old.clone(), job.id.clone());
        let done = tokio::task::spawn_blocking(move || -> Result<bool, StoreError> {
            let done = (&bindings, &reauth, &jobs, &avatars)
                .transaction(|(b, r, j, a)| {
                    let Some(current) = b.get(&key)? else {
                        return Ok(false);
                    };
                    // Compared as records (an older version's record lacks newer fields).
                    match decode_binding(&current) {
                        Ok(record) if record == old => {}
                        Ok(_) => return Ok(false),
                        Err(e) => return Err(ConflictableTransactionError::Abort(e)),
                    }
                    match &new {
                        Some(v) => b.insert(key.as_slice(), v.as_slice())?,
                        None => {
                            // The avatar image goes with its binding.
                            a.remove(key.as_slice())?;
                            b.remove(key.as_slice())?
                        }
                    };
                    // The reauth index follows the record (the `/metrics` counts read it).
                    index_reauth(r, &key, new_reauth)?;
                    j.insert(id.as_bytes(), row.as_slice())?;
                    Ok(true)
                })
                .map_err(tx_err)?;
            if done {
                db.flush().map_err(backend)?;
            }
            Ok(done)
        })
        .await;
        match done {
            Ok(r) => r,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
}

#[async_trait::async_trait]
impl JobStore for SledStore {
    async fn unbind_with_job(
        &self,
        old: &StoredBinding,
        job: &CleanupJob,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        self.swap_with_job(old, None, job, lease_until_ms).await
    }

    async fn rebind_with_job(
        &self,
        old: &StoredBinding,
        new: &StoredBinding,
        job: &CleanupJob,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        debug_assert!(old.tenant == new.tenant && old.provider == new.provider);
        self.swap_with_job(old, Some(new), job, lease_until_ms)
            .await
    }

    async fn claim_jobs(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<CleanupJob>, StoreError> {
        claim_due(
            &self.jobs,
            (now_ms, lease_until_ms),
            limit,
            decode,
            |_, row| Ok(Some(row.job.clone())),
        )
    }

    async fn save_job(&self, job: &CleanupJob) -> Result<(), StoreError> {
        let tree = self.jobs.clone();
        let row = encode(&Row {
            job: job.clone(),
            leased_until_ms: 0,
        })?;
        let id = job.id.clone();
        blocking(move || {
            let _ = tree.fetch_and_update(id.as_bytes(), |old| old.map(|_| row.clone()))?;
            tree.flush().map(drop)
        })
        .await
    }

    async fn finish_job(&self, id: &str) -> Result<(), StoreError> {
        let (tree, id) = (self.jobs.clone(), id.to_string());
        blocking(move || {
            tree.remove(id.as_bytes())?;
            tree.flush().map(drop)
        })
        .await
    }

    async fn jobs(&self) -> Result<Vec<CleanupJob>, StoreError> {
        self.jobs
            .iter()
            .values()
            .map(|v| Ok(decode(&v.map_err(backend)?)?.job))
            .collect()
    }

    async fn import_job(&self, job: &CleanupJob) -> Result<bool, StoreError> {
        let row = encode(&Row {
            job: job.clone(),
            leased_until_ms: 0,
        })?;
        let (tree, id) = (self.jobs.clone(), job.id.clone());
        blocking(move || {
            let stored = tree
                .compare_and_swap(id.as_bytes(), None::<&[u8]>, Some(row))?
                .is_ok();
            tree.flush()?;
            Ok(stored)
        })
        .await
    }

    async fn replace_job(&self, old: &CleanupJob, new: &CleanupJob) -> Result<bool, StoreError> {
        debug_assert_eq!(old.id, new.id);
        let Some(raw) = self.jobs.get(old.id.as_bytes()).map_err(backend)? else {
            return Ok(false);
        };
        let row = decode(&raw)?;
        if row.job != *old {
            return Ok(false);
        }
        let swapped = encode(&Row {
            job: new.clone(),
            leased_until_ms: row.leased_until_ms,
        })?;
        let (tree, id) = (self.jobs.clone(), old.id.clone());
        blocking(move || {
            let done = tree
                .compare_and_swap(id.as_bytes(), Some(raw), Some(swapped))?
                .is_ok();
            tree.flush()?;
            Ok(done)
        })
        .await
    }
}
