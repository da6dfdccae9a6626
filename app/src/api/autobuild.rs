//! Auto-build on the wire: what the page and the build service API see of a repository's
//! webhook registration. The secret of a hook appears in exactly one type, [`ManualSetup`],
//! answered the one time a user needs it to paste into the code host's settings (turning manual
//! setup on, or rotating its secret); nothing else carries it.

use serde::{Deserialize, Serialize};

/// Which pushes build: glob patterns over branch and tag names (`*` stops at `/`, `**` does
/// not, `?` is one character). An empty list builds none of that kind; both empty is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoBuildFilters {
    #[serde(default)]
    pub branches: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Limits on filters, checked on both sides (the server is the one that counts).
pub mod filter_limits {
    /// Patterns per list.
    pub const MAX_PATTERNS: usize = 20;
    /// Bytes per pattern.
    pub const MAX_PATTERN_LEN: usize = 100;
}

/// Where a registration stands: what turning it on, or the last repair or periodic
/// reconcile, found on the code host. Each status implies its way out ([`AutoBuildStatus::fix`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoBuildStatus {
    /// Our hook is registered on the code host (and was, at the last check).
    Active,
    /// The grant could not manage hooks: the user added the hook by hand (manual setup).
    ManualSetup,
    /// Our hook is no longer on the repository (someone removed it): repair re-creates it.
    HookMissing,
    /// The code host disabled our hook (e.g. after failed deliveries): repair re-creates it.
    HookDisabled,
    /// The grant may no longer manage the repository's hooks (a scope or the admin role was
    /// taken away): re-authorize with the hook scopes, or switch to manual setup.
    NoPermission,
    /// The code host did not answer at the last check: nothing to do, the next check retries.
    HostUnreachable,
    /// The repository no longer exists under its id (deleted, or recreated with a new id):
    /// turn auto-build off (and on again for a recreated repository).
    RepositoryGone,
}

/// What a user (or the build service) does about a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoBuildFix {
    /// Nothing: it works.
    None,
    /// `POST …/auto-build/repair`.
    Repair,
    /// Re-authorize the binding with the hook scopes (or use manual setup).
    Reauthorize,
    /// Wait: the next check (or a repair) retries.
    Retry,
    /// Turn auto-build off (and on again if the repository was recreated).
    TurnOff,
}

impl AutoBuildStatus {
    /// The action the status implies.
    pub fn fix(self) -> AutoBuildFix {
        match self {
            AutoBuildStatus::Active | AutoBuildStatus::ManualSetup => AutoBuildFix::None,
            AutoBuildStatus::HookMissing | AutoBuildStatus::HookDisabled => AutoBuildFix::Repair,
            AutoBuildStatus::NoPermission => AutoBuildFix::Reauthorize,
            AutoBuildStatus::HostUnreachable => AutoBuildFix::Retry,
            AutoBuildStatus::RepositoryGone => AutoBuildFix::TurnOff,
        }
    }

    /// Whether deliveries are expected to arrive.
    pub fn is_healthy(self) -> bool {
        self.fix() == AutoBuildFix::None
    }
}

/// A repository's auto-build registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoBuildView {
    /// The id a repository listing hands out (what the page and the API pass back).
    pub repository: String,
    /// The code host's stable id of the repository (survives renames and transfers).
    pub repository_id: String,
    pub full_name: String,
    pub status: AutoBuildStatus,
    pub branches: Vec<String>,
    pub tags: Vec<String>,
    /// Where the code host delivers pushes.
    pub webhook_url: String,
    /// When auto-build was turned on, Unix seconds.
    pub created_at: i64,
    /// When the last delivery arrived, Unix milliseconds.
    pub last_delivery_at: Option<i64>,
    /// What to do about `status`.
    #[serde(default = "no_fix")]
    pub fix: AutoBuildFix,
    /// When the registration was last checked at the code host (repair or periodic
    /// reconcile), Unix milliseconds; `None`: not since it was turned on.
    #[serde(default)]
    pub checked_at: Option<i64>,
}

fn no_fix() -> AutoBuildFix {
    AutoBuildFix::None
}

/// What a user pastes into the code host's webhook settings when the grant cannot manage hooks
/// (as AWS CodeBuild's manual webhooks do). Shown once: the secret is not kept in the clear,
/// and `Debug` (logs, panics) leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualSetup {
    pub payload_url: String,
    /// The hook's secret (GitLab: the secret token; Gitee: the signing key).
    pub secret: String,
    pub content_type: String,
    /// The events to tick, in the code host's own words.
    pub events: Vec<String>,
    /// The code host's page where hooks are added, when known.
    pub settings_url: Option<String>,
}

impl std::fmt::Debug for ManualSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManualSetup")
            .field("payload_url", &self.payload_url)
            .field("secret", &"<redacted>")
            .field("content_type", &self.content_type)
            .field("events", &self.events)
            .field("settings_url", &self.settings_url)
            .finish()
    }
}

/// What turning auto-build on answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoBuildEnabled {
    pub view: AutoBuildView,
    /// Only when manual setup was asked for: what to paste into the code host (shown once).
    pub manual: Option<ManualSetup>,
}

/// What a repair changed at the code host or in the registration (the REST answer's
/// `changes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairChange {
    /// Our hook was missing: a new one was created.
    HookCreated,
    /// Our hook was disabled by the host: it was replaced by a new one.
    DisabledHookReplaced,
    /// More than one hook delivered to our URL: the extra ones were removed.
    DuplicateRemoved,
    /// A hook pointing at our ingress that no registration owns (left at an earlier webhook
    /// address, or by a registration that no longer exists) was removed.
    StrayRemoved,
    /// The repository was renamed or transferred: its new name is recorded.
    Renamed,
}

/// What repairing a registration from the page answers: the registration as it is now and
/// what the repair changed (nothing, when all was in place).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoBuildRepaired {
    pub view: AutoBuildView,
    pub changes: Vec<RepairChange>,
}

/// The branch or tag whose latest commit to build, by name (`{"branch": "main"}` or
/// `{"tag": "v1.0"}`, as the REST call takes it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildRef {
    Branch(String),
    Tag(String),
}

impl BuildRef {
    pub fn name(&self) -> &str {
        match self {
            BuildRef::Branch(n) | BuildRef::Tag(n) => n,
        }
    }
}

/// What "Build latest commit" answers the page: the build event it emitted (or found).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualBuildDone {
    /// The full ref (`refs/heads/main`).
    pub git_ref: String,
    pub commit: String,
    /// That commit of that ref was built before (a push or an earlier manual build): no new
    /// event.
    pub duplicate: bool,
}

/// The event name a manual build's line in the delivery log has ([`DeliveryView::event`]).
pub const MANUAL_BUILD_EVENT: &str = "manual";

/// What rotating a registration's secret answers the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRotated {
    pub view: AutoBuildView,
    /// Manual setup only: the new secret, to paste into the code host's hook (shown once).
    pub manual: Option<ManualSetup>,
}

/// How a delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// New build events were emitted.
    Built,
    /// Seen before (a redelivery, or the same ref and commit): nothing new.
    Duplicate,
    /// Nothing to build: a ping, another event, a ref outside the filters, a deletion.
    Ignored,
    /// The signature did not verify.
    Refused,
    /// The code host could not confirm the push.
    HostError,
}

/// One delivery in a repository's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    /// Unix milliseconds.
    pub at_ms: i64,
    pub delivery_id: Option<String>,
    /// The code host's event name (`push`, `Push Hook`, `repo:push`…).
    pub event: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    pub outcome: DeliveryOutcome,
}

/// Why auto-build could not be turned on or off: each with its way out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookRefusal {
    /// The grant lacks these scopes: re-authorize (OAuth hosts) or bind a token that has them,
    /// or set the hook up by hand.
    MissingScope {
        needed: Vec<String>,
    },
    /// The account may not manage the repository's hooks (not an admin or maintainer).
    NotAdmin,
    RepositoryNotFound,
    /// The repository has as many hooks as the code host allows (GitHub: 20).
    HookLimitReached,
    InvalidFilters,
    /// Auto-build is not on for this repository.
    NotEnabled,
    /// A build of the latest commit named a branch or tag the repository does not have.
    RefNotFound,
    /// The registration is being repaired or changed right now: try again in a moment.
    Busy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_setup_never_prints_its_secret() {
        let m = ManualSetup {
            payload_url: "https://ci.example/hooks/x".into(),
            secret: "s3cret-value".into(),
            content_type: "json".into(),
            events: vec!["push".into()],
            settings_url: None,
        };
        let shown = format!("{m:?} {:?}", Some(&m));
        assert!(!shown.contains("s3cret-value"), "{shown}");
        assert!(shown.contains("payload_url"));
    }
}
