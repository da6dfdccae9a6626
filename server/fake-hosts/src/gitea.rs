//! Fake Gitea 1.22 (Forgejo serves the same API) at `/gitea`: the instance address a user types
//! is `<fake>/gitea`, the API is at `<fake>/gitea/api/v1`. One account, `gitea-alice`, with 25
//! repositories (`repo-01` … `repo-25`, every third private), each with branches `main`,
//! `develop`, `release`. Tokens: [`GITEA_TOKENS`]. `GET /gitea/__log`: requests with their
//! `Authorization` header (e.g. to check the token went as `token <PAT>`).
//!
//! Formats from the API documentation (<https://docs.gitea.com/development/api-usage>,
//! swagger at <https://gitea.com/api/swagger>: `User`, `Repository`, `Branch`; tokens as
//! `Authorization: token …` or `Bearer …`; `page`/`limit`, `X-Total-Count` and `Link`) and, for
//! the details the documentation leaves out, Gitea's source (go-gitea/gitea v1.22):
//! - `services/context/api.go`: errors are `{"message","url":"<instance>/api/swagger"}`; 404 is
//!   `{"message":"The target couldn't be found.","url",…,"errors":[]}`; `genAPILinks` builds
//!   `Link` as `<next>; rel="next",<last>; rel="last",<first>; rel="first",<prev>; rel="prev"`
//!   (comma, no space), each the request URL with `page` set and the query re-encoded in key
//!   order, and only the relations that apply (paginater: `HasNext`, `!IsLast`, `!IsFirst`,
//!   `HasPrevious`).
//! - `services/auth/oauth2.go`: an unknown token answers 401 `user does not exist [uid: 0, name: ]`
//!   on every API route; `routers/api/v1/api.go`: no token where one is needed → 401
//!   `token is required`; a missing scope → 403 `token does not have at least one of required
//!   scope(s): [read:user]` (`/user` and `/user/repos` need read:user, repository routes
//!   read:repository; `/user/repos` needs both; a write scope includes its read scope).
//!
//! Refs and webhooks (`GET /repos/{o}/{r}/branches/{b}`, `/tags/{t}`, `/hooks`): see
//! `gitea/hooks.rs`.
//! - `routers/api/v1/utils/page.go` + `convert.ToCorrectPageSize`: `limit` defaults to 30 and is
//!   capped at 50; `page` below 1 is 1.

mod hooks;
mod paging;
#[cfg(test)]
mod tests;

use crate::support::{record, show_log, AuthLog, Origin};
use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use paging::{paginate, PageQuery};
use serde_json::{json, Value};

/// Fake personal access tokens and what they stand for.
pub const GITEA_TOKENS: &[(&str, &str)] = &[
    (
        "gitea-fake-alice",
        "gitea-alice: read:user + read:repository",
    ),
    (
        "gitea-fake-user-only",
        "read:user only: 403 on repository endpoints and /user/repos",
    ),
    (
        "gitea-fake-repo-only",
        "read:repository only: 403 on /user and /user/repos",
    ),
    (
        "gitea-fake-writer",
        "gitea-alice: read:user + write:repository (manages webhooks; write implies read)",
    ),
    (
        "gitea-fake-revoked",
        "401 user does not exist [uid: 0, name: ] (as any unknown token)",
    ),
];

const OWNER: &str = "gitea-alice";
const REPOS: usize = 25;
const BRANCHES: [&str; 3] = ["main", "develop", "release"];

pub fn router(registry: crate::hooks::Hooks) -> Router {
    let log = AuthLog::default();
    Router::new()
        .route("/gitea/api/v1/version", get(version))
        .route("/gitea/api/v1/user", get(user))
        .route("/gitea/api/v1/user/repos", get(user_repos))
        .route("/gitea/api/v1/repos/{owner}/{repo}", get(repository))
        .route("/gitea/api/v1/repos/{owner}/{repo}/branches", get(branches))
        .merge(hooks::routes(registry))
        .merge(
            Router::new()
                .route("/gitea/__log", get(show_log))
                .with_state(log.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(log, record))
}

fn error(status: StatusCode, message: &str, origin: &str) -> Response {
    let url = format!("{origin}/gitea/api/swagger");
    (status, Json(json!({"message": message, "url": url}))).into_response()
}

fn not_found(origin: &str) -> Response {
    let url = format!("{origin}/gitea/api/swagger");
    let body = json!({"message": "The target couldn't be found.", "url": url, "errors": []});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// Who is calling, from the `Authorization` header.
enum Caller {
    Anonymous,
    Token(&'static [&'static str]),
    /// A token Gitea does not know: 401 on every API route.
    Unknown,
}

fn caller(h: &HeaderMap) -> Caller {
    let Some(value) = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Caller::Anonymous;
    };
    // Gitea takes `token <t>` and `bearer <t>` in any case; other schemes are not tokens.
    let Some((scheme, token)) = value.split_once(' ') else {
        return Caller::Anonymous;
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "token" | "bearer") {
        return Caller::Anonymous;
    }
    match token.trim() {
        "gitea-fake-alice" => Caller::Token(&["read:user", "read:repository"]),
        "gitea-fake-user-only" => Caller::Token(&["read:user"]),
        "gitea-fake-repo-only" => Caller::Token(&["read:repository"]),
        "gitea-fake-writer" => Caller::Token(&["read:user", "write:repository"]),
        _ => Caller::Unknown,
    }
}

fn unknown_token(origin: &str) -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "user does not exist [uid: 0, name: ]",
        origin,
    )
}

/// Gitea's `tokenRequiresScopes` then `reqToken`, in route-group order: the refusal, if any.
fn require(h: &HeaderMap, origin: &str, needed: &[&str]) -> Option<Response> {
    let granted = match caller(h) {
        Caller::Token(granted) => granted,
        Caller::Unknown => return Some(unknown_token(origin)),
        Caller::Anonymous => {
            return Some(error(StatusCode::UNAUTHORIZED, "token is required", origin))
        }
    };
    // A write scope includes the read scope of the same category.
    let has = |s: &str| {
        let write = s.replace("read:", "write:");
        granted.contains(&s) || granted.contains(&write.as_str())
    };
    let missing = needed.iter().find(|s| !has(s))?;
    let message = format!("token does not have at least one of required scope(s): [{missing}]");
    Some(error(StatusCode::FORBIDDEN, &message, origin))
}

async fn version(h: HeaderMap, Origin(origin): Origin) -> Response {
    // No token needed, but a bad one is refused here too (the auth middleware runs first).
    if let Caller::Unknown = caller(&h) {
        return unknown_token(&origin);
    }
    Json(json!({"version": "1.22.0"})).into_response()
}

fn user_json(origin: &str) -> Value {
    json!({
        "id": 1, "login": OWNER, "login_name": "", "source_id": 0, "full_name": "Alice Gitea",
        "email": "gitea-alice@example.invalid", "avatar_url": format!("{origin}/avatars/alice.png"),
        "html_url": format!("{origin}/gitea/{OWNER}"), "language": "en-US", "is_admin": false,
        "last_login": "2025-01-02T03:04:05Z", "created": "2024-01-02T03:04:05Z",
        "restricted": false, "active": true, "prohibit_login": false, "location": "",
        "website": "", "description": "", "visibility": "public", "followers_count": 0,
        "following_count": 0, "starred_repos_count": 0, "username": OWNER
    })
}

async fn user(h: HeaderMap, Origin(origin): Origin) -> Response {
    match require(&h, &origin, &["read:user"]) {
        None => Json(user_json(&origin)).into_response(),
        Some(r) => r,
    }
}

fn repo_json(i: usize, origin: &str) -> Value {
    let name = format!("repo-{i:02}");
    let full = format!("{OWNER}/{name}");
    let html = format!("{origin}/gitea/{full}");
    let mut repo = json!({
        "id": 100 + i, "owner": user_json(origin), "name": name, "full_name": full,
        "description": "", "empty": false, "private": i.is_multiple_of(3), "fork": false,
        "template": false, "parent": null, "mirror": false, "size": 24, "language": "",
        "languages_url": format!("{origin}/gitea/api/v1/repos/{full}/languages"),
        "html_url": html, "url": format!("{origin}/gitea/api/v1/repos/{full}"), "link": "",
        "ssh_url": format!("git@localhost:{full}.git"), "clone_url": format!("{html}.git"),
        "original_url": "", "website": "", "stars_count": 0, "forks_count": 0,
        "watchers_count": 1, "open_issues_count": 0, "open_pr_counter": 0, "release_counter": 0,
        "default_branch": "main", "archived": false, "created_at": "2024-06-01T09:00:00Z",
        "updated_at": format!("2025-01-{i:02}T10:00:00Z"), "archived_at": "1970-01-01T00:00:00Z",
    });
    // A second object: one json! this long exceeds the macro recursion limit.
    let more = json!({
        "permissions": {"admin": true, "push": true, "pull": true},
        "has_issues": true, "has_wiki": true, "has_pull_requests": true, "has_projects": true,
        "has_releases": true, "has_packages": true, "has_actions": false,
        "internal": false, "mirror_interval": "", "object_format_name": "sha1", "avatar_url": ""
    });
    if let (Value::Object(a), Value::Object(b)) = (&mut repo, more) {
        a.extend(b);
    }
    repo
}

async fn user_repos(
    h: HeaderMap,
    Origin(origin): Origin,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Response {
    // The `/user` group asks for read:user, then `/repos` for read:repository.
    if let Some(r) = require(&h, &origin, &["read:user", "read:repository"]) {
        return r;
    }
    let items = (1..=REPOS).map(|i| repo_json(i, &origin)).collect();
    paginate(items, &q, &origin, &uri)
}

/// The repository number for `owner/repo`, if the fake has it (owner names are case-insensitive).
fn find(owner: &str, repo: &str) -> Option<usize> {
    let n: usize = repo.strip_prefix("repo-")?.parse().ok()?;
    let ok = owner.eq_ignore_ascii_case(OWNER) && repo == format!("repo-{n:02}");
    (ok && (1..=REPOS).contains(&n)).then_some(n)
}

/// Repository routes: read:repository when a token is sent; anonymous callers see public ones only.
fn repo_access(
    h: &HeaderMap,
    origin: &str,
    owner: &str,
    repo: &str,
) -> Result<usize, Box<Response>> {
    let signed_in = match caller(h) {
        Caller::Anonymous => false,
        Caller::Unknown => return Err(Box::new(unknown_token(origin))),
        Caller::Token(_) => true,
    };
    if let Some(refusal) = signed_in
        .then(|| require(h, origin, &["read:repository"]))
        .flatten()
    {
        return Err(Box::new(refusal));
    }
    match find(owner, repo) {
        Some(i) if signed_in || !i.is_multiple_of(3) => Ok(i),
        _ => Err(Box::new(not_found(origin))),
    }
}

async fn repository(
    h: HeaderMap,
    Origin(origin): Origin,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    match repo_access(&h, &origin, &owner, &repo) {
        Ok(i) => Json(repo_json(i, &origin)).into_response(),
        Err(r) => *r,
    }
}

async fn branches(
    h: HeaderMap,
    Origin(origin): Origin,
    uri: Uri,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let i = match repo_access(&h, &origin, &owner, &repo) {
        Ok(i) => i,
        Err(r) => return *r,
    };
    let full = format!("{OWNER}/repo-{i:02}");
    let items = BRANCHES
        .iter()
        .enumerate()
        .map(|(n, b)| {
            let sha = format!("{:040x}", 0x617e_a000_u64 + (i * 10 + n) as u64);
            let person = json!({"name": "Alice Gitea", "email": "gitea-alice@example.invalid", "username": OWNER});
            json!({
                "name": b,
                "commit": {
                    "id": sha, "message": format!("Work on {b}\n"),
                    "url": format!("{origin}/gitea/{full}/commit/{sha}"),
                    "author": person, "committer": person, "verification": null,
                    "timestamp": "2025-01-02T03:04:05Z", "added": null, "removed": null, "modified": null
                },
                "protected": false, "required_approvals": 0, "enable_status_check": false,
                "status_check_contexts": [], "user_can_push": true, "user_can_merge": true,
                "effective_branch_protection_name": ""
            })
        })
        .collect();
    paginate(items, &q, &origin, &uri)
}
