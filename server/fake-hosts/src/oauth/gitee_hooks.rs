//! The fake Gitee's repository API for auto-build (API v5, <https://gitee.com/api/v5/swagger>),
//! under `/gitee/api/v5`; the token comes as `access_token` (query, form or JSON body) or
//! `Authorization: Bearer`:
//! - `GET /repos/{owner}/{repo}`: the repository (stable `id`, `html_url`, `permission`).
//! - `GET /repos/{owner}/{repo}/branches/{branch}` (a branch's head) and
//!   `GET /repos/{owner}/{repo}/commits/{ref}` (a branch, tag or SHA; Gitee has no single-tag
//!   lookup), 404 when there is no such ref; `GET /repos/{owner}/{repo}/tags` (the tags, with
//!   `name` and `commit.sha`, one page).
//! - `GET|POST /repos/{owner}/{repo}/hooks` (`page`/`per_page`, `total_count`), `GET|DELETE
//!   /repos/{owner}/{repo}/hooks/{id}`, `PATCH …/hooks/{id}` (a new url or password, same id): 201
//!   with the hook, 204, 404 for an unknown id. Signing-key
//!   mode is `encryption_type: 1` with the secret in `password`.
//!
//! Refusals: an unknown token 401 "401 Unauthorized: Access token does not exist" (as the user
//! endpoint); a token granted without the `hook` scope 403, and a repository the user does not
//! administer (`repo-45`) 403 (both messages are the fake's own wording: Gitee's are not
//! documented).

use super::OAuthState;
use crate::hooks::{Hook, Hooks, Host, RepoInfo, CREATED_AT};
use crate::support::Origin;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

#[derive(Clone)]
pub(crate) struct GiteeHooks {
    pub oauth: OAuthState,
    pub hooks: Hooks,
}

pub(crate) fn routes(state: GiteeHooks) -> Router {
    let base = "/gitee/api/v5/repos/{owner}/{repo}";
    Router::new()
        .route(base, get(repository))
        .route(&format!("{base}/branches/{{*branch}}"), get(branch))
        .route(&format!("{base}/commits/{{*ref}}"), get(commit))
        .route(&format!("{base}/tags"), get(tags))
        .route(&format!("{base}/hooks"), get(list).post(create))
        .route(
            &format!("{base}/hooks/{{id}}"),
            get(show).patch(update).delete(delete),
        )
        .with_state(state)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({"message": text}))).into_response()
}

fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "404 Not Found")
}

/// The request's fields: the query string, then a JSON or form body on top.
fn fields(q: &HashMap<String, String>, body: &str) -> Map<String, Value> {
    let mut out: Map<String, Value> = q
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => out.extend(m),
        _ => {
            let form: HashMap<String, String> =
                serde_urlencoded::from_str(body).unwrap_or_default();
            out.extend(form.into_iter().map(|(k, v)| (k, Value::String(v))));
        }
    }
    out
}

/// The grant's scopes (space-separated on Gitee), or the 401.
fn scopes(
    st: &GiteeHooks,
    h: &HeaderMap,
    f: &Map<String, Value>,
) -> Result<Vec<String>, Box<Response>> {
    let token = super::bearer(h).or_else(|| {
        f.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    match token.and_then(|t| st.oauth.scope_of(&t)) {
        Some(s) => Ok(s.split_whitespace().map(str::to_string).collect()),
        None => Err(Box::new(message(
            StatusCode::UNAUTHORIZED,
            "401 Unauthorized: Access token does not exist",
        ))),
    }
}

fn find(st: &GiteeHooks, owner: &str, name: &str, origin: &str) -> Result<RepoInfo, Box<Response>> {
    st.hooks
        .repo(Host::Gitee, &format!("{owner}/{name}"), origin)
        .ok_or_else(|| Box::new(not_found()))
}

fn hook_access(
    st: &GiteeHooks,
    h: &HeaderMap,
    f: &Map<String, Value>,
    owner: &str,
    name: &str,
    origin: &str,
) -> Result<RepoInfo, Box<Response>> {
    let granted = scopes(st, h, f)?;
    let repo = find(st, owner, name, origin)?;
    if !granted.iter().any(|s| s == "hook") {
        return Err(Box::new(message(
            StatusCode::FORBIDDEN,
            "403 Forbidden: the access token lacks the hook scope",
        )));
    }
    if !repo.admin {
        return Err(Box::new(message(
            StatusCode::FORBIDDEN,
            "403 Forbidden: only repository administrators manage WebHooks",
        )));
    }
    Ok(repo)
}

async fn repository(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    let f = fields(&q, "");
    if let Err(r) = scopes(&st, &h, &f) {
        return *r;
    }
    match find(&st, &owner, &name, &origin) {
        Ok(r) => Json(json!({
            "id": r.numeric_id(), "full_name": r.full_name, "human_name": r.full_name,
            "path": r.name, "name": r.name, "namespace": {"path": r.owner, "type": "personal"},
            "html_url": r.html_url, "ssh_url": format!("git@gitee.com:{}.git", r.full_name),
            "private": false, "default_branch": r.default_branch,
            "permission": {"pull": true, "push": true, "admin": r.admin},
        }))
        .into_response(),
        Err(r) => *r,
    }
}

fn commit_json(repo: &RepoInfo, sha: &str) -> Value {
    json!({"sha": sha, "url": format!("https://gitee.com/api/v5/repos/{}/commits/{sha}", repo.full_name),
        "html_url": format!("{}/commit/{sha}", repo.html_url),
        "commit": {"message": "Fake commit", "tree": {"sha": sha}}})
}

async fn branch(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name, branch)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = scopes(&st, &h, &fields(&q, "")) {
        return *r;
    }
    let repo = match find(&st, &owner, &name, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match st.hooks.head(Host::Gitee, &repo, &format!("refs/heads/{branch}")) {
        Some(sha) => Json(json!({"name": branch, "commit": commit_json(&repo, &sha), "protected": false,
            "protection_url": format!("https://gitee.com/api/v5/repos/{}/branches/{branch}/protection", repo.full_name)}))
        .into_response(),
        None => not_found(),
    }
}

async fn commit(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name, wanted)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = scopes(&st, &h, &fields(&q, "")) {
        return *r;
    }
    let repo = match find(&st, &owner, &name, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let found = ["refs/heads/", "refs/tags/"]
        .iter()
        .find_map(|p| st.hooks.head(Host::Gitee, &repo, &format!("{p}{wanted}")))
        .or_else(|| {
            (wanted.len() == 40 && wanted.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| wanted.clone())
        });
    match found {
        Some(sha) => Json(commit_json(&repo, &sha)).into_response(),
        None => not_found(),
    }
}

async fn tags(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    if let Err(r) = scopes(&st, &h, &fields(&q, "")) {
        return *r;
    }
    let repo = match find(&st, &owner, &name, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let list: Vec<Value> = st
        .hooks
        .tags(Host::Gitee, &repo)
        .into_iter()
        .map(|(name, sha)| json!({"name": name, "message": "", "commit": {"sha": sha, "date": CREATED_AT}}))
        .collect();
    Json(list).into_response()
}

fn flag(f: &Map<String, Value>, key: &str, default: bool) -> bool {
    match f.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => default,
    }
}

fn hook_json(repo: &RepoInfo, hook: &Hook) -> Value {
    let on = |e: &str| hook.events.iter().any(|x| x == e);
    json!({
        "id": hook.id, "url": hook.url, "created_at": CREATED_AT,
        "password": hook.secret.clone().unwrap_or_default(),
        "encryption_type": hook.config["encryption_type"],
        "project_id": repo.numeric_id(), "result": "", "result_code": null,
        "push_events": on("push_events"), "tag_push_events": on("tag_push_events"),
        "issues_events": false, "note_events": false, "merge_requests_events": false,
    })
}

async fn list(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    let f = fields(&q, "");
    let repo = match hook_access(&st, &h, &f, &owner, &name, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let all = st.hooks.list(Host::Gitee, &repo.stable_id);
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
        .map(|hk| hook_json(&repo, hk))
        .collect();
    let total = all.len();
    (
        [
            ("total_count", total.to_string()),
            ("total_page", total.div_ceil(per_page).to_string()),
        ],
        Json(items),
    )
        .into_response()
}

async fn create(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name)): Path<(String, String)>,
    body: String,
) -> Response {
    let f = fields(&q, &body);
    let repo = match hook_access(&st, &h, &f, &owner, &name, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let Some(url) = f
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    else {
        return message(StatusCode::BAD_REQUEST, "url is missing");
    };
    let encryption_type = match f.get("encryption_type") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    };
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
            .get("password")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        active: true,
        events,
        config: json!({"encryption_type": encryption_type}),
    };
    let hook = st.hooks.create(Host::Gitee, &repo.stable_id, hook);
    (StatusCode::CREATED, Json(hook_json(&repo, &hook))).into_response()
}

async fn show(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> Response {
    let repo = match hook_access(&st, &h, &fields(&q, ""), &owner, &name, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match id
        .parse()
        .ok()
        .and_then(|id| st.hooks.get(Host::Gitee, &repo.stable_id, id))
    {
        Some(hook) => Json(hook_json(&repo, &hook)).into_response(),
        None => not_found(),
    }
}

/// `PATCH …/hooks/{id}`: the same fields as creating one; the hook keeps its id.
async fn update(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name, id)): Path<(String, String, String)>,
    body: String,
) -> Response {
    let f = fields(&q, &body);
    let repo = match hook_access(&st, &h, &f, &owner, &name, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let Ok(id) = id.parse() else {
        return not_found();
    };
    let changed = st.hooks.update(Host::Gitee, &repo.stable_id, id, |hook| {
        if let Some(url) = f
            .get("url")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
        {
            hook.url = url.to_string();
        }
        if let Some(p) = f.get("password").and_then(Value::as_str) {
            hook.secret = Some(p.to_string()).filter(|p| !p.is_empty());
        }
        hook.active = true;
    });
    match changed {
        Some(hook) => Json(hook_json(&repo, &hook)).into_response(),
        None => not_found(),
    }
}

async fn delete(
    State(st): State<GiteeHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Query(q): Query<HashMap<String, String>>,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> Response {
    let repo = match hook_access(&st, &h, &fields(&q, ""), &owner, &name, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    if id
        .parse()
        .is_ok_and(|id| st.hooks.delete(Host::Gitee, &repo.stable_id, id))
    {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}
