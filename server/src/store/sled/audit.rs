//! The activity log in sled: tree `audit/v1`, key `tenant \0 time(be) counter(be)`, so a
//! tenant's entries are contiguous and ordered by time. A value holds the entries of one tenant
//! written together (a JSON array, see `writer`); values an older version wrote hold one entry
//! (a JSON object), and read the same. Entries written in the same moment by several requests
//! may therefore be ordered by their batch before their second. Old entries go in the retention
//! sweep (`ephemeral`).
//!
//! Cursors name a value and an entry in it (`hex(key):index`); a cursor an older version handed
//! out (`hex(key)`) still reads as "everything after (or before) that value".

mod writer;

pub(super) use writer::AuditWriter;

use super::SledStore;
use super::{backend, tenant_prefix};
use crate::store::{AuditEntry, AuditLog, StoreError};
use crate::util::{hex, unhex};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

/// Orders values of the same second. Starts at the clock's nanoseconds, so a restarted
/// process continues above the counters of the run before.
static SEQ: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();

fn next_seq() -> u64 {
    SEQ.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        AtomicU64::new(nanos)
    })
    .fetch_add(1, Ordering::Relaxed)
}

fn key(tenant: &str, at: i64, seq: u64) -> Vec<u8> {
    let mut k = tenant_prefix(tenant);
    k.extend_from_slice(&(at.max(0) as u64).to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The entries of one stored value, oldest first.
pub(super) fn entries(value: &[u8]) -> Result<Vec<AuditEntry>, StoreError> {
    if value.first() == Some(&b'[') {
        serde_json::from_slice(value).map_err(StoreError::Corrupt)
    } else {
        Ok(vec![
            serde_json::from_slice(value).map_err(StoreError::Corrupt)?
        ])
    }
}

/// A position in the log: a value, and an entry in it (`None`: an older version's cursor,
/// which named the value only).
struct Cursor {
    key: Vec<u8>,
    index: Option<usize>,
}

impl Cursor {
    fn parse(s: &str) -> Option<Cursor> {
        let (k, index) = match s.split_once(':') {
            Some((k, i)) => (k, Some(i.parse().ok()?)),
            None => (s, None),
        };
        Some(Cursor {
            key: unhex(k)?,
            index,
        })
    }

    fn at(key: &[u8], index: usize) -> String {
        format!("{}:{index}", hex(key))
    }
}

/// A stored value: its key and entries, oldest first.
type Value = (Vec<u8>, Vec<AuditEntry>);

fn read(item: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Value, StoreError> {
    let (k, v) = item.map_err(backend)?;
    Ok((k.to_vec(), entries(&v)?))
}

#[async_trait::async_trait]
impl AuditLog for SledStore {
    async fn append(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.audit_writer.append(entry).await
    }

    async fn scan_audit(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let cursor = after.as_deref().and_then(Cursor::parse);
        // The rest of the cursor's value (from its index on), then the values after it.
        let (first, from) = match &cursor {
            Some(c) => {
                let value = self.audit.get(&c.key).map_err(backend)?;
                let first = match (value, c.index) {
                    (Some(v), Some(i)) => Some((c.key.clone(), entries(&v)?, i)),
                    _ => None,
                };
                (first, Bound::Excluded(c.key.clone()))
            }
            None => (None, Bound::Unbounded),
        };
        let rest = self
            .audit
            .range((from, Bound::Unbounded))
            .map(|item| read(item).map(|(k, e)| (k, e, 0)));
        let mut out = Vec::new();
        for value in first.map(Ok).into_iter().chain(rest) {
            let (k, entries, skip) = value?;
            for (i, e) in entries.into_iter().enumerate().skip(skip) {
                if out.len() == limit {
                    return Ok((out, Some(Cursor::at(&k, i))));
                }
                out.push(e);
            }
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
        let cursor = before
            .as_deref()
            .and_then(Cursor::parse)
            .filter(|c| c.key.starts_with(&prefix));
        // The cursor's value (its entries before the index), then the older values.
        let (first, end) = match cursor {
            Some(c) => {
                let value = self.audit.get(&c.key).map_err(backend)?;
                let first = match value {
                    Some(v) => {
                        let mut older = entries(&v)?;
                        older.truncate(c.index.unwrap_or(0));
                        Some((c.key.clone(), older))
                    }
                    None => None,
                };
                (first, c.key)
            }
            None => {
                let mut end = prefix.clone();
                end.extend_from_slice(&[0xff; 16]);
                (None, end)
            }
        };
        let rest = self.audit.range(prefix..end).rev().map(read);
        let mut out = Vec::new();
        for value in first.map(Ok).into_iter().chain(rest) {
            let (k, entries) = value?;
            for (i, e) in entries.into_iter().enumerate().rev() {
                if out.len() == limit {
                    // This entry and whatever is older make the next page.
                    return Ok((out, Some(Cursor::at(&k, i + 1))));
                }
                out.push(e);
            }
        }
        Ok((out, None))
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

    /// 64 entries appended at once are written in fewer values than entries, every one of
    /// them is there, and pages cross the values, mid-value included.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_share_values_and_page_across_them() {
        let dir = tempfile::tempdir().unwrap();
        let s = std::sync::Arc::new(SledStore::open(dir.path()).unwrap());
        let appends: Vec<_> = (0..64)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    let tenant = if i % 2 == 0 { "t1" } else { "t2" };
                    s.append(entry(tenant, 1_800_000_000, &format!("a{i:02}")))
                        .await
                        .unwrap();
                })
            })
            .collect();
        for a in appends {
            a.await.unwrap();
        }
        assert!(
            s.audit.len() < 64,
            "{} values for 64 entries",
            s.audit.len()
        );
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = s.page("t1", cursor, 5).await.unwrap();
            assert!(page.len() <= 5);
            seen.extend(page.iter().map(|e| tag(e).to_string()));
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        seen.sort();
        let want: Vec<String> = (0..64).step_by(2).map(|i| format!("a{i:02}")).collect();
        assert_eq!(seen, want, "each of t1's entries once");
        let (all, _) = s.scan_audit(None, 1000).await.unwrap();
        assert_eq!(all.len(), 64);
    }

    /// A value an older version wrote (one entry, a JSON object) and its cursor (the key
    /// alone) read as before, next to the packed values.
    #[tokio::test]
    async fn values_and_cursors_of_older_versions_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        for i in 0..3 {
            let e = entry("t1", 1_800_000_000 + i, &format!("old{i}"));
            let k = key("t1", e.at, next_seq());
            s.audit.insert(k, serde_json::to_vec(&e).unwrap()).unwrap();
        }
        s.append(entry("t1", 1_800_000_010, "new")).await.unwrap();
        let (first, _) = s.page("t1", None, 2).await.unwrap();
        assert_eq!(first.iter().map(tag).collect::<Vec<_>>(), ["new", "old2"]);
        // The cursor an older version gave after "old2": its value's key alone.
        let k = s.audit.iter().nth(2).unwrap().unwrap().0;
        let (rest, cursor) = s.page("t1", Some(hex(&k)), 10).await.unwrap();
        assert_eq!(rest.iter().map(tag).collect::<Vec<_>>(), ["old1", "old0"]);
        assert!(cursor.is_none());
    }

    /// The retention sweep drops the old entries of a value that also holds newer ones.
    #[tokio::test]
    async fn the_sweep_keeps_a_values_newer_entries() {
        use crate::store::Store;
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        let packed = vec![
            entry("t1", 100, "old0"),
            entry("t1", 150, "old1"),
            entry("t1", 300, "new"),
        ];
        let k = key("t1", 100, next_seq());
        s.audit
            .insert(k, serde_json::to_vec(&packed).unwrap())
            .unwrap();
        let swept = s.sweep_before(200, 0).await.unwrap();
        assert_eq!(swept.audit, 2);
        let (left, _) = s.page("t1", None, 10).await.unwrap();
        assert_eq!(left.iter().map(tag).collect::<Vec<_>>(), ["new"]);
        assert_eq!(s.sweep_before(200, 0).await.unwrap().audit, 0, "idempotent");
    }
}
