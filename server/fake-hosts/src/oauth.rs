//! Fake GitHub and Gitee OAuth apps: authorize pages with Authorize and Cancel, token endpoints
//! that answer like the real ones (GitHub: HTTP 200 with an `error` field; Gitee: 401
//! `invalid_grant`, 403 without a `User-Agent`), and the user endpoints.
//!
//! GitHub web lives under `/github`, its API under `/github-api`; Gitee under `/gitee`
//! (API at `/gitee/api/v5`). Registered apps: see [`GITHUB_APP`] and [`GITEE_APP`].

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// (client id, client secret) of the fake GitHub OAuth app.
pub const GITHUB_APP: (&str, &str) = ("fake-github-client", "fake-github-secret");
/// (client id, client secret) of the fake Gitee OAuth app.
pub const GITEE_APP: (&str, &str) = ("fake-gitee-client", "fake-gitee-secret");

#[derive(Clone)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
    /// Gitee: the access token lasts a minute (to exercise refreshing).
    short: bool,
    /// Gitee: the refresh token is already revoked (`invalid_grant` on refresh).
    dead_refresh: bool,
    /// Gitee: refreshing fails with a 502 (the host is having a bad day).
    flaky: bool,
    /// Gitee (`approve-short-slow`): the next refresh waits [`SLOW_REFRESH`] before it takes
    /// the refresh token, so a caller that dies meanwhile leaves the token usable.
    slow: bool,
    /// Gitee (`approve-tiny`): every refreshed access token lives two minutes, less than the
    /// five minutes the credential API promises (a host with short-lived tokens).
    tiny: bool,
}

/// How long a slow refresh waits before taking the refresh token.
pub const SLOW_REFRESH: std::time::Duration = std::time::Duration::from_secs(4);

#[derive(Clone, Default)]
pub struct OAuthState {
    codes: Arc<Mutex<HashMap<String, Grant>>>,
    counter: Arc<Mutex<u64>>,
    refreshes: Arc<Mutex<u64>>,
    /// Refresh requests received (whatever became of them).
    refresh_requests: Arc<Mutex<u64>>,
    /// Slow refreshes whose caller went away during the wait (axum dropped the handler).
    slow_abandoned: Arc<Mutex<u64>>,
}

impl OAuthState {
    fn next(&self, prefix: &str) -> String {
        let mut c = self.counter.lock().unwrap();
        *c += 1;
        format!("{prefix}{c:08}")
    }
}

pub fn router() -> Router {
    Router::new()
        .route("/github/login/oauth/authorize", get(github_authorize))
        .route("/github/login/oauth/access_token", post(github_token))
        .route("/github-api/user", get(github_user))
        .route(
            "/github-api/applications/{client_id}/grant",
            axum::routing::delete(github_revoke),
        )
        .route("/gitee/oauth/authorize", get(gitee_authorize))
        .route("/gitee/oauth/token", post(gitee_token))
        .route("/gitee/api/v5/user", get(gitee_user))
        .route("/gitee/__stats", get(gitee_stats))
        .with_state(OAuthState::default())
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// Set by the page's buttons: `approve`, `approve-narrow` (without the repository scope), `deny`.
    decision: Option<String>,
}

fn page(
    title: &str,
    app: &str,
    q: &AuthorizeQuery,
    raw: &str,
    approve: &str,
    deny: &str,
    narrow: bool,
) -> Html<String> {
    let scopes = html_escape(&q.scope);
    let link = |d: &str| format!("?{raw}&decision={d}");
    let narrow = if narrow {
        format!(
            "<p><a class=\"button\" href=\"{}\">Authorize without repo</a></p>",
            html_escape(&link("approve-narrow"))
        )
    } else {
        String::new()
    };
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <h1>{title}</h1><p>{app} would like access to your account (scopes: <code>{scopes}</code>).</p>\
         <p><a class=\"button\" href=\"{}\">{approve}</a> <a class=\"button\" href=\"{}\">{deny}</a></p>{narrow}\
         </body></html>",
        html_escape(&link("approve")),
        html_escape(&link("deny")),
    ))
}

pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    format!("{uri}{sep}{}", q.join("&"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decide(st: &OAuthState, q: &AuthorizeQuery, prefix: &str, narrow_scope: &str) -> Response {
    match q.decision.as_deref() {
        Some("deny") => Redirect::to(&with_params(
            &q.redirect_uri,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The user has denied your application access.",
                ),
                ("state", &q.state),
            ],
        ))
        .into_response(),
        Some(d) => {
            let code = st.next(prefix);
            let scope = if d == "approve-narrow" {
                narrow_scope.to_string()
            } else {
                q.scope.clone()
            };
            let challenge = q
                .code_challenge
                .clone()
                .filter(|_| q.code_challenge_method.as_deref() == Some("S256"));
            st.codes.lock().unwrap().insert(
                code.clone(),
                Grant {
                    client_id: q.client_id.clone(),
                    redirect_uri: q.redirect_uri.clone(),
                    challenge,
                    scope,
                    short: d.starts_with("approve-short") || d == "approve-tiny",
                    tiny: d == "approve-tiny",
                    dead_refresh: d == "approve-short-dead",
                    flaky: d == "approve-short-flaky",
                    slow: d == "approve-short-slow",
                },
            );
            Redirect::to(&with_params(
                &q.redirect_uri,
                &[("code", &code), ("state", &q.state)],
            ))
            .into_response()
        }
        None => unreachable!(),
    }
}

async fn github_authorize(
    State(st): State<OAuthState>,
    uri: axum::http::Uri,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    if q.client_id != GITHUB_APP.0 {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    if q.decision.is_none() {
        let raw = uri.query().unwrap_or("");
        return page(
            "Authorize CodeSource",
            "CodeSource",
            &q,
            raw,
            "Authorize",
            "Cancel",
            true,
        )
        .into_response();
    }
    decide(&st, &q, "ghcode", "read:user")
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    grant_type: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    code_verifier: Option<String>,
}

fn github_error(error: &str, description: &str) -> Response {
    // GitHub answers token errors with HTTP 200.
    Json(json!({"error": error, "error_description": description, "error_uri": format!("https://docs.github.com/apps/troubleshooting#{error}")}))
        .into_response()
}

async fn github_token(State(st): State<OAuthState>, Form(f): Form<TokenForm>) -> Response {
    if f.client_id != GITHUB_APP.0 || f.client_secret != GITHUB_APP.1 {
        return github_error(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    if f.grant_type.as_deref() == Some("refresh_token") {
        return github_refresh(&st, f.refresh_token.as_deref().unwrap_or(""));
    }
    let Some(grant) = st.codes.lock().unwrap().remove(&f.code) else {
        return github_error(
            "bad_verification_code",
            "The code passed is incorrect or expired.",
        );
    };
    if grant.redirect_uri != f.redirect_uri {
        return github_error(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        );
    }
    if let Some(challenge) = grant.challenge {
        if f.code_verifier.as_deref().map(s256) != Some(challenge) {
            return github_error(
                "bad_verification_code",
                "The code passed is incorrect or expired.",
            );
        }
    }
    github_tokens(&st, &grant.scope.replace(' ', ","), grant.short)
}

/// A GitHub token; `expiring` imitates a GitHub App user token (expires, rotating refresh token).
fn github_tokens(st: &OAuthState, scope: &str, expiring: bool) -> Response {
    let token = st.next("gho_fake-");
    let mut codes = st.codes.lock().unwrap();
    codes.insert(
        format!("token:{token}"),
        Grant {
            scope: scope.to_string(),
            ..grant_blank()
        },
    );
    if !expiring {
        return Json(json!({"access_token": token, "token_type": "bearer", "scope": scope}))
            .into_response();
    }
    let refresh = st.next("ghr_fake-");
    codes.insert(
        format!("refresh:{refresh}"),
        Grant {
            scope: scope.to_string(),
            ..grant_blank()
        },
    );
    Json(json!({
        "access_token": token, "token_type": "bearer", "scope": scope,
        "expires_in": 60,
        "refresh_token": refresh, "refresh_token_expires_in": 15_897_600
    }))
    .into_response()
}

/// Takes a refresh token's grant: refresh tokens rotate, so each works once.
fn take_refresh(st: &OAuthState, refresh_token: &str) -> Option<Grant> {
    st.codes
        .lock()
        .unwrap()
        .remove(&format!("refresh:{refresh_token}"))
}

/// GitHub App user-token refresh: HTTP 200 with `bad_refresh_token` when it is unknown.
fn github_refresh(st: &OAuthState, refresh_token: &str) -> Response {
    let grant = take_refresh(st, refresh_token);
    let Some(grant) = grant else {
        return github_error(
            "bad_refresh_token",
            "The refresh token passed is incorrect or expired.",
        );
    };
    *st.refreshes.lock().unwrap() += 1;
    let token = st.next("gho_fake-");
    let refresh = st.next("ghr_fake-");
    let mut codes = st.codes.lock().unwrap();
    codes.insert(
        format!("token:{token}"),
        Grant {
            scope: grant.scope.clone(),
            ..grant_blank()
        },
    );
    codes.insert(
        format!("refresh:{refresh}"),
        Grant {
            scope: grant.scope.clone(),
            ..grant_blank()
        },
    );
    Json(json!({
        "access_token": token, "token_type": "bearer", "scope": grant.scope,
        "expires_in": 28_800, "refresh_token": refresh, "refresh_token_expires_in": 15_897_600
    }))
    .into_response()
}

fn grant_blank() -> Grant {
    Grant {
        flaky: false,
        slow: false,
        tiny: false,
        short: false,
        dead_refresh: false,
        client_id: String::new(),
        redirect_uri: String::new(),
        challenge: None,
        scope: String::new(),
    }
}

/// PKCE S256: BASE64URL(SHA256(verifier)).
fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn bearer(h: &HeaderMap) -> Option<String> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    matches!(scheme.to_ascii_lowercase().as_str(), "bearer" | "token")
        .then(|| token.trim().to_string())
}

async fn github_user(State(st): State<OAuthState>, h: HeaderMap) -> Response {
    if !h.contains_key(header::USER_AGENT) {
        return (StatusCode::FORBIDDEN, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.").into_response();
    }
    let scope = bearer(&h).and_then(|t| {
        st.codes
            .lock()
            .unwrap()
            .get(&format!("token:{t}"))
            .map(|g| g.scope.clone())
    });
    let Some(scope) = scope else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}))).into_response();
    };
    let scopes = scope
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    (
        [("x-oauth-scopes", scopes), ("x-accepted-oauth-scopes", String::new()), ("x-github-media-type", "github.v3".into())],
        Json(json!({
            "login": "octo-alice", "id": 583231, "name": "Octo Alice", "type": "User",
            "avatar_url": format!("http://{host}/avatars/alice.png"), "html_url": "https://github.com/octo-alice"
        })),
    )
        .into_response()
}

/// `DELETE /applications/{client_id}/grant`: Basic auth with the app's id and secret, the token
/// in a JSON body; 204, and the token stops working.
async fn github_revoke(
    State(st): State<OAuthState>,
    axum::extract::Path(client_id): axum::extract::Path<String>,
    h: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Response {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", GITHUB_APP.0, GITHUB_APP.1))
    );
    let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if client_id != GITHUB_APP.0 || auth != Some(expected.as_str()) {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization"}))).into_response();
    }
    let token = body["access_token"].as_str().unwrap_or_default();
    let removed = st.codes.lock().unwrap().remove(&format!("token:{token}"));
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": "Validation Failed"})),
        )
            .into_response(),
    }
}

async fn gitee_authorize(
    State(st): State<OAuthState>,
    uri: axum::http::Uri,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    if q.client_id != GITEE_APP.0 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_client", "error_description": "client_id 无效"})),
        )
            .into_response();
    }
    if q.decision.is_none() {
        let raw = uri.query().unwrap_or("");
        return page(
            "授权 CodeSource",
            "CodeSource",
            &q,
            raw,
            "同意授权",
            "取消",
            false,
        )
        .into_response();
    }
    decide(&st, &q, "gteecode", "user_info")
}

fn gitee_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn gitee_token(
    State(st): State<OAuthState>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    if !h.contains_key(header::USER_AGENT) {
        return (
            StatusCode::FORBIDDEN,
            Html("<html><body><h1>403 Forbidden</h1></body></html>"),
        )
            .into_response();
    }
    // Gitee takes the parameters in the query string or in the form body.
    let mut params: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    params.extend(q);
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    if get("client_id") != GITEE_APP.0 || get("client_secret") != GITEE_APP.1 {
        return gitee_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.");
    }
    if get("grant_type") == "refresh_token" {
        return gitee_refresh(&st, &get("refresh_token")).await;
    }
    if get("grant_type") != "authorization_code" {
        return gitee_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    let grant = st.codes.lock().unwrap().remove(&get("code"));
    let Some(grant) =
        grant.filter(|g| g.redirect_uri == get("redirect_uri") && g.client_id == GITEE_APP.0)
    else {
        return gitee_error(StatusCode::UNAUTHORIZED, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.");
    };
    gitee_tokens(
        &st,
        &grant.scope,
        grant.short,
        grant.dead_refresh,
        grant.flaky,
        grant.slow,
        grant.tiny,
    )
}

/// Issues an access/refresh pair (the refresh token is remembered unless it is born dead).
fn gitee_tokens(
    st: &OAuthState,
    scope: &str,
    short: bool,
    dead_refresh: bool,
    flaky: bool,
    slow: bool,
    tiny: bool,
) -> Response {
    let token = st.next("gitee-fake-access-");
    let refresh = st.next("gitee-fake-refresh-");
    let mut codes = st.codes.lock().unwrap();
    codes.insert(
        format!("token:{token}"),
        Grant {
            scope: scope.to_string(),
            ..grant_blank()
        },
    );
    if !dead_refresh {
        codes.insert(
            format!("refresh:{refresh}"),
            Grant {
                scope: scope.to_string(),
                flaky,
                slow,
                tiny,
                ..grant_blank()
            },
        );
    }
    let expires_in = match (tiny, short) {
        (true, _) => 120,
        (false, true) => 60,
        (false, false) => 86400,
    };
    Json(json!({
        "access_token": token, "token_type": "bearer", "expires_in": expires_in,
        "refresh_token": refresh, "scope": scope, "created_at": 1764000000
    }))
    .into_response()
}

/// `grant_type=refresh_token`: the refresh token rotates (the old one stops working).
async fn gitee_refresh(st: &OAuthState, refresh_token: &str) -> Response {
    *st.refresh_requests.lock().unwrap() += 1;
    // Only the next refresh of a slow grant is slow (the flag is taken, the grant stays).
    let slow = st
        .codes
        .lock()
        .unwrap()
        .get_mut(&format!("refresh:{refresh_token}"))
        .is_some_and(|g| std::mem::take(&mut g.slow));
    if slow {
        // When the caller's connection closes, hyper drops this future mid-sleep: the guard
        // counts that, and the refresh token is never taken.
        let mut guard = CountOnDrop(Some(st.slow_abandoned.clone()));
        tokio::time::sleep(SLOW_REFRESH).await;
        guard.0 = None;
    }
    let grant = take_refresh(st, refresh_token);
    let Some(grant) = grant else {
        return gitee_error(StatusCode::UNAUTHORIZED, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.");
    };
    if grant.flaky {
        // Still valid: a later attempt could succeed.
        st.codes
            .lock()
            .unwrap()
            .insert(format!("refresh:{refresh_token}"), grant);
        return (
            StatusCode::BAD_GATEWAY,
            Html("<html><body><h1>502 Bad Gateway</h1></body></html>"),
        )
            .into_response();
    }
    *st.refreshes.lock().unwrap() += 1;
    gitee_tokens(st, &grant.scope, false, false, false, false, grant.tiny)
}

/// Adds one to its counter when dropped, unless disarmed (its `Option` emptied).
struct CountOnDrop(Option<Arc<Mutex<u64>>>);

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            *c.lock().unwrap() += 1;
        }
    }
}

/// Test counters: refreshes Gitee performed, refresh requests received, slow refreshes whose
/// caller went away mid-wait.
async fn gitee_stats(State(st): State<OAuthState>) -> Json<serde_json::Value> {
    Json(json!({
        "refreshes": *st.refreshes.lock().unwrap(),
        "refresh_requests": *st.refresh_requests.lock().unwrap(),
        "slow_abandoned": *st.slow_abandoned.lock().unwrap(),
    }))
}

async fn gitee_user(
    State(st): State<OAuthState>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = bearer(&h).or_else(|| q.get("access_token").cloned());
    let known = token.is_some_and(|t| st.codes.lock().unwrap().contains_key(&format!("token:{t}")));
    if !known {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "401 Unauthorized: Access token does not exist"})),
        )
            .into_response();
    }
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    Json(json!({
        "id": 1234567, "login": "gitee-bob", "name": "码云 Bob", "avatar_url": format!("http://{host}/avatars/bob.svg"),
        "html_url": "https://gitee.com/gitee-bob", "type": "User"
    }))
    .into_response()
}
