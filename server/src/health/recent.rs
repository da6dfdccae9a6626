//! Which tenants' page loads started a health check lately, in this process. A page load with a
//! stale binding asks for a check; without this memo every such load (a tenant reloading, or
//! a binding whose check was inconclusive and stays stale) issued its own claim query, though
//! the bindings the first one claimed stay claimed for the claim's lifetime and nothing new
//! can be claimed meanwhile. Bounded: the least recently seen tenant is forgotten first, which
//! costs at most one more claim query.

use lru::LruCache;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

/// Tenants remembered; beyond it the oldest is forgotten.
const TENANTS: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

pub(super) struct RecentChecks {
    window: Duration,
    started: LruCache<String, Instant>,
}

impl RecentChecks {
    /// Remembers a tenant's check for `window`.
    pub(super) fn new(window: Duration) -> Self {
        RecentChecks {
            window,
            started: LruCache::new(TENANTS),
        }
    }

    /// Whether `tenant` may start a check at `now` (none started within the window), and if
    /// so remembers that it did.
    pub(super) fn start(&mut self, tenant: &str, now: Instant) -> bool {
        if let Some(at) = self.started.get(tenant) {
            if now.saturating_duration_since(*at) < self.window {
                return false;
            }
        }
        self.started.put(tenant.to_string(), now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_check_per_tenant_per_window() {
        let mut recent = RecentChecks::new(Duration::from_secs(300));
        let t0 = Instant::now();
        assert!(recent.start("t1", t0));
        assert!(!recent.start("t1", t0 + Duration::from_secs(10)));
        assert!(
            recent.start("t2", t0 + Duration::from_secs(10)),
            "per tenant"
        );
        assert!(!recent.start("t1", t0 + Duration::from_secs(299)));
        assert!(
            recent.start("t1", t0 + Duration::from_secs(300)),
            "window over"
        );
        assert!(!recent.start("t1", t0 + Duration::from_secs(301)));
    }

    #[test]
    fn bounded_forgetting_the_oldest() {
        let mut recent = RecentChecks::new(Duration::from_secs(300));
        let t0 = Instant::now();
        for i in 0..=TENANTS.get() {
            assert!(recent.start(&format!("t{i}"), t0));
        }
        assert_eq!(recent.started.len(), TENANTS.get());
        assert!(recent.start("t0", t0), "forgotten: may check again");
        assert!(!recent.start(&format!("t{}", TENANTS.get()), t0));
    }
}
