//! Everything a user's flow needs between two requests lives behind these traits, so that any
//! replica can serve any request: bindings, the activity log, checked-but-unconfirmed accounts
//! (pending), OAuth flow state, leases (refresh single-flight across replicas) and health-check
//! claims, and auto-build's registrations, build events and their outbox. Two backends implement them: sled (one process, the default) and PostgreSQL (shared
//! by several replicas). `conformance` runs the same test bodies against both.
//!
//! Records carry a format version; tokens inside them are sealed (see `crypto`).

mod autobuild;
mod copy;
mod jobs;
mod open;
mod pg;
mod records;
mod sled;

#[cfg(test)]
pub(crate) mod conformance;

pub use autobuild::{
    build_event_id, held_push_id, hook_aad, BuildEvent, DeliveryLogEntry, DeliveryOutcome,
    EventRepository, HeldPush, OutboxCounts, OutboxItem, Recorded, RefType, RegistrationKey,
    StoredRegistration, MAX_DELIVERY_LOG,
};
pub use copy::{copy_all, Copied};
pub use jobs::{job_aad, CleanupJob, JobStore};
pub use open::{open, open_postgres};
pub use pg::{MigrateError, PgOptions, PgStore};
pub use records::{
    AuditEntry, AvatarRef, FlowRecord, PendingItem, PendingRecord, StoredAvatar, StoredBinding,
};
pub use sled::SledStore;

use app::api::Provider;
use std::time::Duration;

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
    /// The backend cannot be reached right now (connection refused, pool exhausted, timeout)
    /// or said "not now" (a lock or statement timeout, a serialization conflict, out of
    /// resources, shutting down): the request may succeed when retried, nothing was written.
    /// Every other failure is `Backend`: a bug or a misconfiguration (the API answers 500).
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
    /// Bulk import: inserts or replaces many bindings in one write (one sled batch and flush,
    /// one SQL statement), durable when it returns. For filling a store before it serves
    /// (`copy-from-sled`, the benchmark's seeding), where a `put` each would take hours for a
    /// million rows. Avatar images are not part of it (`put_avatar`, after).
    async fn import_bindings(&self, bindings: &[StoredBinding]) -> Result<(), StoreError>;
    /// Replaces `old` by `new` only if the stored record is still exactly `old` (same row).
    /// Returns whether it did. Used where a concurrent writer must win (rotation, refresh).
    async fn replace(&self, old: &StoredBinding, new: &StoredBinding) -> Result<bool, StoreError>;
    /// Removes and returns the binding, if there was one; durable when it returns.
    async fn delete(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError>;
    /// The avatar image of `tenant`'s binding to `provider`, kept apart from the binding
    /// record (which holds only its [`AvatarRef`]): read by the avatar route alone.
    async fn avatar(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredAvatar>, StoreError>;
    /// Stores (`Some`) or removes (`None`) the avatar image of the binding; nothing is stored
    /// when there is no such binding. `delete` (and an unbind with a cleanup job) removes the
    /// image in the same write as the binding.
    async fn put_avatar(
        &self,
        tenant: &str,
        provider: Provider,
        avatar: Option<&StoredAvatar>,
    ) -> Result<(), StoreError>;
    /// Every binding in key order, `limit` at a time, after `after` (for rotation and copying).
    async fn scan(
        &self,
        after: Option<(String, Provider)>,
        limit: usize,
    ) -> Result<Vec<StoredBinding>, StoreError>;
    /// Claims up to `limit` bindings due for a health check: not needing re-authorization, not
    /// checked within `checked_within`, and not claimed by anyone now. Each returned binding
    /// is claimed for `claim_for` (`check_claimed_until`, Unix seconds), so across replicas
    /// each binding is handed to one checker per interval. Both are measured on the store's
    /// clock, like [`Leases`] (`last_checked_at` is the checker's stamp: a checker whose clock
    /// is off shifts when that binding is next due, never hands it to two checkers at once).
    /// `tenant` narrows it to one tenant.
    async fn claim_due(
        &self,
        tenant: Option<&str>,
        checked_within: std::time::Duration,
        claim_for: std::time::Duration,
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

/// Checked or authorized accounts waiting for Confirm. The store stamps `created_at` (Unix
/// milliseconds) on insert and judges freshness by its own clock, the same one for every
/// replica: on PostgreSQL the database's, so a replica whose clock is off neither refuses a
/// fresh entry nor hands out an expired one; sled is one process, and its clock is the
/// store's. An entry is fresh while younger than the `ttl` a call passes; an expired entry is
/// never returned.
#[async_trait::async_trait]
pub trait PendingStore: Send + Sync + 'static {
    /// Stores a new entry (its `created_at` replaced by the store's now); beyond
    /// `max_per_tenant` entries of its tenant the oldest go, and so do its entries older than
    /// `ttl`.
    async fn insert_pending(
        &self,
        record: &PendingRecord,
        max_per_tenant: usize,
        ttl: Duration,
    ) -> Result<(), StoreError>;
    /// Removes and returns the entry if it exists, is fresh and belongs to `tenant`; atomic, so
    /// of two concurrent takes (on any replicas) at most one gets it. May remove the tenant's
    /// expired entries on the way.
    async fn take_pending(
        &self,
        tenant: &str,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<PendingRecord>, StoreError>;
    async fn peek_pending(
        &self,
        tenant: &str,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<PendingRecord>, StoreError>;
    /// The newest fresh entry of `tenant` for `provider`.
    async fn latest_pending(
        &self,
        tenant: &str,
        provider: Provider,
        ttl: Duration,
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

/// A flow taken by its state, judged by the store's clock (see [`PendingStore`]).
#[derive(Debug, PartialEq, Eq)]
pub enum TakenFlow {
    Fresh(FlowRecord),
    /// Consumed all the same: a state is good for one attempt.
    Expired,
}

/// OAuth flows between Bind and the callback, keyed by the hash of their `state`. Like pending
/// entries, `created_at` is stamped by the store and expiry judged by its clock.
#[async_trait::async_trait]
pub trait FlowStore: Send + Sync + 'static {
    /// Stores a new flow (its `created_at` replaced by the store's now); beyond
    /// `max_per_tenant` flows of its tenant the oldest go, and so do its flows older than `ttl`.
    async fn insert_flow(
        &self,
        record: &FlowRecord,
        max_per_tenant: usize,
        ttl: Duration,
    ) -> Result<(), StoreError>;
    /// Removes and returns the flow in one atomic step: a state is good for one callback,
    /// whichever replica it reaches. Fresh while younger than `ttl`.
    async fn take_flow(
        &self,
        state_hash: &str,
        ttl: Duration,
    ) -> Result<Option<TakenFlow>, StoreError>;
    /// Every stored flow (rotation; bounded by the sweeps).
    async fn all_flows(&self) -> Result<Vec<FlowRecord>, StoreError>;
    async fn replace_flow(&self, old: &FlowRecord, new: &FlowRecord) -> Result<bool, StoreError>;
}

/// Named leases with an expiry, stored as rows: one holder at a time, and a holder that dies
/// stops blocking others when its lease runs out.
///
/// Callers pass how long, never until when: the store reads the time from one clock, so
/// replicas whose clocks disagree still agree on when a lease ends (PostgreSQL: the
/// database's `now()`; sled: the one process's clock).
#[async_trait::async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes the lease for `lease_for` if it is free, ended, or already `holder`'s (then it
    /// is extended); returns whether it did.
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        lease_for: std::time::Duration,
    ) -> Result<bool, StoreError>;
    /// Gives the lease up if `holder` still has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}

/// Auto-build's storage (docs/auto-build.md): registrations, the build events deliveries
/// produce (de-duplicated by delivery id and by event id), their push outbox, and a short
/// delivery log per registration. Times in `_ms` are Unix milliseconds.
#[async_trait::async_trait]
pub trait AutoBuildStore: Send + Sync + 'static {
    /// Inserts or replaces the registration with the same key (the replaced one is returned;
    /// its rid stops resolving).
    async fn put_registration(
        &self,
        r: &StoredRegistration,
    ) -> Result<Option<StoredRegistration>, StoreError>;
    async fn registration(
        &self,
        key: &RegistrationKey,
    ) -> Result<Option<StoredRegistration>, StoreError>;
    async fn registration_by_rid(
        &self,
        rid: &str,
    ) -> Result<Option<StoredRegistration>, StoreError>;
    /// A tenant's registrations (optionally of one provider), in key order.
    async fn registrations(
        &self,
        tenant: &str,
        provider: Option<Provider>,
    ) -> Result<Vec<StoredRegistration>, StoreError>;
    async fn delete_registration(
        &self,
        key: &RegistrationKey,
    ) -> Result<Option<StoredRegistration>, StoreError>;
    /// Replaces `old` by `new` (same key) only if the stored record is still exactly `old`,
    /// like `BindingStore::replace` (rotation, `last_delivery_at`).
    async fn replace_registration(
        &self,
        old: &StoredRegistration,
        new: &StoredRegistration,
    ) -> Result<bool, StoreError>;
    /// Every registration in rid order, after `after` (rotation, copying).
    async fn scan_registrations(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<StoredRegistration>, StoreError>;
    /// One atomic, durable write. If `entry.delivery_id` was already recorded for
    /// `entry.rid`: only a log entry with outcome `Duplicate` (`duplicate_delivery`).
    /// Otherwise the delivery id is remembered, each event whose id is new is appended with
    /// the next sequence number (strictly increasing, committed in sequence order) and, if
    /// `outbox`, an outbox row due at `entry.at_ms`; then the log entry, with `entry.outcome`,
    /// or `Duplicate` when events were given and none was new. Sets the registration's
    /// `last_delivery_at` to `entry.at_ms`.
    async fn record_delivery(
        &self,
        entry: &DeliveryLogEntry,
        events: &[BuildEvent],
        outbox: bool,
    ) -> Result<Recorded, StoreError>;
    /// A log entry without events (refused, ignored, host error).
    async fn log_delivery(&self, entry: &DeliveryLogEntry) -> Result<(), StoreError>;
    /// The newest `limit` log entries of a registration, newest first (at most
    /// [`MAX_DELIVERY_LOG`] are kept).
    async fn deliveries(
        &self,
        rid: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryLogEntry>, StoreError>;
    /// Events with a sequence number above `after`, ascending, at most `limit`.
    async fn events_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, BuildEvent)>, StoreError>;
    /// The highest sequence number handed out (0: none yet).
    async fn last_event_seq(&self) -> Result<u64, StoreError>;
    /// Claims up to `limit` outbox rows due now and not leased, each leased for `lease_for`:
    /// one attempt in flight per event across replicas. "Now" is the store's clock, like
    /// [`Leases`]; so is the time a new outbox row (`record_delivery`) is due.
    async fn claim_outbox(
        &self,
        lease_for: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError>;
    /// The event was delivered: its outbox row goes.
    async fn finish_outbox(&self, seq: u64) -> Result<(), StoreError>;
    /// The attempt failed: try again after `retry_in` (the store's clock), `attempts` made so
    /// far (lease ended).
    async fn retry_outbox(
        &self,
        seq: u64,
        attempts: u32,
        retry_in: std::time::Duration,
    ) -> Result<(), StoreError>;
    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError>;
    /// One atomic, durable write: holds `push`, leased for `lease_for` (the receiving replica
    /// tries it first), unless its delivery id was already recorded for its rid
    /// (`record_delivery`) or a push with its id is held. Returns whether it was held; `false`
    /// is a duplicate delivery, and nothing was written.
    async fn hold_push(
        &self,
        push: &HeldPush,
        lease_for: std::time::Duration,
    ) -> Result<bool, StoreError>;
    /// Claims up to `limit` held pushes due now and not leased (the store's clock), each
    /// leased for `lease_for`: one attempt in flight per push across replicas.
    async fn claim_held_pushes(
        &self,
        lease_for: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<HeldPush>, StoreError>;
    /// The attempt did not settle it: stores `push` (its attempts counted) and makes it due
    /// after `retry_in` (lease ended). Nothing if it is no longer held.
    async fn retry_held_push(
        &self,
        push: &HeldPush,
        retry_in: std::time::Duration,
    ) -> Result<(), StoreError>;
    /// Settled (its events recorded, or given up): it goes.
    async fn release_held_push(&self, id: &str) -> Result<(), StoreError>;
    /// How many pushes are held (for `/metrics`).
    async fn held_push_count(&self) -> Result<u64, StoreError>;
    /// Every held push, leased or not (copying a store, tests).
    async fn held_pushes(&self) -> Result<Vec<HeldPush>, StoreError>;
}

/// What a retention sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub audit: u64,
    pub pending: u64,
    pub flows: u64,
    pub leases: u64,
    /// Build events (with their de-duplication keys and outbox rows).
    pub build_events: u64,
    /// Remembered delivery ids.
    pub delivery_ids: u64,
    /// Delivery log entries.
    pub delivery_log: u64,
}

/// The whole store a server runs on.
#[async_trait::async_trait]
pub trait Store:
    BindingStore + AuditLog + PendingStore + FlowStore + Leases + AutoBuildStore + JobStore
{
    /// The store's clock in Unix milliseconds: on PostgreSQL the database's, the one clock every
    /// replica's expiries are measured on; on sled this process's.
    async fn now_ms(&self) -> Result<i64, StoreError>;
    /// Drops audit entries older than `audit_before` (Unix seconds), pending items and flows
    /// created at or before `ephemeral_before` (Unix milliseconds) and leases that have ended
    /// (by the store's clock, see [`Leases`]); build events, remembered delivery ids and
    /// delivery log entries older than `audit_before` too (an event's outbox row goes with
    /// it). Idempotent: every replica may run it.
    async fn sweep_before(
        &self,
        audit_before: i64,
        ephemeral_before: i64,
    ) -> Result<Swept, StoreError>;
    /// [`Store::sweep_before`] with cutoffs measured back from the store's clock
    /// ([`Store::now_ms`]), not the calling replica's: activity older than `audit_retention`,
    /// pending items and flows older than `ephemeral_ttl`.
    async fn sweep(
        &self,
        audit_retention: Duration,
        ephemeral_ttl: Duration,
    ) -> Result<Swept, StoreError> {
        let now_ms = self.now_ms().await?;
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let audit_before = (now_ms / 1000).saturating_sub(ms(audit_retention) / 1000);
        self.sweep_before(audit_before, now_ms.saturating_sub(ms(ephemeral_ttl)))
            .await
    }
    /// A short name for logs (`sled`, `postgres`).
    fn backend(&self) -> &'static str;
}
