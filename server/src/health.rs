//! Health of bindings: each token is re-validated at its code host once per interval and when a
//! tenant opens the page after its last check went stale. Checkers claim due bindings in the
//! store (a claim lasts a few minutes), so with several replicas each binding is checked by one
//! of them, once per interval. A token the host rejects marks the binding "needs
//! re-authorization" with a reason code; rate limits and network trouble change nothing (they
//! say nothing about the token).

use crate::crypto::Cipher;
use crate::host_calls::HostCalls;
use crate::hosts::Instance;
use crate::store::{aad, Store, StoredBinding};
use crate::util::now_secs;
use app::api::{HostError, ReauthReason};
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod recent;

/// Checks running at once.
const CONCURRENCY: usize = 4;
/// Bindings claimed at a time.
const BATCH: usize = 16;
/// A claim outlives the slowest check of a batch (a timeout per call, a few calls each), so a
/// replica that dies mid-batch only delays its bindings by this much.
const CLAIM: Duration = Duration::from_secs(300);

pub struct Health {
    store: Arc<dyn Store>,
    cipher: Arc<Cipher>,
    calls: Arc<HostCalls>,
    /// Bindings last checked longer ago than this are due (`None`: only page loads check).
    interval: Duration,
    limit: Arc<tokio::sync::Semaphore>,
    /// Tenants whose page loads started a check lately (one claim query per tenant per claim).
    recent: std::sync::Mutex<recent::RecentChecks>,
    /// Checks page loads started (for tests: each costs at least one claim query).
    tenant_runs: std::sync::atomic::AtomicU64,
}

impl Health {
    pub fn new(
        store: Arc<dyn Store>,
        cipher: Arc<Cipher>,
        calls: Arc<HostCalls>,
        interval: Duration,
    ) -> Self {
        Health {
            store,
            cipher,
            calls,
            interval,
            limit: Arc::new(tokio::sync::Semaphore::new(CONCURRENCY)),
            // What a page load claims stays claimed this long: another claim meanwhile finds
            // nothing new (bar a binding that went stale in between, which waits a little).
            recent: std::sync::Mutex::new(recent::RecentChecks::new(interval.min(CLAIM))),
            tenant_runs: Default::default(),
        }
    }

    /// Claims and checks due bindings (of `tenant`, or all) until none is left; returns how
    /// many were checked.
    async fn run_due(&self, tenant: Option<&str>) -> usize {
        let mut checked = 0;
        loop {
            let claimed = match self
                .store
                .claim_due(tenant, self.interval, CLAIM, BATCH)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %crate::util::chain(&e), "health check: claiming bindings failed");
                    return checked;
                }
            };
            if claimed.is_empty() {
                return checked;
            }
            checked += claimed.len();
            self.check_all(claimed).await;
        }
    }

    /// Checks due bindings now and then (a fraction of the interval, jittered), so that each
    /// is checked about once per interval whichever replica claims it.
    pub fn spawn_periodic(self: Arc<Self>) {
        let tick = (self.interval / 10).clamp(Duration::from_secs(1), Duration::from_secs(300));
        tokio::spawn(async move {
            loop {
                let jitter = rand::thread_rng().gen_range(0..tick.as_millis().max(1) as u64);
                tokio::time::sleep(tick + Duration::from_millis(jitter)).await;
                let n = self.run_due(None).await;
                if n > 0 {
                    tracing::info!(checked = n, "health check: bindings re-validated");
                }
            }
        });
    }

    /// Checks one tenant's due bindings in the background (a page load found a stale one), at
    /// most once per claim lifetime per tenant in this process. Claims keep concurrent page
    /// loads, and other replicas, from checking them twice.
    pub fn spawn_for_tenant(self: &Arc<Self>, tenant: &str) {
        let first = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .start(tenant, Instant::now());
        if !first {
            return;
        }
        self.tenant_runs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let this = self.clone();
        let tenant = tenant.to_string();
        tokio::spawn(async move {
            this.run_due(Some(&tenant)).await;
        });
    }

    async fn check_all(&self, bindings: Vec<StoredBinding>) {
        let mut tasks = tokio::task::JoinSet::new();
        for b in bindings.into_iter().filter(|b| b.reauth_reason.is_none()) {
            let permit = self
                .limit
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore open");
            let verdict = self.verdict(&b);
            tasks.spawn(async move {
                let v = verdict.await;
                drop(permit);
                (b, v)
            });
        }
        while let Some(Ok((b, verdict))) = tasks.join_next().await {
            self.record(b, verdict).await;
        }
    }

    /// `Ok(Some(reason))`: dead token; `Ok(None)`: fine; `Err`: could not tell.
    fn verdict(
        &self,
        b: &StoredBinding,
    ) -> impl std::future::Future<Output = Result<Option<ReauthReason>, HostError>> + Send + 'static
    {
        let token = self.cipher.open(&b.token, &aad(&b.tenant, b.provider));
        let provider = b.provider;
        let (address, ca) = (b.address.clone(), b.ca_pem.clone());
        // An expired OAuth access token says nothing about the binding: it is refreshed when used.
        let skip = b.access_expires_at.is_some_and(|e| e <= now_secs());
        let hosts = self.calls.hosts().clone();
        async move {
            let token = token.map_err(|_| HostError::TokenInvalid)?;
            if skip {
                return Ok(None);
            }
            let at = Instance {
                address: address.as_deref(),
                ca_pem: ca.as_deref(),
            };
            let check = hosts.get(provider).validate(at, &token);
            match crate::host_calls::timed(provider, check).await {
                Ok(()) => Ok(None),
                Err(e) => ReauthReason::from_host_error(&e).map(Some).ok_or(e),
            }
        }
    }

    async fn record(&self, mut b: StoredBinding, verdict: Result<Option<ReauthReason>, HostError>) {
        match verdict {
            Ok(dead) => {
                // Re-read: the user may have unbound or re-authorized meanwhile.
                let Ok(Some(current)) = self.store.get(&b.tenant, b.provider).await else {
                    return;
                };
                if current.token != b.token {
                    return;
                }
                let before = current.clone();
                b = current;
                b.last_checked_at = Some(now_secs());
                b.check_claimed_until = None;
                if let Some(reason) = dead {
                    tracing::warn!(tenant = %b.tenant, provider = b.provider.as_str(), reason = %reason.code(), outcome = "needs_reauthorization", "health check: token rejected");
                    b.reauth_reason = Some(reason);
                }
                // Only over what was read: a refresh stored meanwhile wins.
                if let Err(e) = self.store.replace(&before, &b).await {
                    tracing::error!(error = %e, "health check: storing the result failed");
                }
            }
            Err(e) => {
                tracing::info!(tenant = %b.tenant, provider = b.provider.as_str(), outcome = ?e, "health check inconclusive")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Page loads of a tenant with a stale binding, one after the other: one claim query.
    #[tokio::test]
    async fn page_loads_of_a_tenant_start_one_check_per_claim() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(crate::store::SledStore::open(dir.path()).unwrap());
        let calls = crate::oauth_flow::tests::calls(&crate::config::Config::defaults());
        let cipher = Arc::new(Cipher::new(&crate::secret::SecretBytes::new(vec![1; 32])).unwrap());
        let health = Arc::new(Health::new(store, cipher, calls, Duration::from_secs(3600)));
        for _ in 0..5 {
            health.spawn_for_tenant("t1");
        }
        health.spawn_for_tenant("t2");
        let runs = health
            .tenant_runs
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(runs, 2, "one per tenant");
    }

    #[test]
    fn only_answers_about_the_token_mark_it_dead() {
        let reason = ReauthReason::from_host_error;
        assert_eq!(
            reason(&HostError::TokenRevoked),
            Some(ReauthReason::TokenRevoked)
        );
        assert_eq!(
            reason(&HostError::TokenInvalid),
            Some(ReauthReason::TokenInvalid)
        );
        // A rate limit, a timeout or a 5xx says nothing about the token.
        assert_eq!(
            reason(&HostError::RateLimited {
                retry_after_secs: Some(60)
            }),
            None
        );
        assert_eq!(reason(&HostError::Timeout), None);
        assert_eq!(reason(&HostError::Upstream { status: 503 }), None);
    }
}
