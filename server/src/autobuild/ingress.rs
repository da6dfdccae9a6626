//! The webhook ingress: one path for every code host. A delivery is looked up by the
//! registration id in its URL, rate-limited, verified with the registration's secret in
//! constant time (the previous secret too, during a rotation's grace period), parsed by the
//! host's module and filtered. Its events are stored with their de-duplication keys in one
//! write before the code host gets its 2xx; for hosts whose signature does not cover the body
//! (GitLab, Gitee) the push is held durably instead and confirmed against the host's API
//! (`confirm`).
//!
//! What a code host is told is deliberately coarse: an unknown registration and a bad
//! signature are the same 401; everything verified that we do not build is a 2xx, because
//! GitLab disables a hook after four failed deliveries.

use super::AutoBuild;
use crate::hosts::hooks::{Delivery, DeliveryKind, DeliveryRequest, HookHost, Push, RefKind};
use crate::store::{
    build_event_id, hook_aad, BuildEvent, DeliveryLogEntry, DeliveryOutcome, EventRepository,
    RefType, StoredRegistration,
};
use crate::util::now_millis;
use axum::http::HeaderMap;

/// The metric label of a delivery answered before its registration was found.
const UNKNOWN_PROVIDER: &str = "unknown";

/// Largest delivery body accepted (GitHub caps payloads at 25 MB, but a push lists at most 20
/// commits: real pushes are far below this).
pub const MAX_BODY: usize = 1024 * 1024;

/// What the ingress answers a code host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Stored; `emitted` new build events.
    Accepted {
        emitted: usize,
    },
    /// Seen before (same delivery, or the same ref and commit): nothing new.
    Duplicate,
    /// Verified, but nothing to build (a ping, another event, a ref outside the filters, a
    /// deletion, a push the host's API does not confirm).
    Ignored,
    /// Unknown registration or bad signature.
    Refused,
    /// Verified, but not a payload of this host's.
    Malformed,
    RateLimited,
    /// Storage (or the code host, for a confirmation) cannot be reached: the host retries.
    Unavailable,
}

impl Answer {
    pub fn status(self) -> u16 {
        match self {
            Answer::Accepted { .. } => 202,
            Answer::Duplicate | Answer::Ignored => 200,
            Answer::Refused => 401,
            Answer::Malformed => 400,
            Answer::RateLimited => 429,
            Answer::Unavailable => 503,
        }
    }

    /// The metric label.
    pub fn outcome(self) -> &'static str {
        match self {
            Answer::Accepted { .. } => "accepted",
            Answer::Duplicate => "duplicate",
            Answer::Ignored => "ignored",
            Answer::Refused => "refused",
            Answer::Malformed => "malformed",
            Answer::RateLimited => "rate_limited",
            Answer::Unavailable => "unavailable",
        }
    }
}

/// The all-zero object name hosts send as `after` for a deleted ref (and `before` for a new one).
fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

impl AutoBuild {
    /// Handles one delivery to `{webhook}/hooks/{rid}`.
    pub async fn receive(&self, rid: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
        // Answered before the registration (so its code host) is known: counted as `unknown`.
        let early = |a: Answer| {
            crate::metrics::metrics().delivery(UNKNOWN_PROVIDER, a.outcome());
            a
        };
        if !self.rate.allow(rid) {
            return early(Answer::RateLimited);
        }
        let reg = match self.store.registration_by_rid(rid).await {
            Ok(Some(r)) => r,
            Ok(None) => return early(Answer::Refused),
            Err(e) => {
                tracing::warn!(error = %crate::util::chain(&e), "webhook: looking up the registration failed");
                return early(Answer::Unavailable);
            }
        };
        let provider = reg.key.provider;
        let Some(hooks) = self.calls.hooks(provider) else {
            return Answer::Refused;
        };
        let hooks: &dyn HookHost = &hooks;
        if reg.orphaned {
            // Its account was unbound and the hook is still on the host, waiting to be
            // removed: nothing it delivers is built for a tenant who no longer has the binding.
            return Answer::Ignored;
        }
        let req = DeliveryRequest { headers, body };
        let now = now_millis();
        if !self.verified(&reg, hooks, &req, now) {
            self.log(&reg, None, "", None, None, DeliveryOutcome::Refused)
                .await;
            crate::metrics::metrics().delivery(provider.as_str(), "refused");
            return Answer::Refused;
        }
        let delivery = match hooks.parse(&req) {
            Ok(d) => d,
            Err(e) => {
                tracing::info!(rid, error = %e, "webhook: a verified delivery did not parse");
                crate::metrics::metrics().delivery(provider.as_str(), Answer::Malformed.outcome());
                return Answer::Malformed;
            }
        };
        let answer = match &delivery.kind {
            DeliveryKind::Ping | DeliveryKind::Other(_) => {
                self.log(
                    &reg,
                    delivery.id.clone(),
                    &delivery.event,
                    None,
                    None,
                    DeliveryOutcome::Ignored,
                )
                .await;
                Answer::Ignored
            }
            DeliveryKind::Push(push) => self.push(&reg, hooks, &delivery, push, now).await,
        };
        crate::metrics::metrics().delivery(provider.as_str(), answer.outcome());
        answer
    }

    /// The current secret, else the previous one while its grace period lasts.
    fn verified(
        &self,
        reg: &StoredRegistration,
        hooks: &dyn HookHost,
        req: &DeliveryRequest<'_>,
        now: i64,
    ) -> bool {
        let aad = hook_aad(&reg.rid);
        let current = match self.cipher.open(&reg.secret, &aad) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(rid = %reg.rid, error = %e, "webhook: the registration's secret cannot be opened");
                return false;
            }
        };
        if hooks.verify(req, &current, now) {
            return true;
        }
        match (&reg.previous_secret, reg.previous_until_ms) {
            (Some(previous), Some(until)) if now < until => self
                .cipher
                .open(previous, &aad)
                .is_ok_and(|s| hooks.verify(req, &s, now)),
            _ => false,
        }
    }

    async fn push(
        &self,
        reg: &StoredRegistration,
        hooks: &dyn HookHost,
        delivery: &Delivery,
        push: &Push,
        now: i64,
    ) -> Answer {
        let filters = super::Filters::stored(&reg.branches, &reg.tags);
        let mut wanted: Vec<(RefKind, &str, &str, Option<&str>)> = Vec::new();
        for c in &push.changes {
            let Some(after) = c.after.as_deref().filter(|a| !is_zero(a)) else {
                continue; // a deletion builds nothing
            };
            if filters.matches(c.kind, &c.name) {
                let before = c.before.as_deref().filter(|b| !is_zero(b));
                wanted.push((c.kind, c.name.as_str(), after, before));
            }
        }
        // A push that builds nothing is logged under its first ref and commit.
        let nothing = |outcome| async move {
            let first = push.changes.first();
            let (git_ref, commit) = (
                first.map(|c| c.kind.full_ref(&c.name)),
                first.and_then(|c| c.after.clone()),
            );
            self.log(
                reg,
                delivery.id.clone(),
                &delivery.event,
                git_ref,
                commit,
                outcome,
            )
            .await;
            Answer::Ignored
        };
        if wanted.is_empty() {
            return nothing(DeliveryOutcome::Ignored).await;
        }
        let events: Vec<BuildEvent> = wanted
            .iter()
            .map(|(kind, name, after, before)| {
                let git_ref = kind.full_ref(name);
                BuildEvent {
                    id: build_event_id(&reg.key, &git_ref, after),
                    tenant: reg.key.tenant.clone(),
                    provider: reg.key.provider,
                    account: reg.key.account.clone(),
                    repository: EventRepository {
                        id: reg.key.repo_id.clone(),
                        full_name: push
                            .full_name
                            .clone()
                            .unwrap_or_else(|| reg.full_name.clone()),
                        clone_url: push.clone_url.clone().or_else(|| reg.clone_url.clone()),
                    },
                    git_ref,
                    ref_type: match kind {
                        RefKind::Branch => RefType::Branch,
                        RefKind::Tag => RefType::Tag,
                    },
                    ref_name: name.to_string(),
                    commit: after.to_string(),
                    before: before.map(str::to_string),
                    pusher: push.pusher.clone(),
                    delivery_id: delivery.id.clone(),
                    received_at: now,
                    manual: false,
                }
            })
            .collect();
        let entry = DeliveryLogEntry {
            rid: reg.rid.clone(),
            tenant: reg.key.tenant.clone(),
            at_ms: now,
            delivery_id: delivery.id.clone(),
            event: delivery.event.clone(),
            git_ref: Some(events[0].git_ref.clone()),
            commit: Some(events[0].commit.clone()),
            outcome: DeliveryOutcome::Built,
        };
        if hooks.signs_body() {
            self.record(reg, &entry, &events).await
        } else {
            // What the body claims is checked at the host first (`confirm`).
            self.hold_and_confirm(reg, hooks, entry, events).await
        }
    }

    /// Stores a delivery's events (and its log entry) and wakes the feed and the pusher.
    pub(super) async fn record(
        &self,
        reg: &StoredRegistration,
        entry: &DeliveryLogEntry,
        events: &[BuildEvent],
    ) -> Answer {
        match self
            .store
            .record_delivery(entry, events, self.push.is_some())
            .await
        {
            Ok(recorded) => {
                if let Some(&last) = recorded.emitted.last() {
                    self.feed.advance(last);
                    if let Some(p) = &self.push {
                        p.wake();
                    }
                    crate::metrics::metrics()
                        .events_emitted(reg.key.provider.as_str(), recorded.emitted.len() as u64);
                }
                if recorded.emitted.is_empty() {
                    Answer::Duplicate
                } else {
                    Answer::Accepted {
                        emitted: recorded.emitted.len(),
                    }
                }
            }
            Err(e) => {
                tracing::warn!(rid = %reg.rid, error = %crate::util::chain(&e), "webhook: storing a delivery failed; the host will retry");
                Answer::Unavailable
            }
        }
    }

    pub(super) async fn log(
        &self,
        reg: &StoredRegistration,
        delivery_id: Option<String>,
        event: &str,
        git_ref: Option<String>,
        commit: Option<String>,
        outcome: DeliveryOutcome,
    ) {
        let entry = DeliveryLogEntry {
            rid: reg.rid.clone(),
            tenant: reg.key.tenant.clone(),
            at_ms: now_millis(),
            delivery_id,
            event: event.chars().take(64).collect(),
            git_ref,
            commit,
            outcome,
        };
        self.log_entry(reg, &entry).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_shas_are_deletions_and_creations() {
        assert!(is_zero("0000000000000000000000000000000000000000"));
        assert!(!is_zero("0000000000000000000000000000000000000001"));
        assert!(!is_zero(""));
    }

    #[test]
    fn answers_keep_gitlab_hooks_enabled() {
        // GitLab disables a hook after four failed deliveries: only a forged or broken
        // delivery, a flood or our own outage may fail.
        for a in [
            Answer::Accepted { emitted: 1 },
            Answer::Duplicate,
            Answer::Ignored,
        ] {
            assert!((200..300).contains(&a.status()), "{a:?}");
        }
        assert_eq!(Answer::Refused.status(), 401);
    }
}
