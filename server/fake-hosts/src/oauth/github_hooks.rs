//! The fake GitHub's repository API for auto-build (REST "Repositories", "Git references",
//! "Commits" and "Repository webhooks", <https://docs.github.com/rest/repos/webhooks>), with the
//! same paths a GHES instance serves under `/api/v3`:
//! - `GET /repos/{owner}/{repo}`: the repository (stable `id`, `clone_url`, `permissions`).
//! - `GET /repos/{owner}/{repo}/git/ref/{heads/x | tags/y}` and `GET /repos/{o}/{r}/commits/{ref}`:
//!   a ref's head (404 / 422 "No commit found for SHA: …" when there is none).
//! - `GET /repositories/{id}`: the repository by its id (follows renames; 404 once deleted or
//!   recreated under a new id).
//! - `GET|POST /repos/{owner}/{repo}/hooks` (`per_page`/`page`, `Link`), `GET|PATCH|DELETE
//!   /repos/{owner}/{repo}/hooks/{id}`: 201 with the hook (`config.secret` masked as
//!   `********`), 200 with the changed hook (`active`, `config` replaced as a whole: url,
//!   secret, content type), 204, 404 for an unknown id. A new hook is pinged
//!   (`X-GitHub-Event: ping`).
//!
//! Refusals as GitHub words them: an unknown token 401 "Bad credentials"; a token without a hook
//! scope (`repo`, `admin:repo_hook`, or `write:repo_hook` to create, `read:repo_hook` to list)
//! or a repository the user does not administer (`repo-45`): 404 "Not Found" with
//! `X-OAuth-Scopes` and `X-Accepted-OAuth-Scopes`; a 21st hook: 422 "Validation Failed" with
//! `The "push" event cannot have more than 20 hooks` (as quoted in grafana/grafana#129007).

use super::OAuthState;
use crate::hooks::{payload_ping, Hook, Hooks, Host, RepoInfo, CREATED_AT};
use crate::support::Origin;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

/// GitHub's per-event hook limit on one repository.
pub const HOOK_LIMIT: usize = 20;

#[derive(Clone)]
pub(crate) struct GithubHooks {
    pub oauth: OAuthState,
    pub hooks: Hooks,
}

pub(crate) fn routes(state: GithubHooks) -> Router {
    let base = "/github-api/repos/{owner}/{repo}";
    Router::new()
        .route(base, get(repository))
        .route(&format!("{base}/git/ref/{{*ref}}"), get(git_ref))
        .route(&format!("{base}/commits/{{*ref}}"), get(commit))
        .route(&format!("{base}/hooks"), get(list).post(create))
        .route(
            &format!("{base}/hooks/{{id}}"),
            get(show).patch(update).delete(delete),
        )
        .route("/github-api/repositories/{id}", get(repository_by_id))
        .with_state(state)
}

fn message(status: StatusCode, text: &str, doc: &str) -> Response {
    let body = json!({"message": text, "documentation_url": format!("https://docs.github.com/rest/{doc}"),
        "status": status.as_u16().to_string()});
    (status, Json(body)).into_response()
}

fn not_found(doc: &str) -> Response {
    message(StatusCode::NOT_FOUND, "Not Found", doc)
}

/// Which hook operation: the scopes that allow it.
#[derive(Clone, Copy)]
enum Need {
    Read,
    Write,
    Admin,
}

impl Need {
    fn allowed(self) -> &'static [&'static str] {
        match self {
            Need::Read => &[
                "repo",
                "admin:repo_hook",
                "write:repo_hook",
                "read:repo_hook",
            ],
            Need::Write => &["repo", "admin:repo_hook", "write:repo_hook"],
            Need::Admin => &["repo", "admin:repo_hook"],
        }
    }
}

fn token(h: &HeaderMap) -> Option<String> {
    super::bearer(h)
}

/// The token's scopes, or GitHub's 401.
fn scopes(st: &GithubHooks, h: &HeaderMap) -> Result<Vec<String>, Box<Response>> {
    let scope = token(h).and_then(|t| st.oauth.scope_of(&t));
    let Some(scope) = scope else {
        return Err(Box::new(message(
            StatusCode::UNAUTHORIZED,
            "Bad credentials",
            "",
        )));
    };
    Ok(scope
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// The repository, if the caller may use its hooks for `need`: else GitHub's 404.
fn hook_access(
    st: &GithubHooks,
    h: &HeaderMap,
    owner: &str,
    name: &str,
    need: Need,
    origin: &str,
) -> Result<RepoInfo, Box<Response>> {
    let granted = scopes(st, h)?;
    let doc = "repos/webhooks";
    let repo = st
        .hooks
        .repo(Host::Github, &format!("{owner}/{name}"), origin)
        .ok_or_else(|| Box::new(not_found(doc)))?;
    let scoped = granted.iter().any(|g| need.allowed().contains(&g.as_str()));
    if !scoped || !repo.admin {
        let mut r = not_found(doc);
        let headers = r.headers_mut();
        headers.insert("x-oauth-scopes", granted.join(", ").parse().unwrap());
        let accepted = need
            .allowed()
            .iter()
            .copied()
            .rev()
            .collect::<Vec<_>>()
            .join(", ");
        headers.insert("x-accepted-oauth-scopes", accepted.parse().unwrap());
        return Err(Box::new(r));
    }
    Ok(repo)
}

fn api(origin: &str) -> String {
    format!("{origin}/github-api")
}

fn repo_json(r: &RepoInfo, origin: &str) -> Value {
    json!({
        "id": r.numeric_id(), "node_id": format!("R_fake{}", r.stable_id), "name": r.name,
        "full_name": r.full_name, "private": r.number.is_multiple_of(3),
        "owner": {"login": r.owner, "id": 583231, "type": "User"},
        "html_url": r.html_url, "clone_url": r.clone_url,
        "ssh_url": format!("git@github.com:{}.git", r.full_name),
        "url": format!("{}/repos/{}", api(origin), r.full_name),
        "default_branch": r.default_branch,
        "permissions": {"admin": r.admin, "maintain": r.admin, "push": true, "triage": true, "pull": true},
    })
}

async fn repository(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    if let Err(r) = scopes(&st, &h) {
        return *r;
    }
    match st
        .hooks
        .repo(Host::Github, &format!("{owner}/{name}"), &origin)
    {
        Some(r) => Json(repo_json(&r, &origin)).into_response(),
        None => not_found("repos/repos#get-a-repository"),
    }
}

async fn repository_by_id(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = scopes(&st, &h) {
        return *r;
    }
    // Only a number is an id (a name would be found by `find` too).
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|_| st.hooks.repo(Host::Github, &id, &origin));
    match found {
        Some(r) => Json(repo_json(&r, &origin)).into_response(),
        None => not_found("repos/repos#get-a-repository"),
    }
}

async fn git_ref(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, short)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = scopes(&st, &h) {
        return *r;
    }
    let doc = "git/refs#get-a-reference";
    let Some(repo) = st
        .hooks
        .repo(Host::Github, &format!("{owner}/{name}"), &origin)
    else {
        return not_found(doc);
    };
    let full = format!("refs/{short}");
    match st.hooks.head(Host::Github, &repo, &full) {
        Some(sha) => {
            let base = format!("{}/repos/{}", api(&origin), repo.full_name);
            Json(json!({"ref": full, "node_id": "REF_fake", "url": format!("{base}/git/{full}"),
                "object": {"sha": sha, "type": "commit", "url": format!("{base}/git/commits/{sha}")}}))
            .into_response()
        }
        None => not_found(doc),
    }
}

/// `GET /commits/{ref}`: a branch name, a tag name, or a commit SHA.
async fn commit(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, wanted)): Path<(String, String, String)>,
) -> Response {
    if let Err(r) = scopes(&st, &h) {
        return *r;
    }
    let doc = "commits/commits#get-a-commit";
    let Some(repo) = st
        .hooks
        .repo(Host::Github, &format!("{owner}/{name}"), &origin)
    else {
        return not_found(doc);
    };
    let found = ["refs/heads/", "refs/tags/"]
        .iter()
        .find_map(|p| st.hooks.head(Host::Github, &repo, &format!("{p}{wanted}")))
        .or_else(|| {
            (wanted.len() == 40 && wanted.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| wanted.clone())
        });
    match found {
        Some(sha) => Json(json!({"sha": sha, "node_id": "C_fake",
            "html_url": format!("{}/commit/{sha}", repo.html_url),
            "commit": {"message": "Fake commit", "tree": {"sha": sha}}}))
        .into_response(),
        None => message(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("No commit found for SHA: {wanted}"),
            doc,
        ),
    }
}

pub(crate) fn hook_json(r: &RepoInfo, hook: &Hook, origin: &str) -> Value {
    let url = format!("{}/repos/{}/hooks/{}", api(origin), r.full_name, hook.id);
    let mut config = json!({"content_type": hook.config["content_type"], "insecure_ssl": hook.config["insecure_ssl"], "url": hook.url});
    if hook.secret.is_some() {
        config["secret"] = "********".into();
    }
    json!({
        "type": "Repository", "id": hook.id, "name": "web", "active": hook.active,
        "events": hook.events, "config": config, "updated_at": CREATED_AT, "created_at": CREATED_AT,
        "test_url": format!("{url}/test"), "ping_url": format!("{url}/pings"),
        "deliveries_url": format!("{url}/deliveries"), "url": url,
        "last_response": {"code": null, "status": "unused", "message": null},
    })
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<usize>,
    per_page: Option<usize>,
}

async fn list(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let repo = match hook_access(&st, &h, &owner, &name, Need::Read, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let all = st.hooks.list(Host::Github, &repo.stable_id);
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|hook| hook_json(&repo, hook, &origin))
        .collect();
    let mut response = Json(items).into_response();
    if page * per_page < all.len() {
        let next = format!(
            "<{}/repos/{}/hooks?per_page={per_page}&page={}>; rel=\"next\"",
            api(&origin),
            repo.full_name,
            page + 1
        );
        response.headers_mut().insert("link", next.parse().unwrap());
    }
    response
}

fn invalid(message_text: &str) -> Response {
    let body = json!({"message": "Validation Failed",
        "errors": [{"resource": "Hook", "code": "custom", "message": message_text}],
        "documentation_url": "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook",
        "status": "422"});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

async fn create(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let repo = match hook_access(&st, &h, &owner, &name, Need::Write, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let config = &body["config"];
    let Some(url) = config["url"].as_str().filter(|u| !u.is_empty()) else {
        return invalid("Config must contain URL for webhooks");
    };
    let events: Vec<String> = match body["events"].as_array() {
        Some(list) => list
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect(),
        None => vec!["push".into()],
    };
    let existing = st.hooks.list(Host::Github, &repo.stable_id);
    if let Some(full) = events
        .iter()
        .find(|e| existing.iter().filter(|h| h.events.contains(e)).count() >= HOOK_LIMIT)
    {
        return invalid(&format!(
            "The \"{full}\" event cannot have more than {HOOK_LIMIT} hooks"
        ));
    }
    let hook = Hook {
        id: 0,
        url: url.to_string(),
        secret: config["secret"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        active: body["active"].as_bool().unwrap_or(true),
        events,
        config: json!({
            "content_type": config["content_type"].as_str().unwrap_or("form"),
            "insecure_ssl": config["insecure_ssl"].as_str().unwrap_or("0"),
        }),
    };
    let hook = st.hooks.create(Host::Github, &repo.stable_id, hook);
    let answer = hook_json(&repo, &hook, &origin);
    let ping = payload_ping(&repo, &hook, answer.clone());
    let hooks = st.hooks.clone();
    let stable = repo.stable_id.clone();
    // GitHub pings right after answering, not before.
    tokio::spawn(async move { hooks.send(Host::Github, &stable, vec![ping], false).await });
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn show(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> Response {
    let repo = match hook_access(&st, &h, &owner, &name, Need::Read, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let hook = id
        .parse()
        .ok()
        .and_then(|id| st.hooks.get(Host::Github, &repo.stable_id, id));
    match hook {
        Some(hook) => Json(hook_json(&repo, &hook, &origin)).into_response(),
        None => not_found("repos/webhooks#get-a-repository-webhook"),
    }
}

/// `PATCH /hooks/{id}`: `active` and `config` (replaced as a whole, as GitHub does).
async fn update(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, id)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let repo = match hook_access(&st, &h, &owner, &name, Need::Write, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let config = body.get("config").cloned();
    if let Some(c) = &config {
        if c["url"].as_str().is_none_or(str::is_empty) {
            return invalid("Config must contain URL for webhooks");
        }
    }
    let changed = id.parse().ok().and_then(|id| {
        st.hooks.update(Host::Github, &repo.stable_id, id, |hook| {
            if let Some(active) = body["active"].as_bool() {
                hook.active = active;
            }
            if let Some(c) = &config {
                hook.url = c["url"].as_str().unwrap_or_default().to_string();
                hook.secret = c["secret"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                hook.config = json!({
                    "content_type": c["content_type"].as_str().unwrap_or("form"),
                    "insecure_ssl": c["insecure_ssl"].as_str().unwrap_or("0"),
                });
            }
        })
    });
    match changed {
        Some(hook) => Json(hook_json(&repo, &hook, &origin)).into_response(),
        None => not_found("repos/webhooks#update-a-repository-webhook"),
    }
}

async fn delete(
    State(st): State<GithubHooks>,
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> Response {
    let repo = match hook_access(&st, &h, &owner, &name, Need::Admin, &origin) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let deleted = id
        .parse()
        .is_ok_and(|id| st.hooks.delete(Host::Github, &repo.stable_id, id));
    if deleted {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found("repos/webhooks#delete-a-repository-webhook")
    }
}
