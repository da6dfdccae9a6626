//! What the build service can do to a registration besides turning it on and off (issue
//! #23): repair it (`POST …/auto-build/repair`), build a ref's latest commit
//! (`POST …/auto-build/build`), rotate its secret (`POST …/auto-build/rotate-secret`), or
//! rotate the secrets of all of a tenant's registrations
//! (`POST /api/v1/tenants/{tenant}/auto-build/rotate-secrets`).

use super::autobuild::{actor, no_store, Repo};
use super::error::{ApiError, ErrorCode, Source, Tenant};
use super::ServiceApi;
use crate::autobuild::manual::valid_ref_name;
use crate::hosts::hooks::RefKind;
use crate::web::middleware::RequestId;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub(super) async fn repair(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    source: Source,
    path: Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let r = Repo::of(&state, source, path)?;
    let (view, repair) = state
        .autobuild
        .repair(&actor(&r.tenant, &request_id.0), r.provider, &r.id)
        .await?;
    let mut body = serde_json::to_value(&view).unwrap_or_default();
    body["found"] = json!(repair.found.label());
    body["changes"] = serde_json::to_value(&repair.changes).unwrap_or_default();
    Ok(Json(body).into_response())
}

/// The body of `…/build`: exactly one of a branch or a tag.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Build {
    branch: Option<String>,
    tag: Option<String>,
}

pub(super) async fn build(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    source: Source,
    path: Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let r = Repo::of(&state, source, path)?;
    let hint =
        r#"Send JSON with one branch or tag name, such as {"branch": "main"} or {"tag": "v1.0"}."#;
    // Not this JSON at all: 400. The right JSON naming no usable ref (both, neither, a name
    // git refuses): 422, like filters git could never match.
    let build = serde_json::from_slice::<Build>(&body)
        .map_err(|_| ApiError::new(ErrorCode::InvalidBody, hint))?;
    let wanted = match build {
        Build {
            branch: Some(b),
            tag: None,
        } => Some((RefKind::Branch, b)),
        Build {
            branch: None,
            tag: Some(t),
        } => Some((RefKind::Tag, t)),
        _ => None,
    };
    let (kind, name) = wanted
        .filter(|(_, n)| valid_ref_name(n))
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRef, hint))?;
    let done = state
        .autobuild
        .build_latest(
            &actor(&r.tenant, &request_id.0),
            r.provider,
            &r.id,
            kind,
            &name,
        )
        .await?;
    let mut body = serde_json::to_value(&done.event).unwrap_or_default();
    body["duplicate"] = json!(done.duplicate);
    if let Some(seq) = done.seq {
        body["cursor"] = json!(seq.to_string());
    }
    let status = if done.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(body)).into_response())
}

pub(super) async fn rotate_secret(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    source: Source,
    path: Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let r = Repo::of(&state, source, path)?;
    let done = state
        .autobuild
        .rotate_secret(&actor(&r.tenant, &request_id.0), r.provider, &r.id)
        .await?;
    let mut body = serde_json::to_value(&done.view).unwrap_or_default();
    if let Some(manual) = done.manual {
        body["manual_setup"] = serde_json::to_value(manual).unwrap_or_default();
    }
    Ok(no_store(Json(body).into_response()))
}

pub(super) async fn rotate_secrets(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Tenant(tenant): Tenant,
) -> Result<Response, ApiError> {
    let list = state
        .autobuild
        .rotate_all(&actor(&tenant, &request_id.0))
        .await?;
    // Each failure with the code a single call would answer.
    let list: Vec<_> = list
        .into_iter()
        .map(|r| {
            let mut line = json!({
                "provider": r.provider,
                "repository": r.repository,
                "full_name": r.full_name,
                "error": r.error.map(|e| ApiError::from(e).code.as_str()),
            });
            if let Some(manual) = r.manual_setup {
                line["manual_setup"] = json!(manual);
            }
            line
        })
        .collect();
    Ok(no_store(
        Json(json!({ "registrations": list })).into_response(),
    ))
}
