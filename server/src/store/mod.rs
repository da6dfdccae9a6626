//! Storage of bindings behind a trait, so another backend can be added next to sled.
//! Records carry a format version; tokens inside them are sealed (see `crypto`).

mod sled_audit;
mod sled_store;

pub use sled_store::SledStore;

use crate::crypto::Sealed;
use app::api::{Account, Provider};
use serde::{Deserialize, Serialize};

/// Current record format. Readers accept this version and refuse newer ones.
pub const RECORD_VERSION: u32 = 1;

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
    /// Set when the binding can no longer be used (refresh refused, token revoked): why.
    #[serde(default)]
    pub reauth_reason: Option<String>,
    /// When the token was last checked at the code host (Unix seconds).
    #[serde(default)]
    pub last_checked_at: Option<i64>,
}

/// One line of a tenant's activity log. Never holds a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    pub tenant: String,
    /// User id, or `build-service` for credential API calls.
    pub actor: String,
    /// `bind`, `unbind`, `credential_issued`, `refresh_failed`, `refreshed`.
    pub action: String,
    pub provider: Option<Provider>,
    pub account: Option<String>,
    /// `ok`, or what went wrong.
    pub outcome: String,
    pub request_id: String,
}

#[async_trait::async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends an entry (and drops entries older than the retention now and then).
    async fn append(&self, entry: AuditEntry) -> Result<(), StoreError>;
    /// Newest first; `before` is an opaque cursor from a previous page.
    async fn page(
        &self,
        tenant: &str,
        before: Option<String>,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError>;
}

/// Associated data that ties a sealed token to its row.
pub fn aad(tenant: &str, provider: Provider) -> Vec<u8> {
    format!("binding/v{RECORD_VERSION}/{tenant}/{}", provider.as_str()).into_bytes()
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage backend failed")]
    Backend(#[from] sled::Error),
    #[error("stored record is unreadable")]
    Corrupt(#[source] serde_json::Error),
    #[error("stored record has format version {0}, newer than this server understands")]
    NewerVersion(u32),
}

#[async_trait::async_trait]
pub trait BindingStore: Send + Sync + 'static {
    async fn list(&self, tenant: &str) -> Result<Vec<StoredBinding>, StoreError>;
    async fn get(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError>;
    /// Inserts or replaces; durable (flushed) when it returns.
    /// Returns whether it replaced an existing binding (a re-authorization).
    async fn put(&self, binding: &StoredBinding) -> Result<bool, StoreError>;
    /// Removes and returns the binding, if there was one; durable when it returns.
    async fn delete(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredBinding>, StoreError>;
    /// Every binding of every tenant (for the periodic health check).
    async fn all(&self) -> Result<Vec<StoredBinding>, StoreError>;
    /// Readiness: the store is open and answers.
    async fn ready(&self) -> bool;
}
