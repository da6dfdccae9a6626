//! Serving under a path prefix (`CODESOURCE_BASE_PATH`): the prefix is taken off before routing,
//! so routes, assets and the Leptos router stay the same inside; URLs we hand out add it back
//! (see `app::site`).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Serves the app under `base`: `<base>` and `<base>/…` reach the app as `/` and `/…`;
/// anything else is not ours (404).
pub async fn strip_base_path(
    State(base): State<Arc<str>>,
    mut req: Request,
    next: Next,
) -> Response {
    let uri = req.uri();
    let Some(rest) = uri.path().strip_prefix(&*base) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        // `/console/code-sourcesX` is not under `/console/code-sources`.
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    match path_and_query.parse() {
        Ok(pq) => parts.path_and_query = Some(pq),
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    }
    match axum::http::Uri::from_parts(parts) {
        Ok(u) => *req.uri_mut() = u,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    }
    next.run(req).await
}
