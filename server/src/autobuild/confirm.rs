//! Pushes confirmed at the code host before they are built. GitLab's token and Gitee's signed
//! timestamp prove who sent a delivery but not what its body says, so each ref a push names is
//! looked up through the host's API with the bound token, and only a ref whose head is the
//! pushed commit becomes an event (a later push supersedes the others and brings its own
//! delivery).
//!
//! That lookup is a call to a code host, which may be slow or down, while the host must be
//! answered within a second (GitLab disables a hook after four failures, and both treat a slow
//! answer as one). So the push is **held** first, durably and before the 2xx (`hold_push`: a
//! redelivery of it is a duplicate from then on). The receiving replica then gives the lookups
//! [`ANSWER_BUDGET`]: usually the host answers at once and the events are recorded before the
//! 2xx, as for the hosts that sign the body (the writes are never cut short by the budget). Otherwise the host gets a 202 anyway, and the
//! push stays held: any replica's worker claims it when due (a lease: one attempt at a time),
//! retrying with backoff until it is settled or [`GIVE_UP_AFTER`] has passed, when it is
//! logged as a host error and "Build latest commit" is the way back. A replica that dies
//! holding one leaves it to the others once its lease ends.

use super::ingress::Answer;
use super::AutoBuild;
use crate::hosts::hooks::{HookHost, RefKind, RepoRef};
use crate::hosts::Instance;
use crate::store::{
    held_push_id, BuildEvent, DeliveryLogEntry, DeliveryOutcome, HeldPush, RefType,
    StoredRegistration, RECORD_VERSION,
};
use crate::util::now_millis;
use std::sync::Arc;
use std::time::Duration;

/// How long the receiving replica tries to settle a push before answering the host: with the
/// verification and the writes around it, the answer stays within a second.
const ANSWER_BUDGET: Duration = Duration::from_millis(700);
/// The receiving replica's first claim on a push it holds (others' workers wait that long).
const FIRST_LEASE: Duration = Duration::from_secs(30);
/// A worker's claim on a held push: longer than an attempt can take (the provider timeout).
const LEASE: Duration = Duration::from_secs(60);
/// How often each replica's worker looks for held pushes due.
const EVERY: Duration = Duration::from_secs(5);
/// Held pushes claimed per look.
const BATCH: usize = 16;
/// Attempts stop this long after the delivery.
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Why a push was not confirmed.
#[derive(Debug, PartialEq, Eq)]
enum Unconfirmed {
    /// The host did not answer, no usable token now, the tenant's call slots busy: try again.
    Passing,
    /// Another account is bound now: its token cannot speak for this registration.
    AccountChanged,
}

/// The wait before attempt `attempts + 1`: 5 s, doubling, at most 10 minutes.
fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << attempts.min(7))).min(Duration::from_secs(600))
}

fn ref_kind(t: RefType) -> RefKind {
    match t {
        RefType::Branch => RefKind::Branch,
        RefType::Tag => RefKind::Tag,
    }
}

impl AutoBuild {
    /// Holds a push whose body the host did not sign, then tries to settle it before the
    /// answer (see the module's header). `entry` is its log entry, `events` what it claims.
    pub(super) async fn hold_and_confirm(
        &self,
        reg: &StoredRegistration,
        hooks: &dyn HookHost,
        entry: DeliveryLogEntry,
        events: Vec<BuildEvent>,
    ) -> Answer {
        let push = HeldPush {
            v: RECORD_VERSION,
            id: held_push_id(&reg.rid, entry.delivery_id.as_deref()),
            entry,
            events,
            attempts: 0,
            created_at_ms: now_millis(),
        };
        match self.store.hold_push(&push, FIRST_LEASE).await {
            Ok(true) => {}
            Ok(false) => {
                let e = &push.entry;
                let (git_ref, commit) = (e.git_ref.clone(), e.commit.clone());
                self.log(
                    reg,
                    e.delivery_id.clone(),
                    &e.event,
                    git_ref,
                    commit,
                    DeliveryOutcome::Duplicate,
                )
                .await;
                return Answer::Duplicate;
            }
            Err(e) => {
                tracing::warn!(rid = %reg.rid, error = %crate::util::chain(&e), "webhook: holding a push failed; the host will retry");
                return Answer::Unavailable;
            }
        }
        // Only the lookups at the host count against the budget (cut short, they have changed
        // nothing); what they confirmed is then recorded and the push released in full, so a
        // push is never left held after its events were recorded (its retry would log the
        // delivery a second time, as a duplicate).
        let settled =
            match tokio::time::timeout(ANSWER_BUDGET, self.confirm(reg, hooks, &push.events)).await
            {
                Ok(confirmed) => self.settle(reg, &push, confirmed).await,
                Err(_) => None,
            };
        match settled {
            Some(answer) => answer,
            // Held, and tried again by any replica's worker: the host's part is done.
            None => {
                self.retry_later(push).await;
                Answer::Accepted { emitted: 0 }
            }
        }
    }

    /// Tries held pushes that are due, now and then, for as long as the process runs.
    pub fn spawn_confirmations(self: Arc<Self>) {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(EVERY).await;
                self.confirm_due().await;
            }
        });
    }

    /// One look: claims the held pushes due and tries each once. Returns how many it tried.
    pub async fn confirm_due(&self) -> usize {
        let claimed = match self.store.claim_held_pushes(LEASE, BATCH).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %crate::util::chain(&e), "auto-build: claiming held pushes failed");
                return 0;
            }
        };
        let tried = claimed.len();
        for push in claimed {
            let reg = match self.store.registration_by_rid(&push.entry.rid).await {
                Ok(Some(reg)) if !reg.orphaned => reg,
                // Turned off, or its account unbound, since: nothing to build.
                Ok(_) => {
                    self.release(&push).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %crate::util::chain(&e), "auto-build: reading a held push's registration failed");
                    self.retry_later(push).await;
                    continue;
                }
            };
            let Some(hooks) = self.calls.hooks(reg.key.provider) else {
                self.release(&push).await;
                continue;
            };
            let hooks: &dyn HookHost = &hooks;
            let confirmed = self.confirm(&reg, hooks, &push.events).await;
            if self.settle(&reg, &push, confirmed).await.is_none() {
                self.retry_later(push).await;
            }
        }
        tried
    }

    /// Records what the host confirmed of the push, then releases it. `None`: not settled
    /// (the host or the store failed for now), to be tried again.
    async fn settle(
        &self,
        reg: &StoredRegistration,
        push: &HeldPush,
        confirmed: Result<Vec<BuildEvent>, Unconfirmed>,
    ) -> Option<Answer> {
        let outcome_only = |outcome| DeliveryLogEntry {
            outcome,
            ..push.entry.clone()
        };
        let answer = match confirmed {
            Ok(events) if events.is_empty() => {
                self.log_entry(reg, &outcome_only(DeliveryOutcome::Ignored))
                    .await;
                Answer::Ignored
            }
            Ok(events) => match self.record(reg, &push.entry, &events).await {
                Answer::Unavailable => return None,
                answer => answer,
            },
            Err(Unconfirmed::Passing) => {
                let age = now_millis().saturating_sub(push.created_at_ms);
                if age < GIVE_UP_AFTER.as_millis() as i64 {
                    return None;
                }
                tracing::warn!(rid = %reg.rid, attempts = push.attempts, "webhook: a push could not be confirmed in time; given up");
                self.log_entry(reg, &outcome_only(DeliveryOutcome::HostError))
                    .await;
                Answer::Ignored
            }
            Err(Unconfirmed::AccountChanged) => {
                self.log_entry(reg, &outcome_only(DeliveryOutcome::HostError))
                    .await;
                Answer::Ignored
            }
        };
        self.release(push).await;
        Some(answer)
    }

    /// Asks the host for the head of each event's ref; keeps the events whose head is their
    /// commit.
    async fn confirm(
        &self,
        reg: &StoredRegistration,
        hooks: &dyn HookHost,
        events: &[BuildEvent],
    ) -> Result<Vec<BuildEvent>, Unconfirmed> {
        let request_id = format!("hook-{}", &reg.rid);
        let (binding, token) = self
            .credentials
            .usable(&reg.key.tenant, reg.key.provider, &request_id)
            .await
            .map_err(|e| {
                tracing::info!(rid = %reg.rid, error = %e, "webhook: no usable token to confirm a push");
                Unconfirmed::Passing
            })?;
        if binding.account.login != reg.key.account {
            return Err(Unconfirmed::AccountChanged);
        }
        let repo = RepoRef {
            stable_id: reg.key.repo_id.clone(),
            full_name: reg.full_name.clone(),
        };
        let _slot = self
            .slot(&reg.key.tenant)
            .await
            .map_err(|_| Unconfirmed::Passing)?;
        let mut confirmed = Vec::new();
        for e in events {
            let kind = ref_kind(e.ref_type);
            match hooks
                .ref_head(Instance::of(&binding), &token, &repo, kind, &e.ref_name)
                .await
            {
                Ok(Some(head)) if head.eq_ignore_ascii_case(&e.commit) => confirmed.push(e.clone()),
                Ok(_) => {}
                Err(err) => {
                    tracing::info!(rid = %reg.rid, error = %err, "webhook: confirming a push at the code host failed");
                    return Err(Unconfirmed::Passing);
                }
            }
        }
        Ok(confirmed)
    }

    /// Another attempt later, by any replica (a failure here leaves the lease to run out).
    async fn retry_later(&self, mut push: HeldPush) {
        let wait = backoff(push.attempts);
        push.attempts = push.attempts.saturating_add(1);
        if let Err(e) = self.store.retry_held_push(&push, wait).await {
            tracing::warn!(error = %crate::util::chain(&e), "auto-build: rescheduling a held push failed");
        }
    }

    async fn release(&self, push: &HeldPush) {
        // Failing, it is tried again when its lease ends: the delivery id is recorded by
        // then, so that attempt adds at most a duplicate log entry.
        if let Err(e) = self.store.release_held_push(&push.id).await {
            tracing::warn!(error = %crate::util::chain(&e), "auto-build: releasing a settled push failed");
        }
    }

    /// Writes a delivery log entry; a failure is logged, not answered (the delivery's answer
    /// does not depend on its log).
    pub(super) async fn log_entry(&self, reg: &StoredRegistration, entry: &DeliveryLogEntry) {
        if let Err(e) = self.store.log_delivery(entry).await {
            tracing::warn!(rid = %reg.rid, error = %crate::util::chain(&e), "webhook: writing the delivery log failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        let waits: Vec<u64> = (0..10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
    }
}
