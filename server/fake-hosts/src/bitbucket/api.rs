//! The fake Bitbucket REST API 2.0 (under `/bitbucket-api/2.0`): the user, the repositories
//! the user is a member of (25, `fake-workspace/repo-01` … `repo-25`), and a repository's
//! branches (`main`, `develop`, `release`). One repository by slug or `{uuid}` is in `hooks.rs`,
//! where the renames and recreations a test made are known.
//!
//! Formats: <https://developer.atlassian.com/cloud/bitbucket/rest/api-group-users/>,
//! <https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/>,
//! <https://developer.atlassian.com/cloud/bitbucket/rest/api-group-refs/>; pagination
//! (`pagelen` default 10, at most 100; `page`, `size`, `values`, absolute `next`/`previous`
//! URLs present only when there is such a page):
//! <https://developer.atlassian.com/cloud/bitbucket/rest/intro/#pagination>; filtering and sorting
//! (`q=name ~ "x"`, `sort=-updated_on`): <https://developer.atlassian.com/cloud/bitbucket/rest/intro/#filtering>.
//! Error bodies `{"type":"error","error":{"message":…}}` with the messages the real API sends:
//! "Access token expired." (lemurheavy/coveralls-public#1541), "Token is invalid, expired, or not
//! supported for this endpoint." (avivsinai/bitbucket-cli#174), the 403 "Your credentials lack one
//! or more required privilege scopes." with `detail.required`/`granted`, the 404 "You may not have
//! access to this repository or it no longer exists in this workspace. …" and the 429 "Rate limit
//! for this resource has been exceeded" (quoted by several clients' tests).

use super::Bitbucket;
use crate::support::{with_query_param, Origin};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;

pub const WORKSPACE: &str = "fake-workspace";
const REPOS: u32 = 25;
const BRANCHES: [&str; 3] = ["main", "develop", "release"];

pub(super) fn routes() -> Router<Bitbucket> {
    Router::new()
        .route("/bitbucket-api/2.0/user", get(user))
        .route("/bitbucket-api/2.0/repositories", get(repositories))
        .route(
            "/bitbucket-api/2.0/repositories/{workspace}/{slug}/refs/branches",
            get(branches),
        )
}

pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"type": "error", "error": {"message": message}})),
    )
        .into_response()
}

/// Checks the bearer token and that it carries `scope`: the refusal, if any.
pub(super) fn authorize(bb: &Bitbucket, h: &HeaderMap, scope: &str) -> Option<Response> {
    let token = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        // Anonymous call to an endpoint that needs a user. (Message not quoted from Bitbucket.)
        return Some(error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    };
    match token {
        "bitbucket-fake-expired" => {
            return Some(error(StatusCode::UNAUTHORIZED, "Access token expired."))
        }
        "bitbucket-fake-ratelimit" => {
            return Some(error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit for this resource has been exceeded",
            ))
        }
        _ => {}
    }
    let Some(access) = bb.access(token) else {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "Token is invalid, expired, or not supported for this endpoint.",
        ));
    };
    if access.expires.is_some_and(|e| e <= Instant::now()) {
        return Some(error(StatusCode::UNAUTHORIZED, "Access token expired."));
    }
    let granted: Vec<&str> = access.scopes.split_whitespace().collect();
    if !granted.contains(&scope) {
        let body = json!({"type": "error", "error": {
            "message": "Your credentials lack one or more required privilege scopes.",
            "detail": {"required": [scope], "granted": granted}
        }});
        return Some((StatusCode::FORBIDDEN, Json(body)).into_response());
    }
    None
}

async fn user(State(bb): State<Bitbucket>, h: HeaderMap, Origin(origin): Origin) -> Response {
    if let Some(r) = authorize(&bb, &h, "account") {
        return r;
    }
    let uuid = "{a11ce000-0000-4000-8000-00000000b0b0}";
    Json(json!({
        "type": "user", "username": "bb-alice", "nickname": "bb-alice", "display_name": "Alice Bitbucket",
        "account_id": "557058:00000000-fake-4000-8000-00000000a11c", "uuid": uuid,
        "account_status": "active", "is_staff": false, "created_on": "2024-01-02T03:04:05.000000+00:00",
        "links": {
            "self": {"href": format!("{origin}/bitbucket-api/2.0/users/{uuid}")},
            "avatar": {"href": format!("{origin}/avatars/alice.png")},
            "html": {"href": "https://bitbucket.org/bb-alice/"}
        }
    }))
    .into_response()
}

fn repo_json(i: u32, origin: &str) -> Value {
    let uuid = format!("{{00000000-0000-4000-8000-0000000000{i:02}}}");
    repo_json_as(i, &format!("repo-{i:02}"), &uuid, origin)
}

/// Repository `i` under the slug and uuid it has now (a rename or recreation changes them).
pub(super) fn repo_json_as(i: u32, slug: &str, uuid: &str, origin: &str) -> Value {
    let full = format!("{WORKSPACE}/{slug}");
    json!({
        "type": "repository", "full_name": full, "name": slug, "slug": slug,
        "uuid": uuid,
        "is_private": i.is_multiple_of(3), "scm": "git", "description": "",
        "created_on": "2024-06-01T09:00:00.000000+00:00",
        "updated_on": format!("2025-01-{i:02}T10:00:00.000000+00:00"),
        "mainbranch": {"type": "branch", "name": "main"},
        "workspace": {"type": "workspace", "slug": WORKSPACE, "name": "Fake Workspace"},
        "links": {
            "self": {"href": format!("{origin}/bitbucket-api/2.0/repositories/{full}")},
            "html": {"href": format!("https://bitbucket.org/{full}")}
        }
    })
}

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    page: Option<usize>,
    pagelen: Option<usize>,
    role: Option<String>,
    q: Option<String>,
    sort: Option<String>,
}

/// One page of `items` in Bitbucket's paginated envelope; `next`/`previous` repeat the request's
/// query with another `page`.
pub(super) fn paginate(items: Vec<Value>, q: &ListQuery, origin: &str, uri: &Uri) -> Response {
    let pagelen = q.pagelen.unwrap_or(10).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let size = items.len();
    let values: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * pagelen)
        .take(pagelen)
        .collect();
    let link = |p: usize| {
        let pairs = with_query_param(uri.query().unwrap_or(""), "page", &p.to_string());
        let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
        format!("{origin}{}?{query}", uri.path())
    };
    let mut body = json!({"pagelen": pagelen, "page": page, "size": size, "values": values});
    if page * pagelen < size {
        body["next"] = link(page + 1).into();
    }
    if page > 1 {
        body["previous"] = link(page - 1).into();
    }
    Json(body).into_response()
}

/// The one BBQL form the fake understands: `name ~ "text"` (contains, case-insensitive) or
/// `name = "text"`.
fn name_filter(q: &str) -> Option<(bool, String)> {
    let rest = q.trim().strip_prefix("name")?.trim_start();
    let (contains, rest) = match rest.chars().next()? {
        '~' => (true, &rest[1..]),
        '=' => (false, &rest[1..]),
        _ => return None,
    };
    let text = rest.trim().strip_prefix('"')?.strip_suffix('"')?;
    Some((contains, text.to_lowercase()))
}

async fn repositories(
    State(bb): State<Bitbucket>,
    h: HeaderMap,
    Origin(origin): Origin,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Some(r) = authorize(&bb, &h, "repository") {
        return r;
    }
    let filter = match q.q.as_deref() {
        None => None,
        Some(text) => match name_filter(text) {
            Some(f) => Some(f),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Invalid query (the fake understands only name ~ \"…\" and name = \"…\")",
                )
            }
        },
    };
    let mut ids: Vec<u32> = (1..=REPOS)
        // Without `role`, /2.0/repositories lists every public repository on Bitbucket.
        .filter(|i| q.role.is_some() || !i.is_multiple_of(3))
        .filter(|i| match &filter {
            Some((true, t)) => format!("repo-{i:02}").contains(t.as_str()),
            Some((false, t)) => format!("repo-{i:02}") == *t,
            None => true,
        })
        .collect();
    // updated_on grows with the number, so newest first is the reverse of name order.
    if matches!(
        q.sort.as_deref(),
        Some("-updated_on" | "-name" | "-full_name")
    ) {
        ids.reverse();
    }
    let items = ids.into_iter().map(|i| repo_json(i, &origin)).collect();
    paginate(items, &q, &origin, &uri)
}

/// The repository number for a slug or a `{uuid}` (Bitbucket takes either in the path).
fn known(workspace: &str, slug: &str) -> Option<u32> {
    let by_uuid = slug
        .strip_prefix("{00000000-0000-4000-8000-0000000000")
        .and_then(|rest| rest.strip_suffix('}'))
        .filter(|n| n.len() == 2);
    let n: u32 = by_uuid.or(slug.strip_prefix("repo-"))?.parse().ok()?;
    let well_formed = by_uuid.is_some() || slug == format!("repo-{n:02}");
    (workspace == WORKSPACE && (1..=REPOS).contains(&n) && well_formed).then_some(n)
}

pub(super) fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "You may not have access to this repository or it no longer exists in this workspace. \
         If you think this repository exists and you have access, make sure you are authenticated.",
    )
}

async fn branches(
    State(bb): State<Bitbucket>,
    h: HeaderMap,
    Origin(origin): Origin,
    uri: Uri,
    Path((workspace, slug)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Some(r) = authorize(&bb, &h, "repository") {
        return r;
    }
    if known(&workspace, &slug).is_none() {
        return not_found();
    }
    let items = BRANCHES
        .iter()
        .enumerate()
        .map(|(n, b)| {
            json!({
                "type": "branch", "name": b,
                "target": {"type": "commit", "hash": format!("{:040x}", 0xfa4e_0000_u64 + n as u64)},
                "links": {"html": {"href": format!("https://bitbucket.org/{workspace}/{slug}/branch/{b}")}}
            })
        })
        .collect();
    paginate(items, &q, &origin, &uri)
}
