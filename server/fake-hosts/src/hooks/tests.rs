use super::sign::{gitee_sign, hmac_hex};
use crate::support::testing::{call, serve, Reply};
use axum::http::HeaderMap;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What a hook receiver got: headers (lower-case names) and body.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A webhook receiver answering 202 to everything.
async fn receiver() -> (SocketAddr, Received) {
    let got: Received = Arc::default();
    let store = got.clone();
    let app = axum::Router::new().fallback(move |h: HeaderMap, body: String| {
        let store = store.clone();
        async move {
            store.lock().unwrap().push((h, body));
            axum::http::StatusCode::ACCEPTED
        }
    });
    (serve(app).await, got)
}

async fn fakes() -> SocketAddr {
    serve(crate::router(crate::RequestLog::default())).await
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn json_call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: &[(&str, &str)],
    body: Value,
) -> Reply {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(auth);
    call(addr, method, path, &headers, &body.to_string()).await
}

async fn push(addr: SocketAddr, host: &str, body: Value) -> Value {
    let r = json_call(addr, "POST", &format!("/_fake/{host}/push"), &[], body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

#[tokio::test]
async fn gitlab_hooks_scopes_roles_and_push() {
    let addr = fakes().await;
    let (rx, got) = receiver().await;
    let bob = [("PRIVATE-TOKEN", "glpat-fake-bob")];
    let hook = json!({"url": format!("http://{rx}/hooks/x"), "token": "tok", "push_events": true, "tag_push_events": true});

    let read_api = json_call(
        addr,
        "POST",
        "/api/v4/projects/3001/hooks",
        &[("PRIVATE-TOKEN", "glpat-fake-alice")],
        hook.clone(),
    )
    .await;
    assert_eq!(read_api.status, 403);
    assert!(read_api
        .header("www-authenticate")
        .unwrap()
        .contains("error=\"insufficient_scope\""));
    let developer = json_call(
        addr,
        "POST",
        "/api/v4/projects/3001/hooks",
        &[("PRIVATE-TOKEN", "glpat-fake-developer")],
        hook.clone(),
    )
    .await;
    assert_eq!(
        (developer.status, developer.json()),
        (403, json!({"message": "403 Forbidden"}))
    );
    let not_maintainer = json_call(
        addr,
        "POST",
        "/api/v4/projects/3045/hooks",
        &bob,
        hook.clone(),
    )
    .await;
    assert_eq!(not_maintainer.status, 403);

    let created = json_call(
        addr,
        "POST",
        "/api/v4/projects/alice%2Frepo-01/hooks",
        &bob,
        hook,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    assert_eq!(
        (
            created["project_id"].as_u64(),
            created["tag_push_events"].as_bool()
        ),
        (Some(3001), Some(true))
    );
    assert!(created.get("token").is_none());
    let listed = call(addr, "GET", "/api/v4/projects/3001/hooks", &bob, "").await;
    assert_eq!(listed.json().as_array().unwrap().len(), 1);

    let project = call(addr, "GET", "/api/v4/projects/alice%2Frepo-01", &bob, "")
        .await
        .json();
    assert_eq!(
        (project["id"].as_u64(), project["http_url_to_repo"].as_str()),
        (Some(3001), Some("https://gitlab.example/alice/repo-01.git"))
    );

    let sent = push(
        addr,
        "gitlab",
        json!({"repo": "3001", "ref": "refs/tags/v1", "after": SHA_A}),
    )
    .await;
    let d = &sent["deliveries"][0];
    assert_eq!(
        (d["status"].as_u64(), d["event"].as_str()),
        (Some(202), Some("Tag Push Hook"))
    );
    {
        let got = got.lock().unwrap();
        let (h, body) = &got[0];
        assert_eq!(header(h, "x-gitlab-token"), "tok");
        assert_eq!(header(h, "x-gitlab-event"), "Tag Push Hook");
        assert_eq!(
            header(h, "x-gitlab-event-uuid"),
            d["delivery_id"].as_str().unwrap()
        );
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (body["object_kind"].as_str(), body["checkout_sha"].as_str()),
            (Some("tag_push"), Some(SHA_A))
        );
        assert_eq!(body["project"]["path_with_namespace"], "alice/repo-01");
    }
    let tag = call(
        addr,
        "GET",
        "/api/v4/projects/3001/repository/tags/v1",
        &bob,
        "",
    )
    .await;
    assert_eq!(tag.json()["commit"]["id"], SHA_A);

    let again = push(
        addr,
        "gitlab",
        json!({"repo": "alice/repo-01", "redeliver": true}),
    )
    .await;
    assert_eq!(again["deliveries"][0]["delivery_id"], d["delivery_id"]);
    assert_eq!(got.lock().unwrap().len(), 2);

    let id = created["id"].as_u64().unwrap();
    let gone = call(
        addr,
        "DELETE",
        &format!("/api/v4/projects/3001/hooks/{id}"),
        &bob,
        "",
    )
    .await;
    assert_eq!(gone.status, 204);
    let again = call(
        addr,
        "DELETE",
        &format!("/api/v4/projects/3001/hooks/{id}"),
        &bob,
        "",
    )
    .await;
    assert_eq!(again.status, 404);
}

/// Runs the fake OAuth flow of `host` (`github` or `gitee`) and returns the access token.
async fn oauth_token(addr: SocketAddr, host: &str, scope: &str, decision: &str) -> String {
    let (client, secret) = if host == "github" {
        crate::GITHUB_APP
    } else {
        crate::GITEE_APP
    };
    let path = if host == "github" {
        "/github/login/oauth"
    } else {
        "/gitee/oauth"
    };
    let q = serde_urlencoded::to_string([
        ("client_id", client),
        ("redirect_uri", "http://cb/"),
        ("scope", scope),
        ("state", "s"),
        ("decision", decision),
    ])
    .unwrap();
    let r = call(addr, "GET", &format!("{path}/authorize?{q}"), &[], "").await;
    let location = r.header("location").unwrap().to_string();
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let form = serde_urlencoded::to_string([
        ("client_id", client),
        ("client_secret", secret),
        ("code", &code),
        ("redirect_uri", "http://cb/"),
        ("grant_type", "authorization_code"),
    ])
    .unwrap();
    let token_path = if host == "github" {
        "/github/login/oauth/access_token"
    } else {
        "/gitee/oauth/token"
    };
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("User-Agent", "t"),
    ];
    let t = call(addr, "POST", token_path, &headers, &form).await;
    t.json()["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn github_hooks_limit_refusals_ping_and_signed_push() {
    let addr = fakes().await;
    let (rx, got) = receiver().await;
    let token = oauth_token(addr, "github", "repo read:user", "approve").await;
    let auth = format!("Bearer {token}");
    let auth = [("Authorization", auth.as_str()), ("User-Agent", "t")];
    let hook = |n: usize| json!({"name": "web", "events": ["push"], "config": {"url": format!("http://{rx}/hooks/{n}"), "content_type": "json", "secret": "It's a Secret to Everybody"}});
    let path = "/github-api/repos/octo-alice/repo-01/hooks";

    let narrow = oauth_token(addr, "github", "repo read:user", "approve-no-hooks").await;
    let narrow = format!("Bearer {narrow}");
    let refused = json_call(addr, "POST", path, &[("Authorization", &narrow)], hook(0)).await;
    assert_eq!(
        (refused.status, refused.json()["message"].as_str()),
        (404, Some("Not Found"))
    );
    assert_eq!(refused.header("x-oauth-scopes"), Some("read:user"));
    assert!(refused
        .header("x-accepted-oauth-scopes")
        .unwrap()
        .contains("admin:repo_hook"));
    let not_admin = json_call(
        addr,
        "POST",
        "/github-api/repos/octo-alice/repo-45/hooks",
        &auth,
        hook(0),
    )
    .await;
    assert_eq!(not_admin.status, 404);

    let mut first = Value::Null;
    for n in 0..20 {
        let r = json_call(addr, "POST", path, &auth, hook(n)).await;
        assert_eq!(r.status, 201, "{n}: {}", r.body);
        if n == 0 {
            first = r.json();
        }
    }
    assert_eq!(first["config"]["secret"], "********");
    let over = json_call(addr, "POST", path, &auth, hook(20)).await;
    assert_eq!(over.status, 422);
    let over = over.json();
    assert_eq!(over["message"], "Validation Failed");
    assert_eq!(
        over["errors"][0]["message"],
        "The \"push\" event cannot have more than 20 hooks"
    );

    let page = call(addr, "GET", &format!("{path}?per_page=15"), &auth, "").await;
    assert_eq!(page.json().as_array().unwrap().len(), 15);
    assert!(page.header("link").unwrap().contains("page=2"));
    let id = first["id"].as_u64().unwrap();
    assert_eq!(
        call(addr, "DELETE", &format!("{path}/{id}"), &auth, "")
            .await
            .status,
        204
    );
    assert_eq!(
        call(addr, "DELETE", &format!("{path}/{id}"), &auth, "")
            .await
            .status,
        404
    );

    // The pings go out in the background; wait for the 20.
    for _ in 0..100 {
        if got.lock().unwrap().len() >= 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(header(&got.lock().unwrap()[0].0, "x-github-event"), "ping");
    got.lock().unwrap().clear();

    let sent = push(
        addr,
        "github",
        json!({"repo": "octo-alice/repo-01", "ref": "refs/heads/main", "after": SHA_B}),
    )
    .await;
    assert_eq!(sent["deliveries"].as_array().unwrap().len(), 19);
    let (h, body) = got.lock().unwrap()[0].clone();
    let (h, body) = (&h, &body);
    assert_eq!(header(h, "x-github-event"), "push");
    let expected = format!(
        "sha256={}",
        hmac_hex("It's a Secret to Everybody", body.as_bytes())
    );
    assert_eq!(header(h, "x-hub-signature-256"), expected);
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (body["repository"]["id"].as_u64(), body["after"].as_str()),
        (Some(1001), Some(SHA_B))
    );
    assert_ne!(
        body["before"],
        crate::hooks::ZERO,
        "main had a head before the push"
    );
    let head = call(
        addr,
        "GET",
        "/github-api/repos/octo-alice/repo-01/git/ref/heads/main",
        &auth,
        "",
    )
    .await;
    assert_eq!(head.json()["object"]["sha"], SHA_B);
}

#[tokio::test]
async fn gitea_hooks_scopes_and_push_with_create() {
    let addr = fakes().await;
    let (rx, got) = receiver().await;
    let hook = json!({"type": "gitea", "active": true, "events": ["push", "create"], "config": {"url": format!("http://{rx}/h"), "content_type": "json", "secret": "gs"}});
    let path = "/gitea/api/v1/repos/gitea-alice/repo-02/hooks";
    let reader = json_call(
        addr,
        "POST",
        path,
        &[("Authorization", "token gitea-fake-alice")],
        hook.clone(),
    )
    .await;
    assert_eq!(reader.status, 403);
    assert_eq!(
        reader.json()["message"],
        "token does not have at least one of required scope(s): [write:repository]"
    );
    let writer = [("Authorization", "token gitea-fake-writer")];
    let created = json_call(addr, "POST", path, &writer, hook).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.json()["config"].get("secret").is_none());

    let sent = push(addr, "gitea", json!({"repo": "gitea-alice/repo-02", "ref": "refs/tags/v2", "after": SHA_A, "forgejo": true})).await;
    let events: Vec<_> = sent["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["push", "create"]);
    let got = got.lock().unwrap();
    let (h, body) = &got[0];
    assert_eq!(
        header(h, "x-gitea-signature"),
        hmac_hex("gs", body.as_bytes())
    );
    assert_eq!(
        header(h, "x-forgejo-signature"),
        hmac_hex("gs", body.as_bytes())
    );
    assert_eq!(
        header(h, "x-gitea-delivery"),
        sent["deliveries"][0]["delivery_id"].as_str().unwrap()
    );
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (
            body["repository"]["id"].as_u64(),
            body["pusher"]["login"].as_str()
        ),
        (Some(102), Some("gitea-alice"))
    );
    let create: Value = serde_json::from_str(&got[1].1).unwrap();
    assert_eq!(
        (create["ref_type"].as_str(), create["ref"].as_str()),
        (Some("tag"), Some("v2"))
    );
}

#[tokio::test]
async fn bitbucket_webhook_scope_and_multi_change_push() {
    let addr = fakes().await;
    let (rx, got) = receiver().await;
    let hook = json!({"description": "cs", "url": format!("http://{rx}/h"), "active": true, "secret": "bs", "events": ["repo:push"]});
    let path = "/bitbucket-api/2.0/repositories/fake-workspace/%7B00000000-0000-4000-8000-000000000003%7D/hooks";
    let no_scope = json_call(
        addr,
        "POST",
        path,
        &[("Authorization", "Bearer bitbucket-fake-alice")],
        hook.clone(),
    )
    .await;
    assert_eq!(no_scope.status, 403);
    assert_eq!(
        no_scope.json()["error"]["detail"]["required"],
        json!(["webhook"])
    );
    let created = json_call(
        addr,
        "POST",
        path,
        &[("Authorization", "Bearer bitbucket-fake-hooks")],
        hook,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["secret_set"], true);

    let sent = push(
        addr,
        "bitbucket",
        json!({"repo": "fake-workspace/repo-03", "ref": "refs/heads/main", "after": SHA_A,
        "extra_changes": [{"ref": "refs/tags/v3", "after": SHA_B}]}),
    )
    .await;
    assert_eq!(sent["deliveries"].as_array().unwrap().len(), 1);
    let got = got.lock().unwrap();
    let (h, body) = &got[0];
    assert_eq!(header(h, "x-event-key"), "repo:push");
    assert_eq!(
        header(h, "x-hub-signature"),
        format!("sha256={}", hmac_hex("bs", body.as_bytes()))
    );
    let body: Value = serde_json::from_str(body).unwrap();
    let changes = body["push"]["changes"].as_array().unwrap();
    assert_eq!(changes[1]["new"]["type"], "tag");
    assert_eq!(changes[1]["old"], Value::Null);
    assert_eq!(changes[0]["new"]["target"]["hash"], SHA_A);
    assert_eq!(
        body["repository"]["uuid"],
        "{00000000-0000-4000-8000-000000000003}"
    );
}

#[tokio::test]
async fn gitee_signing_key_push() {
    let addr = fakes().await;
    let (rx, got) = receiver().await;
    let token = oauth_token(addr, "gitee", "user_info projects hook", "approve").await;
    let path = format!("/gitee/api/v5/repos/gitee-bob/repo-04/hooks?access_token={token}");
    let hook = json!({"url": format!("http://{rx}/h"), "encryption_type": 1, "password": "es", "push_events": true});
    let created = json_call(addr, "POST", &path, &[], hook.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let without = oauth_token(addr, "gitee", "user_info projects hook", "approve-no-hooks").await;
    let refused = json_call(
        addr,
        "POST",
        &format!("/gitee/api/v5/repos/gitee-bob/repo-04/hooks?access_token={without}"),
        &[],
        hook,
    )
    .await;
    assert_eq!(refused.status, 403);

    push(
        addr,
        "gitee",
        json!({"repo": "gitee-bob/repo-04", "ref": "refs/heads/master", "after": SHA_A}),
    )
    .await;
    let got = got.lock().unwrap();
    let (h, body) = &got[0];
    let ts: u64 = header(h, "x-gitee-timestamp").parse().unwrap();
    assert_eq!(header(h, "x-gitee-token"), gitee_sign("es", ts));
    assert_eq!(header(h, "x-gitee-event"), "Push Hook");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (
            body["hook_name"].as_str(),
            body["repository"]["id"].as_u64()
        ),
        (Some("push_hooks"), Some(2004))
    );
}

#[tokio::test]
async fn renamed_repository_keeps_hooks_recreated_one_does_not() {
    let addr = fakes().await;
    let writer = [("Authorization", "token gitea-fake-writer")];
    let hook = json!({"type": "gitea", "active": true, "config": {"url": "http://127.0.0.1:9/h", "content_type": "json"}});
    json_call(
        addr,
        "POST",
        "/gitea/api/v1/repos/gitea-alice/repo-05/hooks",
        &writer,
        hook,
    )
    .await;
    let renamed = json_call(
        addr,
        "POST",
        "/_fake/gitea/repository",
        &[],
        json!({"repo": "gitea-alice/repo-05", "action": "rename", "name": "renamed"}),
    )
    .await;
    assert_eq!(renamed.json()["id"], "105");
    let hooks = call(
        addr,
        "GET",
        "/gitea/api/v1/repos/gitea-alice/renamed/hooks",
        &writer,
        "",
    )
    .await;
    assert_eq!(hooks.json().as_array().unwrap().len(), 1);
    let recreated = json_call(
        addr,
        "POST",
        "/_fake/gitea/repository",
        &[],
        json!({"repo": "gitea-alice/renamed", "action": "recreate"}),
    )
    .await;
    assert_eq!(recreated.json()["id"], "10105");
    let hooks = call(
        addr,
        "GET",
        "/gitea/api/v1/repos/gitea-alice/renamed/hooks",
        &writer,
        "",
    )
    .await;
    assert_eq!(hooks.json().as_array().unwrap().len(), 0);
}
