//! What a failed repository or branch listing tells the user.

use super::{internal, store_failed};
use crate::credentials::CredentialError;
use crate::repositories::RepoError;
use app::api::service::Caller;
use app::api::ApiError;

pub(super) fn repo_error(caller: &Caller, e: RepoError) -> ApiError {
    match e {
        RepoError::Host(h) => ApiError::Host(h),
        RepoError::Credential(CredentialError::NotBound) => ApiError::NotBound,
        RepoError::Credential(CredentialError::NeedsReauthorization(_)) => {
            ApiError::NeedsReauthorization
        }
        RepoError::Credential(CredentialError::RefreshUnavailable) => {
            ApiError::Host(app::api::HostError::RefreshUnavailable)
        }
        RepoError::Unsupported => ApiError::Unsupported,
        RepoError::Invalid(e) => ApiError::Invalid(e),
        RepoError::Credential(CredentialError::StorageUnavailable(e)) => {
            store_failed(caller, "reading the binding failed", &e)
        }
        RepoError::Credential(CredentialError::Internal(e)) => {
            internal(caller, "reading the binding failed", e.as_ref())
        }
    }
}
