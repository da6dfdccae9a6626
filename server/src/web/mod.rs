//! HTTP: the axum router around the Leptos app, plus health endpoints and the middleware
//! stack every request passes (request id and logging, security headers, size limit,
//! identity, cross-site defence).

pub mod assets;
mod avatars;
mod base_path;
pub mod binding_counts;
mod compression;
mod cors;
mod cross_site;
mod hooks;
mod middleware;
pub mod oauth;
mod openapi_fns;
pub mod page_cache;
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
    /// The page's bundle, stylesheet and favicon (cargo-leptos' site root), in memory.
    pub site_assets: Arc<assets::AssetDir>,
    /// The widget's files (Trunk's output), in memory.
    pub widget_assets: Arc<assets::AssetDir>,
    /// Whether the public URL is https (cookies get `Secure`).
    pub secure: bool,
    pub service_api: service_api::ServiceApi,
    /// Serves the avatars kept with bindings and pending accounts.
    pub avatars: Arc<crate::service::CodeSources>,
    /// The webhook ingress.
    pub autobuild: Arc<crate::autobuild::AutoBuild>,
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
    let asset_urls = page_asset_urls(&leptos_options, &state.site_assets, &site);
    let context = {
        let frames = frames.clone();
        let site = site.clone();
        move || {
            provide_context(asset_urls.clone());
            provide_context(services.clone());
            provide_context(frames.clone());
            provide_context(cookies.clone());
            provide_context(site.clone());
        }
    };
    let store = state.store.clone();
    let page_cache = page_cache::PageCache::new(state.services.clone());
    let app = Router::new()
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        // Our files from memory; anything else is the app's 404 page.
        .fallback(with_assets(
            state.site_assets.clone(),
            leptos_axum::file_and_error_handler_with_context(context, shell),
        ))
        .with_state(leptos_options)
        .merge(oauth::routes(state.oauth))
        .merge(avatars::routes(state.avatars))
        // Inside `authenticate` (it needs the caller): `/` from memory when its data is unchanged.
        .layer(axum::middleware::from_fn_with_state(
            page_cache,
            page_cache::serve,
        ));

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
        .merge(
            Router::new()
                .route("/widget/", get(widget_file))
                .route("/widget/{*path}", get(widget_file))
                .with_state(state.widget_assets.clone()),
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
        // Pages, server-function answers, listings: compressed on the fly when the client takes
        // it and it pays (over 1 KiB). Assets come precompressed and are left alone.
        .layer(compression::layer())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn(
            server_fn_guard::too_large_as_api_error,
        ))
        // Outside the 64 KiB limit: deliveries are bounded by the ingress itself (1 MiB).
        .merge(hooks::routes(state.autobuild))
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

/// The hashed URLs of the page's bundle, stylesheet and favicon (plain ones for any file the
/// site root lacks, e.g. in tests without a build).
fn page_asset_urls(
    options: &LeptosOptions,
    assets: &assets::AssetDir,
    site: &Site,
) -> app::assets::AssetUrls {
    let pkg = &options.site_pkg_dir;
    let name = &options.output_name;
    let url = |path: String| site.url(&format!("/{}", assets.hashed(&path).unwrap_or(&path)));
    // cargo-leptos names the wasm `<name>.wasm`; a plain wasm-bindgen build `<name>_bg.wasm`.
    let wasm = [
        format!("{pkg}/{name}.wasm"),
        format!("{pkg}/{name}_bg.wasm"),
    ]
    .into_iter()
    .find(|p| assets.hashed(p).is_some())
    .unwrap_or_else(|| format!("{pkg}/{name}.wasm"));
    app::assets::AssetUrls {
        js: url(format!("{pkg}/{name}.js")),
        wasm: url(wasm),
        css: url(format!("{pkg}/{name}.css")),
        favicon: url("favicon.svg".into()),
        split_loader: assets
            .hashed(&format!("{pkg}/{}", app::assets::SPLIT_LOADER))
            .map(|hashed| site.url(&format!("/{hashed}"))),
    }
}

/// The app's fallback, with the site's files answered from memory first.
fn with_assets<H, F>(
    assets: Arc<assets::AssetDir>,
    handler: H,
) -> impl Fn(
    axum::http::Uri,
    axum::extract::State<LeptosOptions>,
    axum::extract::Request,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = axum::response::Response> + Send>>
       + Clone
       + Send
       + Sync
       + 'static
where
    H: Fn(axum::http::Uri, axum::extract::State<LeptosOptions>, axum::extract::Request) -> F
        + Clone
        + Send
        + Sync
        + 'static,
    F: std::future::Future<Output = axum::response::Response> + Send + 'static,
{
    move |uri, state, req| {
        let path = uri.path().trim_start_matches('/');
        match assets.respond(req.method(), path, req.headers()) {
            Some(resp) => Box::pin(std::future::ready(resp)),
            None => Box::pin(handler(uri, state, req)),
        }
    }
}

async fn widget_file(
    axum::extract::State(assets): axum::extract::State<Arc<assets::AssetDir>>,
    path: Option<axum::extract::Path<String>>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = path.map(|p| p.0).unwrap_or_else(|| "index.html".into());
    assets
        .respond(&method, &path, &headers)
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}
