//! The build service's REST API, beside the UI: credentials for a tenant's binding, described
//! by an OpenAPI document at `/api/openapi.json`. Authenticated with the service token (compared
//! in constant time); the console's identity tokens are not accepted here.

use super::middleware::RequestId;
use crate::credentials::{CredentialError, Credentials};
use crate::secret::SecretString;
use app::api::{Provider, TenantId};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

#[derive(Clone)]
pub struct ServiceApi {
    pub credentials: Arc<Credentials>,
    pub repos: Arc<crate::repositories::Repositories>,
    pub store: Arc<dyn crate::store::BindingStore>,
    /// `None`: the API is disabled (every call is refused).
    pub token: Option<Arc<SecretString>>,
    /// `CODESOURCE_BASE_PATH`: the document's server URL, so clients call `<base>/api/v1/…`.
    pub base_path: String,
    /// The bindings gauge of `/metrics`, counted at most once a minute.
    pub counts: Arc<super::binding_counts::BindingCounts>,
}

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
        .with_state(state)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
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
enum Refused {
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
    State(state): State<ServiceApi>,
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

fn repo_error(e: crate::repositories::RepoError, request_id: &str) -> Response {
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

async fn repositories(
    State(state): State<ServiceApi>,
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
        Some(Ok(p)) if (1..=10_000).contains(&p) => p,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "page must be a whole number from 1 to 10000.",
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
    State(state): State<ServiceApi>,
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
async fn metrics(State(state): State<ServiceApi>, headers: HeaderMap) -> Response {
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
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::metrics().render(&bindings),
    )
        .into_response()
}

fn credential_error(e: CredentialError, request_id: &str) -> Response {
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

async fn openapi(State(st): State<ServiceApi>) -> Json<serde_json::Value> {
    let listing: Vec<&str> = Provider::ALL
        .into_iter()
        .filter(|p| st.repos.lists(*p))
        .map(Provider::as_str)
        .collect();
    Json(super::openapi::document(&st.base_path, &listing))
}
