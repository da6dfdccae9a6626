//! Repository and branch listing for the build configuration: each host's pagination, search,
//! through the build service API and the page's server functions.

use crate::support::*;
use serde_json::{json, Value};

async fn api(app: &TestApp, path: &str) -> (u16, Value) {
    let resp = app
        .http
        .get(format!(
            "{}/api/v1/tenants/local/code-sources/{path}",
            app.base
        ))
        .bearer_auth(SERVICE_TOKEN)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn gitlab_projects_page_through_link_headers_and_search() {
    let app = spawn_app(Options::default()).await;
    let (status, _) = api(&app, "gitlab/repositories").await;
    assert_eq!(status, 404, "not bound");
    app.bind_gitlab("glpat-fake-alice").await;
    let (status, p1) = api(&app, "gitlab/repositories").await;
    assert_eq!(status, 200, "{p1}");
    assert_eq!(names(&p1).len(), 20);
    assert_eq!(p1["next_page"], 2);
    let (_, p3) = api(&app, "gitlab/repositories?page=3").await;
    assert_eq!(names(&p3).len(), 5);
    assert_eq!(p3["next_page"], json!(null));
    let (_, found) = api(&app, "gitlab/repositories?search=repo-4").await;
    assert_eq!(
        names(&found),
        [
            "alice/repo-40",
            "alice/repo-41",
            "alice/repo-42",
            "alice/repo-43",
            "alice/repo-44",
            "alice/repo-45"
        ]
    );
    // The project id is both what branches are asked by and the stable id.
    assert_eq!(found["items"][0]["stable_id"], "3040");
    let id = found["items"][0]["id"].as_str().unwrap().to_string();
    let (status, branches) = api(&app, &format!("gitlab/repositories/{id}/branches")).await;
    assert_eq!(status, 200);
    assert_eq!(branches[0], json!({"name": "main", "default": true}));
}

#[tokio::test]
async fn github_and_gitee_repositories_and_branches() {
    let app = spawn_app(Options::default()).await;
    let id = app.authorize("github", "approve").await.unwrap();
    app.call("code-sources/confirm", json!({"pending_id": id}))
        .await;
    app.bind_gitee("approve").await;

    let (_, gh) = api(&app, "github/repositories?page=2").await;
    assert_eq!(names(&gh)[0], "octo-alice/repo-21");
    assert_eq!(gh["items"][0]["stable_id"], "1021", "GitHub's numeric id");
    assert_eq!(gh["next_page"], 3);
    let (status, branches) = api(&app, "github/repositories/octo-alice%2Frepo-21/branches").await;
    assert_eq!((status, branches.as_array().unwrap().len()), (200, 3));

    let (_, ge) = api(&app, "gitee/repositories?page=3").await;
    assert_eq!(
        names(&ge).len(),
        5,
        "Gitee's total_count says where it ends"
    );
    assert_eq!(ge["next_page"], json!(null));
    let (_, searched) = api(&app, "gitee/repositories?search=repo-1").await;
    assert_eq!(names(&searched).len(), 10);

    // The page uses the same listing through its server functions.
    let (status, page) = app
        .call(
            "code-sources/repositories",
            json!({"provider": "gitee", "search": "", "page": 1}),
        )
        .await;
    assert_eq!((status, names(&page).len()), (200, 20));
    let (status, b) = app
        .call(
            "code-sources/branches",
            json!({"provider": "gitee", "repo_id": "gitee-bob/repo-01"}),
        )
        .await;
    assert_eq!((status, b.as_array().unwrap().len()), (200, 2));
    let (status, body) = app
        .call(
            "code-sources/branches",
            json!({"provider": "gitee", "repo_id": "../../admin"}),
        )
        .await;
    assert_eq!(
        (status, body),
        (422, json!({"Invalid": "RepoIdMalformed"})),
        "repository ids are checked before they go into a URL"
    );
}

/// A page number outside 1..=10000 is the caller's mistake, on the page's server function as on
/// the build service API (a huge one used to overflow the host's offset).
#[tokio::test]
async fn page_numbers_out_of_range_are_refused() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve").await;
    for page in [0u64, 10_001, u32::MAX as u64] {
        let (status, body) = app
            .call(
                "code-sources/repositories",
                json!({"provider": "gitee", "search": "", "page": page}),
            )
            .await;
        assert_eq!(
            (status, &body),
            (422, &json!({"Invalid": "InvalidArguments"})),
            "page {page}"
        );
        let (status, _) = api(&app, &format!("gitee/repositories?page={page}")).await;
        assert_eq!(status, 400, "page {page}");
    }
    let (status, body) = app
        .call(
            "code-sources/repositories",
            json!({"provider": "gitee", "search": "", "page": 10_000}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
