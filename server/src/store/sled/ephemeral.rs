//! Short-lived state in sled: pending items (`tenant \0 id`), OAuth flows (`state hash`) and
//! leases (`name`), each value JSON. On disk (flushed) rather than in memory, so a restart of
//! the one process between Bind and the callback, or between the check and Confirm, loses
//! nothing. Taking is `remove`, which sled does atomically: a second take finds nothing.

use super::SledStore;
use super::{backend, blocking, tenant_prefix};
use crate::store::{FlowRecord, FlowStore, Leases, PendingRecord, PendingStore};
use crate::store::{Store, StoreError, Swept, TakenFlow};
use crate::util::now_millis;
use app::api::Provider;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::time::Duration;

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(StoreError::Corrupt)
}

fn decode<T: DeserializeOwned>(v: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(StoreError::Corrupt)
}

fn pending_key(tenant: &str, id: &str) -> Vec<u8> {
    let mut k = tenant_prefix(tenant);
    k.extend_from_slice(id.as_bytes());
    k
}

/// Inserts `value` under `key` after removing the oldest of `existing` (key, created) beyond
/// `max - 1`; flushed before it returns.
async fn insert_bounded(
    tree: sled::Tree,
    mut existing: Vec<(sled::IVec, i64)>,
    max: usize,
    key: Vec<u8>,
    value: Vec<u8>,
) -> Result<(), StoreError> {
    existing.sort_by_key(|(_, created)| *created);
    let excess = (existing.len() + 1).saturating_sub(max);
    blocking(move || {
        for (k, _) in existing.into_iter().take(excess) {
            tree.remove(k)?;
        }
        tree.insert(key, value)?;
        tree.flush()?;
        Ok(())
    })
    .await
}

/// Swaps `old` for `new` under `key` only if `old` is still stored.
async fn swap(
    tree: sled::Tree,
    key: Vec<u8>,
    old: Vec<u8>,
    new: Vec<u8>,
) -> Result<bool, StoreError> {
    blocking(move || {
        let done = tree.compare_and_swap(key, Some(old), Some(new))?.is_ok();
        tree.flush()?;
        Ok(done)
    })
    .await
}

fn all<T: DeserializeOwned>(tree: &sled::Tree) -> Result<Vec<T>, StoreError> {
    tree.iter()
        .values()
        .map(|v| decode(&v.map_err(backend)?))
        .collect()
}

/// The oldest `created_at` still fresh for `ttl`, by this process's clock (the store's).
fn fresh_after(ttl: Duration) -> i64 {
    let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    now_millis().saturating_sub(ttl)
}

#[async_trait::async_trait]
impl PendingStore for SledStore {
    async fn insert_pending(
        &self,
        r: &PendingRecord,
        max: usize,
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        // One process: its clock is the store's. Expired entries wait for the sweep.
        let r = &PendingRecord {
            created_at: now_millis(),
            ..r.clone()
        };
        let mut existing = Vec::new();
        for item in self.pending.scan_prefix(tenant_prefix(&r.tenant)) {
            let (k, v) = item.map_err(backend)?;
            existing.push((k, decode::<PendingRecord>(&v)?.created_at));
        }
        let key = pending_key(&r.tenant, &r.id);
        insert_bounded(self.pending.clone(), existing, max, key, encode(r)?).await
    }

    async fn take_pending(
        &self,
        tenant: &str,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<PendingRecord>, StoreError> {
        let fresh_after = fresh_after(ttl);
        let (tree, key) = (self.pending.clone(), pending_key(tenant, id));
        let taken = blocking(move || {
            let v = tree.remove(key)?;
            tree.flush()?;
            Ok(v)
        })
        .await?;
        // An expired entry is gone either way; it just is not handed out.
        Ok(taken
            .map(|v| decode::<PendingRecord>(&v))
            .transpose()?
            .filter(|r| r.created_at > fresh_after))
    }

    async fn peek_pending(
        &self,
        tenant: &str,
        id: &str,
        ttl: Duration,
    ) -> Result<Option<PendingRecord>, StoreError> {
        let fresh_after = fresh_after(ttl);
        let v = self.pending.get(pending_key(tenant, id)).map_err(backend)?;
        Ok(v.map(|v| decode::<PendingRecord>(&v))
            .transpose()?
            .filter(|r| r.created_at > fresh_after))
    }

    async fn latest_pending(
        &self,
        tenant: &str,
        provider: Provider,
        ttl: Duration,
    ) -> Result<Option<PendingRecord>, StoreError> {
        let fresh_after = fresh_after(ttl);
        let mut newest: Option<PendingRecord> = None;
        for v in self.pending.scan_prefix(tenant_prefix(tenant)).values() {
            let r: PendingRecord = decode(&v.map_err(backend)?)?;
            let fits = r.item.provider == provider && r.created_at > fresh_after;
            if fits && newest.as_ref().is_none_or(|n| r.created_at > n.created_at) {
                newest = Some(r);
            }
        }
        Ok(newest)
    }

    async fn all_pending(&self) -> Result<Vec<PendingRecord>, StoreError> {
        all(&self.pending)
    }

    async fn replace_pending(
        &self,
        old: &PendingRecord,
        new: &PendingRecord,
    ) -> Result<bool, StoreError> {
        let key = pending_key(&old.tenant, &old.id);
        swap(self.pending.clone(), key, encode(old)?, encode(new)?).await
    }
}

#[async_trait::async_trait]
impl FlowStore for SledStore {
    async fn insert_flow(
        &self,
        r: &FlowRecord,
        max: usize,
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        let r = &FlowRecord {
            created_at: now_millis(),
            ..r.clone()
        };
        let mut existing = Vec::new();
        for item in self.flows.iter() {
            let (k, v) = item.map_err(backend)?;
            let f: FlowRecord = decode(&v)?;
            if f.tenant == r.tenant {
                existing.push((k, f.created_at));
            }
        }
        let key = r.state_hash.as_bytes().to_vec();
        insert_bounded(self.flows.clone(), existing, max, key, encode(r)?).await
    }

    async fn take_flow(
        &self,
        state_hash: &str,
        ttl: Duration,
    ) -> Result<Option<TakenFlow>, StoreError> {
        let (tree, key) = (self.flows.clone(), state_hash.as_bytes().to_vec());
        let v = blocking(move || {
            let v = tree.remove(key)?;
            tree.flush()?;
            Ok(v)
        })
        .await?;
        let Some(v) = v else { return Ok(None) };
        let flow: FlowRecord = decode(&v)?;
        Ok(Some(if flow.created_at > fresh_after(ttl) {
            TakenFlow::Fresh(flow)
        } else {
            TakenFlow::Expired
        }))
    }

    async fn all_flows(&self) -> Result<Vec<FlowRecord>, StoreError> {
        all(&self.flows)
    }

    async fn replace_flow(&self, old: &FlowRecord, new: &FlowRecord) -> Result<bool, StoreError> {
        let key = old.state_hash.as_bytes().to_vec();
        swap(self.flows.clone(), key, encode(old)?, encode(new)?).await
    }
}

#[derive(Serialize, Deserialize)]
struct Lease {
    holder: String,
    expires_at: i64,
}

#[async_trait::async_trait]
impl Leases for SledStore {
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        lease_for: std::time::Duration,
    ) -> Result<bool, StoreError> {
        // One process, so one clock: its own.
        let now = now_millis();
        let mine = encode(&Lease {
            holder: holder.to_string(),
            expires_at: now.saturating_add(lease_for.as_millis() as i64),
        })?;
        loop {
            let current = self.leases.get(name).map_err(backend)?;
            if let Some(v) = &current {
                let l: Lease = decode(v)?;
                if l.holder != holder && l.expires_at > now {
                    return Ok(false);
                }
            }
            let swapped = self
                .leases
                .compare_and_swap(name, current, Some(mine.clone()))
                .map_err(backend)?;
            if swapped.is_ok() {
                return Ok(true);
            }
            // Someone else changed it in between: look again.
        }
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        if let Some(v) = self.leases.get(name).map_err(backend)? {
            if decode::<Lease>(&v)?.holder == holder {
                // Only if it is still the same lease (not taken over meanwhile).
                let _ = self
                    .leases
                    .compare_and_swap(name, Some(v), None::<Vec<u8>>)
                    .map_err(backend)?;
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for SledStore {
    async fn now_ms(&self) -> Result<i64, StoreError> {
        Ok(now_millis())
    }

    async fn sweep_before(
        &self,
        audit_before: i64,
        ephemeral_before: i64,
    ) -> Result<Swept, StoreError> {
        let mut swept = Swept::default();
        let now_ms = now_millis();
        // Audit keys are per tenant, so look at each entry's time. A value holds several
        // entries (written together): it goes when all are old, else it keeps the new ones.
        for item in self.audit.iter() {
            let (k, v) = item.map_err(backend)?;
            let Ok(entries) = super::audit::entries(&v) else {
                continue;
            };
            let (old, keep): (Vec<_>, Vec<_>) =
                entries.into_iter().partition(|e| e.at < audit_before);
            let gone = if old.is_empty() {
                false
            } else if keep.is_empty() {
                swap_if_same(&self.audit, k, v, None)?
            } else {
                let kept = serde_json::to_vec(&keep).map_err(StoreError::Corrupt)?;
                swap_if_same(&self.audit, k, v, Some(kept))?
            };
            if gone {
                swept.audit += old.len() as u64;
            }
        }
        for item in self.pending.iter() {
            let (k, v) = item.map_err(backend)?;
            let r: PendingRecord = decode(&v)?;
            if r.created_at <= ephemeral_before && swap_if_same(&self.pending, k, v, None)? {
                swept.pending += 1;
            }
        }
        for item in self.flows.iter() {
            let (k, v) = item.map_err(backend)?;
            let f: FlowRecord = decode(&v)?;
            if f.created_at <= ephemeral_before && swap_if_same(&self.flows, k, v, None)? {
                swept.flows += 1;
            }
        }
        for item in self.leases.iter() {
            let (k, v) = item.map_err(backend)?;
            let l: Lease = decode(&v)?;
            if l.expires_at < now_ms && swap_if_same(&self.leases, k, v, None)? {
                swept.leases += 1;
            }
        }
        let before_ms = audit_before.saturating_mul(1000);
        (swept.build_events, swept.delivery_ids, swept.delivery_log) =
            self.sweep_autobuild(before_ms)?;
        let db = self.db.clone();
        blocking(move || db.flush().map(|_| ())).await?;
        Ok(swept)
    }

    fn backend(&self) -> &'static str {
        "sled"
    }
}

/// Replaces `key`'s value with `new` (`None`: removes it) only while it still holds `seen`, the
/// record the sweep judged: a lease taken over, or a record rewritten, since it was read stays.
fn swap_if_same(
    tree: &sled::Tree,
    key: sled::IVec,
    seen: sled::IVec,
    new: Option<Vec<u8>>,
) -> Result<bool, StoreError> {
    let swapped = tree
        .compare_and_swap(key, Some(seen), new)
        .map_err(backend)?;
    Ok(swapped.is_ok())
}
