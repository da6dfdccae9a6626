//! Unbinding revokes upstream where the code host allows it; an upstream failure never blocks
//! the local unbind.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn github_unbind_revokes_the_grant() {
    let app = spawn_app(Options::default()).await;
    let id = app.authorize("github", "approve").await.unwrap();
    app.call("code-sources/confirm", json!({"pending_id": id}))
        .await;
    let (_, c, _) = app.credential("local", "github", Some(SERVICE_TOKEN)).await;
    let token = c["access_token"].as_str().unwrap().to_string();
    let (status, outcome) = app
        .call("code-sources/unbind", json!({"provider": "github"}))
        .await;
    assert_eq!(
        (status, outcome),
        (200, json!({"revocation": "Revoked", "hooks_left": []}))
    );
    let user = app
        .http
        .get(format!("{}/github-api/user", app.fake.http_url()))
        .bearer_auth(&token)
        .header("user-agent", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 401, "the token no longer works at GitHub");
}

#[tokio::test]
async fn gitlab_revokes_only_when_asked() {
    let app = spawn_app(Options::default()).await;
    let deletes = |app: &TestApp| {
        app.fake
            .log
            .entries()
            .iter()
            .filter(|(p, _)| p.starts_with("DELETE "))
            .count()
    };
    app.bind_gitlab("glpat-fake-alice").await;
    let (_, outcome) = app
        .call("code-sources/unbind", json!({"provider": "gitlab"}))
        .await;
    assert_eq!(
        outcome,
        json!({"revocation": "NotRequested", "hooks_left": []})
    );
    assert_eq!(deletes(&app), 0);

    app.bind_gitlab("glpat-fake-alice").await;
    let (_, outcome) = app
        .call(
            "code-sources/unbind",
            json!({"provider": "gitlab", "revoke": true}),
        )
        .await;
    assert_eq!(outcome, json!({"revocation": "Revoked", "hooks_left": []}));
    assert_eq!(deletes(&app), 1);
    assert!(app
        .fake
        .log
        .entries()
        .iter()
        .any(|(p, t)| p == "DELETE /api/v4/personal_access_tokens/self" && *t));
}

#[tokio::test]
async fn upstream_failures_do_not_block_the_local_unbind() {
    let app = spawn_app(Options::default()).await;
    // GitLab before 15.5 cannot revoke a token through the API.
    let (_, pending) = app
        .check(&format!("{}/old", app.fake.http_url()), "glpat-fake-alice")
        .await;
    app.call("code-sources/confirm", json!({"pending_id": pending["id"]}))
        .await;
    let (status, outcome) = app
        .call(
            "code-sources/unbind",
            json!({"provider": "gitlab", "revoke": true}),
        )
        .await;
    assert_eq!(
        (status, outcome),
        (200, json!({"revocation": "Failed", "hooks_left": []}))
    );
    assert_eq!(app.row("gitlab").await["status"], "Unbound");

    app.bind_gitee("approve").await;
    let (_, outcome) = app
        .call("code-sources/unbind", json!({"provider": "gitee"}))
        .await;
    assert_eq!(
        outcome,
        json!({"revocation": "Manual", "hooks_left": []}),
        "Gitee has no revocation API: the user is told where"
    );
}
