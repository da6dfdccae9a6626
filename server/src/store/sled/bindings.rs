//! The bindings, their reauth index and their avatar images (trees `bindings/v1`,
//! `bindings-reauth/v1`, `avatars/v1`): one transaction over the trees a write touches, then a
//! flush; and what opening does once for stores older versions wrote.

use super::{backend, blocking, tenant_prefix, SledStore, AVATARS_MOVED, REAUTH_INDEX_BUILT};
use crate::store::{BindingStore, StoreError, StoredAvatar, StoredBinding, RECORD_VERSION};
use app::api::Provider;
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
    UnabortableTransactionError,
};

/// Runs `f` as one transaction over the bindings and their reauth index (retried by sled on a
/// conflict, so `f` may run more than once). The outer error is sled's, the inner one `f`'s.
fn in_both<T>(
    bindings: &sled::Tree,
    reauth: &sled::Tree,
    f: impl Fn(
        &TransactionalTree,
        &TransactionalTree,
    ) -> Result<T, ConflictableTransactionError<StoreError>>,
) -> Result<Result<T, StoreError>, sled::Error> {
    match (bindings, reauth).transaction(|(b, r)| f(b, r)) {
        Ok(t) => Ok(Ok(t)),
        Err(TransactionError::Abort(e)) => Ok(Err(e)),
        Err(TransactionError::Storage(e)) => Err(e),
    }
}

/// Keeps `key`'s place in the reauth index in step with its record.
pub(in crate::store) fn index_reauth(
    reauth: &TransactionalTree,
    key: &[u8],
    needs_reauth: bool,
) -> Result<(), UnabortableTransactionError> {
    if needs_reauth {
        reauth.insert(key, &[])?;
    } else {
        reauth.remove(key)?;
    }
    Ok(())
}

/// Fills the reauth index from the records, once per store (see [`REAUTH_INDEX_BUILT`]). Runs
/// at open, before anything else writes. A record that does not decode stays out of the index:
/// reading it fails anyway, and it must not keep the server from starting.
pub(super) fn build_reauth_index(
    db: &sled::Db,
    bindings: &sled::Tree,
    reauth: &sled::Tree,
) -> sled::Result<()> {
    if db.contains_key(REAUTH_INDEX_BUILT)? {
        return Ok(());
    }
    reauth.clear()?;
    for item in bindings.iter() {
        let (key, raw) = item?;
        match decode(&raw) {
            Ok(b) if b.reauth_reason.is_some() => {
                reauth.insert(key, &[])?;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "a stored binding is unreadable; not counted as needing re-authorization")
            }
        }
    }
    db.insert(REAUTH_INDEX_BUILT, &[])?;
    db.flush()?;
    Ok(())
}

/// Moves the avatar images older versions kept inside binding records into `avatars/v1`,
/// once per store (see [`AVATARS_MOVED`]); at open, before anything else writes. Each image is
/// written before its record is rewritten without it, so a crash in between loses nothing (the
/// next open moves it again). A record that does not parse is left as it is.
pub(super) fn move_avatars(
    db: &sled::Db,
    bindings: &sled::Tree,
    avatars: &sled::Tree,
) -> sled::Result<()> {
    if db.contains_key(AVATARS_MOVED)? {
        return Ok(());
    }
    for item in bindings.iter() {
        let (key, raw) = item?;
        let Ok(mut record) = serde_json::from_slice::<serde_json::Value>(&raw) else {
            continue;
        };
        let Some(inline) = record.get("avatar").filter(|a| a.get("data_b64").is_some()) else {
            continue;
        };
        let Ok(image) = serde_json::from_value::<StoredAvatar>(inline.clone()) else {
            continue;
        };
        record["avatar"] = serde_json::json!(image.reference());
        let (Ok(image), Ok(record)) = (serde_json::to_vec(&image), serde_json::to_vec(&record))
        else {
            continue;
        };
        avatars.insert(&key, image)?;
        bindings.insert(&key, record)?;
    }
    db.insert(AVATARS_MOVED, &[])?;
    db.flush()?;
    Ok(())
}

/// The provider in a binding key (`tenant \0 provider`), without reading the record.
fn key_provider(key: &[u8]) -> Result<Provider, StoreError> {
    key.iter()
        .position(|&b| b == 0)
        .and_then(|nul| std::str::from_utf8(&key[nul + 1..]).ok())
        .and_then(Provider::parse)
        .ok_or_else(|| StoreError::Backend("a binding key names no known provider".into()))
}

pub(in crate::store) fn decode(bytes: &[u8]) -> Result<StoredBinding, StoreError> {
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
    async fn import_bindings(&self, bindings: &[StoredBinding]) -> Result<(), StoreError> {
        let (records, reauth) = (self.bindings.clone(), self.reauth.clone());
        let bindings = bindings.to_vec();
        match tokio::task::spawn_blocking(move || put_batch(&records, &reauth, &bindings)).await {
            Ok(r) => r,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }

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
        let needs_reauth = b.reauth_reason.is_some();
        let (tree, reauth) = (self.bindings.clone(), self.reauth.clone());
        let key = Self::key(&b.tenant, b.provider);
        blocking(move || {
            let old = in_both(&tree, &reauth, |t, r| {
                let old = t.insert(key.as_slice(), value.as_slice())?;
                index_reauth(r, &key, needs_reauth)?;
                Ok(old.is_some())
            })?;
            tree.flush()?;
            Ok(old)
        })
        .await?
    }

    async fn replace(&self, old: &StoredBinding, new: &StoredBinding) -> Result<bool, StoreError> {
        let (old, new_v) = (old.clone(), encode(new)?);
        let needs_reauth = new.reauth_reason.is_some();
        let (tree, reauth) = (self.bindings.clone(), self.reauth.clone());
        let key = Self::key(&new.tenant, new.provider);
        // Compared as records, not as bytes: a record an older version wrote lacks the fields
        // added since, which re-encoding `old` would add, and it would never match.
        blocking(move || {
            let swapped = in_both(&tree, &reauth, |t, r| {
                let Some(current) = t.get(&key)? else {
                    return Ok(false);
                };
                match decode(&current) {
                    Ok(record) if record == old => {}
                    Ok(_) => return Ok(false),
                    Err(e) => return Err(ConflictableTransactionError::Abort(e)),
                }
                t.insert(key.as_slice(), new_v.as_slice())?;
                index_reauth(r, &key, needs_reauth)?;
                Ok(true)
            })?;
            if let Ok(true) = swapped {
                tree.flush()?;
            }
            Ok(swapped)
        })
        .await?
    }

    async fn delete(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError> {
        let (tree, reauth, avatars) = (
            self.bindings.clone(),
            self.reauth.clone(),
            self.avatars.clone(),
        );
        let key = Self::key(tenant, provider);
        let old = blocking(move || {
            let old = (&tree, &reauth, &avatars).transaction(|(t, r, a)| {
                let old = t.remove(key.as_slice())?;
                r.remove(key.as_slice())?;
                a.remove(key.as_slice())?;
                Ok::<_, ConflictableTransactionError<StoreError>>(old)
            });
            let old = match old {
                Ok(old) => old,
                Err(TransactionError::Storage(e)) => return Err(e),
                Err(TransactionError::Abort(e)) => return Ok(Err(e)),
            };
            tree.flush()?;
            Ok(Ok(old))
        })
        .await??;
        old.map(|v| decode(&v)).transpose()
    }

    async fn avatar(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredAvatar>, StoreError> {
        self.avatars
            .get(Self::key(tenant, provider))
            .map_err(backend)?
            .map(|v| serde_json::from_slice(&v).map_err(StoreError::Corrupt))
            .transpose()
    }

    async fn put_avatar(
        &self,
        tenant: &str,
        provider: Provider,
        avatar: Option<&StoredAvatar>,
    ) -> Result<(), StoreError> {
        let value = avatar.map(encode).transpose()?;
        let (tree, avatars) = (self.bindings.clone(), self.avatars.clone());
        let key = Self::key(tenant, provider);
        blocking(move || {
            // With the binding's presence checked in the same transaction: an image never
            // outlives (or arrives after) the binding's removal.
            let done = (&tree, &avatars).transaction(|(t, a)| {
                match &value {
                    Some(v) if t.get(&key)?.is_some() => {
                        a.insert(key.as_slice(), v.as_slice())?;
                    }
                    _ => {
                        a.remove(key.as_slice())?;
                    }
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            });
            match done {
                Ok(()) | Err(TransactionError::Abort(_)) => {}
                Err(TransactionError::Storage(e)) => return Err(e),
            }
            avatars.flush()?;
            Ok(())
        })
        .await
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
        // Keys only, no record decoded; still every key, so off the async workers.
        let (tree, reauth) = (self.bindings.clone(), self.reauth.clone());
        let scan = move || -> Result<_, StoreError> {
            // Per provider (ordered by name): all its bindings, and those needing reauth.
            let mut counts = std::collections::BTreeMap::<&str, (Provider, u64, u64)>::new();
            for key in tree.iter().keys() {
                let p = key_provider(&key.map_err(backend)?)?;
                counts.entry(p.as_str()).or_insert((p, 0, 0)).1 += 1;
            }
            for key in reauth.iter().keys() {
                let key = key.map_err(backend)?;
                let p = key_provider(&key)?;
                counts.entry(p.as_str()).or_insert((p, 0, 0)).2 += 1;
            }
            Ok(counts
                .into_values()
                .flat_map(|(p, all, reauth)| {
                    [(p, false, all.saturating_sub(reauth)), (p, true, reauth)]
                })
                .filter(|&(_, _, n)| n > 0)
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

/// `import_bindings`: one sled batch per tree, applied together, one flush at the end.
fn put_batch(
    records_tree: &sled::Tree,
    reauth_tree: &sled::Tree,
    bindings: &[StoredBinding],
) -> Result<(), StoreError> {
    let (mut records, mut reauth) = (sled::Batch::default(), sled::Batch::default());
    for b in bindings {
        let key = SledStore::key(&b.tenant, b.provider);
        match b.reauth_reason {
            Some(_) => reauth.insert(key.clone(), &[]),
            None => reauth.remove(key.clone()),
        }
        records.insert(key, encode(b)?);
    }
    in_both(records_tree, reauth_tree, |b, r| {
        b.apply_batch(&records)?;
        r.apply_batch(&reauth)?;
        Ok(())
    })
    .map_err(backend)??;
    records_tree.flush().map_err(backend)?;
    Ok(())
}
