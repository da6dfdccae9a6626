//! Binding health: "Expiring soon", "Needs re-authorization" found by the periodic check or by a
//! refused refresh, and re-authorizing in place.

use crate::support::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_token_close_to_its_expiry_is_expiring_soon() {
    let app = spawn_app(Options {
        expiry_warning_days: Some(800),
        ..Default::default()
    })
    .await;
    app.bind_gitlab("glpat-fake-alice").await; // expires 2027-06-30
    let row = app.row("gitlab").await;
    assert_eq!(row["status"], "ExpiringSoon");
    app.bind_gitlab("glpat-fake-bob").await; // never expires
    assert_eq!(app.row("gitlab").await["status"], "Bound");
}

#[tokio::test]
async fn the_periodic_check_finds_a_revoked_token_and_reauthorizing_fixes_it() {
    let app = spawn_app(Options {
        health_interval: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .await;
    let id = app.authorize("github", "approve").await.unwrap();
    app.call("code-sources/confirm", json!({"pending_id": id}))
        .await;
    let (_, c, _) = app.credential("local", "github", Some(SERVICE_TOKEN)).await;
    let token = c["access_token"].as_str().unwrap().to_string();
    // The user revokes our app at GitHub.
    let revoked = app
        .http
        .delete(format!(
            "{}/github-api/applications/{}/grant",
            app.fake.http_url(),
            fake_hosts::GITHUB_APP.0
        ))
        .basic_auth(fake_hosts::GITHUB_APP.0, Some(fake_hosts::GITHUB_APP.1))
        .json(&json!({"access_token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);

    let mut row = app.row("github").await;
    for _ in 0..40 {
        if row["status"] == "NeedsReauth" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        row = app.row("github").await;
    }
    assert_eq!(row["status"], "NeedsReauth", "{row}");
    assert_eq!(row["reason"], "token_invalid");
    assert!(row["last_checked_at"].as_i64().is_some());
    let (status, body, _) = app.credential("local", "github", Some(SERVICE_TOKEN)).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (409, Some("token_invalid"))
    );

    // Re-authorize: the same flow, replacing the token after Confirm.
    let id = app.authorize("github", "approve").await.unwrap();
    app.call("code-sources/confirm", json!({"pending_id": id}))
        .await;
    let row = app.row("github").await;
    assert_eq!(
        (row["status"].as_str(), row["reason"].clone()),
        (Some("Bound"), json!(null))
    );
    let (status, _, _) = app.credential("local", "github", Some(SERVICE_TOKEN)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_refused_refresh_shows_in_the_table() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve-short-dead").await;
    app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    let row = app.row("gitee").await;
    assert_eq!(row["status"], "NeedsReauth");
    assert_eq!(row["reason"], "refresh_refused:invalid_grant");
}
