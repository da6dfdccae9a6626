//! Checked-but-unconfirmed bindings. A check's or an OAuth authorization's result waits here,
//! in memory and with its tokens already sealed (encrypted for the row they will be stored in),
//! for the user's Confirm; Cancel or a 10-minute timeout drops it. Nothing is written to disk
//! before Confirm. Each entry is bound to the tenant that made it and can be taken only once.

use crate::crypto::Sealed;
use app::api::{Account, Provider};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// Bounds memory per tenant; the oldest entry goes first.
const MAX_PER_TENANT: usize = 16;

pub struct PendingItem {
    pub provider: Provider,
    pub account: Account,
    pub address: Option<String>,
    pub ca_pem: Option<String>,
    pub scopes: Vec<String>,
    pub scopes_unknown: bool,
    /// GitLab personal access token expiry (`YYYY-MM-DD`).
    pub expires_at: Option<String>,
    /// OAuth access token expiry (Unix seconds).
    pub access_expires_at: Option<i64>,
    pub missing_scopes: Vec<String>,
    pub token: Sealed,
    pub refresh_token: Option<Sealed>,
}

struct Entry {
    tenant: String,
    created: Instant,
    item: PendingItem,
}

pub struct PendingStore {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl PendingStore {
    pub fn new(ttl: Duration) -> Self {
        PendingStore {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Stores `item` for `tenant`; returns its id (128 random bits, hex).
    pub fn insert(&self, tenant: &str, item: PendingItem) -> String {
        let mut raw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut map = self.entries.lock().expect("pending map poisoned");
        map.retain(|_, e| now.duration_since(e.created) < self.ttl);
        let mut mine: Vec<(String, Instant)> = map
            .iter()
            .filter(|(_, e)| e.tenant == tenant)
            .map(|(k, e)| (k.clone(), e.created))
            .collect();
        if mine.len() >= MAX_PER_TENANT {
            mine.sort_by_key(|(_, c)| *c);
            for (k, _) in mine.iter().take(mine.len() + 1 - MAX_PER_TENANT) {
                map.remove(k);
            }
        }
        map.insert(
            id.clone(),
            Entry {
                tenant: tenant.to_string(),
                created: now,
                item,
            },
        );
        id
    }

    /// Removes and returns the entry if it exists, is fresh, and belongs to `tenant`.
    /// Another tenant's id behaves exactly like an unknown one.
    pub fn take(&self, tenant: &str, id: &str) -> Option<PendingItem> {
        let mut map = self.entries.lock().expect("pending map poisoned");
        let fresh = map
            .get(id)
            .is_some_and(|e| e.tenant == tenant && e.created.elapsed() < self.ttl);
        if !fresh {
            return None;
        }
        map.remove(id).map(|e| e.item)
    }

    /// The newest fresh entry of `tenant` for `provider` (after a popup lost its opener).
    pub fn latest<T>(
        &self,
        tenant: &str,
        provider: Provider,
        f: impl FnOnce(&str, &PendingItem) -> T,
    ) -> Option<T> {
        let map = self.entries.lock().expect("pending map poisoned");
        map.iter()
            .filter(|(_, e)| {
                e.tenant == tenant && e.item.provider == provider && e.created.elapsed() < self.ttl
            })
            .max_by_key(|(_, e)| e.created)
            .map(|(id, e)| f(id, &e.item))
    }

    /// Reads an entry without taking it (to show it again after a redirect).
    pub fn peek<T>(&self, tenant: &str, id: &str, f: impl FnOnce(&PendingItem) -> T) -> Option<T> {
        let map = self.entries.lock().expect("pending map poisoned");
        map.get(id)
            .filter(|e| e.tenant == tenant && e.created.elapsed() < self.ttl)
            .map(|e| f(&e.item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> PendingItem {
        PendingItem {
            provider: Provider::GitLab,
            account: Account {
                login: "a".into(),
                name: None,
                avatar_url: None,
                web_url: None,
            },
            address: None,
            ca_pem: None,
            scopes: vec![],
            scopes_unknown: false,
            expires_at: None,
            access_expires_at: None,
            missing_scopes: vec![],
            token: Sealed {
                kid: "k".into(),
                nonce: "n".into(),
                ct: "c".into(),
            },
            refresh_token: None,
        }
    }

    #[test]
    fn single_use_and_tenant_bound() {
        let p = PendingStore::new(PENDING_TTL);
        let id = p.insert("t1", item());
        assert_eq!(id.len(), 32);
        assert!(p.take("t2", &id).is_none(), "another tenant cannot take it");
        assert!(p.peek("t2", &id, |_| ()).is_none());
        assert!(
            p.peek("t1", &id, |_| ()).is_some(),
            "peeking does not consume"
        );
        assert!(p.take("t1", &id).is_some());
        assert!(p.take("t1", &id).is_none(), "single use");
    }

    #[test]
    fn expires() {
        let p = PendingStore::new(Duration::from_millis(0));
        let id = p.insert("t1", item());
        assert!(p.take("t1", &id).is_none());
    }

    #[test]
    fn bounded_per_tenant() {
        let p = PendingStore::new(PENDING_TTL);
        let first = p.insert("t1", item());
        for _ in 0..MAX_PER_TENANT {
            p.insert("t1", item());
        }
        assert!(p.take("t1", &first).is_none(), "oldest evicted");
        assert_eq!(p.entries.lock().unwrap().len(), MAX_PER_TENANT);
    }
}
