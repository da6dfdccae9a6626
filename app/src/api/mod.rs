//! The API contract between the page and the server: wire types, the wire error, and the
//! server-function declarations. The server side of each function only finds the service in
//! context and calls it; the implementation lives in the `codesource-server` crate.

mod activity;
mod autobuild;
pub mod client;
pub mod codec;
mod error;
mod functions;
mod host;
mod ids;
#[cfg(feature = "ssr")]
pub mod service;
mod types;
mod untrusted;

pub use activity::{ActivityAction, ActivityOutcome, ReauthReason};
pub use autobuild::{
    filter_limits, AutoBuildEnabled, AutoBuildFilters, AutoBuildFix, AutoBuildRepaired,
    AutoBuildStatus, AutoBuildView, BuildRef, DeliveryOutcome, DeliveryView, HookRefusal,
    ManualBuildDone, ManualSetup, RepairChange, SecretRotated, MANUAL_BUILD_EVENT,
};
pub use error::{ApiError, HostError, InputError};
pub use functions::*;
pub use host::{BindMethod, HostInfo, RevocationPolicy};
pub use ids::{IdRefused, PendingId, Provider, RepoId, TenantId};
pub use types::*;
pub use untrusted::safe_http_url;

/// Size bounds for user input, checked on both sides (the server is the one that counts).
pub mod limits {
    /// Longest accepted code source address.
    pub const ADDRESS_MAX: usize = 512;
    /// Longest accepted access token (GitLab tokens are ~26–60 characters).
    pub const TOKEN_MAX: usize = 512;
    /// Largest accepted CA certificate bundle in PEM.
    pub const CA_PEM_MAX: usize = 16 * 1024;
}
