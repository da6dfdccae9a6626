//! Auto-build on the wire: what the page and the build service API see of a repository's
//! webhook registration. The secret of a hook appears in exactly one answer, [`ManualSetup`],
//! the one time a user needs it to paste into the code host's settings; nothing else carries it.

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

/// Where a registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoBuildStatus {
    /// Our hook is registered on the code host.
    Active,
    /// The grant could not manage hooks: the user added the hook by hand (manual setup).
    ManualSetup,
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
}

/// What a user pastes into the code host's webhook settings when the grant cannot manage hooks
/// (as AWS CodeBuild's manual webhooks do). Shown once: the secret is not kept in the clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// What turning auto-build on answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoBuildEnabled {
    pub view: AutoBuildView,
    /// Only when manual setup was asked for: what to paste into the code host (shown once).
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
}
