//! The records the store keeps. Each is JSON in both backends (PostgreSQL also keeps the
//! columns it queries by next to it), so a record reads the same wherever it was written.
//! None of them holds a token in the clear: tokens and verifiers are `Sealed`.

use crate::crypto::Sealed;
use app::api::{Account, ActivityAction, ActivityOutcome, Provider, ReauthReason};
use serde::{Deserialize, Serialize};

/// One stored binding: a tenant's account on one code host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBinding {
    /// Record format version.
    pub v: u32,
    pub tenant: String,
    pub provider: Provider,
    pub account: Account,
    /// Base address of the code host (GitLab).
    pub address: Option<String>,
    /// CA bundle (PEM) given for a private GitLab.
    pub ca_pem: Option<String>,
    pub scopes: Vec<String>,
    pub token_expires_at: Option<String>,
    /// Unix seconds.
    pub bound_at: i64,
    /// User id of whoever confirmed the binding.
    pub bound_by: String,
    /// The access token, sealed with `aad(tenant, provider)`.
    pub token: Sealed,
    /// OAuth refresh token (Gitee), sealed like `token`.
    #[serde(default)]
    pub refresh_token: Option<Sealed>,
    /// OAuth access token expiry, Unix seconds (Gitee: a day).
    #[serde(default)]
    pub access_expires_at: Option<i64>,
    /// When the access token was last refreshed (Unix seconds; `None`: never).
    #[serde(default)]
    pub refreshed_at: Option<i64>,
    /// Set when the binding can no longer be used (refresh refused, token revoked): why.
    #[serde(default)]
    pub reauth_reason: Option<ReauthReason>,
    /// When the token was last checked at the code host (Unix seconds).
    #[serde(default)]
    pub last_checked_at: Option<i64>,
    /// A health checker (of any replica) has this binding until then (Unix seconds).
    #[serde(default)]
    pub check_claimed_until: Option<i64>,
    /// Which avatar the account has, fetched by us when the account was checked (`None`: the
    /// host had none, or it could not be fetched). Served from our origin, never hot-linked.
    /// Only the reference: the image is kept apart (`BindingStore::avatar`), so the reads of
    /// every page load and credential call never carry it. Records written before the split
    /// held the image here too; it is moved out when the store is opened or migrated.
    #[serde(default)]
    pub avatar: Option<AvatarRef>,
}

/// What a binding knows of its avatar without reading the image: enough for the avatar's URL
/// (versioned by content) and its ETag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarRef {
    /// As in [`StoredAvatar::content_type`].
    pub content_type: String,
    /// As in [`StoredAvatar::sha256`].
    pub sha256: String,
}

impl AvatarRef {
    /// A short version of the image for its URL (a changed image gets a new URL).
    pub fn version(&self) -> &str {
        self.sha256.get(..16).unwrap_or(&self.sha256)
    }
}

/// An avatar image we fetched from a code host: a checked raster type, at most
/// [`crate::outbound::avatar::MAX_AVATAR`] bytes. A bound account's is stored apart from its
/// binding (tree `avatars/v1`, table `avatars`), read only by the avatar route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAvatar {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp` (what the bytes are).
    pub content_type: String,
    /// The image, standard base64.
    pub data_b64: String,
    /// SHA-256 of the image, hex: its ETag and the version in its URL.
    pub sha256: String,
}

impl StoredAvatar {
    /// The binding's reference to this image.
    pub fn reference(&self) -> AvatarRef {
        AvatarRef {
            content_type: self.content_type.clone(),
            sha256: self.sha256.clone(),
        }
    }
}

impl StoredBinding {
    /// Whether a health check may claim it (see `BindingStore::claim_due`).
    pub fn is_due(&self, checked_before: i64, now: i64) -> bool {
        self.reauth_reason.is_none()
            && self.last_checked_at.unwrap_or(0) < checked_before
            && self.check_claimed_until.unwrap_or(0) <= now
    }
}

/// One line of a tenant's activity log. Never holds a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    pub tenant: String,
    /// User id, or `build-service` for credential API calls.
    pub actor: String,
    /// The user's display name at the time of the action (from the identity); `None` for the
    /// build service and for entries written before names were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    pub action: ActivityAction,
    pub provider: Option<Provider>,
    pub account: Option<String>,
    pub outcome: ActivityOutcome,
    pub request_id: String,
}

/// A checked (GitLab) or authorized (OAuth) account, tokens already sealed for the row it
/// will be stored in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingItem {
    pub provider: Provider,
    pub account: Account,
    pub address: Option<String>,
    pub ca_pem: Option<String>,
    pub scopes: Vec<String>,
    pub scopes_unknown: bool,
    /// GitLab personal access token expiry (`YYYY-MM-DD`).
    pub expires_at: Option<String>,
    /// OAuth access token expiry (Unix seconds).
    pub access_expires_at: Option<i64>,
    pub missing_scopes: Vec<String>,
    pub token: Sealed,
    pub refresh_token: Option<Sealed>,
    /// The account's avatar (see [`StoredBinding::avatar`]).
    #[serde(default)]
    pub avatar: Option<StoredAvatar>,
}

/// A pending item as stored: bound to the tenant that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRecord {
    /// 128 random bits, hex.
    pub id: String,
    pub tenant: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub item: PendingItem,
}

/// An OAuth flow between Bind and the callback. The `state` itself is never stored, only its
/// hash; the PKCE verifier is sealed with `flow_aad(state_hash)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// SHA-256 of the `state`, hex.
    pub state_hash: String,
    pub tenant: String,
    pub provider: Provider,
    pub verifier: Option<Sealed>,
    /// SHA-256 of the browser cookie, hex.
    pub browser_hash: String,
    pub popup: bool,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Scopes asked for beyond the host's own (the hook scopes, when auto-build needs them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_scopes: Vec<String>,
}
