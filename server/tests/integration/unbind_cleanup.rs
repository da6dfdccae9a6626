//! What must follow an unbind survives failures (issue #25 item 4, #23 item 5): the token's
//! revocation, the activity entry and the removal of the account's auto-build hooks are
//! written with the unbind in one store write and carried out by a retrying worker. A store
//! failure right after the commit, or a code host that cannot be reached, delays them; it
//! loses none of them, and the unbind answers which hooks are still on the host.

use crate::autobuild::{GITHUB, GITLAB};
use crate::support::*;
use serde_json::{json, Value};
use std::time::Duration;

/// GitHub bound (its grant is revoked on unbind) with auto-build on for one repository.
/// Returns the bound token.
async fn github_with_auto_build(app: &TestApp) -> String {
    let id = app.authorize("github", "approve").await.unwrap();
    app.confirm_pending(&json!(id)).await;
    let (status, reg) = app
        .auto_build(
            &GITHUB,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"], "tags": []})),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(app.fake_hooks(&GITHUB).await.len(), 1);
    let (_, c, _) = app.credential("local", "github", Some(SERVICE_TOKEN)).await;
    c["access_token"].as_str().unwrap().to_string()
}

/// Whether `token` still works at the fake GitHub.
async fn github_token_works(app: &TestApp, token: &str) -> bool {
    let user = app
        .http
        .get(format!("{}/github-api/user", app.fake.http_url()))
        .bearer_auth(token)
        .header("user-agent", "test")
        .send()
        .await
        .unwrap();
    user.status() == 200
}

async fn activity(app: &TestApp) -> Vec<String> {
    let (status, page) = app
        .call("code-sources/activity", json!({"before": null}))
        .await;
    assert_eq!(status, 200, "{page}");
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn outage(app: &TestApp, down: bool) {
    let resp = app
        .http
        .post(format!("{}/_fake/outage", app.fake.http_url()))
        .json(&json!({"down": down}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
}

/// Waits (up to 30 s) until `done` holds.
async fn eventually<F: AsyncFn() -> bool>(what: &str, done: F) {
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn the_follow_up_survives_a_store_failure_right_after_the_commit() {
    let app = spawn_app(Options {
        tweak: |c| {
            c.stop_after_unbind_commit = true;
            c.cleanup_lease = Duration::from_secs(1);
        },
        ..Default::default()
    })
    .await;
    let token = github_with_auto_build(&app).await;

    let (status, err) = app
        .call("code-sources/unbind", json!({"provider": "github"}))
        .await;
    assert_eq!((status, err), (503, json!("StorageUnavailable")));
    // Committed: the binding is gone, its follow-up not done yet.
    assert_eq!(app.row("github").await["status"], "Unbound");
    assert!(!activity(&app).await.contains(&"unbind".to_string()));

    // The worker takes the job over once the failed request's lease ends.
    eventually("the hook is removed", async || {
        app.fake_hooks(&GITHUB).await.is_empty()
    })
    .await;
    eventually("the grant is revoked", async || {
        !github_token_works(&app, &token).await
    })
    .await;
    eventually("the unbind is in the activity log", async || {
        activity(&app).await.first().map(String::as_str) == Some("unbind")
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_host_leaves_orphaned_hooks_removed_once_it_is_back() {
    let app = spawn_app(Options::default()).await;
    let token = github_with_auto_build(&app).await;

    outage(&app, true).await;
    let (status, unbound) = app
        .call("code-sources/unbind", json!({"provider": "github"}))
        .await;
    assert_eq!(
        status, 200,
        "unbinding never waits for the code host: {unbound}"
    );
    assert_eq!(unbound["revocation"], "Failed");
    let left: Vec<Value> = unbound["hooks_left"].as_array().unwrap().clone();
    assert_eq!(left.len(), 1, "{unbound}");
    assert_eq!(left[0]["repository"], "octo-alice/repo-01");
    let settings = left[0]["settings_url"].as_str().unwrap();
    assert!(
        settings.ends_with("/octo-alice/repo-01/settings/hooks"),
        "{settings}"
    );
    assert_eq!(app.row("github").await["status"], "Unbound");
    assert_eq!(activity(&app).await.first().unwrap(), "unbind");
    assert_eq!(app.fake_hooks(&GITHUB).await.len(), 1, "still on the host");

    outage(&app, false).await;
    eventually("the orphaned hook is removed", async || {
        app.fake_hooks(&GITHUB).await.is_empty()
    })
    .await;
    eventually("the grant is revoked once the hooks are gone", async || {
        !github_token_works(&app, &token).await
    })
    .await;
    // The registration went with its hook: nothing is left to dismiss.
    let path = format!(
        "tenants/local/code-sources/github/repositories/{}/auto-build?dismiss=true",
        GITHUB.repo
    );
    let (status, err) = app.service(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(
        (status, &err["error"]),
        (404, &json!("not_orphaned")),
        "{err}"
    );
}

#[tokio::test]
async fn an_orphaned_registration_can_be_dismissed() {
    let app = spawn_app(Options::default()).await;
    github_with_auto_build(&app).await;
    outage(&app, true).await;
    let (status, unbound) = app
        .call("code-sources/unbind", json!({"provider": "github"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(unbound["hooks_left"].as_array().unwrap().len(), 1);

    let path = format!(
        "tenants/local/code-sources/github/repositories/{}/auto-build?dismiss=true",
        GITHUB.repo
    );
    let (status, body) = app.service(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = app.service(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 404, "dismissed once");
    // Dismissed: the host's hook is the tenant's to remove by hand, nothing retries it.
    outage(&app, false).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(app.fake_hooks(&GITHUB).await.len(), 1);
}

#[tokio::test]
async fn rebinding_another_account_removes_the_previous_accounts_hooks() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-bob").await;
    let (status, reg) = app
        .auto_build(
            &GITLAB,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"], "tags": []})),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(app.fake_hooks(&GITLAB).await.len(), 1);

    app.bind_gitlab("glpat-fake-alice").await;
    assert_eq!(app.row("gitlab").await["account"]["login"], "alice");
    eventually("bob's hook is removed", async || {
        app.fake_hooks(&GITLAB).await.is_empty()
    })
    .await;
}
