//! Fake Bitbucket Cloud: the OAuth 2.0 consumer flow under `/bitbucket` (so
//! `CODESOURCE_BITBUCKET_URL=<fake>/bitbucket`) and REST API 2.0 under `/bitbucket-api`
//! (`CODESOURCE_BITBUCKET_API_URL=<fake>/bitbucket-api`). The API part is in `bitbucket/api.rs`.
//!
//! Wire formats follow Bitbucket's documentation and, where the documentation is silent (error
//! bodies), answers observed from the real service and quoted in public bug reports:
//! - OAuth: <https://developer.atlassian.com/cloud/bitbucket/oauth-2/> (authorize and
//!   access_token URLs, `-u client_id:secret` Basic client authentication, tokens that last two
//!   hours, refresh with `grant_type=refresh_token`; scopes belong to the consumer, not the
//!   request). Token answer `{"scopes","access_token","expires_in":7200,"token_type":"bearer",
//!   "state":"authorization_code","refresh_token"}` as in terrakube-io/terrakube#47. Token errors
//!   are HTTP 400: `unauthorized_client` "Invalid OAuth client credentials" (harness/harness#1650),
//!   "Client credentials missing; …" (laravel/socialite#213), `invalid_grant` "Unsupported grant
//!   type: …" (bitbucket.org/site/master/issues/16249), `invalid_request` "Invalid refresh_token"
//!   (readthedocs/readthedocs.org#2992).
//! - API errors `{"type":"error","error":{"message":…}}`: see `bitbucket/api.rs`.
//!
//! Consumer: [`BITBUCKET_APP`]. The fake consumer has no callback URL registered, so the
//! authorize request must carry `redirect_uri` (Bitbucket accepts one under the registered URL).
//! Authorize page decisions (`decision=`): `approve` (two-hour token, scopes
//! "account repository"), `approve-narrow` (scopes "account"), `approve-short` (the access token
//! expires after 60 s), `approve-short-dead` (60 s, and refreshing fails), `deny`,
//! `approve-webhook` (scopes "account repository webhook", what hook management needs).
//! Static API tokens: [`BITBUCKET_TOKENS`]. Repository refs and webhooks: `bitbucket/hooks.rs`. `GET /bitbucket/__stats`: refresh counters;
//! `GET /bitbucket/__log`: requests with their `Authorization` header.

mod api;
mod hooks;
#[cfg(test)]
mod tests;
mod token;

use crate::oauth::html_escape;
use crate::support::{record, show_log, AuthLog};
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// (key, secret) of the fake OAuth consumer.
pub const BITBUCKET_APP: (&str, &str) = ("fake-bitbucket-client", "fake-bitbucket-secret");

/// Fixed API tokens (besides those the OAuth flow issues) and what they stand for.
pub const BITBUCKET_TOKENS: &[(&str, &str)] = &[
    (
        "bitbucket-fake-alice",
        "bb-alice, scopes account + repository, never expires",
    ),
    (
        "bitbucket-fake-account-only",
        "scope account only: 403 on repositories",
    ),
    (
        "bitbucket-fake-repo-only",
        "scope repository only: 403 on /2.0/user",
    ),
    (
        "bitbucket-fake-hooks",
        "bb-alice, scopes account + repository + webhook (manages webhooks), never expires",
    ),
    ("bitbucket-fake-expired", "401 Access token expired."),
    (
        "bitbucket-fake-ratelimit",
        "429 Rate limit for this resource has been exceeded",
    ),
];

const FULL_SCOPES: &str = "account repository";
const HOOK_SCOPES: &str = "account repository webhook";
const TWO_HOURS: u64 = 7200;
const SHORT: u64 = 60;

#[derive(Clone)]
struct Code {
    redirect_uri: String,
    scopes: &'static str,
    short: bool,
    dead_refresh: bool,
}

/// What an access token grants, and until when.
#[derive(Clone)]
pub(crate) struct Access {
    pub scopes: String,
    pub expires: Option<Instant>,
}

#[derive(Default)]
struct Inner {
    counter: u64,
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    /// Refresh token → scopes. Bitbucket refresh tokens do not rotate: the same one keeps working.
    refresh: HashMap<String, &'static str>,
    refreshes: u64,
    refresh_requests: u64,
}

#[derive(Clone, Default)]
pub(crate) struct Bitbucket(Arc<Mutex<Inner>>);

impl Bitbucket {
    fn next(inner: &mut Inner, prefix: &str) -> String {
        inner.counter += 1;
        format!("{prefix}{:08}", inner.counter)
    }

    /// The grant behind an access token (issued by the flow, or a fixed one with no expiry).
    pub(crate) fn access(&self, token: &str) -> Option<Access> {
        let fixed = match token {
            "bitbucket-fake-alice" => Some(FULL_SCOPES),
            "bitbucket-fake-hooks" => Some(HOOK_SCOPES),
            "bitbucket-fake-account-only" => Some("account"),
            "bitbucket-fake-repo-only" => Some("repository"),
            _ => None,
        };
        if let Some(scopes) = fixed {
            return Some(Access {
                scopes: scopes.into(),
                expires: None,
            });
        }
        self.0.lock().unwrap().access.get(token).cloned()
    }
}

pub fn router(registry: crate::hooks::Hooks) -> Router {
    let log = AuthLog::default();
    let bb = Bitbucket::default();
    Router::new()
        .route("/bitbucket/site/oauth2/authorize", get(authorize))
        .route(
            "/bitbucket/site/oauth2/access_token",
            post(token::access_token),
        )
        .route("/bitbucket/__stats", get(stats))
        .merge(api::routes())
        .with_state(bb.clone())
        .merge(hooks::routes(bb, registry))
        .merge(
            Router::new()
                .route("/bitbucket/__log", get(show_log))
                .with_state(log.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(log, record))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    state: String,
    redirect_uri: Option<String>,
    decision: Option<String>,
}

fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>"
    );
    (status, Html(page)).into_response()
}

/// Bitbucket's consent page lists the consumer's permissions; there is no `scope` parameter.
fn consent_page(raw_query: &str) -> Response {
    let link = |d: &str| html_escape(&format!("?{raw_query}&decision={d}"));
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Authorize CodeSource</title></head>\
         <body><h1>Authorize CodeSource</h1><p>CodeSource is requesting access to the following:</p>\
         <ul><li>Read your account information</li><li>Read your repositories</li></ul>\
         <p><a class=\"button\" href=\"{}\">Grant access</a> <a class=\"button\" href=\"{}\">Cancel</a></p>\
         <p><a class=\"button\" href=\"{}\">Grant access (account only)</a></p></body></html>",
        link("approve"),
        link("deny"),
        link("approve-narrow"),
    ))
    .into_response()
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    Redirect::to(&format!("{uri}{sep}{query}")).into_response()
}

async fn authorize(
    State(bb): State<Bitbucket>,
    uri: Uri,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    if q.client_id != BITBUCKET_APP.0 {
        // Not quoted from a real answer: Bitbucket shows an HTML error page here.
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid client_id",
            "No consumer matches this client_id.",
        );
    }
    let Some(redirect_uri) = q.redirect_uri.clone().filter(|r| !r.is_empty()) else {
        // The page Bitbucket shows for a bad redirect_uri (bitbucket-cli issue 50 quotes it).
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect_uri",
            "This integration is misconfigured. Contact the vendor for assistance.",
        );
    };
    if q.response_type != "code" {
        return redirect_with(
            &redirect_uri,
            &[("error", "unsupported_response_type"), ("state", &q.state)],
        );
    }
    let Some(decision) = q.decision.as_deref() else {
        return consent_page(uri.query().unwrap_or(""));
    };
    if decision == "deny" {
        // RFC 6749 §4.1.2.1 `access_denied`; the description is the fake's own words.
        return redirect_with(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "The user denied access."),
                ("state", &q.state),
            ],
        );
    }
    let mut inner = bb.0.lock().unwrap();
    let code = Bitbucket::next(&mut inner, "bitbucket-fake-code-");
    inner.codes.insert(
        code.clone(),
        Code {
            redirect_uri: redirect_uri.clone(),
            scopes: match decision {
                "approve-narrow" => "account",
                "approve-webhook" => HOOK_SCOPES,
                _ => FULL_SCOPES,
            },
            short: decision.starts_with("approve-short"),
            dead_refresh: decision == "approve-short-dead",
        },
    );
    redirect_with(&redirect_uri, &[("code", &code), ("state", &q.state)])
}

async fn stats(State(bb): State<Bitbucket>) -> Json<serde_json::Value> {
    let inner = bb.0.lock().unwrap();
    Json(json!({"refreshes": inner.refreshes, "refresh_requests": inner.refresh_requests}))
}
