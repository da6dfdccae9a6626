//! Per-registration rate limit of the ingress: a token bucket per webhook URL, in memory (per
//! process, like the outbound limits). A code host sends a burst when many refs are pushed at
//! once; anything far beyond that is someone replaying or flooding one URL. The map is bounded:
//! past [`MAX_KEYS`] buckets the idle ones go, so random URLs cannot grow it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Deliveries a registration may burst.
const BURST: f64 = 60.0;
/// Sustained deliveries per second per registration.
const PER_SEC: f64 = 10.0;
/// Buckets kept at most.
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub struct RateLimit {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimit {
    /// Takes one token for `key`; false when the bucket is empty.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: &str, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().expect("rate limit poisoned");
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            // A full bucket is the same as no bucket: forgetting it loses nothing.
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * PER_SEC < BURST
            });
            if buckets.len() >= MAX_KEYS {
                return false;
            }
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((BURST, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * PER_SEC).min(BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_a_flood_does_not_and_time_refills() {
        let r = RateLimit::default();
        let t0 = Instant::now();
        let passed = (0..100).filter(|_| r.allow_at("a", t0)).count();
        assert_eq!(passed, BURST as usize);
        assert!(r.allow_at("b", t0), "buckets are per registration");
        assert!(!r.allow_at("a", t0));
        assert!(r.allow_at("a", t0 + Duration::from_millis(150)));
    }
}
