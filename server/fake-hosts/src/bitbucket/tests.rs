use super::BITBUCKET_APP;
use crate::support::testing::{basic, call, serve, Reply};
use std::net::SocketAddr;

const CALLBACK: &str = "http://127.0.0.1:9/cb";

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    serde_urlencoded::from_str(location.split_once('?').unwrap().1).unwrap()
}

/// Runs the authorize step with `decision` and returns the code.
async fn code(addr: SocketAddr, decision: &str) -> String {
    let path = format!(
        "/bitbucket/site/oauth2/authorize?client_id={}&response_type=code&state=s1&redirect_uri={}&decision={decision}",
        BITBUCKET_APP.0,
        urlencode(CALLBACK)
    );
    let r = call(addr, "GET", &path, &[], "").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let q = query_of(r.header("location").unwrap());
    assert_eq!(q["state"], "s1");
    q["code"].clone()
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

async fn token_call(addr: SocketAddr, auth: &str, form: &str) -> Reply {
    let headers = [
        ("Authorization", auth),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    call(
        addr,
        "POST",
        "/bitbucket/site/oauth2/access_token",
        &headers,
        form,
    )
    .await
}

fn app_auth() -> String {
    basic(BITBUCKET_APP.0, BITBUCKET_APP.1)
}

async fn exchange(addr: SocketAddr, decision: &str) -> serde_json::Value {
    let code = code(addr, decision).await;
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        urlencode(CALLBACK)
    );
    let r = token_call(addr, &app_auth(), &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

async fn api(addr: SocketAddr, path: &str, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    call(
        addr,
        "GET",
        &format!("/bitbucket-api/2.0{path}"),
        &[("Authorization", &auth)],
        "",
    )
    .await
}

#[tokio::test]
async fn consent_page_then_code_exchange() {
    let addr = serve(super::router(Default::default())).await;
    let path = format!(
        "/bitbucket/site/oauth2/authorize?client_id={}&response_type=code&state=s1&redirect_uri={}",
        BITBUCKET_APP.0,
        urlencode(CALLBACK)
    );
    let page = call(addr, "GET", &path, &[], "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>Authorize CodeSource</title>"));
    assert!(page.body.contains("decision=approve") && page.body.contains("Grant access"));
    assert!(page.body.contains("decision=deny") && page.body.contains("Cancel"));

    let t = exchange(addr, "approve").await;
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["expires_in"], 7200);
    assert_eq!(t["scopes"], "account repository");
    assert_eq!(t["state"], "authorization_code");
    assert!(t["access_token"]
        .as_str()
        .unwrap()
        .starts_with("bitbucket-fake-access-"));

    let me = api(addr, "/user", t["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let me = me.json();
    assert_eq!(me["type"], "user");
    assert_eq!(me["username"], "bb-alice");
    assert!(me["links"]["avatar"]["href"]
        .as_str()
        .unwrap()
        .ends_with("/avatars/alice.png"));

    // The log shows how the client authenticated at the token endpoint.
    let log = call(addr, "GET", "/bitbucket/__log", &[], "").await.json();
    let posts: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == "POST")
        .collect();
    assert!(posts[0]["authorization"]
        .as_str()
        .unwrap()
        .starts_with("Basic "));
}

#[tokio::test]
async fn authorize_refusals() {
    let addr = serve(super::router(Default::default())).await;
    let bad = call(
        addr,
        "GET",
        "/bitbucket/site/oauth2/authorize?client_id=nope&response_type=code",
        &[],
        "",
    )
    .await;
    assert_eq!(bad.status, 400);
    let path = format!(
        "/bitbucket/site/oauth2/authorize?client_id={}&response_type=code&state=s9&redirect_uri={}&decision=deny",
        BITBUCKET_APP.0,
        urlencode(CALLBACK)
    );
    let deny = call(addr, "GET", &path, &[], "").await;
    let q = query_of(deny.header("location").unwrap());
    assert_eq!(
        (q["error"].as_str(), q["state"].as_str()),
        ("access_denied", "s9")
    );
    assert!(q.contains_key("error_description"));
}

#[tokio::test]
async fn token_endpoint_errors() {
    let addr = serve(super::router(Default::default())).await;
    let code = code(addr, "approve").await;
    let form = format!("grant_type=authorization_code&code={code}");
    let missing = call(
        addr,
        "POST",
        "/bitbucket/site/oauth2/access_token",
        &[],
        &form,
    )
    .await;
    assert_eq!(
        (missing.status, missing.json()["error"].as_str()),
        (400, Some("invalid_client"))
    );
    let wrong = token_call(addr, &basic(BITBUCKET_APP.0, "wrong"), &form).await;
    assert_eq!(
        (wrong.status, wrong.json()["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let bad_code = token_call(addr, &app_auth(), "grant_type=authorization_code&code=nope").await;
    assert_eq!(
        (bad_code.status, bad_code.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let other_uri = format!("{form}&redirect_uri=http%3A%2F%2Felsewhere%2F");
    let mismatch = token_call(addr, &app_auth(), &other_uri).await;
    assert_eq!(mismatch.json()["error"], "invalid_grant");
    // The code was taken by the failed attempt, as a one-time code is.
    let again = token_call(addr, &app_auth(), &form).await;
    assert_eq!(again.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_keeps_the_refresh_token_and_counts() {
    let addr = serve(super::router(Default::default())).await;
    let t = exchange(addr, "approve-short").await;
    assert_eq!(t["expires_in"], 60);
    let refresh = t["refresh_token"].as_str().unwrap();
    let r = token_call(
        addr,
        &app_auth(),
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = r.json();
    assert_eq!(
        (r["expires_in"].as_u64(), r["refresh_token"].as_str()),
        (Some(7200), Some(refresh))
    );
    assert_ne!(r["access_token"], t["access_token"]);

    let dead = exchange(addr, "approve-short-dead").await;
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        dead["refresh_token"].as_str().unwrap()
    );
    let refused = token_call(addr, &app_auth(), &form).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error_description"], "Invalid refresh_token");

    let stats = call(addr, "GET", "/bitbucket/__stats", &[], "")
        .await
        .json();
    assert_eq!(
        (
            stats["refreshes"].as_u64(),
            stats["refresh_requests"].as_u64()
        ),
        (Some(1), Some(2))
    );
}

#[tokio::test]
async fn api_token_errors_and_scopes() {
    let addr = serve(super::router(Default::default())).await;
    let none = call(addr, "GET", "/bitbucket-api/2.0/user", &[], "").await;
    assert_eq!(
        (none.status, none.json()["type"].as_str()),
        (401, Some("error"))
    );
    let unknown = api(addr, "/user", "nope").await;
    assert_eq!(unknown.status, 401);
    let expired = api(addr, "/user", "bitbucket-fake-expired").await;
    assert_eq!(
        (expired.status, expired.json()["error"]["message"].as_str()),
        (401, Some("Access token expired."))
    );
    assert_eq!(
        api(addr, "/user", "bitbucket-fake-ratelimit").await.status,
        429
    );

    let narrow = exchange(addr, "approve-narrow").await;
    assert_eq!(narrow["scopes"], "account");
    let token = narrow["access_token"].as_str().unwrap();
    assert_eq!(api(addr, "/user", token).await.status, 200);
    let forbidden = api(addr, "/repositories?role=member", token).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        forbidden.json()["error"]["detail"]["required"][0],
        "repository"
    );
    assert_eq!(
        api(addr, "/user", "bitbucket-fake-repo-only").await.status,
        403
    );
}

#[tokio::test]
async fn repositories_paginate_filter_and_sort() {
    let addr = serve(super::router(Default::default())).await;
    let first = api(
        addr,
        "/repositories?role=member&pagelen=20",
        "bitbucket-fake-alice",
    )
    .await
    .json();
    assert_eq!(
        (first["size"].as_u64(), first["page"].as_u64()),
        (Some(25), Some(1))
    );
    assert_eq!(first["values"].as_array().unwrap().len(), 20);
    assert_eq!(first["values"][0]["full_name"], "fake-workspace/repo-01");
    assert_eq!(first["values"][0]["mainbranch"]["name"], "main");
    let next = first["next"].as_str().unwrap();
    assert_eq!(
        next,
        format!("http://{addr}/bitbucket-api/2.0/repositories?role=member&pagelen=20&page=2")
    );
    let second = api(
        addr,
        &next[next.find("/repositories").unwrap()..],
        "bitbucket-fake-alice",
    )
    .await
    .json();
    assert_eq!(second["values"].as_array().unwrap().len(), 5);
    assert!(second.get("next").is_none());
    assert!(second["previous"].as_str().unwrap().ends_with("page=1"));

    let q = "/repositories?role=member&q=name%20~%20%22REPO-1%22&sort=-updated_on";
    let found = api(addr, q, "bitbucket-fake-alice").await.json();
    let names: Vec<_> = found["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"repo-19"));
    assert_eq!(names.len(), 10);
    // Without a role: only public repositories.
    let public = api(addr, "/repositories?pagelen=100", "bitbucket-fake-alice")
        .await
        .json();
    assert!(public["values"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["is_private"] == false));
}

#[tokio::test]
async fn one_repository_and_its_branches() {
    let addr = serve(super::router(Default::default())).await;
    let repo = api(
        addr,
        "/repositories/fake-workspace/repo-03",
        "bitbucket-fake-alice",
    )
    .await;
    assert_eq!(
        (repo.status, repo.json()["is_private"].as_bool()),
        (200, Some(true))
    );
    let missing = api(
        addr,
        "/repositories/fake-workspace/nope",
        "bitbucket-fake-alice",
    )
    .await;
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("You may not have access"));
    let page = api(
        addr,
        "/repositories/fake-workspace/repo-03/refs/branches?pagelen=2",
        "bitbucket-fake-alice",
    )
    .await
    .json();
    assert_eq!(page["values"][0]["name"], "main");
    assert_eq!(page["values"][1]["name"], "develop");
    assert!(page["next"]
        .as_str()
        .unwrap()
        .ends_with("/refs/branches?pagelen=2&page=2"));
}
