//! The work that must follow an unbind (or a re-bind to another account): revoking the old
//! token upstream, the activity entry, removing our auto-build hooks from the code host. It is
//! recorded as a [`CleanupJob`] in the same write that removes (or replaces) the binding, so a
//! crash or a store failure right after that commit cannot lose it; `crate::jobs` carries it
//! out, retrying with backoff, one attempt at a time per job across replicas (a lease).
//! The token the job needs stays sealed with [`job_aad`] and is dropped once no step needs it.

use super::{AuditEntry, StoreError, StoredBinding, RECORD_VERSION};
use crate::crypto::Sealed;
use app::api::Provider;
use serde::{Deserialize, Serialize};

/// What is still to do after a binding of `account` went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupJob {
    /// Record format version.
    pub v: u32,
    /// Random, unique.
    pub id: String,
    pub tenant: String,
    pub provider: Provider,
    /// The login of the account whose binding went.
    pub account: String,
    /// The removed binding's instance (self-hosted address and CA), for the calls.
    pub address: Option<String>,
    pub ca_pem: Option<String>,
    /// The removed binding's token, sealed with `job_aad(id)`; `None` once no step needs it.
    pub token: Option<Sealed>,
    /// Revoke the token upstream (asked for, or the host's policy).
    pub revoke: bool,
    /// The activity entry still to append.
    pub activity: Option<AuditEntry>,
    /// Remove our hooks from the code host for every registration of the account.
    pub hooks: bool,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (Unix milliseconds).
    pub next_at_ms: i64,
    pub created_at_ms: i64,
}

impl CleanupJob {
    /// Nothing left to do.
    pub fn is_done(&self) -> bool {
        !self.revoke && self.activity.is_none() && !self.hooks
    }
}

/// Associated data that ties a job's sealed token to the job.
pub fn job_aad(id: &str) -> Vec<u8> {
    format!("cleanup-job/v{RECORD_VERSION}/{id}").into_bytes()
}

/// Cleanup jobs. Times in `_ms` are Unix milliseconds.
#[async_trait::async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// In one atomic, durable write: removes the binding if it is still exactly `old`, and
    /// stores `job`, leased until `lease_until_ms` (the caller runs it first). Returns
    /// whether it did; `false`: the binding changed or went, nothing was written.
    async fn unbind_with_job(
        &self,
        old: &StoredBinding,
        job: &CleanupJob,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Like `unbind_with_job`, replacing `old` by `new` (same tenant and provider) instead.
    async fn rebind_with_job(
        &self,
        old: &StoredBinding,
        new: &StoredBinding,
        job: &CleanupJob,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Claims up to `limit` jobs due at `now_ms` and not leased past it, each leased until
    /// `lease_until_ms`: one attempt in flight per job across replicas.
    async fn claim_jobs(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<CleanupJob>, StoreError>;
    /// Stores the job's progress and ends its lease (due again at `job.next_at_ms`); a job
    /// that is no longer stored stays gone.
    async fn save_job(&self, job: &CleanupJob) -> Result<(), StoreError>;
    /// The job is done: it goes, with its sealed token.
    async fn finish_job(&self, id: &str) -> Result<(), StoreError>;
    /// Every stored job (copying a store, rotation, tests).
    async fn jobs(&self) -> Result<Vec<CleanupJob>, StoreError>;
    /// Stores `job` as it is (not leased, due at `job.next_at_ms`) unless a job with its id is
    /// stored; returns whether it did. Copying a store: the work an unbind left to do comes
    /// along, and a copy run twice adds nothing.
    async fn import_job(&self, job: &CleanupJob) -> Result<bool, StoreError>;
    /// Swaps the stored job for `new` (the same job, its token re-sealed) if it is still
    /// exactly `old`, keeping its lease; returns whether it did (key rotation: a worker's save
    /// in between wins, and the rotation reads the job again).
    async fn replace_job(&self, old: &CleanupJob, new: &CleanupJob) -> Result<bool, StoreError>;
}
