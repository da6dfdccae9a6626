//! Fake GitHub and Gitee OAuth apps: authorize pages with Authorize and Cancel, token endpoints
//! that answer like the real ones (GitHub: HTTP 200 with an `error` field; Gitee: 401
//! `invalid_grant`, 403 without a `User-Agent`), and the user endpoints.
//!
//! GitHub web lives under `/github`, its API under `/github-api`; Gitee under `/gitee`
//! (API at `/gitee/api/v5`). Registered apps: see [`GITHUB_APP`] and [`GITEE_APP`].
//!
//! Consent decisions (`decision=` on the authorize page): `approve` (the requested scopes),
//! `approve-narrow` (GitHub `read:user`, Gitee `user_info`), `approve-no-hooks` (the requested
//! scopes without those that manage webhooks: GitHub `repo`, `admin:repo_hook`,
//! `write:repo_hook`, `read:repo_hook`; Gitee `hook`), Gitee's `approve-short*` / `approve-tiny`
//! (short-lived tokens), `deny`. The repository and webhook APIs are in `github_hooks` and
//! `gitee_hooks`.

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
    /// The scope an issued access token carries (GitHub comma-separated, Gitee space-separated).
    pub(crate) fn scope_of(&self, token: &str) -> Option<String> {
        let codes = self.codes.lock().unwrap();
        codes
            .get(&format!("token:{token}"))
            .map(|g| g.scope.clone())
    }

    fn next(&self, prefix: &str) -> String {
        let mut c = self.counter.lock().unwrap();
        *c += 1;
        format!("{prefix}{c:08}")
    }
}

mod gitee;
mod gitee_hooks;
mod github;
mod github_hooks;

pub use github_hooks::HOOK_LIMIT as GITHUB_HOOK_LIMIT;

use gitee::{gitee_authorize, gitee_stats, gitee_token, gitee_user};
use github::{github_authorize, github_revoke, github_token, github_user};

pub fn router(hooks: crate::hooks::Hooks) -> Router {
    let st = OAuthState::default();
    let github_hooks = github_hooks::routes(github_hooks::GithubHooks {
        oauth: st.clone(),
        hooks: hooks.clone(),
    });
    let gitee_hooks = gitee_hooks::routes(gitee_hooks::GiteeHooks {
        oauth: st.clone(),
        hooks,
    });
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
        .with_state(st)
        .merge(github_hooks)
        .merge(gitee_hooks)
}

/// Scopes that let a token manage a repository's webhooks (removed by `approve-no-hooks`).
const HOOK_SCOPES: &[&str] = &[
    "repo",
    "admin:repo_hook",
    "write:repo_hook",
    "read:repo_hook",
    "hook",
];

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

/// What the fake GitHub's and Gitee's authorize pages differ in.
struct Consent {
    title: &'static str,
    approve: &'static str,
    deny: &'static str,
    /// Whether the page also offers `approve-narrow` as a link (GitHub's "without repo").
    narrow_link: bool,
    /// The prefix of the codes it issues, and the scope `approve-narrow` grants.
    code_prefix: &'static str,
    narrow_scope: &'static str,
}

/// The authorize endpoint for a known client: the consent page, or the page's decision.
fn authorize(st: &OAuthState, uri: &axum::http::Uri, q: &AuthorizeQuery, c: &Consent) -> Response {
    if q.decision.is_some() {
        return decide(st, q, c.code_prefix, c.narrow_scope);
    }
    let raw = uri.query().unwrap_or("");
    let scopes = html_escape(&q.scope);
    let link = |d: &str| format!("?{raw}&decision={d}");
    let narrow = if c.narrow_link {
        format!(
            "<p><a class=\"button\" href=\"{}\">Authorize without repo</a></p>",
            html_escape(&link("approve-narrow"))
        )
    } else {
        String::new()
    };
    let (title, approve, deny) = (c.title, c.approve, c.deny);
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <h1>{title}</h1><p>CodeSource would like access to your account (scopes: <code>{scopes}</code>).</p>\
         <p><a class=\"button\" href=\"{}\">{approve}</a> <a class=\"button\" href=\"{}\">{deny}</a></p>{narrow}\
         </body></html>",
        html_escape(&link("approve")),
        html_escape(&link("deny")),
    ))
    .into_response()
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
            let scope = match d {
                "approve-narrow" => narrow_scope.to_string(),
                "approve-no-hooks" => q
                    .scope
                    .split([' ', ','])
                    .filter(|s| !s.is_empty() && !HOOK_SCOPES.contains(s))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => q.scope.clone(),
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

/// Takes a refresh token's grant: refresh tokens rotate, so each works once.
fn take_refresh(st: &OAuthState, refresh_token: &str) -> Option<Grant> {
    st.codes
        .lock()
        .unwrap()
        .remove(&format!("refresh:{refresh_token}"))
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
