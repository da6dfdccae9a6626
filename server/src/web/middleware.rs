//! Middleware: request ids and access logs, security headers, identity, cross-site defence.

use crate::identity::{IdentityError, IdentityVerifier, IDENTITY_COOKIE};
use crate::util::now_secs;
use app::api::service::{Caller, FramePolicy};
use app::api::{ApiError, TenantId};
use app::i18n::Msg;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The request id, available to handlers through request extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn request_context(mut req: Request, next: Next) -> Response {
    // Accept the console's id when it looks like one, so logs correlate across services.
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_string)
        .unwrap_or_else(|| random_hex(8));
    req.extensions_mut().insert(RequestId(id.clone()));
    let path = req.uri().path().to_string();
    // Set by the router before this layer runs (it wraps each route and the fallback); absent
    // for the fallback, so made-up paths share one metrics label.
    let matched = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), tenant = tracing::field::Empty);
    let start = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    crate::metrics::metrics().request(matched.as_deref(), &path, status);
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = start.elapsed().as_millis() as u64,
            "request finished"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Headers on every response. Pages set their own CSP (with the hydration script's nonce);
/// everything else gets a strict one. Everything but the public assets is personal: no-store.
pub async fn security_headers(
    State(frames): State<Arc<FramePolicy>>,
    req: Request,
    next: Next,
) -> Response {
    let public_asset = is_public_asset(req.uri().path());
    let widget_asset = req.uri().path().starts_with("/widget/");
    let avatar = req.uri().path().starts_with("/avatars/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // X-Frame-Options cannot name other origins; CSP frame-ancestors does the work then.
    if !frames.allow_cross_origin {
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    }
    // Every response says who may frame it: a policy without frame-ancestors gets ours.
    let csp = match h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    {
        None => Some(format!(
            "default-src 'none'; frame-ancestors {}",
            frames.frame_ancestors
        )),
        Some(own) if !own.contains("frame-ancestors") => {
            Some(format!("{own}; frame-ancestors {}", frames.frame_ancestors))
        }
        Some(_) => None,
    };
    if let Some(v) = csp.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if avatar && h.contains_key(header::CACHE_CONTROL) {
        // Avatars say themselves how they are cached (`private`: the viewer's browser only).
    } else if !public_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if widget_asset && !h.contains_key(header::CACHE_CONTROL) {
        // Files answer with their own caching (web/assets); anything else under /widget/
        // (a 404) is revalidated.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

fn is_public_asset(path: &str) -> bool {
    // `/favicon.<hash>.svg` too: the page links the hashed name (web/assets).
    path.starts_with("/pkg/") || path.starts_with("/widget/") || path.starts_with("/favicon.")
}

/// How callers are identified.
pub struct Auth {
    /// `None`: local mode.
    pub verifier: Option<IdentityVerifier>,
    /// When set, the only origin allowed to send state-changing requests.
    pub public_origin: Option<String>,
    /// Widget host origins: their requests are cross-site by design and allowed by name.
    pub widget_origins: Vec<String>,
    /// For the asset links of the plain pages we render here.
    pub base_path: String,
}

/// Authenticates every request to the app (pages and server functions) and rejects
/// cross-site state changes. Public assets pass through untouched.
pub async fn authenticate(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_public_asset(&path) {
        return next.run(req).await;
    }
    let is_api = path.starts_with("/api/");
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();

    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && !super::cross_site::allowed(
            req.headers(),
            auth.public_origin.as_deref(),
            &auth.widget_origins,
        )
    {
        tracing::warn!(
            outcome = "cross_site_refused",
            "refused a cross-site request"
        );
        return api_error(StatusCode::FORBIDDEN, &ApiError::CrossSite);
    }

    let caller = match &auth.verifier {
        None => Ok(Caller {
            user_id: "local-user".into(),
            user_name: "Local developer".into(),
            tenant: TenantId::parse("local").expect("a valid id"),
            local_mode: true,
            request_id,
        }),
        Some(v) => identity_token(req.headers())
            .ok_or(IdentityError::Missing)
            .and_then(|t| v.verify(&t, now_secs()))
            .and_then(|c| {
                // `verify` checked the id; the type says so from here on.
                let tenant = TenantId::parse(&c.tenant).ok_or(IdentityError::BadClaims)?;
                Ok(Caller {
                    user_name: c
                        .name
                        .clone()
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| c.sub.clone()),
                    user_id: c.sub,
                    tenant,
                    local_mode: false,
                    request_id,
                })
            }),
    };
    match caller {
        Ok(caller) => {
            tracing::Span::current().record("tenant", caller.tenant.as_str());
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => {
            tracing::info!(reason = %e, outcome = "unauthenticated", "request without a valid identity");
            if is_api {
                api_error(StatusCode::UNAUTHORIZED, &ApiError::Unauthenticated)
            } else {
                unauthorized_page(req.headers(), &auth.base_path)
            }
        }
    }
}

fn identity_token(h: &HeaderMap) -> Option<String> {
    if let Some(b) = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(b.trim().to_string());
    }
    cookie(h, IDENTITY_COOKIE)
}

pub fn cookie(h: &HeaderMap, name: &str) -> Option<String> {
    app::site::request_cookie(h, name).map(str::to_string)
}

fn api_error(status: StatusCode, err: &ApiError) -> Response {
    let body = serde_json::to_vec(err).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Random hex (request ids, nonces).
pub fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// A plain, translated 401 page: no app, no data.
fn unauthorized_page(h: &HeaderMap, base: &str) -> Response {
    let l = app::locale::from_headers(h);
    let html = format!(
        "<!DOCTYPE html><html class=\"cs-document\" lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"{base}/pkg/codesource.css\"></head>\
         <body class=\"cs-page\"><div class=\"cs-app\"><main class=\"page page-message\"><h1>{title}</h1><p>{body}</p></main></div></body></html>",
        lang = l.tag(),
        title = Msg::UnauthorizedTitle.text(l),
        body = Msg::UnauthorizedBody.text(l),
    );
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from(html),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        // frame-ancestors comes from `security_headers`: the console that frames the page may
        // show this one too.
        HeaderValue::from_static("default-src 'none'; style-src 'self'"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::cross_site::tests::headers;

    #[test]
    fn finds_the_identity_token() {
        assert_eq!(
            identity_token(&headers(&[("authorization", "Bearer abc")])).as_deref(),
            Some("abc")
        );
        assert_eq!(
            identity_token(&headers(&[("cookie", "a=1; console_identity=xyz; b=2")])).as_deref(),
            Some("xyz")
        );
        assert_eq!(
            identity_token(&headers(&[("cookie", "console_identityx=1")])),
            None
        );
    }
}
