//! Resource limits on talking to code hosts. A tenant chooses its GitLab address, so "the code
//! host" may be a server the tenant controls: it must not be able to make us read an endless
//! answer, nor use us to tie up this process (or to hammer a host) with many calls at once.
//!
//! - Every answer body from a code host is read through [`read_bounded`]: at most
//!   [`MAX_ANSWER`] bytes, refused early when `Content-Length` already says more.
//! - Calls made on a tenant's behalf (a GitLab check, listings, an OAuth completion, a token
//!   refresh, an upstream revocation) hold one of the tenant's [`PER_TENANT`] slots in
//!   [`TenantLimits`]. A call that finds none free within the provider timeout is answered
//!   [`HostError::Busy`] (HTTP 429: ours, not the code host's rate limit).
//!
//! The limits are per process: they protect this process's memory, connections and tasks.
//! With several replicas a tenant may have `PER_TENANT` calls running on each, which still
//! bounds what one tenant can ask of a code host through us.

use super::instance::classify;
use app::api::HostError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Largest answer body read from a code host: 1 MiB. Everything we ask for is small JSON: an
/// account, a token's scopes, an OAuth token, a page of 20 repositories (full GitHub or Gitee
/// repository objects are a few KiB each, so ~150 KiB) or up to 100 branches (~30 KiB).
pub const MAX_ANSWER: usize = 1024 * 1024;

/// Outbound calls a tenant may have running at once in this process.
pub const PER_TENANT: usize = 4;

/// Reads `resp`'s body, at most `max` bytes. A larger answer is [`HostError::AnswerTooLarge`]:
/// refused before reading when `Content-Length` says so, else as soon as the bytes read pass
/// `max` (the rest is never read: dropping the response closes the connection).
pub async fn read_bounded(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, HostError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(HostError::AnswerTooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
        if body.len() + chunk.len() > max {
            return Err(HostError::AnswerTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Concurrency slots for outbound calls, per tenant (in this process, see the module docs).
pub struct TenantLimits {
    per_tenant: usize,
    /// How long a call waits for a free slot: the provider timeout, so waiting for a slot
    /// never takes longer than a call could.
    wait: Duration,
    slots: Mutex<Slots>,
}

struct Slots {
    by_tenant: HashMap<String, Arc<Semaphore>>,
    /// Idle tenants are dropped when the map grows to this size.
    prune_at: usize,
}

/// Never prune below this many tenants (pruning walks the whole map).
const PRUNE_MIN: usize = 256;

/// A held slot; the slot is free again when it is dropped.
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

impl TenantLimits {
    pub fn new(per_tenant: usize, wait: Duration) -> Self {
        TenantLimits {
            per_tenant: per_tenant.max(1),
            wait,
            slots: Mutex::new(Slots {
                by_tenant: HashMap::new(),
                prune_at: PRUNE_MIN,
            }),
        }
    }

    /// Takes one of `tenant`'s slots, waiting up to the provider timeout for one to be free.
    pub async fn acquire(&self, tenant: &str) -> Result<Slot, HostError> {
        let semaphore = {
            let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            if !s.by_tenant.contains_key(tenant) && s.by_tenant.len() >= s.prune_at {
                // Idle: nobody holds or waits for a slot (each of those owns a clone).
                s.by_tenant.retain(|_, sem| Arc::strong_count(sem) > 1);
                s.prune_at = PRUNE_MIN.max(2 * s.by_tenant.len());
            }
            s.by_tenant
                .entry(tenant.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
                .clone()
        };
        match tokio::time::timeout(self.wait, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Slot(permit)),
            _ => {
                tracing::warn!(
                    tenant,
                    limit = self.per_tenant,
                    outcome = "busy",
                    "outbound call refused: the tenant's calls to code hosts are all in use"
                );
                Err(HostError::Busy)
            }
        }
    }

    /// Runs `call` holding one of `tenant`'s slots.
    pub async fn run<T>(
        &self,
        tenant: &str,
        call: impl std::future::Future<Output = Result<T, HostError>>,
    ) -> Result<T, HostError> {
        let _slot = self.acquire(tenant).await?;
        call.await
    }

    #[cfg(test)]
    fn tenants(&self) -> usize {
        self.slots.lock().unwrap().by_tenant.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenant_waits_for_a_slot_then_is_told_busy() {
        let wait = Duration::from_millis(400);
        let limits = TenantLimits::new(2, wait);
        let a1 = limits.acquire("a").await.unwrap();
        let _a2 = limits.acquire("a").await.unwrap();
        // Another tenant is not affected.
        let _b = limits.acquire("b").await.unwrap();
        // A slot freed within the wait is taken.
        let waiting = limits.acquire("a");
        let free = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(a1);
        };
        let (got, ()) = tokio::join!(waiting, free);
        let _a3 = got.unwrap();
        // None freed: busy after the wait, not before.
        let started = std::time::Instant::now();
        assert_eq!(limits.acquire("a").await.err(), Some(HostError::Busy));
        assert!(started.elapsed() >= wait);
    }

    #[tokio::test]
    async fn idle_tenants_are_forgotten() {
        let limits = TenantLimits::new(1, Duration::from_millis(10));
        let held = limits.acquire("held").await.unwrap();
        for i in 0..PRUNE_MIN * 3 {
            drop(limits.acquire(&format!("t{i}")).await.unwrap());
        }
        assert!(limits.tenants() <= PRUNE_MIN + 1, "{}", limits.tenants());
        // A tenant holding a slot keeps it.
        assert_eq!(limits.acquire("held").await.err(), Some(HostError::Busy));
        drop(held);
        assert!(limits.acquire("held").await.is_ok());
    }
}
