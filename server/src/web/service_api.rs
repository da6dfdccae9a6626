//! The build service's REST API, beside the UI: credentials for a tenant's binding, described
//! by an OpenAPI document at `/api/openapi.json`. Authenticated with the service token (compared
//! in constant time); the console's identity tokens are not accepted here.

use super::middleware::RequestId;
use crate::credentials::Credentials;
use crate::secret::SecretString;
use app::api::{Provider, TenantId};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use std::sync::Arc;

#[derive(Clone)]
pub struct ServiceApi {
    pub credentials: Arc<Credentials>,
    pub repos: Arc<crate::repositories::Repositories>,
    pub store: Arc<dyn crate::store::BindingStore>,
    /// Orphaned auto-build registrations are dismissed through it.
    pub cleanup: Arc<crate::jobs::Cleanup>,
    /// `None`: the API is disabled (every call is refused).
    pub token: Option<Arc<SecretString>>,
    /// `CODESOURCE_BASE_PATH`: the document's server URL, so clients call `<base>/api/v1/…`.
    pub base_path: String,
    /// The bindings gauge of `/metrics`, counted at most once a minute.
    pub counts: Arc<super::binding_counts::BindingCounts>,
    pub autobuild: Arc<crate::autobuild::AutoBuild>,
}

mod errors;

mod autobuild;
mod autobuild_ops;

use errors::{credential_error, error, repo_error, Refused};

pub fn routes(state: ServiceApi) -> Router {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route(
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories",
            get(repositories),
        )
        .route(
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/branches",
            get(branches),
        )
        .route(
            "/api/v1/tenants/{tenant}/code-sources/{provider}/credential",
            get(credential),
        )
        .route(
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build",
            get(autobuild::get)
                .put(autobuild::put)
                .delete(autobuild::delete),
        )
        .route(
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build/deliveries",
            get(autobuild::deliveries),
        )
        .route(
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build/repair",
            post(autobuild_ops::repair),
        )
        .route(
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build/build",
            post(autobuild_ops::build),
        )
        .route(
            "/api/v1/tenants/{tenant}/code-sources/{provider}/repositories/{id}/auto-build/rotate-secret",
            post(autobuild_ops::rotate_secret),
        )
        .route(
            "/api/v1/tenants/{tenant}/auto-build/rotate-secrets",
            post(autobuild_ops::rotate_secrets),
        )
        .route("/api/v1/build-events", get(autobuild::feed))
        // Shared, not cloned per request (a clone is five reference counts and the base path).
        .with_state(Arc::new(state))
}

fn authorize(state: &ServiceApi, headers: &HeaderMap) -> Result<(), Refused> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(presented) = presented else {
        return Err(Refused::Unauthenticated);
    };
    let expected = state
        .token
        .as_ref()
        .map(|t| Sha256::digest(t.expose().as_bytes()));
    let given = Sha256::digest(presented.as_bytes());
    // Comparing fixed-length digests byte by byte without early exit: constant time.
    let same = expected.is_some_and(|e| {
        e.iter()
            .zip(given.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    });
    if same {
        Ok(())
    } else {
        Err(Refused::Forbidden)
    }
}

async fn credential(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider)): Path<(String, String)>,
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
    let Some(provider) = Provider::parse(&provider) else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_provider",
            &format!(
                "Unknown code source: use one of {}.",
                provider_ids(|_| true)
            ),
        );
    };
    match state
        .credentials
        .credential(&tenant, provider, &request_id.0)
        .await
    {
        Ok(c) => Json(c).into_response(),
        Err(e) => credential_error(e, &request_id.0),
    }
}

/// Checks the caller, the tenant and the provider of a `/tenants/{tenant}/code-sources/{provider}` path.
fn target(
    state: &ServiceApi,
    headers: &HeaderMap,
    tenant: &str,
    provider: &str,
) -> Result<(TenantId, Provider), Box<Response>> {
    authorize(state, headers).map_err(|r| Box::new(r.into_response()))?;
    let tenant = TenantId::parse(tenant).ok_or_else(|| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            "The tenant id is not valid.",
        ))
    })?;
    let lists = |p: Provider| state.repos.lists(p);
    let provider = Provider::parse(provider)
        .filter(|p| lists(*p))
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::NOT_FOUND,
                "unknown_provider",
                &format!("Use one of {}.", provider_ids(lists)),
            ))
        })?;
    Ok((tenant, provider))
}

/// The ids of the code sources `keep` accepts, for error messages.
fn provider_ids(keep: impl Fn(Provider) -> bool) -> String {
    Provider::ALL
        .into_iter()
        .filter(|p| keep(*p))
        .map(Provider::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn repositories(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider)): Path<(String, String)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    // Lenient parsing, so a malformed parameter gets our JSON error, not a framework text reply.
    let page = match q.get("page").map(|p| p.parse::<u32>()) {
        None => 1,
        Some(Ok(p)) if (1..=crate::repositories::MAX_PAGE).contains(&p) => p,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                &format!(
                    "page must be a whole number from 1 to {}.",
                    crate::repositories::MAX_PAGE
                ),
            )
        }
    };
    let search = q.get("search").map(String::as_str).unwrap_or("");
    match state
        .repos
        .list(&tenant, provider, search, page, &request_id.0)
        .await
    {
        Ok(page) => Json(page).into_response(),
        Err(e) => repo_error(e, &request_id.0),
    }
}

async fn branches(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Path((tenant, provider, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (tenant, provider) = match target(&state, &headers, &tenant, &provider) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    match state
        .repos
        .branches(&tenant, provider, &id, &request_id.0)
        .await
    {
        Ok(b) => Json(b).into_response(),
        Err(e) => repo_error(e, &request_id.0),
    }
}

/// Prometheus scrape endpoint (same service token as the API).
async fn metrics(State(state): State<Arc<ServiceApi>>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    let mut bindings = std::collections::BTreeMap::new();
    match state.counts.get(state.store.as_ref()).await {
        Ok(counts) => {
            for (provider, reauth, n) in counts {
                let status = if reauth {
                    "needs_reauthorization"
                } else {
                    "bound"
                };
                *bindings
                    .entry((provider.as_str().to_string(), status.to_string()))
                    .or_insert(0u64) += n;
            }
        }
        Err(e) => tracing::error!(error = %e, "metrics: counting bindings failed"),
    }
    let gauges = autobuild::gauges(&state).await;
    let mut text = crate::metrics::metrics().render(&bindings);
    text.push_str(&crate::metrics::metrics().render_autobuild(&gauges));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn openapi(State(st): State<Arc<ServiceApi>>) -> Json<serde_json::Value> {
    let listing: Vec<&str> = Provider::ALL
        .into_iter()
        .filter(|p| st.repos.lists(*p))
        .map(Provider::as_str)
        .collect();
    Json(super::openapi::document(&st.base_path, &listing))
}
