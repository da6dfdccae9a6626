//! What a failure tells the user of the page: a store that cannot be reached is "try again"
//! (nothing was written), anything else an internal error whose cause goes to the log with its
//! whole chain and reaches the user only as the request id. A leaf: the services and the OAuth
//! flows both use it, and it uses neither.

use crate::store::StoreError;
use app::api::service::Caller;
use app::api::ApiError;

/// A store failure as the user sees it: "try again" when the store is unreachable (nothing was
/// written), else an internal error.
pub fn store_failed(caller: &Caller, what: &str, e: &StoreError) -> ApiError {
    if e.is_unavailable() {
        tracing::warn!(request_id = %caller.request_id, tenant = %caller.tenant, error = %crate::util::chain(e), "{what}: storage unavailable");
        return ApiError::StorageUnavailable;
    }
    internal(caller, what, e)
}

/// Logs an internal error with its whole cause chain and hides it behind the request id.
pub(crate) fn internal(
    caller: &Caller,
    what: &str,
    err: &(dyn std::error::Error + 'static),
) -> ApiError {
    let chain = crate::util::chain(err);
    tracing::error!(request_id = %caller.request_id, tenant = %caller.tenant, error = %chain, "{what}");
    ApiError::Internal {
        request_id: caller.request_id.clone(),
    }
}
