//! sled backend, for one process. Tree `bindings/v1`, key `tenant \0 provider`, value the JSON
//! record. Every write is a single-key atomic operation followed by a flush, so concurrent binds
//! and unbinds of a row end in exactly one of their outcomes, and nothing is reported saved
//! before it is on disk. The other trees (activity, pending, flows, leases, auto-build) are in
//! `sled_audit`, `sled_ephemeral` and `sled_autobuild`.

use super::{BindingStore, StoreError, StoredBinding, RECORD_VERSION};
use app::api::Provider;
use std::path::Path;

/// sled's page cache. Its default (1 GiB) lets a full scan (metrics, the periodic health check)
/// of a million bindings grow the process to ~800 MB; reads of one tenant's rows need little.
/// 16 MiB instead of 32: ~25 MiB less peak RSS under bench/perf.sh, the same throughput.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

pub struct SledStore {
    pub(super) db: sled::Db,
    pub(super) bindings: sled::Tree,
    pub(super) audit: sled::Tree,
    pub(super) pending: sled::Tree,
    pub(super) flows: sled::Tree,
    pub(super) leases: sled::Tree,
    /// Cleanup jobs (`sled_jobs`).
    pub(super) jobs: sled::Tree,
    /// Auto-build's trees (`sled_autobuild`).
    pub(super) autobuild: super::sled_autobuild::Trees,
    /// Writes activity entries, several to a value and a flush (`sled_audit::writer`).
    pub(super) audit_writer: super::sled_audit::AuditWriter,
}

impl SledStore {
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir.join("bindings.sled"))
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(backend)?;
        let tree = |name: &str| db.open_tree(name).map_err(backend);
        let audit = tree("audit/v1")?;
        Ok(SledStore {
            bindings: tree("bindings/v1")?,
            pending: tree("pending/v1")?,
            flows: tree("oauth-flows/v1")?,
            leases: tree("leases/v1")?,
            jobs: tree("jobs/v1")?,
            autobuild: super::sled_autobuild::Trees::open(&db)?,
            audit_writer: super::sled_audit::AuditWriter::start(db.clone(), audit.clone())
                .map_err(|e| StoreError::Backend(Box::new(e)))?,
            audit,
            db,
        })
    }

    /// Writes many bindings in one sled batch with one flush at the end. Only for filling a
    /// store before it serves (the benchmark's `codesource bench-seed`): the per-write
    /// durability of `put` would make a million rows take hours.
    pub fn put_batch(&self, bindings: &[StoredBinding]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for b in bindings {
            batch.insert(Self::key(&b.tenant, b.provider), encode(b)?);
        }
        self.bindings.apply_batch(batch).map_err(backend)?;
        self.bindings.flush().map_err(backend)?;
        Ok(())
    }

    pub(super) fn key(tenant: &str, provider: Provider) -> Vec<u8> {
        let mut k = tenant_prefix(tenant);
        k.extend_from_slice(provider.as_str().as_bytes());
        k
    }
}

pub(super) fn backend(e: sled::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Tenant ids never contain NUL (see `identity::valid_id`), so prefixes cannot overlap.
pub(super) fn tenant_prefix(tenant: &str) -> Vec<u8> {
    let mut k = tenant.as_bytes().to_vec();
    k.push(0);
    k
}

/// Writes and fsyncs block: keep them off the async workers. (sled's `flush_async` can wait
/// forever when no other flush is in progress, so the blocking flush is used instead.)
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, sled::Error> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(backend),
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<StoredBinding, StoreError> {
    #[derive(serde::Deserialize)]
    struct Version {
        v: u32,
    }
    let v: Version = serde_json::from_slice(bytes).map_err(StoreError::Corrupt)?;
    if v.v > RECORD_VERSION {
        return Err(StoreError::NewerVersion(v.v));
    }
    serde_json::from_slice(bytes).map_err(StoreError::Corrupt)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(StoreError::Corrupt)
}

#[async_trait::async_trait]
impl BindingStore for SledStore {
    async fn list(&self, tenant: &str) -> Result<Vec<StoredBinding>, StoreError> {
        self.bindings
            .scan_prefix(tenant_prefix(tenant))
            .values()
            .map(|v| decode(&v.map_err(backend)?))
            .collect()
    }

    async fn get(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError> {
        self.bindings
            .get(Self::key(tenant, provider))
            .map_err(backend)?
            .map(|v| decode(&v))
            .transpose()
    }

    async fn put(&self, b: &StoredBinding) -> Result<bool, StoreError> {
        let value = encode(b)?;
        let (tree, key) = (self.bindings.clone(), Self::key(&b.tenant, b.provider));
        blocking(move || {
            let old = tree.insert(key, value)?;
            tree.flush()?;
            Ok(old.is_some())
        })
        .await
    }

    async fn replace(&self, old: &StoredBinding, new: &StoredBinding) -> Result<bool, StoreError> {
        let (old, new_v) = (old.clone(), encode(new)?);
        let (tree, key) = (self.bindings.clone(), Self::key(&new.tenant, new.provider));
        // Compared as records, not as bytes: a record an older version wrote lacks the fields
        // added since, which re-encoding `old` would add, and it would never match.
        let swapped = blocking(move || loop {
            let Some(current) = tree.get(&key)? else {
                return Ok(Ok(false));
            };
            match decode(&current) {
                Ok(record) if record == old => {}
                Ok(_) => return Ok(Ok(false)),
                Err(e) => return Ok(Err(e)),
            }
            // Changed between the read and the swap: look again.
            if tree
                .compare_and_swap(&key, Some(current), Some(new_v.clone()))?
                .is_ok()
            {
                tree.flush()?;
                return Ok(Ok(true));
            }
        })
        .await?;
        swapped
    }

    async fn delete(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError> {
        let (tree, key) = (self.bindings.clone(), Self::key(tenant, provider));
        let old = blocking(move || {
            let old = tree.remove(key)?;
            tree.flush()?;
            Ok(old)
        })
        .await?;
        old.map(|v| decode(&v)).transpose()
    }

    async fn scan(
        &self,
        after: Option<(String, Provider)>,
        limit: usize,
    ) -> Result<Vec<StoredBinding>, StoreError> {
        let from = after.map(|(tenant, provider)| Self::key(&tenant, provider));
        let iter = match &from {
            Some(k) => self.bindings.range(k.clone()..),
            None => self.bindings.iter(),
        };
        let mut out = Vec::new();
        for item in iter {
            let (k, v) = item.map_err(backend)?;
            // `after` itself was on the previous page.
            if from.as_deref() == Some(&k[..]) {
                continue;
            }
            out.push(decode(&v)?);
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    async fn claim_due(
        &self,
        tenant: Option<&str>,
        checked_within: std::time::Duration,
        claim_for: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<StoredBinding>, StoreError> {
        // One process, so one clock: its own.
        let now = crate::util::now_secs();
        let checked_before = now.saturating_sub(checked_within.as_secs() as i64);
        let claim_until = now.saturating_add(claim_for.as_secs() as i64);
        let iter = match tenant {
            Some(t) => self.bindings.scan_prefix(tenant_prefix(t)),
            None => self.bindings.iter(),
        };
        let mut claimed = Vec::new();
        for item in iter {
            if claimed.len() == limit {
                break;
            }
            let (key, raw) = item.map_err(backend)?;
            let b = decode(&raw)?;
            if !b.is_due(checked_before, now) {
                continue;
            }
            let mut mine = b;
            mine.check_claimed_until = Some(claim_until);
            // Lost to a concurrent writer: that binding is someone else's now.
            if self
                .bindings
                .compare_and_swap(key, Some(raw), Some(encode(&mine)?))
                .map_err(backend)?
                .is_ok()
            {
                claimed.push(mine);
            }
        }
        Ok(claimed)
    }

    async fn counts(&self) -> Result<Vec<(Provider, bool, u64)>, StoreError> {
        // Every record is read: seconds for a million, so off the async workers.
        let tree = self.bindings.clone();
        let scan = move || -> Result<_, StoreError> {
            let mut counts = std::collections::BTreeMap::new();
            for v in tree.iter().values() {
                let b = decode(&v.map_err(backend)?)?;
                let key = (b.provider.as_str(), b.reauth_reason.is_some());
                counts.entry(key).or_insert((b.provider, 0u64)).1 += 1;
            }
            Ok(counts
                .into_iter()
                .map(|((_, reauth), (p, n))| (p, reauth, n))
                .collect())
        };
        match tokio::task::spawn_blocking(scan).await {
            Ok(r) => r,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }

    async fn ready(&self) -> bool {
        self.db.get(b"__ready").is_ok() && self.audit_writer.running()
    }
}

#[cfg(test)]
mod tests;
