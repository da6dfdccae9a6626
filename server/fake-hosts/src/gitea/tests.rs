use crate::support::testing::{call, serve, Reply};
use std::net::SocketAddr;

async fn get(addr: SocketAddr, path: &str, auth: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    call(addr, "GET", &format!("/gitea/api/v1{path}"), &headers, "").await
}

#[tokio::test]
async fn version_and_user() {
    let addr = serve(super::router(Default::default())).await;
    let v = get(addr, "/version", None).await;
    assert_eq!(
        (v.status, v.json()["version"].as_str()),
        (200, Some("1.22.0"))
    );

    for auth in ["token gitea-fake-alice", "Bearer gitea-fake-alice"] {
        let me = get(addr, "/user", Some(auth)).await;
        assert_eq!(me.status, 200, "{auth}: {}", me.body);
        let me = me.json();
        assert_eq!(
            (me["login"].as_str(), me["id"].as_u64()),
            (Some("gitea-alice"), Some(1))
        );
        assert_eq!(me["html_url"], format!("http://{addr}/gitea/gitea-alice"));
    }

    let log = call(addr, "GET", "/gitea/__log", &[], "").await.json();
    let sent: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["authorization"].clone())
        .collect();
    assert_eq!(sent[1], "token gitea-fake-alice");
}

#[tokio::test]
async fn token_errors() {
    let addr = serve(super::router(Default::default())).await;
    let swagger = format!("http://{addr}/gitea/api/swagger");

    let none = get(addr, "/user", None).await;
    assert_eq!(none.status, 401);
    assert_eq!(
        none.json(),
        serde_json::json!({"message": "token is required", "url": swagger})
    );

    for path in ["/user", "/version"] {
        let revoked = get(addr, path, Some("token gitea-fake-revoked")).await;
        assert_eq!(revoked.status, 401);
        assert_eq!(
            revoked.json()["message"],
            "user does not exist [uid: 0, name: ]"
        );
    }

    let no_user = get(addr, "/user", Some("token gitea-fake-repo-only")).await;
    assert_eq!(no_user.status, 403);
    assert_eq!(
        no_user.json()["message"],
        "token does not have at least one of required scope(s): [read:user]"
    );
    let no_repo = get(addr, "/user/repos", Some("token gitea-fake-user-only")).await;
    assert_eq!(no_repo.status, 403);
    assert_eq!(
        no_repo.json()["message"],
        "token does not have at least one of required scope(s): [read:repository]"
    );
    let branches = get(
        addr,
        "/repos/gitea-alice/repo-01/branches",
        Some("token gitea-fake-user-only"),
    )
    .await;
    assert_eq!(branches.status, 403);
}

#[tokio::test]
async fn repositories_paginate_like_gitea() {
    let addr = serve(super::router(Default::default())).await;
    let base = format!("http://{addr}/gitea/api/v1/user/repos");
    let auth = Some("token gitea-fake-alice");

    let first = get(addr, "/user/repos?page=1&limit=20", auth).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-total-count"), Some("25"));
    assert_eq!(
        first.header("link"),
        Some(
            format!(
                "<{base}?limit=20&page=2>; rel=\"next\",<{base}?limit=20&page=2>; rel=\"last\""
            )
            .as_str()
        )
    );
    let repos = first.json();
    assert_eq!(repos.as_array().unwrap().len(), 20);
    assert_eq!(repos[0]["full_name"], "gitea-alice/repo-01");
    assert_eq!(repos[0]["owner"]["login"], "gitea-alice");
    assert_eq!(repos[2]["private"], true);
    assert_eq!(repos[0]["default_branch"], "main");

    let second = get(addr, "/user/repos?limit=20&page=2", auth).await;
    assert_eq!(second.json().as_array().unwrap().len(), 5);
    assert_eq!(
        second.header("link"),
        Some(
            format!(
                "<{base}?limit=20&page=1>; rel=\"first\",<{base}?limit=20&page=1>; rel=\"prev\""
            )
            .as_str()
        )
    );

    // Default page size 30: everything fits, no Link header at all.
    let all = get(addr, "/user/repos", auth).await;
    assert_eq!(
        (all.json().as_array().unwrap().len(), all.header("link")),
        (25, None)
    );
}

#[tokio::test]
async fn one_repository_and_its_branches() {
    let addr = serve(super::router(Default::default())).await;
    let auth = Some("token gitea-fake-alice");
    let repo = get(addr, "/repos/gitea-alice/repo-03", auth).await;
    assert_eq!((repo.status, repo.json()["id"].as_u64()), (200, Some(103)));

    let missing = get(addr, "/repos/gitea-alice/nope", auth).await;
    assert_eq!(missing.status, 404);
    let body = missing.json();
    assert_eq!(body["message"], "The target couldn't be found.");
    assert_eq!(body["errors"], serde_json::json!([]));
    // A private repository is hidden from anonymous callers.
    assert_eq!(
        get(addr, "/repos/gitea-alice/repo-03", None).await.status,
        404
    );

    let page = get(addr, "/repos/gitea-alice/repo-03/branches?limit=2", auth).await;
    assert_eq!(page.header("x-total-count"), Some("3"));
    let link = page.header("link").unwrap();
    assert!(
        link.contains("/repos/gitea-alice/repo-03/branches?limit=2&page=2>; rel=\"next\""),
        "{link}"
    );
    let branches = page.json();
    assert_eq!(branches[0]["name"], "main");
    assert_eq!(branches[0]["protected"], false);
    assert_eq!(branches[0]["commit"]["id"].as_str().unwrap().len(), 40);
}

/// Both fakes are on the full router (no route clashes with the other fakes).
#[tokio::test]
async fn reachable_on_the_full_router() {
    let addr = serve(crate::router(crate::RequestLog::default())).await;
    assert_eq!(get(addr, "/version", None).await.status, 200);
    let bb = call(
        addr,
        "GET",
        "/bitbucket-api/2.0/user",
        &[("Authorization", "Bearer bitbucket-fake-alice")],
        "",
    )
    .await;
    assert_eq!(bb.status, 200);
}
