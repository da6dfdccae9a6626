//! Test-only control endpoints (no real host has them): make a fake host push, redeliver, move a
//! ref, disable or delete a hook behind the server's back, rename or recreate a repository.
//! `{host}` is `github`, `gitlab`, `gitee`, `bitbucket` or `gitea`; `repo` is a full name
//! (`octo-alice/repo-01`) or the stable id (GitLab's project id, Bitbucket's `{uuid}`).
//!
//! - `POST /_fake/{host}/push` `{"repo", "ref", "after", "before"?, "extra_changes"?: [{"ref",
//!   "after", "before"?}], "forgejo"?: false, "redeliver"?: false}`: moves the refs (an all-zero
//!   `after` deletes one; `before` defaults to the ref's current head, or zeros) and sends the
//!   push to every active hook of the repository subscribed to it (Bitbucket: one delivery with
//!   all changes; the others one per ref). `redeliver: true` (only `repo` needed) resends the
//!   last push's deliveries unchanged: same delivery ids, same bodies and signatures.
//!   `"move_refs": false` sends the push without moving the refs: a delivery whose body names
//!   commits the repository does not have there (what a forged GitLab or Gitee body would be,
//!   since their signatures do not cover it).
//!   Answer: `{"deliveries": [{"hook_id", "url", "event", "delivery_id", "status", "error"}]}`
//!   (`status` null and `error` set when nothing answered).
//! - `POST /_fake/{host}/ref` `{"repo", "ref", "sha"}`: sets a ref's head without a delivery
//!   (`sha` null deletes it). 204.
//! - `GET /_fake/{host}/hooks?repo=…`: the hooks `[{"id", "url", "active", "events",
//!   "has_secret"}]` (`id` as the host's API names it: Bitbucket's `{uuid}`).
//! - `POST /_fake/{host}/hook` `{"repo", "id", "action": "delete" | "disable" | "enable"}`: 204,
//!   404 for an unknown hook.
//! - `POST /_fake/{host}/repository` `{"repo", "action": "rename", "name"}` or
//!   `{"repo", "action": "recreate"}`: renames (hooks stay: same id) or recreates (new id, no
//!   hooks) a repository; answers `{"id", "full_name"}`.
//! - `GET /_fake/{host}/deliveries`: every delivery sent for that host (pings included).

use super::payload::{deliveries, Change, Push};
use super::{Hooks, Host, RepoInfo, ZERO};
use crate::support::Origin;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn router(hooks: Hooks) -> Router {
    Router::new()
        .route("/_fake/{host}/push", post(push))
        .route("/_fake/{host}/ref", post(set_ref))
        .route("/_fake/{host}/hooks", get(list_hooks))
        .route("/_fake/{host}/hook", post(change_hook))
        .route("/_fake/{host}/repository", post(change_repository))
        .route("/_fake/{host}/deliveries", get(sent))
        .with_state(hooks)
}

fn bad(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"message": message}))).into_response()
}

fn host_of(name: &str) -> Result<Host, Box<Response>> {
    serde_json::from_value(Value::String(name.to_string()))
        .map_err(|_| Box::new(bad(StatusCode::NOT_FOUND, "unknown host")))
}

fn resolve(
    hooks: &Hooks,
    host: &str,
    repo: &str,
    origin: &str,
) -> Result<(Host, RepoInfo), Box<Response>> {
    let host = host_of(host)?;
    match hooks.repo(host, repo, origin) {
        Some(r) => Ok((host, r)),
        None => Err(Box::new(bad(StatusCode::NOT_FOUND, "unknown repository"))),
    }
}

#[derive(Deserialize)]
struct RefMove {
    #[serde(rename = "ref")]
    full_ref: String,
    before: Option<String>,
    after: String,
}

#[derive(Deserialize)]
struct PushRequest {
    repo: String,
    #[serde(flatten)]
    first: Option<RefMove>,
    #[serde(default)]
    extra_changes: Vec<RefMove>,
    #[serde(default)]
    forgejo: bool,
    #[serde(default)]
    redeliver: bool,
    #[serde(default = "yes")]
    move_refs: bool,
}

fn yes() -> bool {
    true
}

fn answer(outcomes: &[super::Outcome]) -> Response {
    let list: Vec<Value> = outcomes.iter().map(|o| o.to_json()).collect();
    Json(json!({"deliveries": list})).into_response()
}

async fn push(
    State(hooks): State<Hooks>,
    Path(host): Path<String>,
    Origin(origin): Origin,
    Json(req): Json<PushRequest>,
) -> Response {
    let (host, repo) = match resolve(&hooks, &host, &req.repo, &origin) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    if req.redeliver {
        let last = hooks.last(host, &repo.stable_id);
        return answer(&hooks.send(host, &repo.stable_id, last, false).await);
    }
    let Some(first) = req.first else {
        return bad(StatusCode::BAD_REQUEST, "ref and after are required");
    };
    let mut changes = vec![];
    for m in std::iter::once(first).chain(req.extra_changes) {
        if !m.full_ref.starts_with("refs/heads/") && !m.full_ref.starts_with("refs/tags/") {
            return bad(
                StatusCode::BAD_REQUEST,
                "ref must start with refs/heads/ or refs/tags/",
            );
        }
        let before = m.before.unwrap_or_else(|| {
            hooks
                .head(host, &repo, &m.full_ref)
                .unwrap_or_else(|| ZERO.to_string())
        });
        if req.move_refs {
            let head = (m.after != ZERO).then(|| m.after.clone());
            hooks.set_ref(host, &repo.stable_id, &m.full_ref, head);
        }
        changes.push(Change {
            full_ref: m.full_ref,
            before,
            after: m.after,
        });
    }
    let push = Push {
        repo,
        changes,
        forgejo: req.forgejo,
    };
    let list = deliveries(host, &push, &hooks.list(host, &push.repo.stable_id));
    answer(&hooks.send(host, &push.repo.stable_id, list, true).await)
}

#[derive(Deserialize)]
struct SetRef {
    repo: String,
    #[serde(rename = "ref")]
    full_ref: String,
    sha: Option<String>,
}

async fn set_ref(
    State(hooks): State<Hooks>,
    Path(host): Path<String>,
    Origin(origin): Origin,
    Json(req): Json<SetRef>,
) -> Response {
    match resolve(&hooks, &host, &req.repo, &origin) {
        Ok((host, repo)) => {
            hooks.set_ref(host, &repo.stable_id, &req.full_ref, req.sha);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => *r,
    }
}

#[derive(Deserialize)]
struct RepoQuery {
    repo: String,
}

async fn list_hooks(
    State(hooks): State<Hooks>,
    Path(host): Path<String>,
    Origin(origin): Origin,
    Query(q): Query<RepoQuery>,
) -> Response {
    let (host, repo) = match resolve(&hooks, &host, &q.repo, &origin) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let list: Vec<Value> = hooks
        .list(host, &repo.stable_id)
        .iter()
        .map(|h| {
            let id = match host {
                Host::Bitbucket => Value::String(h.bitbucket_uuid()),
                _ => h.id.into(),
            };
            json!({"id": id, "url": h.url, "active": h.active, "events": h.events,
                "has_secret": h.secret.is_some()})
        })
        .collect();
    Json(list).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum HookAction {
    Delete,
    Disable,
    Enable,
}

#[derive(Deserialize)]
struct ChangeHook {
    repo: String,
    /// The id as the host's API shows it (a number, or Bitbucket's `{uuid}`).
    id: Value,
    action: HookAction,
}

async fn change_hook(
    State(hooks): State<Hooks>,
    Path(host): Path<String>,
    Origin(origin): Origin,
    Json(req): Json<ChangeHook>,
) -> Response {
    let (host, repo) = match resolve(&hooks, &host, &req.repo, &origin) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let id = hooks
        .list(host, &repo.stable_id)
        .into_iter()
        .find(|h| match &req.id {
            Value::String(s) => *s == h.bitbucket_uuid() || *s == h.id.to_string(),
            other => other.as_u64() == Some(h.id),
        })
        .map(|h| h.id);
    let done = id.is_some_and(|id| match req.action {
        HookAction::Delete => hooks.delete(host, &repo.stable_id, id),
        HookAction::Disable => hooks.set_active(host, &repo.stable_id, id, false),
        HookAction::Enable => hooks.set_active(host, &repo.stable_id, id, true),
    });
    if done {
        StatusCode::NO_CONTENT.into_response()
    } else {
        bad(StatusCode::NOT_FOUND, "unknown hook")
    }
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum RepoAction {
    Rename { name: String },
    Recreate,
}

#[derive(Deserialize)]
struct ChangeRepository {
    repo: String,
    #[serde(flatten)]
    action: RepoAction,
}

async fn change_repository(
    State(hooks): State<Hooks>,
    Path(host): Path<String>,
    Origin(origin): Origin,
    Json(req): Json<ChangeRepository>,
) -> Response {
    let (host, repo) = match resolve(&hooks, &host, &req.repo, &origin) {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let key = match &req.action {
        RepoAction::Rename { name } => {
            hooks.catalogue_mut(|c| c.rename(&repo, name));
            format!("{}/{name}", repo.owner)
        }
        RepoAction::Recreate => {
            hooks.catalogue_mut(|c| c.recreate(&repo));
            repo.full_name.clone()
        }
    };
    match hooks.repo(host, &key, &origin) {
        Some(now) => Json(json!({"id": now.stable_id, "full_name": now.full_name})).into_response(),
        None => bad(StatusCode::BAD_REQUEST, "the new name is not usable"),
    }
}

async fn sent(State(hooks): State<Hooks>, Path(host): Path<String>) -> Response {
    let host = match host_of(&host) {
        Ok(h) => h,
        Err(r) => return *r,
    };
    answer(&hooks.sent(host))
}
