//! The auto-build part of the build service API: a repository's registration (`PUT`, `GET`,
//! `DELETE …/repositories/{id}/auto-build`), its recent deliveries, and the build-event feed
//! (`GET /api/v1/build-events?after=&limit=&wait=`).

use super::errors::{autobuild_error, error};
use super::{authorize, ServiceApi};
use crate::autobuild::feed::{MAX_LIMIT, MAX_WAIT};
use crate::autobuild::{Actor, AutoBuildError};
use crate::web::middleware::RequestId;
use app::api::{AutoBuildFilters, Provider, TenantId};
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The caller, tenant and code source of an auto-build path. DevCloud is a known code source
/// without a hook API: it gets `auto_build_unsupported`, not "unknown".
pub(super) fn target(
    state: &ServiceApi,
    headers: &HeaderMap,
    tenant: &str,
    provider: &str,
    request_id: &str,
) -> Result<(TenantId, Provider), Box<Response>> {
    authorize(state, headers).map_err(|r| Box::new(r.into_response()))?;
    let tenant = TenantId::parse(tenant).ok_or_else(|| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            "The tenant id is not valid.",
        ))
    })?;
    let provider = Provider::parse(provider).ok_or_else(|| {
        Box::new(error(
            StatusCode::NOT_FOUND,
            "unknown_provider",
            &format!(
                "Unknown code source: use one of {}.",
                super::provider_ids(|_| true)
            ),
        ))
    })?;
    if !state.autobuild.supports(provider) {
        return Err(Box::new(autobuild_error(
            AutoBuildError::Unsupported,
            request_id,
        )));
    }
    Ok((tenant, provider))
}

pub(super) fn actor<'a>(tenant: &'a str, request_id: &'a str) -> Actor<'a> {
    Actor {
        tenant,
        id: "build-service",
        name: None,
        request_id,
    }
}

pub(super) async fn get(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider, &request_id.0) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    match state.autobuild.get(&tenant, provider, &id).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => autobuild_error(e, &request_id.0),
    }
}

/// The body of `PUT`: the filters, and whether to set the hook up by hand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enable {
    #[serde(default)]
    branches: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    manual: bool,
}

pub(super) async fn put(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider, &request_id.0) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let Ok(enable) = serde_json::from_slice::<Enable>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            r#"Send JSON such as {"branches": ["main"], "tags": ["v*"]}."#,
        );
    };
    match state
        .autobuild
        .enable(
            &actor(&tenant, &request_id.0),
            provider,
            &id,
            &AutoBuildFilters {
                branches: enable.branches,
                tags: enable.tags,
            },
            enable.manual,
        )
        .await
    {
        Ok(done) => {
            let mut body = serde_json::to_value(&done.view).unwrap_or_default();
            if let Some(manual) = done.manual {
                body["manual_setup"] = serde_json::to_value(manual).unwrap_or_default();
            }
            let mut resp = Json(body).into_response();
            // The manual setup's secret is in it: never kept by a cache.
            resp.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(e) => autobuild_error(e, &request_id.0),
    }
}

pub(super) async fn delete(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider, id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider, &request_id.0) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    // `dismiss=true`: forget an orphaned registration without calling the code host
    // (`crate::jobs`). Parsed leniently, so a malformed value gets our JSON error.
    let dismiss = match query.get("dismiss").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "dismiss must be true or false.",
            )
        }
    };
    if dismiss {
        return match state.cleanup.dismiss(&tenant, provider, &id).await {
            Ok(Some(_)) => StatusCode::NO_CONTENT.into_response(),
            Ok(None) => error(
                StatusCode::NOT_FOUND,
                "not_orphaned",
                "No orphaned auto-build registration for this repository.",
            ),
            Err(e) => autobuild_error(AutoBuildError::Store(e), &request_id.0),
        };
    }
    match state
        .autobuild
        .disable(&actor(&tenant, &request_id.0), provider, &id)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => autobuild_error(e, &request_id.0),
    }
}

pub(super) async fn deliveries(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider, &request_id.0) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    match state.autobuild.deliveries(&tenant, provider, &id).await {
        Ok(list) => Json(json!({ "deliveries": list })).into_response(),
        Err(e) => autobuild_error(e, &request_id.0),
    }
}

/// `GET /api/v1/build-events`: events after the cursor, oldest first; `next` is the cursor to
/// pass back. With `wait` (seconds, at most 30) the answer waits for an event.
pub(super) async fn feed(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    // Lenient parsing, so a malformed parameter gets our JSON error (the name and the range).
    let number =
        |name: &'static str, default: u64, max: u64| match q.get(name).map(|v| v.parse::<u64>()) {
            None => Ok(default),
            Some(Ok(n)) if n <= max => Ok(n),
            _ => Err((name, max)),
        };
    let parsed = (|| {
        Ok((
            number("after", 0, i64::MAX as u64)?,
            number("limit", 100, MAX_LIMIT as u64)?,
            number("wait", 0, MAX_WAIT.as_secs())?,
        ))
    })();
    let (after, limit, wait) = match parsed {
        Ok(p) => p,
        Err((name, max)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                &format!("{name} must be a whole number from 0 to {max}."),
            )
        }
    };
    match state
        .autobuild
        .feed()
        .page(after, limit.max(1) as usize, Duration::from_secs(wait))
        .await
    {
        Ok(page) => {
            let events: Vec<_> = page
                .events
                .into_iter()
                .map(|(seq, e)| {
                    let mut v = serde_json::to_value(e).unwrap_or_default();
                    v["cursor"] = json!(seq.to_string());
                    v
                })
                .collect();
            Json(json!({ "events": events, "next": page.next.to_string() })).into_response()
        }
        Err(e) => autobuild_error(AutoBuildError::Store(e), &request_id.0),
    }
}

/// The auto-build gauges of `/metrics`.
pub(super) async fn gauges(state: &ServiceApi) -> crate::metrics::AutoBuildGauges {
    let (outbox_pending, outbox_failing) = match state.autobuild.outbox_counts().await {
        Ok(c) => (c.pending, c.failing),
        Err(e) => {
            tracing::warn!(error = %crate::util::chain(&e), "metrics: counting the outbox failed");
            (0, 0)
        }
    };
    let held_pushes = state.autobuild.held_push_count().await.unwrap_or_else(|e| {
        tracing::warn!(error = %crate::util::chain(&e), "metrics: counting held pushes failed");
        0
    });
    crate::metrics::AutoBuildGauges {
        feed_lag: state.autobuild.feed().lag(),
        outbox_pending,
        outbox_failing,
        held_pushes,
    }
}
