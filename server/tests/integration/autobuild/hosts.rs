//! Each host through the common path, plus what only that host does.

use super::*;
use serde_json::json;

#[tokio::test]
async fn github_push_becomes_one_event() {
    let app = spawn_app(Options::default()).await;
    app.bind_oauth("github", "approve").await;
    turn_on_push_and_off(&app, &GITHUB).await;
}

/// Binds an OAuth host asking for the hook scopes too: the re-authorization the page offers
/// when auto-build finds the grant cannot manage hooks.
async fn bind_with_hook_scopes(app: &TestApp, provider: &str) {
    let resp = app
        .get(&format!(
            "/oauth/{provider}/start?mode=redirect&scope=hooks"
        ))
        .await;
    let flow = Flow::started(&resp);
    let back = app.decide(&flow.authorize_url, "approve").await;
    let id = app
        .callback(&back, Some(&flow.cookie))
        .await
        .expect("authorized");
    app.confirm_pending(&json!(id)).await;
}

#[tokio::test]
async fn gitee_needs_the_hook_scope_then_pushes_are_confirmed() {
    let app = spawn_app(Options::default()).await;
    // Binding asks only for what reading needs.
    app.bind_gitee("approve").await;
    let (status, e) = app
        .auto_build(
            &GITEE,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"]})),
        )
        .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (403, Some("missing_scope")),
        "{e}"
    );
    assert_eq!(e["needed_scopes"], json!(["hook"]));
    // Re-authorized with the hook scope, the common path holds.
    bind_with_hook_scopes(&app, "gitee").await;
    turn_on_push_and_off(&app, &GITEE).await;
}

#[tokio::test]
async fn a_gitee_hook_gets_its_new_secret_in_place() {
    let app = spawn_app(Options::default()).await;
    bind_with_hook_scopes(&app, "gitee").await;
    let (status, _) = app
        .auto_build(
            &GITEE,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"]})),
        )
        .await;
    assert_eq!(status, 200);
    let before = app.fake_hooks(&GITEE).await;
    let (status, rotated) = app
        .service(
            reqwest::Method::POST,
            &format!(
                "tenants/local/code-sources/gitee/repositories/{}/auto-build/rotate-secret",
                GITEE.repo
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let after = app.fake_hooks(&GITEE).await;
    assert_eq!(after.len(), 1);
    assert_eq!(
        (&after[0]["id"], &after[0]["url"]),
        (&before[0]["id"], &before[0]["url"]),
        "same hook, same URL"
    );
    // The host now signs with the new secret, and it verifies.
    let sent = app
        .fake_push(&GITEE, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");
}

#[tokio::test]
async fn github_reauthorization_asks_for_the_hook_scope() {
    let app = spawn_app(Options::default()).await;
    let resp = app
        .get("/oauth/github/start?mode=redirect&scope=hooks")
        .await;
    let flow = Flow::started(&resp);
    let scope = flow
        .authorize_url
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("scope="))
        .unwrap()
        .to_string();
    assert_eq!(
        percent_decode(&scope.replace('+', " ")),
        "repo read:user admin:repo_hook"
    );
    let plain = Flow::started(&app.get("/oauth/github/start?mode=redirect").await);
    assert!(
        !plain.authorize_url.contains("admin%3Arepo_hook"),
        "binding keeps its read scopes"
    );
}

#[tokio::test]
async fn gitlab_push_is_confirmed_through_the_api() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-bob").await;
    turn_on_push_and_off(&app, &GITLAB).await;
}

#[tokio::test]
async fn gitea_push_and_tag() {
    let app = spawn_app(Options::default()).await;
    let addr = format!("{}/gitea", app.fake.http_url());
    app.bind_token("gitea", &addr, "gitea-fake-writer").await;
    turn_on_push_and_off(&app, &GITEA).await;
}

#[tokio::test]
async fn bitbucket_push_with_several_changes() {
    let app = spawn_app(Options::default()).await;
    app.bind_oauth("bitbucket", "approve-webhook").await;
    turn_on_push_and_off(&app, &BITBUCKET).await;
}

#[tokio::test]
async fn a_gitea_tag_sent_as_push_and_create_is_one_event() {
    let app = spawn_app(Options::default()).await;
    let addr = format!("{}/gitea", app.fake.http_url());
    app.bind_token("gitea", &addr, "gitea-fake-writer").await;
    let (status, _) = app
        .auto_build(
            &GITEA,
            reqwest::Method::PUT,
            Some(json!({"branches": [], "tags": ["v*"]})),
        )
        .await;
    assert_eq!(status, 200);
    let sent = app
        .fake_push(&GITEA, json!({"ref": "refs/tags/v2.0", "after": SHA_A}))
        .await;
    let events: Vec<&str> = sent.iter().map(|d| d["event"].as_str().unwrap()).collect();
    assert!(
        events.contains(&"push") && events.contains(&"create"),
        "{events:?}"
    );
    assert_eq!(app.events(0).await.len(), 1);
}

#[tokio::test]
async fn bitbucket_changes_in_one_delivery_are_one_event_each() {
    let app = spawn_app(Options::default()).await;
    app.bind_oauth("bitbucket", "approve-webhook").await;
    let (status, _) = app
        .auto_build(
            &BITBUCKET,
            reqwest::Method::PUT,
            Some(json!({"branches": ["**"], "tags": []})),
        )
        .await;
    assert_eq!(status, 200);
    let sent = app
        .fake_push(
            &BITBUCKET,
            json!({"ref": "refs/heads/main", "after": SHA_A,
                   "extra_changes": [{"ref": "refs/heads/develop", "after": SHA_B},
                                     {"ref": "refs/heads/release", "after": ZERO}]}),
        )
        .await;
    assert_eq!(statuses(&sent), vec![202], "one delivery: {sent:?}");
    let events = app.events(0).await;
    let refs: Vec<&str> = events.iter().map(|e| e["ref"].as_str().unwrap()).collect();
    assert_eq!(
        refs,
        vec!["refs/heads/main", "refs/heads/develop"],
        "the deletion builds nothing"
    );
}

#[tokio::test]
async fn filters_and_providers_are_checked_before_anything_is_registered() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-bob").await;
    let (status, e) = app
        .auto_build(
            &GITLAB,
            reqwest::Method::PUT,
            Some(json!({"branches": [], "tags": []})),
        )
        .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (422, Some("invalid_filters"))
    );
    let (status, e) = app
        .auto_build(
            &GITLAB,
            reqwest::Method::PUT,
            Some(json!({"branches": ["a b"]})),
        )
        .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (422, Some("invalid_filters"))
    );
    assert!(app.fake_hooks(&GITLAB).await.is_empty());
    let devcloud = Host {
        provider: "devcloud",
        repo: "x",
        fake_repo: "x",
    };
    let (status, e) = app
        .auto_build(
            &devcloud,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"]})),
        )
        .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (409, Some("auto_build_unsupported"))
    );
}

#[tokio::test]
async fn a_grant_that_cannot_manage_hooks_is_told_so_and_can_set_up_by_hand() {
    let app = spawn_app(Options::default()).await;
    // read_api: GitLab refuses hook calls with insufficient_scope.
    app.bind_gitlab("glpat-fake-alice").await;
    let on = json!({"branches": ["main"]});
    let (status, e) = app
        .auto_build(&GITLAB, reqwest::Method::PUT, Some(on))
        .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (403, Some("missing_scope")),
        "{e}"
    );
    assert_eq!(e["needed_scopes"], json!(["api"]));
    let (status, _) = app.auto_build(&GITLAB, reqwest::Method::GET, None).await;
    assert_eq!(status, 404, "nothing half-registered");

    let (status, reg) = app
        .auto_build(
            &GITLAB,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"], "manual": true})),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["status"], "manual_setup");
    let manual = &reg["manual_setup"];
    assert_eq!(manual["payload_url"], reg["webhook_url"]);
    assert!(
        manual["secret"].as_str().is_some_and(|s| s.len() >= 32),
        "{manual}"
    );
    assert!(
        app.fake_hooks(&GITLAB).await.is_empty(),
        "nothing registered on the host"
    );
    // The secret is not shown again.
    let (_, got) = app.auto_build(&GITLAB, reqwest::Method::GET, None).await;
    assert!(
        got.get("manual_setup").is_none()
            && !got.to_string().contains(manual["secret"].as_str().unwrap())
    );
}

#[tokio::test]
async fn switching_to_manual_setup_removes_the_registered_hook() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-bob").await;
    let (status, _) = app
        .auto_build(
            &GITLAB,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.fake_hooks(&GITLAB).await.len(), 1);
    let (status, reg) = app
        .auto_build(
            &GITLAB,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"], "manual": true})),
        )
        .await;
    assert_eq!(
        (status, reg["status"].as_str()),
        (200, Some("manual_setup")),
        "{reg}"
    );
    assert!(
        app.fake_hooks(&GITLAB).await.is_empty(),
        "the old hook would sign with a secret nobody has"
    );
}

#[tokio::test]
async fn the_feed_waits_for_an_event() {
    let app = std::sync::Arc::new(spawn_app(Options::default()).await);
    app.bind_gitlab("glpat-fake-bob").await;
    let (status, _) = app
        .auto_build(
            &GITLAB,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"]})),
        )
        .await;
    assert_eq!(status, 200);
    let reader = {
        let app = app.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let (status, page) = app
                .service(reqwest::Method::GET, "build-events?after=0&wait=10", None)
                .await;
            (status, page, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.fake_push(&GITLAB, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    let (status, page, took) = reader.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "{page}");
    assert!(
        took < std::time::Duration::from_secs(5),
        "woken by the event, not the timeout: {took:?}"
    );
    assert_eq!(page["next"], page["events"][0]["cursor"]);
    // Past the last cursor, a short wait comes back empty.
    let next = page["next"].as_str().unwrap();
    let (status, empty) = app
        .service(
            reqwest::Method::GET,
            &format!("build-events?after={next}&wait=1"),
            None,
        )
        .await;
    assert_eq!(
        (status, empty["events"].as_array().unwrap().len()),
        (200, 0)
    );
    assert_eq!(empty["next"], next);
}
