//! The fake GitLab's project, ref and webhook endpoints for auto-build ("Projects API",
//! "Branches API", "Tags API", "Project webhooks API" in GitLab's REST documentation); the token
//! as `PRIVATE-TOKEN` or `Authorization: Bearer`:
//! - `GET /api/v4/projects/{id}` (`{id}` the number or the URL-encoded path): `id`,
//!   `path_with_namespace`, `http_url_to_repo`, `permissions.project_access.access_level`.
//! - `GET /api/v4/projects/{id}/repository/branches/{branch}` and `…/repository/tags/{tag}`:
//!   `commit.id` (404 "404 Branch Not Found" / "404 Tag Not Found").
//! - `GET|POST /api/v4/projects/{id}/hooks`, `GET|DELETE /api/v4/projects/{id}/hooks/{hook_id}`:
//!   201 with the hook (the secret `token` is never shown), 204, 404 "404 Not found".
//!
//! Refusals: a token without `api` (`glpat-fake-alice`: read_api) 403 `insufficient_scope` with
//! `WWW-Authenticate … scope="api"`; below Maintainer (`glpat-fake-developer`, or project
//! `alice/repo-45` for anyone) 403 `{"message":"403 Forbidden"}`; a project at GitLab.com's
//! plan limit of [`HOOK_LIMIT`] webhooks 422 with the model's error ("Maximum number of project
//! hooks (100) exceeded", GitLab's `ProjectHook` limit validation); token errors as elsewhere.

use super::{insufficient_scope_for, scopes_of, token_error};
use crate::hooks::{Hook, Hooks, Host, RepoInfo, CREATED_AT};
use crate::support::Origin;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Webhooks a project may have (GitLab.com's `project_hooks` plan limit).
pub const HOOK_LIMIT: usize = 100;

pub(crate) fn routes(hooks: Hooks) -> Router {
    let base = "/api/v4/projects/{id}";
    Router::new()
        .route(base, get(project))
        .route(
            &format!("{base}/repository/branches/{{*name}}"),
            get(branch),
        )
        .route(&format!("{base}/repository/tags/{{*name}}"), get(tag))
        .route(&format!("{base}/hooks"), get(list).post(create))
        .route(
            &format!("{base}/hooks/{{hook_id}}"),
            get(show).put(update).delete(delete),
        )
        .with_state(hooks)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({"message": text}))).into_response()
}

fn token(h: &HeaderMap) -> String {
    let private = h.get("private-token").and_then(|v| v.to_str().ok());
    let bearer = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    private.or(bearer).unwrap_or("").trim().to_string()
}

/// What a call needs: reading (`read_api` or `api`) or managing hooks (`api` and Maintainer).
#[derive(Clone, Copy, PartialEq)]
enum Need {
    Read,
    Manage,
}

fn access(
    hooks: &Hooks,
    h: &HeaderMap,
    id: &str,
    need: Need,
    origin: &str,
) -> Result<RepoInfo, Box<Response>> {
    let t = token(h);
    if let Some(r) = token_error(&t) {
        return Err(Box::new(r));
    }
    let scopes = scopes_of(&t);
    let readable = scopes.iter().any(|s| matches!(*s, "api" | "read_api"));
    if !readable {
        return Err(Box::new(insufficient_scope_for("api read_api")));
    }
    let repo = hooks
        .repo(Host::Gitlab, id, origin)
        .ok_or_else(|| Box::new(message(StatusCode::NOT_FOUND, "404 Project Not Found")))?;
    if need == Need::Manage {
        if !scopes.contains(&"api") {
            return Err(Box::new(insufficient_scope_for("api")));
        }
        if t == "glpat-fake-developer" || !repo.admin {
            return Err(Box::new(message(StatusCode::FORBIDDEN, "403 Forbidden")));
        }
    }
    Ok(repo)
}

fn maintainer(h: &HeaderMap, repo: &RepoInfo) -> bool {
    token(h) != "glpat-fake-developer" && repo.admin
}

async fn project(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path(id): Path<String>,
) -> Response {
    let r = match access(&hooks, &h, &id, Need::Read, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let level = if maintainer(&h, &r) { 40 } else { 30 };
    Json(json!({
        "id": r.numeric_id(), "name": r.name, "path": r.name, "path_with_namespace": r.full_name,
        "name_with_namespace": format!("{} / {}", r.owner, r.name),
        "namespace": {"id": 7, "name": r.owner, "path": r.owner, "kind": "user", "full_path": r.owner},
        "default_branch": r.default_branch, "visibility": "private", "web_url": r.html_url,
        "http_url_to_repo": r.clone_url, "ssh_url_to_repo": format!("git@gitlab.example:{}.git", r.full_name),
        "archived": false, "empty_repo": false,
        "permissions": {"project_access": {"access_level": level, "notification_level": 3}, "group_access": null},
    }))
    .into_response()
}

fn commit_json(sha: &str) -> Value {
    json!({"id": sha, "short_id": &sha[..8.min(sha.len())], "title": "Fake commit",
        "message": "Fake commit", "parent_ids": [], "created_at": CREATED_AT})
}

async fn branch(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let r = match access(&hooks, &h, &id, Need::Read, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match hooks.head(Host::Gitlab, &r, &format!("refs/heads/{name}")) {
        Some(sha) => Json(
            json!({"name": name, "commit": commit_json(&sha), "merged": false,
            "protected": name == r.default_branch, "default": name == r.default_branch,
            "developers_can_push": false, "developers_can_merge": false, "can_push": true,
            "web_url": format!("{}/-/tree/{name}", r.html_url)}),
        )
        .into_response(),
        None => message(StatusCode::NOT_FOUND, "404 Branch Not Found"),
    }
}

async fn tag(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let r = match access(&hooks, &h, &id, Need::Read, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match hooks.head(Host::Gitlab, &r, &format!("refs/tags/{name}")) {
        Some(sha) => Json(json!({"name": name, "message": "", "target": sha,
            "commit": commit_json(&sha), "release": null, "protected": false, "created_at": null}))
        .into_response(),
        None => message(StatusCode::NOT_FOUND, "404 Tag Not Found"),
    }
}

fn hook_json(r: &RepoInfo, hook: &Hook) -> Value {
    let on = |e: &str| hook.events.iter().any(|x| x == e);
    json!({
        "id": hook.id, "url": hook.url, "name": null, "description": null, "project_id": r.numeric_id(),
        "push_events": on("push_events"), "push_events_branch_filter": hook.config["push_events_branch_filter"],
        "branch_filter_strategy": "wildcard", "tag_push_events": on("tag_push_events"),
        "issues_events": false, "confidential_issues_events": false, "merge_requests_events": false,
        "note_events": false, "confidential_note_events": false, "job_events": false,
        "pipeline_events": false, "wiki_page_events": false, "deployment_events": false,
        "releases_events": false, "repository_update_events": false,
        "enable_ssl_verification": hook.config["enable_ssl_verification"],
        "alert_status": if hook.active { "executable" } else { "disabled" },
        "disabled_until": null, "url_variables": [], "created_at": CREATED_AT,
        "custom_webhook_template": null, "custom_headers": [],
    })
}

async fn list(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let r = match access(&hooks, &h, &id, Need::Manage, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let all = hooks.list(Host::Gitlab, &r.stable_id);
    let per_page = q
        .get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20usize)
        .clamp(1, 100);
    let page = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|hk| hook_json(&r, hk))
        .collect();
    let next = if page * per_page < all.len() {
        (page + 1).to_string()
    } else {
        String::new()
    };
    let headers = [
        (HeaderName::from_static("x-total"), all.len().to_string()),
        (HeaderName::from_static("x-next-page"), next),
        (HeaderName::from_static("x-page"), page.to_string()),
        (HeaderName::from_static("x-per-page"), per_page.to_string()),
    ];
    (headers, Json(items)).into_response()
}

/// GitLab takes the parameters as JSON or as a form.
fn fields(body: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ => {
            let form: HashMap<String, String> =
                serde_urlencoded::from_str(body).unwrap_or_default();
            form.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        }
    }
}

fn flag(f: &Map<String, Value>, key: &str, default: bool) -> bool {
    match f.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => default,
    }
}

async fn create(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let r = match access(&hooks, &h, &id, Need::Manage, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let f = fields(&body);
    let Some(url) = f
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "url is missing"})),
        )
            .into_response();
    };
    if hooks.list(Host::Gitlab, &r.stable_id).len() >= HOOK_LIMIT {
        let exceeded = format!("Maximum number of project hooks ({HOOK_LIMIT}) exceeded");
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"message": {"base": [exceeded]}})),
        )
            .into_response();
    }
    let mut events = vec![];
    if flag(&f, "push_events", true) {
        events.push("push_events".to_string());
    }
    if flag(&f, "tag_push_events", false) {
        events.push("tag_push_events".to_string());
    }
    let hook = Hook {
        id: 0,
        url: url.to_string(),
        secret: f
            .get("token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        active: true,
        events,
        config: json!({
            "enable_ssl_verification": flag(&f, "enable_ssl_verification", true),
            "push_events_branch_filter": f.get("push_events_branch_filter").cloned().unwrap_or(Value::Null),
        }),
    };
    let hook = hooks.create(Host::Gitlab, &r.stable_id, hook);
    (StatusCode::CREATED, Json(hook_json(&r, &hook))).into_response()
}

async fn show(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((id, hook_id)): Path<(String, String)>,
) -> Response {
    let r = match access(&hooks, &h, &id, Need::Manage, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match hook_id
        .parse()
        .ok()
        .and_then(|n| hooks.get(Host::Gitlab, &r.stable_id, n))
    {
        Some(hook) => Json(hook_json(&r, &hook)).into_response(),
        None => message(StatusCode::NOT_FOUND, "404 Not found"),
    }
}

/// `PUT /projects/{id}/hooks/{hook_id}`: `url` required; `token` and the event flags given
/// replace the hook's (same id).
async fn update(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((id, hook_id)): Path<(String, String)>,
    body: String,
) -> Response {
    let r = match access(&hooks, &h, &id, Need::Manage, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let f = fields(&body);
    let Some(url) = f
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "url is missing"})),
        )
            .into_response();
    };
    let changed = hook_id.parse().ok().and_then(|n| {
        hooks.update(Host::Gitlab, &r.stable_id, n, |hook| {
            hook.url = url.to_string();
            if let Some(t) = f.get("token").and_then(Value::as_str) {
                hook.secret = Some(t.to_string()).filter(|s| !s.is_empty());
            }
            let mut events = vec![];
            if flag(
                &f,
                "push_events",
                hook.events.iter().any(|e| e == "push_events"),
            ) {
                events.push("push_events".to_string());
            }
            if flag(
                &f,
                "tag_push_events",
                hook.events.iter().any(|e| e == "tag_push_events"),
            ) {
                events.push("tag_push_events".to_string());
            }
            hook.events = events;
        })
    });
    match changed {
        Some(hook) => Json(hook_json(&r, &hook)).into_response(),
        None => message(StatusCode::NOT_FOUND, "404 Not found"),
    }
}

async fn delete(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((id, hook_id)): Path<(String, String)>,
) -> Response {
    let r = match access(&hooks, &h, &id, Need::Manage, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    if hook_id
        .parse()
        .is_ok_and(|n| hooks.delete(Host::Gitlab, &r.stable_id, n))
    {
        StatusCode::NO_CONTENT.into_response()
    } else {
        message(StatusCode::NOT_FOUND, "404 Not found")
    }
}
