//! The gate in front of the server functions (`POST /api/…` in the app router; the build
//! service's `/api/v1/…` and `/api/openapi.json` are separate routes and never pass here).
//!
//! server_fn decodes whatever body arrives, whatever its content type, answers every failure
//! with 500 and its own error text, and redirects form posts (`Accept: text/html`) to their
//! `Referer`. This gate takes those decisions first:
//!
//! - only `application/json` bodies are let through (415 otherwise): a form on another site
//!   can send `text/plain`, `application/x-www-form-urlencoded` and `multipart/form-data`
//!   without a CORS preflight, but never JSON;
//! - the body is read here, within [`BODY_LIMIT`] whether it has a `Content-Length` or comes
//!   chunked (413), and must be UTF-8 JSON (400); what is left for server_fn is JSON of the
//!   wrong shape, which `ApiError` maps to 422;
//! - our server functions answer JSON only, so the request says it accepts JSON: server_fn's
//!   and leptos_axum's form redirects to the `Referer` (another site's, possibly) never happen;
//! - an error answer gets the status of the `ApiError` in its body, so a client error is never
//!   answered (or counted) as a server error.

use super::BODY_LIMIT;
use app::api::{ApiError, InputError};
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The header server_fn puts on its error answers (`server_fn::error::SERVER_FN_ERROR_HEADER`).
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

/// Largest error answer we re-read to find its status (an `ApiError` is a few hundred bytes).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

pub async fn guard(req: Request, next: Next) -> Response {
    if !is_server_fn_call(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    if !is_json(req.headers().get(header::CONTENT_TYPE)) {
        return refuse(InputError::UnsupportedContentType);
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        // Over the limit, or the client broke off; either way nothing usable arrived.
        Err(_) => return refuse(InputError::TooLarge),
    };
    if std::str::from_utf8(&bytes).is_err()
        || serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err()
    {
        return refuse(InputError::MalformedBody);
    }
    // Every server function takes one JSON object of named arguments; serde would also read a
    // struct from an array (`[null]`), which no client of ours sends.
    if !bytes.trim_ascii_start().starts_with(b"{") {
        return refuse(InputError::InvalidArguments);
    }
    parts
        .headers
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    with_error_status(resp).await
}

/// The size limit's own refusal (`RequestBodyLimitLayer`, for a `Content-Length` over the
/// limit, before anything is routed) in the wire format of the server functions: their callers
/// read `ApiError`, not its plain text.
pub async fn too_large_as_api_error(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let server_fn = is_server_fn_call(req.method(), path) && !path.starts_with("/api/v1/");
    let resp = next.run(req).await;
    let plain = !resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| is_json(Some(v)));
    if server_fn && resp.status() == StatusCode::PAYLOAD_TOO_LARGE && plain {
        return refuse(InputError::TooLarge);
    }
    resp
}

/// A server function call: anything but a read under `/api/` that reached the app router.
fn is_server_fn_call(method: &Method, path: &str) -> bool {
    path.starts_with("/api/") && method != Method::GET && method != Method::HEAD
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

fn refuse(e: InputError) -> Response {
    let err = ApiError::Invalid(e);
    tracing::info!(outcome = "request_refused", error = ?err, "refused a malformed server function call");
    let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::to_vec(&err).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Gives a server_fn error answer the status of the `ApiError` it carries. (Errors our
/// functions return already set it; server_fn's own, from decoding the arguments, come as 500.)
async fn with_error_status(resp: Response) -> Response {
    if !resp.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match to_bytes(body, ERROR_BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            return Response::from_parts(parts, Body::empty());
        }
    };
    if let Some(status) = serde_json::from_slice::<ApiError>(&bytes)
        .ok()
        .and_then(|e| StatusCode::from_u16(e.status_code()).ok())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_bodies_pass() {
        let is = |v: &str| is_json(Some(&HeaderValue::from_str(v).unwrap()));
        assert!(is("application/json"));
        assert!(is("application/json; charset=utf-8"));
        assert!(is("Application/JSON"));
        assert!(!is("text/plain"));
        assert!(!is("text/plain; application/json"));
        assert!(!is("application/x-www-form-urlencoded"));
        assert!(!is("multipart/form-data; boundary=x"));
        assert!(!is("application/jsonx"));
        assert!(!is_json(None));
    }

    #[test]
    fn only_server_function_calls_are_gated() {
        assert!(is_server_fn_call(&Method::POST, "/api/code-sources/page"));
        assert!(!is_server_fn_call(&Method::GET, "/api/code-sources/page"));
        assert!(!is_server_fn_call(&Method::POST, "/oauth/github/start"));
        assert!(!is_server_fn_call(&Method::POST, "/"));
    }
}
