//! Repositories and branches on the fake hosts, paginated the way each host does it:
//! GitHub and GitLab with `Link` headers (GitLab also `X-Next-Page`/`X-Total`), Gitee with a
//! `total_count` header. Every fake account has 45 repositories (`repo-01` … `repo-45`);
//! each repository has 3 branches (`main`, `develop`, `release`).

use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

const REPOS: u32 = 45;
const BRANCHES: [&str; 3] = ["main", "develop", "release"];

#[derive(Deserialize, Default)]
struct PageQuery {
    page: Option<u32>,
    per_page: Option<u32>,
    /// GitLab `search`, Gitee `q`.
    search: Option<String>,
    q: Option<String>,
}

pub fn router() -> Router {
    Router::new()
        .route("/github-api/user/repos", get(github_repos))
        .route(
            "/github-api/repos/{owner}/{repo}/branches",
            get(github_branches),
        )
        .route("/gitee/api/v5/user/repos", get(gitee_repos))
        .route(
            "/gitee/api/v5/repos/{owner}/{repo}/branches",
            get(gitee_branches),
        )
        .route("/api/v4/projects", get(gitlab_projects))
        .route(
            "/api/v4/projects/{id}/repository/branches",
            get(gitlab_branches),
        )
}

fn authorized(h: &HeaderMap) -> bool {
    h.contains_key(header::AUTHORIZATION) || h.contains_key("private-token")
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "401 Unauthorized"})),
    )
        .into_response()
}

/// Names matching `search`, then the requested page of them; and whether more follow.
fn select(q: &PageQuery) -> (Vec<u32>, u32, u32, bool, usize) {
    let search = q.search.clone().or(q.q.clone()).unwrap_or_default();
    let all: Vec<u32> = (1..=REPOS)
        .filter(|i| format!("repo-{i:02}").contains(&search))
        .collect();
    let per_page = q.per_page.unwrap_or(30).clamp(1, 100);
    let page = q.page.unwrap_or(1).max(1);
    let start = ((page - 1) * per_page) as usize;
    let items: Vec<u32> = all
        .iter()
        .skip(start)
        .take(per_page as usize)
        .copied()
        .collect();
    let more = start + items.len() < all.len();
    (items, page, per_page, more, all.len())
}

fn link(path: &str, page: u32, per_page: u32, more: bool) -> String {
    let mut parts = vec![];
    if more {
        parts.push(format!(
            "<http://fake{path}?page={}&per_page={per_page}>; rel=\"next\"",
            page + 1
        ));
    }
    if page > 1 {
        parts.push(format!(
            "<http://fake{path}?page={}&per_page={per_page}>; rel=\"prev\"",
            page - 1
        ));
    }
    parts.join(", ")
}

async fn github_repos(h: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    let (items, page, per_page, more, _) = select(&q);
    let body: Vec<_> = items
        .iter()
        .map(|i| json!({"id": 1000 + i, "name": format!("repo-{i:02}"), "full_name": format!("octo-alice/repo-{i:02}"),
            "private": i % 3 == 0, "html_url": format!("https://github.com/octo-alice/repo-{i:02}"), "default_branch": "main"}))
        .collect();
    (
        [(header::LINK, link("/user/repos", page, per_page, more))],
        Json(body),
    )
        .into_response()
}

async fn github_branches(h: HeaderMap, Path((_owner, _repo)): Path<(String, String)>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    Json(
        BRANCHES
            .iter()
            .map(|b| json!({"name": b, "protected": *b == "main"}))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

async fn gitee_repos(h: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    let (items, _, _, _, total) = select(&q);
    let body: Vec<_> = items
        .iter()
        .map(|i| json!({"id": 2000 + i, "path": format!("repo-{i:02}"), "full_name": format!("gitee-bob/repo-{i:02}"),
            "private": false, "html_url": format!("https://gitee.com/gitee-bob/repo-{i:02}"), "default_branch": "master"}))
        .collect();
    (
        [
            ("total_count", total.to_string()),
            (
                "total_page",
                total
                    .div_ceil(q.per_page.unwrap_or(20).max(1) as usize)
                    .to_string(),
            ),
        ],
        Json(body),
    )
        .into_response()
}

async fn gitee_branches(h: HeaderMap, Path((_owner, _repo)): Path<(String, String)>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    Json(
        ["master", "develop"]
            .iter()
            .map(|b| json!({"name": b, "protected": false}))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

async fn gitlab_projects(h: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    let (items, page, per_page, more, total) = select(&q);
    let body: Vec<_> = items
        .iter()
        .map(|i| json!({"id": 3000 + i, "name": format!("repo-{i:02}"), "path_with_namespace": format!("alice/repo-{i:02}"),
            "visibility": "private", "web_url": format!("https://gitlab.example/alice/repo-{i:02}"), "default_branch": "main"}))
        .collect();
    let next = if more {
        (page + 1).to_string()
    } else {
        String::new()
    };
    (
        [
            (header::LINK, link("/api/v4/projects", page, per_page, more)),
            (header::HeaderName::from_static("x-next-page"), next),
            (
                header::HeaderName::from_static("x-total"),
                total.to_string(),
            ),
        ],
        Json(body),
    )
        .into_response()
}

async fn gitlab_branches(h: HeaderMap, Path(_id): Path<String>) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    Json(
        BRANCHES
            .iter()
            .map(|b| json!({"name": b, "default": *b == "main", "protected": *b == "main"}))
            .collect::<Vec<_>>(),
    )
    .into_response()
}
