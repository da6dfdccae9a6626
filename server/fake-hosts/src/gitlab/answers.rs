//! The fake GitLab's refusals, in GitLab's wire format: 401 without a usable token, the
//! Doorkeeper-style `invalid_token` / `insufficient_scope` answers with their
//! `WWW-Authenticate` header, and 429 with `Retry-After`; and which fake token gets which.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "401 Unauthorized"})),
    )
        .into_response()
}

/// GitLab's answer for an expired or revoked token (Doorkeeper-style `invalid_token`).
fn invalid_token(description: &str) -> Response {
    let www = format!(
        "Bearer realm=\"Protected by OAuth 2.0\", error=\"invalid_token\", error_description=\"{description}\""
    );
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, www)],
        Json(json!({"error": "invalid_token", "error_description": description})),
    )
        .into_response()
}

pub(super) fn insufficient_scope() -> Response {
    insufficient_scope_for("api read_user")
}

/// GitLab's 403 for a token without `scope` (e.g. a `read_api` token on a write endpoint).
pub(super) fn insufficient_scope_for(scope: &str) -> Response {
    let www = format!(
        "Bearer realm=\"Protected by OAuth 2.0\", error=\"insufficient_scope\", \
         error_description=\"The request requires higher privileges than provided by the access token.\", \
         scope=\"{scope}\""
    );
    (
        StatusCode::FORBIDDEN,
        [(header::WWW_AUTHENTICATE, www)],
        Json(json!({
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by the access token.",
            "scope": scope
        })),
    )
        .into_response()
}

fn rate_limited() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::RETRY_AFTER, "30"),
            (header::CONTENT_TYPE, "text/plain"),
            (header::HeaderName::from_static("ratelimit-remaining"), "0"),
        ],
        "Retry later\n",
    )
        .into_response()
}

/// Token errors shared by every authenticated endpoint.
pub(super) fn token_error(t: &str) -> Option<Response> {
    match t {
        "glpat-fake-expired" => Some(invalid_token("Token has expired.")),
        "glpat-fake-revoked" => Some(invalid_token(
            "Token was revoked. You have to re-authorize from the user.",
        )),
        "glpat-fake-ratelimit" => Some(rate_limited()),
        "glpat-fake-alice"
        | "glpat-fake-bob"
        | "glpat-fake-registry"
        | "glpat-fake-readuser"
        | "glpat-fake-developer"
        | "glpat-fake-evil" => None,
        t if t.starts_with("glpat-fake-avatar-") => None,
        _ => Some(unauthorized()),
    }
}
