//! HTTP: the axum router around the Leptos app, plus health endpoints and the middleware
//! stack every request passes (request id and logging, security headers, size limit,
//! identity, cross-site defence).

mod avatars;
mod base_path;
mod cors;
mod cross_site;
mod middleware;
pub mod oauth;
mod openapi;
mod openapi_fns;
mod server_fn_guard;
pub mod service_api;

pub use middleware::Auth;

use crate::store::BindingStore;
use app::api::service::{CookieAttributes, FramePolicy, Services};
use app::site::Site;
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
    /// Origins whose pages may mount the widget (CORS with credentials).
    pub widget_origins: Vec<String>,
    /// Everything is served under this prefix (`""`: at the root).
    pub base_path: String,
    /// The widget's files (Trunk's output).
    pub widget_dir: std::path::PathBuf,
    /// Whether the public URL is https (cookies get `Secure`).
    pub secure: bool,
    pub service_api: service_api::ServiceApi,
    /// Serves the avatars kept with bindings and pending accounts.
    pub avatars: Arc<crate::service::CodeSources>,
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
        message_origins: state
            .frame_ancestors
            .iter()
            .filter(|o| !o.contains('*'))
            .cloned()
            .collect(),
    };
    let cookies = CookieAttributes(cookie_attributes(&state));
    let site =
        Site::new(&state.base_path, false).with_embed_origins(frames.message_origins.clone());
    let context = {
        let frames = frames.clone();
        let site = site.clone();
        move || {
            provide_context(services.clone());
            provide_context(frames.clone());
            provide_context(cookies.clone());
            provide_context(site.clone());
        }
    };
    let store = state.store.clone();
    let app = Router::new()
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(leptos_options)
        .merge(oauth::routes(state.oauth))
        .merge(avatars::routes(state.avatars));

    let auth = state.auth.clone();
    let router = Router::new()
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
        // Public files, like /pkg/: the widget's code holds no data.
        .nest_service(
            "/widget",
            tower_http::services::ServeDir::new(&state.widget_dir),
        )
        // Identity and the cross-site check first; then only JSON bodies reach the server
        // functions (`server_fn_guard`).
        .merge(
            app.layer(axum::middleware::from_fn(server_fn_guard::guard))
                .layer(axum::middleware::from_fn_with_state(
                    auth,
                    middleware::authenticate,
                )),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn(
            server_fn_guard::too_large_as_api_error,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(frames),
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn(middleware::request_context));
    // Outermost, so preflight requests (which carry no identity) are answered before
    // authentication, and every answer to an allowed widget origin carries the CORS headers.
    let router = match cors::layer(&state.widget_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    if site.base.is_empty() {
        router
    } else {
        // The router inside sees paths without the prefix, so routes, assets and the Leptos
        // router stay the same; only URLs we hand out carry the prefix. (Not `nest`: it would
        // not serve `<base>/`, the address the console links to.)
        Router::new()
            .fallback_service(router)
            .layer(axum::middleware::from_fn_with_state(
                Arc::<str>::from(site.base.as_str()),
                base_path::strip_base_path,
            ))
    }
}

/// Path and `SameSite` of the cookies the app sets. A page framed by another site, or a widget
/// on one, only gets its cookies back with `SameSite=None`, which browsers accept only with
/// `Secure` (so only when the public URL is https).
fn cookie_attributes(state: &WebState) -> String {
    let path = if state.base_path.is_empty() {
        "/".to_string()
    } else {
        state.base_path.clone()
    };
    let embedded = !state.frame_ancestors.is_empty() || !state.widget_origins.is_empty();
    if embedded && state.secure {
        format!("Path={path}; SameSite=None; Secure")
    } else if state.secure {
        format!("Path={path}; SameSite=Lax; Secure")
    } else {
        format!("Path={path}; SameSite=Lax")
    }
}
