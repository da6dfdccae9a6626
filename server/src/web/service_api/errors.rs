//! The build service API's error answers: `{"error": code, "message": …}` with the status
//! that says what the caller can do (401/403 for the token, 404/409 for the binding, 503 with
//! `Retry-After` when trying again helps). Internals stay in the log, under the request id.

use crate::credentials::CredentialError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut resp = (status, Json(json!({"error": code, "message": message}))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"codesource\""),
        );
    }
    resp
}

/// Why a caller is refused: 401 without a bearer token, 403 with a wrong one.
pub(super) enum Refused {
    Unauthenticated,
    Forbidden,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Unauthenticated => error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Send the service token as `Authorization: Bearer …`.",
            ),
            Refused::Forbidden => error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "The service token is not valid for this API.",
            ),
        }
    }
}

pub(super) fn repo_error(e: crate::repositories::RepoError, request_id: &str) -> Response {
    use crate::repositories::RepoError;
    match e {
        RepoError::Credential(e) => credential_error(e, request_id),
        // The tenant's outbound calls are all in use (`providers::limits`): ours, retry soon.
        RepoError::Host(app::api::HostError::Busy) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "Too many calls to code hosts are running for this tenant; retry in a moment.",
        ),
        RepoError::Host(h) => {
            tracing::info!(request_id, outcome = ?h, "repository listing failed at the code host");
            (
                StatusCode::BAD_GATEWAY,
                Json(json!({"error": "code_host_error", "message": "The code host did not answer as expected.", "host_error": h})),
            )
                .into_response()
        }
        RepoError::Unsupported => error(
            StatusCode::NOT_FOUND,
            "unknown_provider",
            "This code source lists no repositories.",
        ),
        RepoError::Invalid(_) => error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "The repository id is not one a listing handed out.",
        ),
    }
}

pub(super) fn credential_error(e: CredentialError, request_id: &str) -> Response {
    match e {
        CredentialError::NotBound => error(StatusCode::NOT_FOUND, "not_bound", "The tenant has not bound this code source."),
        CredentialError::NeedsReauthorization(reason) => (
            StatusCode::CONFLICT,
            Json(json!({"error": "reauthorization_required", "message": "The binding must be re-authorized by the tenant on the code source page.", "reason": reason})),
        )
            .into_response(),
        CredentialError::RefreshUnavailable => {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "refresh_unavailable", "The code host could not refresh the token; try again shortly.");
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
            r
        }
        CredentialError::StorageUnavailable(e) => {
            tracing::warn!(request_id = %request_id, error = %crate::util::chain(&e), "issuing a credential: storage unavailable");
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "Storage is unavailable right now. Try again shortly.");
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            r
        }
        CredentialError::Internal(e) => {
            tracing::error!(request_id = %request_id, error = format!("{e:#}"), "issuing a credential failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", &format!("Internal error; request id {}.", request_id))
        }
    }
}

/// Why an auto-build call was refused: a typed reason per case, never a 500 for a caller's or a
/// code host's doing.
pub(super) fn autobuild_error(e: crate::autobuild::AutoBuildError, request_id: &str) -> Response {
    use crate::autobuild::AutoBuildError as E;
    use crate::hosts::hooks::HookError as H;
    match e {
        E::Unsupported => error(
            StatusCode::CONFLICT,
            "auto_build_unsupported",
            "This code source has no webhook API here: auto-build is not available for it.",
        ),
        E::InvalidFilters(why) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_filters",
            &format!("The branch and tag filters are not valid: {why}."),
        ),
        E::InvalidRepository => error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "The repository id is not one a listing handed out.",
        ),
        E::NotEnabled => error(
            StatusCode::NOT_FOUND,
            "auto_build_off",
            "Auto-build is not turned on for this repository.",
        ),
        E::RefNotFound => error(
            StatusCode::NOT_FOUND,
            "ref_not_found",
            "The repository has no such branch or tag.",
        ),
        E::Busy => error(
            StatusCode::CONFLICT,
            "auto_build_busy",
            "The registration is being checked or changed right now; retry in a moment.",
        ),
        E::Credential(e) => credential_error(e, request_id),
        E::Hook(H::MissingScope { needed }) => (
            StatusCode::FORBIDDEN,
            Json(json!({
                "error": "missing_scope",
                "message": "The bound grant cannot manage the repository's webhooks. Re-authorize (OAuth hosts) or bind a token with the named scopes, or set the hook up by hand (`\"manual\": true`).",
                "needed_scopes": needed,
            })),
        )
            .into_response(),
        E::Hook(H::NotAdmin) => error(
            StatusCode::FORBIDDEN,
            "not_repository_admin",
            "The bound account may not manage this repository's webhooks (it needs admin or maintainer rights). Ask an administrator, or set the hook up by hand (`\"manual\": true`).",
        ),
        E::Hook(H::RepoNotFound) => error(
            StatusCode::NOT_FOUND,
            "repository_not_found",
            "The code host does not show this repository to the bound account.",
        ),
        E::Hook(H::LimitReached) => error(
            StatusCode::CONFLICT,
            "hook_limit_reached",
            "The repository has as many webhooks as the code host allows; remove one there and try again.",
        ),
        E::Hook(H::Host(h)) => repo_error(crate::repositories::RepoError::Host(h), request_id),
        E::Store(e) => credential_error(e.into(), request_id),
        E::Internal(e) => credential_error(crate::credentials::CredentialError::Internal(e), request_id),
    }
}
