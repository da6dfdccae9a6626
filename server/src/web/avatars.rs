//! Avatars from our own origin: the image kept with the caller's tenant's binding
//! (`/avatars/{provider}`) or pending account (`/avatars/pending/{id}`), fetched by the server
//! when the account was checked (`outbound::avatar`). Behind the identity middleware like the
//! page; another tenant's avatar is never found (404, as if there were none).

use crate::service::CodeSources;
use crate::store::StoredAvatar;
use app::api::service::Caller;
use app::api::Provider;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use std::sync::Arc;

/// How long a browser may reuse an avatar without asking: a day. A changed avatar has a new
/// URL (`?v=`) and a new ETag, so it is fetched again.
pub const CACHE_CONTROL: &str = "private, max-age=86400";

pub fn routes(service: Arc<CodeSources>) -> Router {
    Router::new()
        .route("/avatars/pending/{id}", get(pending))
        .route("/avatars/{provider}", get(bound))
        .with_state(service)
}

async fn bound(
    State(service): State<Arc<CodeSources>>,
    Extension(caller): Extension<Caller>,
    Path(provider): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(provider) = Provider::parse(&provider) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = service.avatar(&caller.tenant, provider).await;
    answer(&caller, found, &headers)
}

async fn pending(
    State(service): State<Arc<CodeSources>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(id) = app::api::PendingId::parse(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = service.pending_avatar(&caller.tenant, &id).await;
    answer(&caller, found, &headers)
}

fn answer(
    caller: &Caller,
    found: Result<Option<StoredAvatar>, crate::store::StoreError>,
    headers: &HeaderMap,
) -> Response {
    let avatar = match found {
        Ok(Some(a)) => a,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!(request_id = %caller.request_id, tenant = %caller.tenant, error = %crate::util::chain(&e), "reading an avatar failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // Only what we stored: one of the raster types (never anything a browser would run).
    let content_type: &'static str = match avatar.content_type.as_str() {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let Some(bytes) = avatar.bytes() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", avatar.sha256);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            bytes,
        )
            .into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    resp
}
