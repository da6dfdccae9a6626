//! The build service's REST API, beside the UI: credentials for a tenant's binding, described
//! by an OpenAPI document at `/api/openapi.json`. Authenticated with the service token (compared
//! in constant time); the console's identity tokens are not accepted here.

use super::middleware::RequestId;
use crate::credentials::Credentials;
use crate::secret::SecretString;
use app::api::Provider;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap};
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

mod error;

mod autobuild;
mod autobuild_ops;
mod openapi;

use error::Source;
pub use error::{ApiError, ErrorCode};

pub fn routes(state: ServiceApi) -> Router {
    let state = Arc::new(state);
    let protected = Router::new()
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
        // Before anything of the request is looked at: a route layer, so a path no route
        // matches is still the router's 404, not a 401.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_service_token,
        ));
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .merge(protected)
        // Shared, not cloned per request (a clone is five reference counts and the base path).
        .with_state(state)
}

/// The bearer check of every route but the OpenAPI document: 401 without a bearer token,
/// 403 with a wrong one (or when the API is disabled).
async fn require_service_token(
    State(state): State<Arc<ServiceApi>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match authorize(&state, req.headers()) {
        Ok(()) => next.run(req).await,
        Err(refused) => refused.into_response(),
    }
}

fn authorize(state: &ServiceApi, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(presented) = presented else {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "Send the service token as `Authorization: Bearer …`.",
        ));
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
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "The service token is not valid for this API.",
        ))
    }
}

async fn credential(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Source { tenant, provider }: Source,
) -> Result<Response, ApiError> {
    let c = state
        .credentials
        .credential(&tenant, provider, &request_id.0)
        .await?;
    Ok(Json(c).into_response())
}

/// The code source of a repositories path: one that lists repositories.
fn listing(state: &ServiceApi, provider: Provider) -> Result<Provider, ApiError> {
    if state.repos.lists(provider) {
        Ok(provider)
    } else {
        Err(ApiError::unknown_provider(|p| state.repos.lists(p)))
    }
}

async fn repositories(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Source { tenant, provider }: Source,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let provider = listing(&state, provider)?;
    // Lenient parsing, so a malformed parameter gets our JSON error, not a framework text reply.
    let page = match q.get("page").map(|p| p.parse::<u32>()) {
        None => 1,
        Some(Ok(p)) if (1..=crate::repositories::MAX_PAGE).contains(&p) => p,
        _ => {
            return Err(ApiError::invalid_parameter(format!(
                "page must be a whole number from 1 to {}.",
                crate::repositories::MAX_PAGE
            )))
        }
    };
    let search = q.get("search").map(String::as_str).unwrap_or("");
    let page = state
        .repos
        .list(&tenant, provider, search, page, &request_id.0)
        .await?;
    Ok(Json(page).into_response())
}

async fn branches(
    State(state): State<Arc<ServiceApi>>,
    Extension(request_id): Extension<RequestId>,
    Source { tenant, provider }: Source,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let provider = listing(&state, provider)?;
    let id = app::api::RepoId::parse(&id).map_err(crate::repositories::RepoError::Invalid)?;
    let b = state
        .repos
        .branches(&tenant, provider, &id, &request_id.0)
        .await?;
    Ok(Json(b).into_response())
}

/// Prometheus scrape endpoint (same service token as the API).
async fn metrics(State(state): State<Arc<ServiceApi>>) -> Response {
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
    Json(openapi::document(&st.base_path, &listing))
}
