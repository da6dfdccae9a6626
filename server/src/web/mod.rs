//! HTTP: the axum router around the Leptos app, plus health endpoints and the middleware
//! stack every request passes (request id and logging, security headers, size limit,
//! identity, cross-site defence).

mod middleware;
pub mod oauth;
mod openapi;
pub mod service_api;

pub use middleware::Auth;

use crate::store::BindingStore;
use app::api::service::{FramePolicy, Services};
use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;

/// Largest request body we accept (a GitLab check with a CA bundle is well below this).
pub const BODY_LIMIT: usize = 64 * 1024;

pub struct WebState {
    pub services: Services,
    pub store: Arc<dyn BindingStore>,
    pub auth: Arc<Auth>,
    pub oauth: oauth::OAuthRoutes,
    /// Origins (besides ours) allowed to frame the page.
    pub frame_ancestors: Vec<String>,
    pub service_api: service_api::ServiceApi,
}

pub fn router(leptos_options: LeptosOptions, state: WebState) -> Router {
    let routes = generate_route_list(App);
    let services = state.services.clone();
    let frames = FramePolicy {
        frame_ancestors: std::iter::once("'self'".to_string())
            .chain(state.frame_ancestors.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
        allow_cross_origin: !state.frame_ancestors.is_empty(),
    };
    let page_frames = frames.clone();
    let store = state.store.clone();
    let app = Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || {
                provide_context(services.clone());
                provide_context(page_frames.clone());
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        .merge(oauth::routes(state.oauth));

    let auth = state.auth.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let store = store.clone();
                async move {
                    if store.ready().await {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "store not ready")
                    }
                }
            }),
        )
        .merge(service_api::routes(state.service_api))
        .merge(app.layer(axum::middleware::from_fn_with_state(
            auth,
            middleware::authenticate,
        )))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(frames),
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn(middleware::request_context))
}
