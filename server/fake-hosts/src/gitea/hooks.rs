//! The fake Gitea's ref lookups and repository webhooks (API v1, swagger `repository`:
//! `repoGetBranch`, `repoGetTag`, `repoListHooks`, `repoCreateHook`, `repoGetHook`,
//! `repoDeleteHook`):
//! - `GET /repos/{owner}/{repo}/branches/{branch}`: `commit.id`; `GET /repos/{o}/{r}/tags/{tag}`:
//!   `commit.sha` (404 "The target couldn't be found." when there is none).
//! - `GET /repositories/{id}` (`repoGetByID`): the repository by id (renames applied; 404 once
//!   recreated under a new id).
//! - `GET|POST /repos/{owner}/{repo}/hooks` (`page`/`limit`, `X-Total-Count`, `Link`),
//!   `GET|PATCH|DELETE /repos/{owner}/{repo}/hooks/{id}`: 201 with the hook (`config` without
//!   the secret, as Gitea's `convert.ToHook` leaves it out), 200 after `repoEditHook` (`active`,
//!   `config` merged), 204, 404.
//!
//! Refusals (Gitea's `tokenRequiresScopes`, then `reqAdmin`): reading needs read:repository,
//! creating and deleting write:repository (403 "token does not have at least one of required
//! scope(s): [write:repository]"; only `gitea-fake-writer` has it); a repository the user does
//! not administer (`repo-25`): 403 "user should be an owner or a collaborator with admin write
//! of a repository". Creation without `config.url` / `config.content_type`: 422 "Missing config
//! option: …".

use super::paging::{paginate, PageQuery};
use super::{error, not_found, require};
use crate::hooks::{Hook, Hooks, Host, RepoInfo, CREATED_AT};
use crate::support::Origin;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub(super) fn routes(hooks: Hooks) -> Router {
    let base = "/gitea/api/v1/repos/{owner}/{repo}";
    Router::new()
        .route(&format!("{base}/branches/{{*name}}"), get(branch))
        .route(&format!("{base}/tags/{{*name}}"), get(tag))
        .route(&format!("{base}/hooks"), get(list).post(create))
        .route(
            &format!("{base}/hooks/{{id}}"),
            get(show).patch(update).delete(delete),
        )
        .route("/gitea/api/v1/repositories/{id}", get(by_id))
        .with_state(hooks)
}

/// Scope, then repository, then (for hooks) the admin check, in Gitea's middleware order.
fn access(
    hooks: &Hooks,
    h: &HeaderMap,
    origin: &str,
    owner: &str,
    name: &str,
    scope: &str,
    admin: bool,
) -> Result<RepoInfo, Box<Response>> {
    if let Some(r) = require(h, origin, &[scope]) {
        return Err(Box::new(r));
    }
    let repo = hooks
        .repo(Host::Gitea, &format!("{owner}/{name}"), origin)
        .ok_or_else(|| Box::new(not_found(origin)))?;
    if admin && !repo.admin {
        let text = "user should be an owner or a collaborator with admin write of a repository";
        return Err(Box::new(error(StatusCode::FORBIDDEN, text, origin)));
    }
    Ok(repo)
}

fn commit(r: &RepoInfo, sha: &str) -> Value {
    let person =
        json!({"name": "Alice Gitea", "email": "gitea-alice@example.invalid", "username": r.owner});
    json!({"id": sha, "message": "Fake commit\n", "url": format!("{}/commit/{sha}", r.html_url),
        "author": person, "committer": person, "verification": null, "timestamp": CREATED_AT,
        "added": null, "removed": null, "modified": null})
}

async fn branch(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, branch)): Path<(String, String, String)>,
) -> Response {
    let r = match access(&hooks, &h, &origin, &owner, &name, "read:repository", false) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match hooks.head(Host::Gitea, &r, &format!("refs/heads/{branch}")) {
        Some(sha) => Json(
            json!({"name": branch, "commit": commit(&r, &sha), "protected": false,
            "required_approvals": 0, "enable_status_check": false, "status_check_contexts": [],
            "user_can_push": true, "user_can_merge": true, "effective_branch_protection_name": ""}),
        )
        .into_response(),
        None => not_found(&origin),
    }
}

async fn tag(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, tag)): Path<(String, String, String)>,
) -> Response {
    let r = match access(&hooks, &h, &origin, &owner, &name, "read:repository", false) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match hooks.head(Host::Gitea, &r, &format!("refs/tags/{tag}")) {
        Some(sha) => Json(json!({"name": tag, "message": "", "id": sha,
            "commit": {"url": format!("{}/commit/{sha}", r.html_url), "sha": sha, "created": CREATED_AT},
            "zipball_url": format!("{}/archive/{tag}.zip", r.html_url),
            "tarball_url": format!("{}/archive/{tag}.tar.gz", r.html_url)}))
        .into_response(),
        None => not_found(&origin),
    }
}

fn hook_json(hook: &Hook) -> Value {
    json!({
        "id": hook.id, "type": hook.config["type"], "branch_filter": hook.config["branch_filter"],
        "config": {"content_type": hook.config["content_type"], "url": hook.url, "http_method": "post"},
        "events": hook.events, "authorization_header": "", "active": hook.active,
        "updated_at": CREATED_AT, "created_at": CREATED_AT,
    })
}

async fn list(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    uri: Uri,
    Path((owner, name)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let r = match access(&hooks, &h, &origin, &owner, &name, "read:repository", true) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let items = hooks
        .list(Host::Gitea, &r.stable_id)
        .iter()
        .map(hook_json)
        .collect();
    paginate(items, &q, &origin, &uri)
}

async fn create(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name)): Path<(String, String)>,
    body: String,
) -> Response {
    let r = match access(&hooks, &h, &origin, &owner, &name, "write:repository", true) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let kind = body["type"].as_str().unwrap_or("");
    if !matches!(kind, "gitea" | "forgejo" | "gogs") {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid hook type",
            &origin,
        );
    }
    let config = &body["config"];
    for option in ["url", "content_type"] {
        if config[option].as_str().is_none_or(str::is_empty) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Missing config option: {option}"),
                &origin,
            );
        }
    }
    let mut events: Vec<String> = body["events"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if events.is_empty() {
        events.push("push".into());
    }
    let hook = Hook {
        id: 0,
        url: config["url"].as_str().unwrap_or_default().to_string(),
        secret: config["secret"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        active: body["active"].as_bool().unwrap_or(false),
        events,
        config: json!({"type": kind, "content_type": config["content_type"],
            "branch_filter": body["branch_filter"].as_str().unwrap_or("*")}),
    };
    let hook = hooks.create(Host::Gitea, &r.stable_id, hook);
    (StatusCode::CREATED, Json(hook_json(&hook))).into_response()
}

async fn show(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> Response {
    let r = match access(&hooks, &h, &origin, &owner, &name, "read:repository", true) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match id
        .parse()
        .ok()
        .and_then(|id| hooks.get(Host::Gitea, &r.stable_id, id))
    {
        Some(hook) => Json(hook_json(&hook)).into_response(),
        None => not_found(&origin),
    }
}

async fn by_id(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = require(&h, &origin, &["read:repository"]) {
        return r;
    }
    match id
        .parse::<u64>()
        .ok()
        .and_then(|_| hooks.repo(Host::Gitea, &id, &origin))
    {
        Some(r) => Json(
            json!({"id": r.numeric_id(), "name": r.name, "full_name": r.full_name,
            "owner": {"login": r.owner}, "html_url": r.html_url, "clone_url": r.clone_url,
            "default_branch": r.default_branch}),
        )
        .into_response(),
        None => not_found(&origin),
    }
}

/// `PATCH /hooks/{id}`: `active`, and `config` keys merged (a new `secret` replaces the old).
async fn update(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, id)): Path<(String, String, String)>,
    body: String,
) -> Response {
    let r = match access(&hooks, &h, &origin, &owner, &name, "write:repository", true) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let changed = id.parse().ok().and_then(|id| {
        hooks.update(Host::Gitea, &r.stable_id, id, |hook| {
            if let Some(active) = body["active"].as_bool() {
                hook.active = active;
            }
            let config = &body["config"];
            if let Some(url) = config["url"].as_str().filter(|u| !u.is_empty()) {
                hook.url = url.to_string();
            }
            if let Some(secret) = config["secret"].as_str() {
                hook.secret = Some(secret.to_string()).filter(|s| !s.is_empty());
            }
        })
    });
    match changed {
        Some(hook) => Json(hook_json(&hook)).into_response(),
        None => not_found(&origin),
    }
}

async fn delete(
    State(hooks): State<Hooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> Response {
    let r = match access(&hooks, &h, &origin, &owner, &name, "write:repository", true) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    if id
        .parse()
        .is_ok_and(|id| hooks.delete(Host::Gitea, &r.stable_id, id))
    {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(&origin)
    }
}
