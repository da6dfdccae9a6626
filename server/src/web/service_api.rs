//! The build service's REST API, beside the UI: credentials for a tenant's binding, described
//! by an OpenAPI document at `/api/openapi.json`. Authenticated with the service token (compared
//! in constant time); the console's identity tokens are not accepted here.

use super::middleware::RequestId;
use crate::credentials::{CredentialError, Credentials};
use crate::identity::valid_id;
use crate::secret::SecretString;
use app::api::Provider;
use axum::extract::{Extension, Path, State};
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
    pub store: Arc<dyn crate::store::BindingStore>,
    /// `None`: the API is disabled (every call is refused).
    pub token: Option<Arc<SecretString>>,
}

pub fn routes(state: ServiceApi) -> Router {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
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
    if !valid_id(&tenant) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            "The tenant id is not valid.",
        );
    }
    let Some(provider) = Provider::parse(&provider) else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_provider",
            "Unknown code source: use devcloud, github, gitlab or gitee.",
        );
    };
    match state.credentials.credential(&tenant, provider, &request_id.0).await {
        Ok(c) => Json(c).into_response(),
        Err(CredentialError::NotBound) => error(StatusCode::NOT_FOUND, "not_bound", "The tenant has not bound this code source."),
        Err(CredentialError::NeedsReauthorization(reason)) => (
            StatusCode::CONFLICT,
            Json(json!({"error": "reauthorization_required", "message": "The binding must be re-authorized by the tenant on the code source page.", "reason": reason})),
        )
            .into_response(),
        Err(CredentialError::RefreshUnavailable) => {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "refresh_unavailable", "The code host could not refresh the token; try again shortly.");
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
            r
        }
        Err(CredentialError::Internal(e)) => {
            tracing::error!(request_id = %request_id.0, error = format!("{e:#}"), "issuing a credential failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", &format!("Internal error; request id {}.", request_id.0))
        }
    }
}

/// Prometheus scrape endpoint (same service token as the API).
async fn metrics(State(state): State<ServiceApi>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    let mut bindings = std::collections::BTreeMap::new();
    match state.store.all().await {
        Ok(all) => {
            for b in all {
                let status = if b.reauth_reason.is_some() {
                    "needs_reauthorization"
                } else {
                    "bound"
                };
                *bindings
                    .entry((b.provider.as_str().to_string(), status.to_string()))
                    .or_insert(0u64) += 1;
            }
        }
        Err(e) => tracing::error!(error = %e, "metrics: listing bindings failed"),
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

async fn openapi() -> Json<serde_json::Value> {
    Json(openapi_document())
}

/// The API description (OpenAPI 3.0).
pub fn openapi_document() -> serde_json::Value {
    let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Code Source Binding: build service API", "version": env!("CARGO_PKG_VERSION")},
        "paths": {
            "/api/v1/tenants/{tenant}/code-sources/{provider}/credential": {
                "get": {
                    "summary": "A credential for the tenant's binding, valid for at least 5 more minutes",
                    "operationId": "getCredential",
                    "security": [{"serviceToken": []}],
                    "parameters": [
                        {"name": "tenant", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._@:-]{1,128}$"}},
                        {"name": "provider", "in": "path", "required": true, "schema": {"type": "string", "enum": ["devcloud", "github", "gitlab", "gitee"]}}
                    ],
                    "responses": {
                        "200": {"description": "The credential", "headers": {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}},
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Credential"}}}},
                        "400": err("The tenant id is not valid"),
                        "401": err("No service token"),
                        "403": err("Wrong service token"),
                        "404": err("Not bound, or unknown code source"),
                        "409": {"description": "The binding needs re-authorization", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reauthorization"}}}},
                        "500": err("Internal error"),
                        "503": err("The code host could not refresh the token right now; retry later")
                    }
                }
            }
        },
        "components": {
            "securitySchemes": {"serviceToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Credential": {
                    "type": "object",
                    "required": ["provider", "base_url", "account"],
                    "properties": {
                        "provider": {"type": "string", "enum": ["devcloud", "github", "gitlab", "gitee"]},
                        "base_url": {"type": "string"},
                        "api_url": {"type": "string", "nullable": true},
                        "account": {"type": "string"},
                        "access_token": {"type": "string", "nullable": true, "description": "Absent for DevCloud (the tenant's cloud account is used)"},
                        "expires_at": {"type": "integer", "format": "int64", "nullable": true, "description": "Unix seconds"},
                        "git_username": {"type": "string", "nullable": true, "description": "Username for git over HTTPS (GitLab: oauth2, GitHub: x-access-token, Gitee: the login)"},
                        "ca_pem": {"type": "string", "nullable": true, "description": "CA certificate of a private GitLab"}
                    }
                },
                "Error": {"type": "object", "required": ["error", "message"], "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
                "Reauthorization": {"type": "object", "required": ["error", "reason"], "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "reason": {"type": "string"}}}
            }
        }
    })
}
