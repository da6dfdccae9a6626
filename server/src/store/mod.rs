//! Everything a user's flow needs between two requests lives behind these traits, so that any
//! replica can serve any request: bindings, the activity log, checked-but-unconfirmed accounts
//! (pending), OAuth flow state, leases (refresh single-flight across replicas) and health-check
//! claims. Two backends implement them: sled (one process, the default) and PostgreSQL (shared
//! by several replicas). `conformance` runs the same test bodies against both.
//!
//! Records carry a format version; tokens inside them are sealed (see `crypto`).

mod copy;
mod open;
mod pg;
mod records;
mod sled_audit;
mod sled_ephemeral;
mod sled_store;

#[cfg(test)]
pub(crate) mod conformance;

pub use copy::{copy_all, Copied};
pub use open::{open, open_postgres};
pub use pg::{MigrateError, PgOptions, PgStore};
pub use records::{
    AuditEntry, FlowRecord, PendingItem, PendingRecord, StoredAvatar, StoredBinding,
};
pub use sled_store::SledStore;

use app::api::Provider;

/// Current record format. Readers accept this version and refuse newer ones.
pub const RECORD_VERSION: u32 = 1;

/// Associated data that ties a sealed token to its row (bindings and pending items of the row).
pub fn aad(tenant: &str, provider: Provider) -> Vec<u8> {
    format!("binding/v{RECORD_VERSION}/{tenant}/{}", provider.as_str()).into_bytes()
}

/// Associated data of an OAuth flow's sealed PKCE verifier.
pub fn flow_aad(state_hash: &str) -> Vec<u8> {
    format!("oauth-flow/v1/{state_hash}").into_bytes()
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached right now (connection refused, pool exhausted, timeout):
    /// the request may succeed when retried, nothing was written.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("the storage backend failed")]
    Backend(#[source] BoxError),
    #[error("stored record is unreadable")]
    Corrupt(#[source] serde_json::Error),
    #[error("stored record has format version {0}, newer than this server understands")]
    NewerVersion(u32),
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

#[async_trait::async_trait]
pub trait BindingStore: Send + Sync + 'static {
    async fn list(&self, tenant: &str) -> Result<Vec<StoredBinding>, StoreError>;
    async fn get(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError>;
    /// Inserts or replaces; durable when it returns.
    /// Returns whether it replaced an existing binding (a re-authorization).
    async fn put(&self, binding: &StoredBinding) -> Result<bool, StoreError>;
    /// Replaces `old` by `new` only if the stored record is still exactly `old` (same row).
    /// Returns whether it did. Used where a concurrent writer must win (rotation, refresh).
    async fn replace(&self, old: &StoredBinding, new: &StoredBinding) -> Result<bool, StoreError>;
    /// Removes and returns the binding, if there was one; durable when it returns.
    async fn delete(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError>;
    /// Every binding in key order, `limit` at a time, after `after` (for rotation and copying).
    async fn scan(
        &self,
        after: Option<(String, Provider)>,
        limit: usize,
    ) -> Result<Vec<StoredBinding>, StoreError>;
    /// Claims up to `limit` bindings due for a health check: not needing re-authorization, last
    /// checked before `checked_before`, and not claimed by anyone until after `now`. Each
    /// returned binding is claimed until `claim_until` (all Unix seconds), so across replicas
    /// each binding is handed to one checker per interval. `tenant` narrows it to one tenant.
    async fn claim_due(
        &self,
        tenant: Option<&str>,
        checked_before: i64,
        now: i64,
        claim_until: i64,
        limit: usize,
    ) -> Result<Vec<StoredBinding>, StoreError>;
    /// Number of bindings by code host and whether they need re-authorization (metrics).
    async fn counts(&self) -> Result<Vec<(Provider, bool, u64)>, StoreError>;
    /// Readiness: the store is open and answers.
    async fn ready(&self) -> bool;
}

#[async_trait::async_trait]
pub trait AuditLog: Send + Sync + 'static {
    async fn append(&self, entry: AuditEntry) -> Result<(), StoreError>;
    /// Newest first; `before` is an opaque cursor from a previous page.
    async fn page(
        &self,
        tenant: &str,
        before: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError>;
    /// Every entry in storage order, `limit` at a time, after the opaque cursor (copying).
    async fn scan_audit(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError>;
}

/// Checked or authorized accounts waiting for Confirm. Times are Unix milliseconds; an entry
/// created at or before `fresh_after` counts as expired and is never returned.
#[async_trait::async_trait]
pub trait PendingStore: Send + Sync + 'static {
    /// Stores a new entry; beyond `max_per_tenant` entries of its tenant the oldest go.
    async fn insert_pending(
        &self,
        record: &PendingRecord,
        max_per_tenant: usize,
    ) -> Result<(), StoreError>;
    /// Removes and returns the entry if it exists, is fresh and belongs to `tenant`; atomic, so
    /// of two concurrent takes (on any replicas) at most one gets it.
    async fn take_pending(
        &self,
        tenant: &str,
        id: &str,
        fresh_after: i64,
    ) -> Result<Option<PendingRecord>, StoreError>;
    async fn peek_pending(
        &self,
        tenant: &str,
        id: &str,
        fresh_after: i64,
    ) -> Result<Option<PendingRecord>, StoreError>;
    /// The newest fresh entry of `tenant` for `provider`.
    async fn latest_pending(
        &self,
        tenant: &str,
        provider: Provider,
        fresh_after: i64,
    ) -> Result<Option<PendingRecord>, StoreError>;
    /// Every stored entry, fresh or not (rotation and copying; bounded by the sweeps).
    async fn all_pending(&self) -> Result<Vec<PendingRecord>, StoreError>;
    /// Replaces `old` by `new` (same id) only if it is still stored unchanged.
    async fn replace_pending(
        &self,
        old: &PendingRecord,
        new: &PendingRecord,
    ) -> Result<bool, StoreError>;
}

/// OAuth flows between Bind and the callback, keyed by the hash of their `state`.
#[async_trait::async_trait]
pub trait FlowStore: Send + Sync + 'static {
    /// Stores a new flow; beyond `max_per_tenant` flows of its tenant the oldest go.
    async fn insert_flow(
        &self,
        record: &FlowRecord,
        max_per_tenant: usize,
    ) -> Result<(), StoreError>;
    /// Removes and returns the flow in one atomic step: a state is good for one callback,
    /// whichever replica it reaches.
    async fn take_flow(&self, state_hash: &str) -> Result<Option<FlowRecord>, StoreError>;
    /// Every stored flow (rotation; bounded by the sweeps).
    async fn all_flows(&self) -> Result<Vec<FlowRecord>, StoreError>;
    async fn replace_flow(&self, old: &FlowRecord, new: &FlowRecord) -> Result<bool, StoreError>;
}

/// Named leases with an expiry (Unix milliseconds), stored as rows: one holder at a time, and a
/// holder that dies stops blocking others when its lease runs out.
#[async_trait::async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes the lease if it is free, expired, or already `holder`'s; returns whether it did.
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError>;
    /// Gives the lease up if `holder` still has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}

/// What a retention sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub audit: u64,
    pub pending: u64,
    pub flows: u64,
    pub leases: u64,
}

/// The whole store a server runs on.
#[async_trait::async_trait]
pub trait Store: BindingStore + AuditLog + PendingStore + FlowStore + Leases {
    /// Drops audit entries older than `audit_before` (Unix seconds), pending items and flows
    /// created at or before `ephemeral_before` and leases that ended before `now_ms` (Unix
    /// milliseconds). Idempotent: every replica may run it.
    async fn sweep(
        &self,
        audit_before: i64,
        ephemeral_before: i64,
        now_ms: i64,
    ) -> Result<Swept, StoreError>;
    /// A short name for logs (`sled`, `postgres`).
    fn backend(&self) -> &'static str;
}
