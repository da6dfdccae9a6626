//! The auto-build part of the build service API: a repository's registration (`PUT`, `GET`,
//! `DELETE …/repositories/{id}/auto-build`), its recent deliveries, and the build-event feed
//! (`GET /api/v1/build-events?after=&limit=&wait=`).

use super::error::{ApiError, ErrorCode, Source};
use super::ServiceApi;
use crate::autobuild::feed::{MAX_LIMIT, MAX_WAIT};
use crate::autobuild::{Actor, AutoBuildError};
use crate::web::middleware::RequestId;
use app::api::{AutoBuildFilters, Provider};
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The code source of an auto-build path: DevCloud is a known code source without a hook API,
/// and gets `auto_build_unsupported`, not "unknown".
pub(super) fn hooked(state: &ServiceApi, provider: Provider) -> Result<Provider, ApiError> {
    if state.autobuild.supports(provider) {
        Ok(provider)
    } else {
        Err(AutoBuildError::Unsupported.into())
    }
}

/// A repository's path: its tenant, code source (one with a hook API) and listing id.
pub(super) struct Repo {
    pub tenant: app::api::TenantId,
    pub provider: Provider,
    pub id: String,
}

impl Repo {
    pub(super) fn of(
        state: &ServiceApi,
        Source { tenant, provider }: Source,
        Path((_, _, id)): Path<(String, String, String)>,
    ) -> Result<Repo, ApiError> {
        Ok(Repo {
            tenant,
            provider: hooked(state, provider)?,
            id,
        })
    }
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
    source: Source,
    path: Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let r = Repo::of(&state, source, path)?;
    let view = state.autobuild.get(&r.tenant, r.provider, &r.id).await?;
    Ok(Json(view).into_response())
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
    source: Source,
    path: Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let r = Repo::of(&state, source, path)?;
    let enable = serde_json::from_slice::<Enable>(&body).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidBody,
            r#"Send JSON such as {"branches": ["main"], "tags": ["v*"]}."#,
        )
    })?;
    let filters = AutoBuildFilters {
        branches: enable.branches,
        tags: enable.tags,
    };
    let done = state
        .autobuild
        .enable(
            &actor(&r.tenant, &request_id.0),
            r.provider,
            &r.id,
            &filters,
            enable.manual,
        )
        .await?;
    let mut body = serde_json::to_value(&done.view).unwrap_or_default();
    if let Some(manual) = done.manual {
        body["manual_setup"] = serde_json::to_value(manual).unwrap_or_default();
    }
    // The manual setup's secret is in it: never kept by a cache.
    Ok(no_store(Json(body).into_response()))
}

/// An answer that carries a secret: never kept by a cache.
pub(super) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

pub(super) async fn delete(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    source: Source,
    path: Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let r = Repo::of(&state, source, path)?;
    // `dismiss=true`: forget an orphaned registration without calling the code host
    // (`crate::jobs`). Parsed leniently, so a malformed value gets our JSON error.
    let dismiss = match query.get("dismiss").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::invalid_parameter(
                "dismiss must be true or false.",
            ))
        }
    };
    if dismiss {
        return match state.cleanup.dismiss(&r.tenant, r.provider, &r.id).await? {
            Some(_) => Ok(StatusCode::NO_CONTENT),
            None => Err(ApiError::new(
                ErrorCode::NotOrphaned,
                "No orphaned auto-build registration for this repository.",
            )),
        };
    }
    state
        .autobuild
        .disable(&actor(&r.tenant, &request_id.0), r.provider, &r.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn deliveries(
    State(state): State<Arc<ServiceApi>>,
    source: Source,
    path: Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let r = Repo::of(&state, source, path)?;
    let list = state
        .autobuild
        .deliveries(&r.tenant, r.provider, &r.id)
        .await?;
    Ok(Json(json!({ "deliveries": list })).into_response())
}

/// `GET /api/v1/build-events`: events after the cursor, oldest first; `next` is the cursor to
/// pass back. With `wait` (seconds, at most 30) the answer waits for an event.
pub(super) async fn feed(
    State(state): State<Arc<ServiceApi>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    // Lenient parsing, so a malformed parameter gets our JSON error (the name and the range).
    let number =
        |name: &'static str, default: u64, max: u64| match q.get(name).map(|v| v.parse::<u64>()) {
            None => Ok(default),
            Some(Ok(n)) if n <= max => Ok(n),
            _ => Err(ApiError::invalid_parameter(format!(
                "{name} must be a whole number from 0 to {max}."
            ))),
        };
    let after = number("after", 0, i64::MAX as u64)?;
    let limit = number("limit", 100, MAX_LIMIT as u64)?;
    let wait = number("wait", 0, MAX_WAIT.as_secs())?;
    let page = state
        .autobuild
        .feed()
        .page(after, limit.max(1) as usize, Duration::from_secs(wait))
        .await?;
    let events: Vec<_> = page
        .events
        .into_iter()
        .map(|(seq, e)| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            v["cursor"] = json!(seq.to_string());
            v
        })
        .collect();
    Ok(Json(json!({ "events": events, "next": page.next.to_string() })).into_response())
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
