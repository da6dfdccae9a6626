//! OAuth routes, for every host that binds through OAuth: `/oauth/{host}/start` sends the
//! browser to the code host; `/oauth/{host}/callback` (one path per code host: mix-up
//! defence) finishes the flow
//! and reports to the page: to the opener by `postMessage` when it ran in a popup, else by
//! redirecting back to the table. Neither a code nor a token ever goes into a URL we make.

use super::middleware::cookie;
use crate::oauth_flow::{CallbackQuery, OAuthFlows};
use crate::service::CodeSources;
use app::api::service::Caller;
use app::api::{ApiError, BindMethod, PendingId, Provider};
use app::i18n::Msg;
use axum::extract::{Extension, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Clone)]
pub struct OAuthRoutes {
    pub flows: Arc<OAuthFlows>,
    pub calls: Arc<crate::host_calls::HostCalls>,
    pub service: Arc<CodeSources>,
    /// Add `Secure` to the flow cookie (the public URL is https).
    pub secure_cookies: bool,
    /// Our prefix: the flow cookie's path, the way back to the table, the page's assets.
    pub base_path: String,
    /// Widget host pages open the popup too: the result is posted to them as well.
    pub widget_origins: Vec<String>,
    /// Our public origin, for the cross-site check of a start (see `cross_site`).
    pub public_origin: Option<String>,
}

pub fn routes(state: OAuthRoutes) -> Router {
    let mut r = Router::new();
    // Every host that binds through OAuth (configured or not: an unconfigured one answers
    // `NotConfigured` on start, rather than a 404 that looks like a wrong link).
    let oauth_hosts = Provider::ALL
        .into_iter()
        .filter(|p| state.calls.host(*p).info().bind == BindMethod::OAuth);
    for p in oauth_hosts {
        r = r
            .route(
                &format!("/oauth/{}/start", p.as_str()),
                get(move |s, c, q, h| start(p, s, c, q, h)),
            )
            .route(
                &format!("/oauth/{}/callback", p.as_str()),
                get(move |s, c, q, h| callback(p, s, c, q, h)),
            );
    }
    r.with_state(state)
}

fn flow_cookie(p: Provider) -> String {
    format!("cs_oauth_{}", p.as_str())
}

/// `Set-Cookie` for the flow cookie (`max_age` 0 clears it, with the same attributes). Lax is
/// enough: the popup (or tab) is a top-level window on our site.
fn flow_cookie_header(st: &OAuthRoutes, provider: Provider, value: &str, max_age: u32) -> String {
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    format!(
        "{}={value}; Path={}/oauth/{}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        flow_cookie(provider),
        st.base_path,
        provider.as_str()
    )
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    mode: Option<String>,
    /// `hooks`: ask for the scopes auto-build needs too (the page's way out of a missing
    /// hook scope).
    #[serde(default)]
    scope: Option<String>,
}

async fn start(
    provider: Provider,
    State(st): State<OAuthRoutes>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<StartQuery>,
    headers: HeaderMap,
) -> Response {
    let popup = q.mode.as_deref() != Some("redirect");
    // A start changes state (a flow replaces the oldest of the tenant's, and the browser's
    // flow cookie): only our own page, or a widget host page, may start one. Another site
    // navigating the user here is refused like any cross-site request.
    if !super::cross_site::allowed(&headers, st.public_origin.as_deref(), &st.widget_origins) {
        tracing::warn!(
            outcome = "cross_site_refused",
            "refused a cross-site OAuth start"
        );
        let mut resp = result_page(&st, provider, popup, Err(ApiError::CrossSite), &headers);
        *resp.status_mut() = StatusCode::FORBIDDEN;
        return resp;
    }
    let hooks = q.scope.as_deref() == Some("hooks");
    match st.flows.start(&caller, provider, popup, hooks).await {
        Ok((url, browser)) => {
            let cookie = flow_cookie_header(&st, provider, &browser, 600);
            let mut resp = StatusCode::SEE_OTHER.into_response();
            let h = resp.headers_mut();
            if let (Ok(loc), Ok(c)) = (HeaderValue::from_str(&url), HeaderValue::from_str(&cookie))
            {
                h.insert(header::LOCATION, loc);
                h.insert(header::SET_COOKIE, c);
            }
            resp
        }
        Err(e) => result_page(&st, provider, popup, Err(e), &headers),
    }
}

async fn callback(
    provider: Provider,
    State(st): State<OAuthRoutes>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let browser = cookie(&headers, &flow_cookie(provider));
    let finished = st
        .flows
        .finish(&caller, provider, &q, browser.as_deref())
        .await;
    let outcome = match finished.result {
        Ok(a) => {
            let extra = finished.extra_scopes.iter().map(String::as_str);
            let asked: Vec<&str> = st
                .flows
                .scopes(provider)
                .iter()
                .copied()
                .chain(extra)
                .collect();
            st.service
                .add_authorized(&caller, provider, a, &asked)
                .await
        }
        Err(e) => Err(e),
    };
    let mut resp = result_page(&st, provider, finished.popup, outcome, &headers);
    let clear = flow_cookie_header(&st, provider, "", 0);
    if let Ok(c) = HeaderValue::from_str(&clear) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// Where the table picks the result up in the redirect flow.
fn table_url(base: &str, provider: Provider, outcome: &Result<PendingId, ApiError>) -> String {
    match outcome {
        Ok(id) => format!("{base}/?oauth={}&pending={id}", provider.as_str()),
        Err(e) => format!(
            "{base}/?oauth={}&error={}",
            provider.as_str(),
            crate::util::query_encode(&serde_json::to_string(e).unwrap_or_default())
        ),
    }
}

/// The callback's page. In a popup it posts the result to its opener (our origin, or a widget
/// host origin: the browser delivers to whichever the opener is at) and closes; without an
/// opener it sends the browser back to the table, or, if it was a popup whose opener link the
/// code host cut, says it may be closed (the table then looks the result up itself).
fn result_page(
    st: &OAuthRoutes,
    provider: Provider,
    popup: bool,
    outcome: Result<PendingId, ApiError>,
    headers: &HeaderMap,
) -> Response {
    let locale = app::locale::from_headers(headers);
    let target = table_url(&st.base_path, provider, &outcome);
    let openers: Vec<&str> = std::iter::once("self")
        .chain(st.widget_origins.iter().map(String::as_str))
        .collect();
    let message = serde_json::json!({
        "type": "codesource-oauth",
        "provider": provider.as_str(),
        "pending": outcome.as_ref().ok(),
        "error": outcome.as_ref().err(),
    })
    .to_string();
    let nonce = super::middleware::random_hex(16);
    // JSON inside <script>: escape `<` so no value can close the element.
    let js = |v: &str| {
        serde_json::to_string(v)
            .unwrap_or_default()
            .replace('<', "\\u003c")
    };
    let script = format!(
        "(function(){{var m={msg};var t={target};var o={openers};\
         if(window.opener&&!window.opener.closed){{try{{o.forEach(function(x){{window.opener.postMessage(m,x==='self'?location.origin:x);}});window.close();return;}}catch(e){{}}}}\
         if(!{popup}){{location.replace(t);}}}})();",
        msg = js(&message),
        target = js(&target),
        openers = serde_json::to_string(&openers)
            .unwrap_or_default()
            .replace('<', "\\u003c"),
    );
    let title = Msg::OAuthDoneTitle.text(locale);
    let html = format!(
        "<!DOCTYPE html><html class=\"cs-document\" lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"{base}/pkg/codesource.css\"><link rel=\"icon\" type=\"image/svg+xml\" href=\"{base}/favicon.svg\"></head>\
         <body class=\"cs-page\"><div class=\"cs-app\"><main class=\"page page-message\"><h1>{title}</h1><p>{body}</p><p><a href=\"{href}\">{back}</a></p></main></div>\
         <script nonce=\"{nonce}\">{script}</script></body></html>",
        lang = locale.tag(),
        body = Msg::OAuthDoneBody.text(locale),
        href = target.replace('&', "&amp;").replace('"', "&quot;"),
        back = Msg::OAuthBackLink.text(locale),
        base = st.base_path,
    );
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    );
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}
