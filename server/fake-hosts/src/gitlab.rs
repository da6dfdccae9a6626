//! The fake GitLab API v4. The project, ref and webhook endpoints auto-build uses are in
//! `gitlab/hooks.rs`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod answers;
mod hooks;
use answers::{insufficient_scope, insufficient_scope_for, token_error};
pub(crate) use hooks::routes as hook_routes;

/// Fake tokens and what they stand for.
pub const TOKENS: &[(&str, &str)] = &[
    (
        "glpat-fake-alice",
        "alice: read_repository + read_api, expires 2027-06-30",
    ),
    ("glpat-fake-bob", "bob: api, never expires"),
    (
        "glpat-fake-developer",
        "dev: api, but only Developer on every project (403 Forbidden on hooks)",
    ),
    (
        "glpat-fake-expired",
        "401 invalid_token, Token has expired.",
    ),
    (
        "glpat-fake-revoked",
        "401 invalid_token, Token was revoked.",
    ),
    (
        "glpat-fake-registry",
        "403 insufficient_scope on /user (only read_registry)",
    ),
    (
        "glpat-fake-readuser",
        "read_user only: account readable, repositories not",
    ),
    ("glpat-fake-ratelimit", "429 with Retry-After: 30"),
    (
        "glpat-fake-evil",
        "an account whose name is HTML and avatar a javascript: URL",
    ),
    (
        "glpat-fake-avatar-down",
        "like alice, but the avatar is on a closed port of 127.0.0.1 (unreachable)",
    ),
    (
        "glpat-fake-avatar-{html,svg,huge,liar,missing,slow}",
        "like alice, with an avatar that is HTML, SVG, 1 MiB, HTML labelled image/png, 404, too slow",
    ),
];

/// Where a `glpat-fake-avatar-<kind>` account's avatar is (`base`: the fake's own origin).
fn avatar_for(kind: &str, base: &str) -> String {
    match kind {
        // The discard port: nothing listens there.
        "down" => "http://127.0.0.1:9/avatars/down.png".into(),
        "html" => format!("{base}/not-gitlab/avatar.png"),
        "svg" => format!("{base}/avatars/bob.svg"),
        "slow" => format!("{base}/slow/avatar.png"),
        other => format!("{base}/avatars/{other}.png"),
    }
}

/// Requests seen (path and query, and whether a PRIVATE-TOKEN header came), for assertions
/// such as "the token never appears in a URL".
#[derive(Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<(String, bool)>>>);

impl RequestLog {
    pub fn entries(&self) -> Vec<(String, bool)> {
        self.0.lock().unwrap().clone()
    }
}

pub fn router(log: RequestLog) -> Router {
    Router::new()
        .route("/api/v4/user", get(user))
        .route(
            "/api/v4/personal_access_tokens/self",
            get(token_self).delete(revoke_self),
        )
        .route("/old/api/v4/user", get(user))
        .route("/old/api/v4/personal_access_tokens/self", get(not_found))
        .route("/not-gitlab/{*rest}", get(not_gitlab))
        .route("/redirect/{*rest}", get(redirect))
        .route("/slow/{*rest}", get(slow))
        .route("/avatars/{name}", get(avatar))
        .route("/__log", get(show_log))
        .layer(axum::middleware::from_fn_with_state(log.clone(), record))
        .with_state(log)
}

async fn record(
    State(log): State<RequestLog>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let has_token = req.headers().contains_key("private-token");
    let method = req.method().clone();
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    if !pq.starts_with("/__log") {
        let entry = if method == axum::http::Method::GET {
            pq
        } else {
            format!("{method} {pq}")
        };
        log.0.lock().unwrap().push((entry, has_token));
    }
    next.run(req).await
}

async fn show_log(State(log): State<RequestLog>) -> Json<serde_json::Value> {
    Json(json!(log
        .entries()
        .into_iter()
        .map(|(p, t)| json!({"path": p, "private_token_header": t}))
        .collect::<Vec<_>>()))
}

fn token(h: &HeaderMap) -> &str {
    h.get("private-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn host(h: &HeaderMap, uri: &Uri) -> String {
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = uri.scheme_str().unwrap_or("http");
    format!("{scheme}://{host}")
}

fn user_json(id: u64, username: &str, name: &str, avatar: &str, base: &str) -> serde_json::Value {
    json!({
        "id": id, "username": username, "name": name, "state": "active", "locked": false,
        "avatar_url": avatar, "web_url": format!("{base}/{username}"),
        "created_at": "2024-01-02T03:04:05.000Z", "bot": false
    })
}

pub(crate) async fn user(headers: HeaderMap, uri: Uri) -> Response {
    let t = token(&headers);
    if let Some(r) = token_error(t) {
        return r;
    }
    let base = host(&headers, &uri);
    match t {
        "glpat-fake-registry" => insufficient_scope(),
        "glpat-fake-alice" => Json(user_json(
            7,
            "alice",
            "Alice Liddell",
            &format!("{base}/avatars/alice.png"),
            &base,
        ))
        .into_response(),
        "glpat-fake-bob" => Json(user_json(
            8,
            "bob",
            "Bob",
            &format!("{base}/avatars/bob.svg"),
            &base,
        ))
        .into_response(),
        "glpat-fake-readuser" => Json(user_json(9, "carol", "Carol", "", &base)).into_response(),
        "glpat-fake-developer" => Json(user_json(12, "dev", "Dev", "", &base)).into_response(),
        t if t.starts_with("glpat-fake-avatar-") => {
            let kind = &t["glpat-fake-avatar-".len()..];
            Json(user_json(
                11,
                &format!("avatar-{kind}"),
                "Dora Avatar",
                &avatar_for(kind, &base),
                &base,
            ))
            .into_response()
        }
        _ => Json(user_json(
            10,
            "mallory",
            "<img src=x onerror=alert(1)>",
            "javascript:alert(1)",
            &base,
        ))
        .into_response(),
    }
}

pub(crate) async fn token_self(headers: HeaderMap) -> Response {
    let t = token(&headers);
    if let Some(r) = token_error(t) {
        return r;
    }
    let expires = match t {
        "glpat-fake-alice" => Some("2027-06-30"),
        "glpat-fake-registry" | "glpat-fake-readuser" => Some("2027-01-01"),
        _ => None,
    };
    let scopes = scopes_of(t);
    Json(json!({
        "id": 42, "name": "build", "revoked": false, "created_at": "2025-01-01T00:00:00.000Z",
        "description": "", "scopes": scopes, "user_id": 7, "last_used_at": null,
        "active": true, "expires_at": expires
    }))
    .into_response()
}

/// The scopes of a (valid) fake token.
fn scopes_of(t: &str) -> Vec<&'static str> {
    match t {
        "glpat-fake-bob" | "glpat-fake-developer" => vec!["api"],
        "glpat-fake-registry" => vec!["read_registry"],
        "glpat-fake-readuser" => vec!["read_user"],
        _ => vec!["read_repository", "read_api"],
    }
}

/// `DELETE /personal_access_tokens/self`: 204 for a valid token. The fake's tokens are shared by
/// all tests, so it only records the call (in the request log) instead of forgetting the token.
async fn revoke_self(headers: HeaderMap) -> Response {
    match token_error(token(&headers)) {
        Some(r) => r,
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "404 Not Found"})),
    )
        .into_response()
}

async fn not_gitlab(Path(_): Path<String>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html")],
        "<!DOCTYPE html><html><body><h1>It works!</h1></body></html>",
    )
        .into_response()
}

async fn redirect(Path(rest): Path<String>) -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(
            header::LOCATION,
            format!("https://gitlab.example.invalid/{rest}"),
        )],
        "",
    )
        .into_response()
}

async fn slow(Path(_): Path<String>) -> Response {
    tokio::time::sleep(Duration::from_secs(60)).await;
    not_found().await
}

/// A 48×48 PNG (a purple disc with an "A").
pub const AVATAR_PNG: &[u8] = include_bytes!("avatar.png");

async fn avatar(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "alice.png" => return ([(header::CONTENT_TYPE, "image/png")], AVATAR_PNG).into_response(),
        // Larger than any avatar we keep; a valid PNG signature, then padding.
        "huge.png" => {
            let mut big = AVATAR_PNG.to_vec();
            big.resize(1024 * 1024, 0);
            return ([(header::CONTENT_TYPE, "image/png")], big).into_response();
        }
        // Says PNG, is a web page.
        "liar.png" => {
            return (
                [(header::CONTENT_TYPE, "image/png")],
                "<html><script>alert(1)</script></html>",
            )
                .into_response()
        }
        "alice.svg" | "bob.svg" => {}
        _ => return StatusCode::NOT_FOUND.into_response(),
    }
    let (letter, color) = match name.as_str() {
        "alice.svg" => ("A", "#6d4aff"),
        _ => ("B", "#0f8a5f"),
    };
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='48' height='48'><rect width='48' height='48' rx='24' fill='{color}'/>\
         <text x='24' y='31' font-size='22' text-anchor='middle' fill='white' font-family='sans-serif'>{letter}</text></svg>"
    );
    ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
}
