//! The records auto-build keeps (docs/auto-build.md): a registration per (tenant, provider,
//! account, stable repository id) with its sealed hook secret, the build events deliveries
//! produce, their push outbox, and a short log of deliveries per registration. JSON in both
//! backends, like the other records; the hook secret is `Sealed` with [`hook_aad`].

use crate::crypto::Sealed;
use app::api::{AutoBuildStatus, Provider};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Delivery log entries kept per registration; older ones are trimmed on write.
pub const MAX_DELIVERY_LOG: usize = 50;

/// What a registration is the registration of: one repository of one bound account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationKey {
    pub tenant: String,
    pub provider: Provider,
    /// The bound account's login.
    pub account: String,
    /// The host's stable repository id (never the name, which can change).
    pub repo_id: String,
}

/// A repository registered for auto-build, and the webhook that reports its pushes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRegistration {
    /// Record format version.
    pub v: u32,
    /// Random id (128 bits, URL-safe base64) naming the webhook URL; unique.
    pub rid: String,
    pub key: RegistrationKey,
    /// The repository's full name as last seen.
    pub full_name: String,
    /// The id repository listings hand out (owner/name, or GitLab's project id).
    pub listing_id: String,
    pub clone_url: Option<String>,
    /// Glob patterns of the branches and tags that build.
    pub branches: Vec<String>,
    pub tags: Vec<String>,
    /// The hook at the host; `None`: set up by hand.
    pub hook_id: Option<String>,
    /// The hook's secret, sealed with `hook_aad(rid)`.
    pub secret: Sealed,
    /// The secret before a rotation, accepted until `previous_until_ms`.
    #[serde(default)]
    pub previous_secret: Option<Sealed>,
    #[serde(default)]
    pub previous_until_ms: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    pub created_by: String,
    /// When a delivery was last recorded (Unix milliseconds).
    #[serde(default)]
    pub last_delivery_at: Option<i64>,
    /// What the last repair or reconcile found at the code host (`None`: not checked since
    /// auto-build was turned on, so what turning it on made: active or manual setup).
    #[serde(default)]
    pub status: Option<AutoBuildStatus>,
    /// When that check ran (Unix milliseconds).
    #[serde(default)]
    pub checked_at_ms: Option<i64>,
    /// Its binding went, and removing the hook from the code host failed: kept (and retried
    /// by the binding's cleanup job) until the hook is removed or the tenant dismisses it.
    #[serde(default)]
    pub orphaned: bool,
}

/// Associated data that ties a sealed hook secret to its registration id.
pub fn hook_aad(rid: &str) -> Vec<u8> {
    format!("autobuild-hook/v{}/{rid}", super::RECORD_VERSION).into_bytes()
}

/// What became of one delivery: the wire type itself, so the log reads the same everywhere.
pub use app::api::DeliveryOutcome;

/// One line of a registration's delivery log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLogEntry {
    pub rid: String,
    pub tenant: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub delivery_id: Option<String>,
    pub event: String,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
    pub outcome: DeliveryOutcome,
}

/// The repository as a build event names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRepository {
    /// The host's stable id.
    pub id: String,
    pub full_name: String,
    pub clone_url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefType {
    Branch,
    Tag,
}

/// A ref at a commit to build (the wire format in docs/auto-build.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildEvent {
    /// Stable: see [`build_event_id`].
    pub id: String,
    pub tenant: String,
    pub provider: Provider,
    pub account: String,
    pub repository: EventRepository,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub ref_type: RefType,
    pub ref_name: String,
    pub commit: String,
    pub before: Option<String>,
    pub pusher: Option<String>,
    pub delivery_id: Option<String>,
    /// Unix milliseconds.
    pub received_at: i64,
    pub manual: bool,
}

/// A push held until the code host confirms it: GitLab's token and Gitee's signature do not
/// cover the body, so what it claims was pushed is checked through the host's API before any
/// event is emitted. Held durably before the host gets its 2xx, so a confirmation that fails
/// for a passing reason (the host slow or down, the tenant's call slots busy) is retried
/// rather than lost (`autobuild::confirm`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPush {
    /// Record format version.
    pub v: u32,
    /// One per delivery: see [`held_push_id`].
    pub id: String,
    /// The log entry to write once settled (its outcome decided then).
    pub entry: DeliveryLogEntry,
    /// The events the delivery claims, each emitted only if its ref's head is its commit.
    pub events: Vec<BuildEvent>,
    /// Attempts that did not settle it.
    pub attempts: u32,
    /// Unix milliseconds (the receiving replica's clock): attempts stop a while after.
    pub created_at_ms: i64,
}

/// A held push's id: the delivery's (one per registration), else random (the host sent none;
/// the events' ids still de-duplicate).
pub fn held_push_id(rid: &str, delivery_id: Option<&str>) -> String {
    match delivery_id {
        Some(d) => crate::util::hex(&Sha256::digest(format!("{rid}\n{d}").as_bytes())),
        None => {
            let mut b = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
            crate::util::hex(&b)
        }
    }
}

/// The hex SHA-256 of `tenant/provider/account/stable-id/ref/commit`: the same ref at the same
/// commit is one event whatever delivered it. Only the ref holds slashes, and the commit after
/// it none, so no two inputs give the same string.
pub fn build_event_id(key: &RegistrationKey, git_ref: &str, commit: &str) -> String {
    let text = format!(
        "{}/{}/{}/{}/{git_ref}/{commit}",
        key.tenant,
        key.provider.as_str(),
        key.account,
        key.repo_id
    );
    crate::util::hex(&Sha256::digest(text.as_bytes()))
}

/// What `record_delivery` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The delivery id was recorded before: nothing but a log entry was written.
    pub duplicate_delivery: bool,
    /// Sequence numbers of the events that were new, in the order given.
    pub emitted: Vec<u64>,
    /// Events given whose id was already stored.
    pub duplicate_events: usize,
}

/// An event claimed for pushing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: u64,
    pub event: BuildEvent,
    /// Attempts made before this one.
    pub attempts: u32,
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    /// Rows whose push failed at least once.
    pub failing: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_stable_and_tell_refs_and_commits_apart() {
        let key = RegistrationKey {
            tenant: "t1".into(),
            provider: Provider::GitHub,
            account: "octo".into(),
            repo_id: "1296269".into(),
        };
        let id = build_event_id(&key, "refs/heads/main", "abc");
        let text = "t1/github/octo/1296269/refs/heads/main/abc";
        assert_eq!(id, crate::util::hex(&Sha256::digest(text.as_bytes())));
        assert_ne!(id, build_event_id(&key, "refs/tags/main", "abc"));
        assert_ne!(id, build_event_id(&key, "refs/heads/main", "abd"));
        let other = RegistrationKey {
            repo_id: "1".into(),
            ..key
        };
        assert_ne!(id, build_event_id(&other, "refs/heads/main", "abc"));
    }

    #[test]
    fn build_events_read_in_the_documented_wire_format() {
        let wire = r#"{"id":"x","tenant":"t","provider":"github","account":"octo",
            "repository":{"id":"1296269","full_name":"octo/hello","clone_url":null},
            "ref":"refs/heads/main","ref_type":"branch","ref_name":"main","commit":"c",
            "before":null,"pusher":"octo","delivery_id":"d","received_at":1,"manual":false}"#;
        let e: BuildEvent = serde_json::from_str(wire).unwrap();
        assert_eq!(
            (e.git_ref.as_str(), e.ref_type),
            ("refs/heads/main", RefType::Branch)
        );
        let back = serde_json::to_value(&e).unwrap();
        assert_eq!(back["ref"], "refs/heads/main");
        assert_eq!(back["ref_type"], "branch");
        let outcome = serde_json::to_value(DeliveryOutcome::HostError).unwrap();
        assert_eq!(outcome, "host_error");
    }
}
