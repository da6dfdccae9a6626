//! The periodic reconcile (issue #23): every registration is checked and repaired
//! ([`super::repair`]) about once per `CODESOURCE_RECONCILE_INTERVAL_SECS` (default an hour,
//! 0: off), whichever replica gets to it.
//!
//! - Spread: each registration has a phase in the interval (from its rid); it is due when a
//!   boundary `k × interval − phase` has passed since its last check (or since it was turned
//!   on), so checks spread over the interval instead of arriving together.
//! - Shared across replicas: a due registration is checked under its lease
//!   (`autobuild-repair/{rid}`, the one a requested repair takes) and re-read after taking it,
//!   so a registration another replica has just checked is skipped.
//! - Rate limits: every call goes through the tenant's slot (shared with all calls to code
//!   hosts); a host answering "rate limited" ends the pass for that provider, and the next
//!   pass starts after the host's `Retry-After` at the earliest.

use super::repair::Found;
use super::{AutoBuild, AutoBuildError};
use crate::hosts::hooks::HookError;
use crate::store::StoredRegistration;
use crate::util::now_millis;
use app::api::{HostError, Provider};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Registrations read from the store at a time.
const PAGE: usize = 200;
/// A back-off when a host says "rate limited" without saying for how long.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(60);

/// Where in each interval a registration falls due, in milliseconds.
fn phase_ms(rid: &str, interval_ms: i64) -> i64 {
    let d = Sha256::digest(rid.as_bytes());
    let n = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    (n % interval_ms.max(1) as u64) as i64
}

/// Whether a registration last checked at `last_ms` is due at `now_ms`: a boundary of its
/// phase has passed since.
fn due(last_ms: i64, now_ms: i64, interval_ms: i64, phase: i64) -> bool {
    let window = |t: i64| (t + phase).div_euclid(interval_ms.max(1));
    window(now_ms) > window(last_ms)
}

fn last_check(r: &StoredRegistration) -> i64 {
    r.checked_at_ms.unwrap_or(r.created_at.saturating_mul(1000))
}

impl AutoBuild {
    /// Runs a pass now and then (a fraction of the interval, jittered, at most a minute).
    pub fn spawn_reconcile(self: Arc<Self>, interval: Duration) {
        let tick = (interval / 60).clamp(Duration::from_secs(1), Duration::from_secs(60));
        tokio::spawn(async move {
            let mut resume_at: HashMap<Provider, tokio::time::Instant> = HashMap::new();
            loop {
                let jitter = rand::thread_rng().gen_range(0..tick.as_millis().max(1) as u64);
                tokio::time::sleep(tick + Duration::from_millis(jitter)).await;
                let n = self.reconcile_pass(interval, &mut resume_at).await;
                if n > 0 {
                    tracing::info!(checked = n, "auto-build: registrations reconciled");
                }
            }
        });
    }

    /// Checks every due registration once; returns how many were checked. `resume_at`: the
    /// providers resting after a rate limit, and until when.
    pub async fn reconcile_pass(
        &self,
        interval: Duration,
        resume_at: &mut HashMap<Provider, tokio::time::Instant>,
    ) -> usize {
        let interval_ms = interval.as_millis().max(1) as i64;
        let mut checked = 0;
        let mut after = None;
        loop {
            let page = match self.store.scan_registrations(after.take(), PAGE).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %crate::util::chain(&e), "reconcile: reading registrations failed");
                    return checked;
                }
            };
            let Some(last) = page.last() else {
                return checked;
            };
            after = Some(last.rid.clone());
            for reg in page {
                let provider = reg.key.provider;
                if resume_at
                    .get(&provider)
                    .is_some_and(|t| *t > tokio::time::Instant::now())
                    || !self.supports(provider)
                {
                    continue;
                }
                let now = now_millis();
                if !due(
                    last_check(&reg),
                    now,
                    interval_ms,
                    phase_ms(&reg.rid, interval_ms),
                ) {
                    continue;
                }
                match self.reconcile_one(&reg, interval_ms).await {
                    Ok(true) => checked += 1,
                    Ok(false) => {}
                    Err(AutoBuildError::Hook(HookError::Host(HostError::RateLimited {
                        retry_after_secs,
                    }))) => {
                        let rest = retry_after_secs
                            .map(Duration::from_secs)
                            .unwrap_or(DEFAULT_BACKOFF)
                            .max(DEFAULT_BACKOFF);
                        tracing::info!(
                            provider = provider.as_str(),
                            rest_secs = rest.as_secs(),
                            "reconcile: the code host is rate limiting; resting"
                        );
                        crate::metrics::metrics().reconciled(provider.as_str(), "rate_limited");
                        resume_at.insert(provider, tokio::time::Instant::now() + rest);
                    }
                    // No usable token: the binding's own status says why; retried next tick.
                    Err(e @ AutoBuildError::Credential(_)) => {
                        tracing::debug!(rid = %reg.rid, provider = provider.as_str(), error = %e, "reconcile: no usable token");
                    }
                    Err(e) => {
                        tracing::info!(rid = %reg.rid, provider = provider.as_str(), error = %e, "reconcile: a registration could not be checked now");
                    }
                }
            }
        }
    }

    /// Checks one registration if it is still due once its lease is held; whether it did.
    async fn reconcile_one(
        &self,
        reg: &StoredRegistration,
        interval_ms: i64,
    ) -> Result<bool, AutoBuildError> {
        let request_id = format!("reconcile-{}", reg.rid);
        let phase = phase_ms(&reg.rid, interval_ms);
        let still_due =
            |r: &StoredRegistration| due(last_check(r), now_millis(), interval_ms, phase);
        let result = self.check_leased(reg, &request_id, &still_due).await;
        match result {
            Ok((r, _)) => {
                if r.found != Found::Fine && r.found != Found::Manual {
                    tracing::info!(rid = %reg.rid, provider = reg.key.provider.as_str(), found = r.found.label(), changes = ?r.changes, "reconcile: a registration was put right or needs attention");
                }
                Ok(true)
            }
            // Another replica (or a requested repair) has it.
            Err(AutoBuildError::Busy) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_registration_is_due_once_per_interval_at_its_phase() {
        let phase = 1_000_000;
        // Checked just after its boundary: not due until the next one, an interval later.
        let checked = 10 * HOUR - phase + 1;
        assert!(!due(checked, checked + HOUR - 2, HOUR, phase));
        assert!(due(checked, checked + HOUR, HOUR, phase));
        // Never due twice within one window.
        assert!(!due(checked, checked + 10, HOUR, phase));
    }

    #[test]
    fn phases_spread_over_the_interval() {
        let phases: Vec<i64> = (0..200)
            .map(|i| phase_ms(&format!("rid-{i}"), HOUR))
            .collect();
        assert!(phases.iter().all(|p| (0..HOUR).contains(p)));
        let early = phases.iter().filter(|p| **p < HOUR / 2).count();
        assert!(
            (60..140).contains(&early),
            "{early} of 200 in the first half"
        );
        assert_eq!(phase_ms("x", HOUR), phase_ms("x", HOUR), "stable");
    }
}
