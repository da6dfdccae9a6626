//! GitHub and Gitee binding through OAuth against the fake code hosts: the flow, the token
//! exchange errors (GitHub's HTTP 200 `error` bodies, Gitee's `invalid_grant`), the `state`
//! defences and the pending binding's expiry.

use crate::support::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn github_binds_through_authorize_and_confirm() {
    let app = spawn_app(Options::default()).await;
    assert_eq!(app.row("github").await["status"], "Unbound");
    let flow = app.start_oauth("github").await;
    let url = &flow.authorize_url;
    assert!(url.starts_with(&format!(
        "{}/github/login/oauth/authorize?",
        app.fake.http_url()
    )));
    for part in [
        "code_challenge_method=S256",
        "scope=repo+read%3Auser",
        "prompt=select_account",
        "client_id=fake-github-client",
    ] {
        assert!(url.contains(part), "{part} missing in {url}");
    }
    let back = app.decide(url, "approve").await;
    let id = app
        .callback(&back, Some(&flow.cookie))
        .await
        .expect("authorized");

    let (status, pending) = app
        .call("code-sources/pending", json!({"pending_id": id}))
        .await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(pending["account"]["login"], "octo-alice");
    assert_eq!(pending["scopes"], json!(["repo", "read:user"]));
    assert_eq!(pending["missing_scopes"], json!([]));
    assert!(
        !pending.to_string().contains("gho_"),
        "no token reaches the browser"
    );
    assert_eq!(
        app.row("github").await["status"],
        "Unbound",
        "nothing stored before Confirm"
    );

    let _ = app.confirm_pending(&json!(id)).await;
    assert_eq!(app.row("github").await["account"]["login"], "octo-alice");
    let (status, _) = app
        .call("code-sources/unbind", json!({"provider": "github"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.row("github").await["status"], "Unbound");
}

#[tokio::test]
async fn gitee_binds_and_keeps_its_refresh_token_encrypted() {
    let app = spawn_app(Options::default()).await;
    let id = app.authorize("gitee", "approve").await.expect("authorized");
    let (_, pending) = app
        .call("code-sources/pending", json!({"pending_id": id}))
        .await;
    assert_eq!(pending["account"]["login"], "gitee-bob");
    assert_eq!(pending["scopes"], json!(["user_info", "projects"]));
    let _ = app.confirm_pending(&json!(id)).await;
    assert_eq!(app.row("gitee").await["status"], "Bound");
    for entry in crate::binding::walk(app.data_dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(18).any(|w| w == b"gitee-fake-refresh"),
            "plaintext refresh token on disk"
        );
        assert!(
            !bytes.windows(17).any(|w| w == b"gitee-fake-access"),
            "plaintext access token on disk"
        );
    }
}

#[tokio::test]
async fn narrower_grants_and_denials_are_reported() {
    let app = spawn_app(Options::default()).await;
    // Without the scope that reads repositories the binding could not pull source: refused.
    assert_eq!(
        app.authorize("github", "approve-narrow").await.unwrap_err(),
        json!({"Host": {"MissingScopes": {"needed": ["repo"]}}})
    );
    assert_eq!(
        app.authorize("gitee", "approve-narrow").await.unwrap_err(),
        json!({"Host": {"MissingScopes": {"needed": ["projects"]}}})
    );
    assert_ne!(app.row("github").await["status"], "Bound");
    assert_ne!(app.row("gitee").await["status"], "Bound");

    assert_eq!(
        app.authorize("github", "deny").await.unwrap_err(),
        json!({"Host": "OAuthDenied"})
    );
    assert_eq!(
        app.authorize("gitee", "deny").await.unwrap_err(),
        json!({"Host": "OAuthDenied"})
    );
}

#[tokio::test]
async fn token_exchange_errors_map_to_their_codes() {
    let app = spawn_app(Options::default()).await;
    // A code the host never issued: GitHub answers 200 {"error":"bad_verification_code"}.
    let flow = app.start_oauth("github").await;
    let back = app.decide(&flow.authorize_url, "approve").await;
    let bogus = with_param(&back, "code", "not-a-code");
    assert_eq!(
        app.callback(&bogus, Some(&flow.cookie)).await.unwrap_err(),
        json!({"Host": {"OAuthExchange": {"error": "bad_verification_code"}}})
    );
    // A code issued for another redirect URI.
    let flow = app.start_oauth("github").await;
    let elsewhere = with_param(
        &flow.authorize_url,
        "redirect_uri",
        "http%3A%2F%2F127.0.0.1%3A9%2Felsewhere",
    );
    let redirected = app.decide(&elsewhere, "approve").await;
    let code = redirected
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let state = flow
        .authorize_url
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let ours = format!(
        "{}/oauth/github/callback?code={code}&state={state}",
        app.base
    );
    assert_eq!(
        app.callback(&ours, Some(&flow.cookie)).await.unwrap_err(),
        json!({"Host": {"OAuthExchange": {"error": "redirect_uri_mismatch"}}})
    );
    // Gitee: 401 invalid_grant.
    let flow = app.start_oauth("gitee").await;
    let back = app.decide(&flow.authorize_url, "approve").await;
    assert_eq!(
        app.callback(&with_param(&back, "code", "bogus"), Some(&flow.cookie))
            .await
            .unwrap_err(),
        json!({"Host": {"OAuthExchange": {"error": "invalid_grant"}}})
    );

    let wrong = spawn_app(Options {
        wrong_github_secret: true,
        ..Default::default()
    })
    .await;
    assert_eq!(
        wrong.authorize("github", "approve").await.unwrap_err(),
        json!({"Host": {"OAuthExchange": {"error": "incorrect_client_credentials"}}})
    );
}

#[tokio::test]
async fn state_must_match_browser_tenant_provider_and_be_fresh_and_unused() {
    let mut app = spawn_identity_app().await;
    app.as_tenant("tenant-a");
    let oauth_state = json!("OAuthState");

    // Tampered state.
    let flow = app.start_oauth("github").await;
    let back = app.decide(&flow.authorize_url, "approve").await;
    assert_eq!(
        app.callback(&with_param(&back, "state", "tampered"), Some(&flow.cookie))
            .await
            .unwrap_err(),
        oauth_state
    );
    // The real one still works once, and a replay fails.
    let flow = app.start_oauth("github").await;
    let back = app.decide(&flow.authorize_url, "approve").await;
    assert!(app.callback(&back, Some(&flow.cookie)).await.is_ok());
    assert_eq!(
        app.callback(&back, Some(&flow.cookie)).await.unwrap_err(),
        oauth_state,
        "replay"
    );
    // Another browser (no flow cookie).
    let flow = app.start_oauth("github").await;
    let back = app.decide(&flow.authorize_url, "approve").await;
    assert_eq!(app.callback(&back, None).await.unwrap_err(), oauth_state);
    // Mix-up: a GitHub state at Gitee's callback.
    let flow = app.start_oauth("github").await;
    let back = app.decide(&flow.authorize_url, "approve").await;
    let mixed = back.replace("/oauth/github/callback", "/oauth/gitee/callback");
    assert_eq!(
        app.callback(&mixed, Some(&flow.cookie)).await.unwrap_err(),
        oauth_state
    );
    // Started by tenant A, completed by tenant B in the same browser.
    let flow = app.start_oauth("github").await;
    let back = app.decide(&flow.authorize_url, "approve").await;
    app.as_tenant("tenant-b");
    assert_eq!(
        app.callback(&back, Some(&flow.cookie)).await.unwrap_err(),
        oauth_state
    );
    assert_eq!(app.row("github").await["status"], "Unbound");
}

#[tokio::test]
async fn pending_authorizations_expire() {
    let app = spawn_app(Options {
        pending_ttl: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .await;
    let id = app.authorize("gitee", "approve").await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, body) = app
        .call("code-sources/confirm", json!({"pending_id": id}))
        .await;
    assert_eq!((status, body), (410, json!("PendingExpired")));
    assert_eq!(app.row("gitee").await["status"], "Unbound");
}

#[tokio::test]
async fn unconfigured_code_hosts_say_so() {
    let app = spawn_app(Options {
        oauth: false,
        ..Default::default()
    })
    .await;
    assert_eq!(app.row("github").await["status"], "NotConfigured");
    assert_eq!(app.row("gitee").await["status"], "NotConfigured");
    let resp = app.get("/oauth/github/start").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("NotConfigured"));
}
