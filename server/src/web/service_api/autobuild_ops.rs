//! What the build service can do to a registration besides turning it on and off (issue
//! #23): repair it (`POST …/auto-build/repair`), build a ref's latest commit
//! (`POST …/auto-build/build`), rotate its secret (`POST …/auto-build/rotate-secret`), or
//! rotate the secrets of all of a tenant's registrations
//! (`POST /api/v1/tenants/{tenant}/auto-build/rotate-secrets`).

use super::autobuild::{actor, target};
use super::errors::{autobuild_error, error};
use super::{authorize, ServiceApi};
use crate::autobuild::manual::valid_ref_name;
use crate::hosts::hooks::RefKind;
use crate::web::middleware::RequestId;
use app::api::TenantId;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// An answer that carries a secret: never kept by a cache.
fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    resp
}

pub(super) async fn repair(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider, &request_id.0) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    match state
        .autobuild
        .repair(&actor(&tenant, &request_id.0), provider, &id)
        .await
    {
        Ok((view, repair)) => {
            let mut body = serde_json::to_value(&view).unwrap_or_default();
            body["found"] = json!(repair.found.label());
            body["changes"] = serde_json::to_value(&repair.changes).unwrap_or_default();
            Json(body).into_response()
        }
        Err(e) => autobuild_error(e, &request_id.0),
    }
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
    Path((tenant, provider, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider, &request_id.0) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let hint =
        r#"Send JSON with one branch or tag name, such as {"branch": "main"} or {"tag": "v1.0"}."#;
    // Not this JSON at all: 400. The right JSON naming no usable ref (both, neither, a name
    // git refuses): 422, like filters git could never match.
    let Ok(build) = serde_json::from_slice::<Build>(&body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_body", hint);
    };
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
    let Some((kind, name)) = wanted.filter(|(_, n)| valid_ref_name(n)) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_ref", hint);
    };
    match state
        .autobuild
        .build_latest(&actor(&tenant, &request_id.0), provider, &id, kind, &name)
        .await
    {
        Ok(done) => {
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
            (status, Json(body)).into_response()
        }
        Err(e) => autobuild_error(e, &request_id.0),
    }
}

pub(super) async fn rotate_secret(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider, &request_id.0) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    match state
        .autobuild
        .rotate_secret(&actor(&tenant, &request_id.0), provider, &id)
        .await
    {
        Ok(done) => {
            let mut body = serde_json::to_value(&done.view).unwrap_or_default();
            if let Some(manual) = done.manual {
                body["manual_setup"] = serde_json::to_value(manual).unwrap_or_default();
            }
            no_store(Json(body).into_response())
        }
        Err(e) => autobuild_error(e, &request_id.0),
    }
}

pub(super) async fn rotate_secrets(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    let Some(tenant) = TenantId::parse(&tenant) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            "The tenant id is not valid.",
        );
    };
    match state
        .autobuild
        .rotate_all(&actor(&tenant, &request_id.0))
        .await
    {
        Ok(list) => no_store(Json(json!({ "registrations": list })).into_response()),
        Err(e) => autobuild_error(e, &request_id.0),
    }
}
