//! The activity log in sled: tree `audit/v1`, key `tenant \0 time(be) counter(be)`, so a
//! tenant's entries are contiguous and ordered by time. Old entries go in the retention sweep
//! (`sled_ephemeral`).

use super::sled_store::{backend, tenant_prefix};
use super::{AuditEntry, AuditLog, SledStore, StoreError};
use crate::util::hex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Orders entries of the same second. Starts at the clock's nanoseconds, so a restarted
/// process continues above the counters of the run before.
static SEQ: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();

fn key(tenant: &str, at: i64, seq: u64) -> Vec<u8> {
    let mut k = tenant_prefix(tenant);
    k.extend_from_slice(&(at.max(0) as u64).to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

#[async_trait::async_trait]
impl AuditLog for SledStore {
    async fn append(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let seq = SEQ
            .get_or_init(|| {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                AtomicU64::new(nanos)
            })
            .fetch_add(1, Ordering::Relaxed);
        let k = key(&entry.tenant, entry.at, seq);
        let v = serde_json::to_vec(&entry).map_err(StoreError::Corrupt)?;
        // The insert itself is in memory (sled's log buffer); only the fsync blocks, and that
        // is shared with the entries written at the same time.
        self.audit.insert(k, v).map_err(backend)?;
        self.audit_flush.durable().await
    }

    async fn scan_audit(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let from = after.as_deref().and_then(unhex);
        let iter = match &from {
            Some(k) => self.audit.range(k.clone()..),
            None => self.audit.iter(),
        };
        let mut out = Vec::new();
        let mut last = None;
        for item in iter {
            let (k, v) = item.map_err(backend)?;
            if from.as_deref() == Some(&k[..]) {
                continue;
            }
            if out.len() == limit {
                return Ok((out, last.map(|k: Vec<u8>| hex(&k))));
            }
            out.push(serde_json::from_slice(&v).map_err(StoreError::Corrupt)?);
            last = Some(k.to_vec());
        }
        Ok((out, None))
    }

    async fn page(
        &self,
        tenant: &str,
        before: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let prefix = tenant_prefix(tenant);
        let end = match before
            .as_deref()
            .and_then(unhex)
            .filter(|k| k.starts_with(&prefix))
        {
            Some(k) => k,
            None => {
                let mut e = prefix.clone();
                e.extend_from_slice(&[0xff; 16]);
                e
            }
        };
        let mut iter = self.audit.range(prefix..end).rev();
        let mut out = Vec::new();
        let mut last_key = None;
        for item in iter.by_ref().take(limit) {
            let (k, v) = item.map_err(backend)?;
            last_key = Some(k.to_vec());
            out.push(serde_json::from_slice::<AuditEntry>(&v).map_err(StoreError::Corrupt)?);
        }
        // The cursor is the last key returned: the next page is everything older.
        let cursor = if iter.next().is_some() {
            last_key.map(|k| hex(&k))
        } else {
            None
        };
        Ok((out, cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{entry, tag};
    use crate::store::AuditLog;

    #[test]
    fn entries_written_before_names_still_read() {
        let old = r#"{"at":1,"tenant":"t","actor":"u1","action":"bind","provider":null,"account":null,"outcome":"ok","request_id":"r"}"#;
        let e: AuditEntry = serde_json::from_str(old).unwrap();
        assert_eq!((e.actor.as_str(), e.actor_name), ("u1", None));
    }

    #[tokio::test]
    async fn pages_newest_first_per_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        for i in 0..5 {
            s.append(entry("t1", 1_800_000_000 + i, &format!("a{i}")))
                .await
                .unwrap();
        }
        s.append(entry("t2", 1_800_000_100, "other")).await.unwrap();
        let (first, cursor) = s.page("t1", None, 3).await.unwrap();
        assert_eq!(
            first.iter().map(tag).collect::<Vec<_>>(),
            ["a4", "a3", "a2"]
        );
        let (rest, cursor2) = s.page("t1", cursor, 3).await.unwrap();
        assert_eq!(rest.iter().map(tag).collect::<Vec<_>>(), ["a1", "a0"]);
        assert!(cursor2.is_none());
        assert_eq!(s.page("t2", None, 10).await.unwrap().0.len(), 1);
    }
}
