//! Checked-but-unconfirmed bindings. A check's or an OAuth authorization's result waits in the
//! store (so any replica can confirm it, and a restart keeps it), with its tokens already sealed
//! for the row they will be stored in, for the user's Confirm; Cancel or a 10-minute timeout
//! drops it. Each entry is bound to the tenant that made it and can be taken only once.

use crate::store::{PendingItem, PendingRecord, Store, StoreError};
use app::api::Provider;
use rand::RngCore;
use std::sync::Arc;
use std::time::Duration;

pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// Bounds what one tenant can keep; the oldest entry goes first.
pub const MAX_PER_TENANT: usize = 16;

pub struct Pending {
    store: Arc<dyn Store>,
    ttl: Duration,
}

/// Ids we hand out are 32 hex digits; anything else is malformed (and unknown to the store).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Pending {
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Pending { store, ttl }
    }

    /// Stores `item` for `tenant`; returns its id (128 random bits, hex).
    pub async fn insert(&self, tenant: &str, item: PendingItem) -> Result<String, StoreError> {
        let mut raw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let record = PendingRecord {
            id: crate::util::hex(&raw),
            tenant: tenant.to_string(),
            // The store stamps its own time (one clock for every replica).
            created_at: 0,
            item,
        };
        self.store
            .insert_pending(&record, MAX_PER_TENANT, self.ttl)
            .await?;
        Ok(record.id)
    }

    /// Removes and returns the entry if it exists, is fresh, and belongs to `tenant`.
    /// Another tenant's id behaves exactly like an unknown one.
    pub async fn take(&self, tenant: &str, id: &str) -> Result<Option<PendingItem>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        let r = self.store.take_pending(tenant, id, self.ttl).await?;
        Ok(r.map(|r| r.item))
    }

    /// Reads an entry without taking it (to show it again after a redirect).
    pub async fn peek(&self, tenant: &str, id: &str) -> Result<Option<PendingItem>, StoreError> {
        if !valid_id(id) {
            return Ok(None);
        }
        let r = self.store.peek_pending(tenant, id, self.ttl).await?;
        Ok(r.map(|r| r.item))
    }

    /// The newest fresh entry of `tenant` for `provider` (after a popup lost its opener).
    pub async fn latest(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<(String, PendingItem)>, StoreError> {
        let r = self
            .store
            .latest_pending(tenant, provider, self.ttl)
            .await?;
        Ok(r.map(|r| (r.id, r.item)))
    }
}

#[cfg(test)]
mod clock_skew;
