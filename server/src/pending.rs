//! Checked-but-unconfirmed bindings. A check's or an OAuth authorization's result waits in the
//! store (so any replica can confirm it, and a restart keeps it), with its tokens already sealed
//! for the row they will be stored in, for the user's Confirm; Cancel or a 10-minute timeout
//! drops it. Each entry is bound to the tenant that made it and can be taken only once.

use crate::store::{PendingItem, PendingRecord, Store, StoreError};
use app::api::{PendingId, Provider};
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

impl Pending {
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Pending { store, ttl }
    }

    /// Stores `item` for `tenant`; returns its id (128 random bits, hex).
    pub async fn insert(&self, tenant: &str, item: PendingItem) -> Result<PendingId, StoreError> {
        let mut raw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let id = PendingId::from_random(raw);
        let record = PendingRecord {
            id: id.to_string(),
            tenant: tenant.to_string(),
            // The store stamps its own time (one clock for every replica).
            created_at: 0,
            item,
        };
        self.store
            .insert_pending(&record, MAX_PER_TENANT, self.ttl)
            .await?;
        Ok(id)
    }

    /// Removes and returns the entry if it exists, is fresh, and belongs to `tenant`.
    /// Another tenant's id behaves exactly like an unknown one.
    pub async fn take(
        &self,
        tenant: &str,
        id: &PendingId,
    ) -> Result<Option<PendingItem>, StoreError> {
        let r = self
            .store
            .take_pending(tenant, id.as_str(), self.ttl)
            .await?;
        Ok(r.map(|r| r.item))
    }

    /// Reads an entry without taking it (to show it again after a redirect).
    pub async fn peek(
        &self,
        tenant: &str,
        id: &PendingId,
    ) -> Result<Option<PendingItem>, StoreError> {
        let r = self
            .store
            .peek_pending(tenant, id.as_str(), self.ttl)
            .await?;
        Ok(r.map(|r| r.item))
    }

    /// The newest fresh entry of `tenant` for `provider` (after a popup lost its opener).
    pub async fn latest(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<(PendingId, PendingItem)>, StoreError> {
        let r = self
            .store
            .latest_pending(tenant, provider, self.ttl)
            .await?;
        // Every stored id is one `insert` made.
        Ok(r.and_then(|r| Some((PendingId::parse(&r.id)?, r.item))))
    }
}

#[cfg(test)]
mod clock_skew;
