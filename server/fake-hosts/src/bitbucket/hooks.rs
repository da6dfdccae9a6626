//! The fake Bitbucket Cloud's ref lookups and repository webhooks (REST API 2.0 "Refs" and
//! "Repositories → webhooks", <https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-hooks-get>);
//! `{repo_slug}` is the slug or the repository's `{uuid}` (URL-encoded):
//! - `GET /2.0/repositories/{workspace}/{repo_slug}`: the repository as it is now (after a
//!   rename its new slug and name, the same uuid; after a recreation a new uuid, the old one 404).
//! - `GET /2.0/repositories/{workspace}/{repo_slug}/refs/branches/{name}` and `…/refs/tags/{name}`:
//!   `target.hash` (404 when there is no such ref).
//! - `GET|POST /2.0/repositories/{workspace}/{repo_slug}/hooks` (paginated envelope),
//!   `GET|PUT|DELETE …/hooks/{uid}` (`uid` the subscription's `{uuid}`): 201 with the
//!   subscription (`secret_set`, never the secret), 200 after an update (`url`, `active`,
//!   `events`, `secret` as given; same uuid), 204, 404.
//!
//! Refusals: refs need the `repository` scope, hooks the `webhook` scope (403 "Your credentials
//! lack one or more required privilege scopes." naming `webhook`; only `bitbucket-fake-hooks` and
//! `approve-webhook` grants have it); a repository the user does not administer (`repo-25`):
//! 403 (the fake's own wording).

use super::api::{authorize, error, not_found, paginate, repo_json_as, ListQuery};
use super::Bitbucket;
use crate::hooks::{Hook, Hooks, Host, RepoInfo, CREATED_AT};
use crate::support::Origin;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Clone)]
pub(super) struct BitbucketHooks {
    bb: Bitbucket,
    hooks: Hooks,
}

pub(super) fn routes(bb: Bitbucket, hooks: Hooks) -> Router {
    let base = "/bitbucket-api/2.0/repositories/{workspace}/{slug}";
    Router::new()
        .route(base, get(repository))
        .route(&format!("{base}/refs/branches/{{*name}}"), get(branch))
        .route(&format!("{base}/refs/tags/{{*name}}"), get(tag))
        .route(&format!("{base}/hooks"), get(list).post(create))
        .route(
            &format!("{base}/hooks/{{uid}}"),
            get(show).put(update).delete(delete),
        )
        .with_state(BitbucketHooks { bb, hooks })
}

fn access(
    st: &BitbucketHooks,
    h: &HeaderMap,
    workspace: &str,
    slug: &str,
    scope: &str,
    origin: &str,
) -> Result<RepoInfo, Box<Response>> {
    if let Some(r) = authorize(&st.bb, h, scope) {
        return Err(Box::new(r));
    }
    let repo = st
        .hooks
        .repo(Host::Bitbucket, &format!("{workspace}/{slug}"), origin)
        .ok_or_else(|| Box::new(not_found()))?;
    if scope == "webhook" && !repo.admin {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "You must be an administrator of this repository to manage its webhooks.",
        )));
    }
    Ok(repo)
}

async fn repository(
    State(st): State<BitbucketHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((w, s)): Path<(String, String)>,
) -> Response {
    match access(&st, &h, &w, &s, "repository", &origin) {
        Ok(r) => Json(repo_json_as(r.number, &r.name, &r.stable_id, &origin)).into_response(),
        Err(r) => *r,
    }
}

fn ref_json(r: &RepoInfo, kind: &str, name: &str, sha: &str) -> Value {
    json!({"type": kind, "name": name,
        "target": {"type": "commit", "hash": sha,
            "links": {"html": {"href": format!("{}/commits/{sha}", r.html_url)}}},
        "links": {"html": {"href": format!("{}/src/{name}", r.html_url)}}})
}

async fn lookup(
    st: BitbucketHooks,
    h: HeaderMap,
    origin: String,
    workspace: String,
    slug: String,
    name: String,
    kind: &str,
) -> Response {
    let r = match access(&st, &h, &workspace, &slug, "repository", &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let prefix = if kind == "tag" {
        "refs/tags/"
    } else {
        "refs/heads/"
    };
    match st
        .hooks
        .head(Host::Bitbucket, &r, &format!("{prefix}{name}"))
    {
        Some(sha) => Json(ref_json(&r, kind, &name, &sha)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("{kind} \"{name}\" not found"),
        ),
    }
}

async fn branch(
    State(st): State<BitbucketHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((w, s, name)): Path<(String, String, String)>,
) -> Response {
    lookup(st, h, origin, w, s, name, "branch").await
}

async fn tag(
    State(st): State<BitbucketHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((w, s, name)): Path<(String, String, String)>,
) -> Response {
    lookup(st, h, origin, w, s, name, "tag").await
}

fn hook_json(r: &RepoInfo, hook: &Hook, origin: &str) -> Value {
    let uuid = hook.bitbucket_uuid();
    json!({
        "type": "webhook_subscription", "uuid": uuid, "url": hook.url,
        "description": hook.config["description"], "subject_type": "repository",
        "subject": {"type": "repository", "full_name": r.full_name, "name": r.name, "uuid": r.stable_id,
            "links": {"html": {"href": r.html_url}}},
        "active": hook.active, "created_at": CREATED_AT, "events": hook.events,
        "secret_set": hook.secret.is_some(), "skip_cert_verification": hook.config["skip_cert_verification"],
        "links": {"self": {"href": format!("{origin}/bitbucket-api/2.0/repositories/{}/hooks/{uuid}", r.full_name)}},
    })
}

async fn list(
    State(st): State<BitbucketHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    uri: Uri,
    Path((w, s)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Response {
    let r = match access(&st, &h, &w, &s, "webhook", &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let items = st
        .hooks
        .list(Host::Bitbucket, &r.stable_id)
        .iter()
        .map(|hk| hook_json(&r, hk, &origin))
        .collect();
    paginate(items, &q, &origin, &uri)
}

async fn create(
    State(st): State<BitbucketHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((w, s)): Path<(String, String)>,
    body: String,
) -> Response {
    let r = match access(&st, &h, &w, &s, "webhook", &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let url = body["url"].as_str().filter(|u| !u.is_empty());
    let events: Vec<String> = body["events"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let (Some(url), false) = (url, events.is_empty()) else {
        let missing = if url.is_none() { "url" } else { "events" };
        let err = json!({"type": "error", "error": {"message": "Bad request",
            "fields": {missing: ["This field is required."]}}});
        return (StatusCode::BAD_REQUEST, Json(err)).into_response();
    };
    let hook = Hook {
        id: 0,
        url: url.to_string(),
        secret: body["secret"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        active: body["active"].as_bool().unwrap_or(true),
        events,
        config: json!({"description": body["description"].as_str().unwrap_or(""),
            "skip_cert_verification": body["skip_cert_verification"].as_bool().unwrap_or(false)}),
    };
    let hook = st.hooks.create(Host::Bitbucket, &r.stable_id, hook);
    (StatusCode::CREATED, Json(hook_json(&r, &hook, &origin))).into_response()
}

fn find_hook(st: &BitbucketHooks, r: &RepoInfo, uid: &str) -> Option<Hook> {
    st.hooks
        .list(Host::Bitbucket, &r.stable_id)
        .into_iter()
        .find(|h| h.bitbucket_uuid() == uid || h.bitbucket_uuid().trim_matches(['{', '}']) == uid)
}

fn no_hook() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "The requested webhook subscription does not exist.",
    )
}

async fn show(
    State(st): State<BitbucketHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((w, s, uid)): Path<(String, String, String)>,
) -> Response {
    let r = match access(&st, &h, &w, &s, "webhook", &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match find_hook(&st, &r, &uid) {
        Some(hook) => Json(hook_json(&r, &hook, &origin)).into_response(),
        None => no_hook(),
    }
}

async fn update(
    State(st): State<BitbucketHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((w, s, uid)): Path<(String, String, String)>,
    body: String,
) -> Response {
    let r = match access(&st, &h, &w, &s, "webhook", &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let Some(found) = find_hook(&st, &r, &uid) else {
        return no_hook();
    };
    let changed = st
        .hooks
        .update(Host::Bitbucket, &r.stable_id, found.id, |hook| {
            if let Some(url) = body["url"].as_str().filter(|u| !u.is_empty()) {
                hook.url = url.to_string();
            }
            if let Some(active) = body["active"].as_bool() {
                hook.active = active;
            }
            if let Some(secret) = body["secret"].as_str() {
                hook.secret = Some(secret.to_string()).filter(|s| !s.is_empty());
            }
            if let Some(list) = body["events"].as_array() {
                hook.events = list
                    .iter()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect();
            }
        });
    match changed {
        Some(hook) => Json(hook_json(&r, &hook, &origin)).into_response(),
        None => no_hook(),
    }
}

async fn delete(
    State(st): State<BitbucketHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((w, s, uid)): Path<(String, String, String)>,
) -> Response {
    let r = match access(&st, &h, &w, &s, "webhook", &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    match find_hook(&st, &r, &uid) {
        Some(hook) if st.hooks.delete(Host::Bitbucket, &r.stable_id, hook.id) => {
            StatusCode::NO_CONTENT.into_response()
        }
        _ => no_hook(),
    }
}
