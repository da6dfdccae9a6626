//! The build service's credential API: authentication, every status code, refresh of expiring
//! Gitee tokens (single flight under concurrency, rotation), and re-authorization when the
//! refresh is refused.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn only_the_service_token_opens_the_api() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-alice").await;
    let (status, body, headers) = app.credential("local", "gitlab", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert!(headers.contains_key("www-authenticate"));
    let (status, _, _) = app.credential("local", "gitlab", Some("wrong-token")).await;
    assert_eq!(status, 403);
    // A console identity token is not a service token.
    let (status, _, _) = app
        .credential("local", "gitlab", Some(&identity("local", "u1")))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn issues_gitlab_credentials_and_answers_every_case() {
    let app = spawn_app(Options::default()).await;
    let t = Some(SERVICE_TOKEN);
    let (status, _, _) = app.credential("local", "gitlab", t).await;
    assert_eq!(status, 404, "not bound yet");
    app.bind_gitlab("glpat-fake-alice").await;
    let (status, c, headers) = app.credential("local", "gitlab", t).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(c["access_token"], "glpat-fake-alice");
    assert_eq!(c["git_username"], "oauth2");
    assert_eq!(c["account"], "alice");
    assert_eq!(c["base_url"], app.fake.http_url());
    assert_eq!(c["api_url"], format!("{}/api/v4", app.fake.http_url()));

    let (status, c, _) = app.credential("local", "devcloud", t).await;
    assert_eq!(
        (status, c["access_token"].clone(), c["account"].clone()),
        (200, json!(null), json!("local"))
    );
    // A usable address, not a placeholder: the default region's CodeArts Repo host.
    assert_eq!(
        c["base_url"],
        codesource_server::hosts::devcloud::DEFAULT_URL,
        "{c}"
    );
    let (status, _, _) = app.credential("local", "sourceforge", t).await;
    assert_eq!(status, 404);
    let (status, _, _) = app.credential("someone-else", "gitlab", t).await;
    assert_eq!(status, 404, "another tenant has no such binding");
    let (status, _, _) = app.credential("bad%2Ftenant", "gitlab", t).await;
    assert_eq!(status, 400);

    let (status, doc, _) = app.credential_doc().await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(
        doc["paths"]["/api/v1/tenants/{tenant}/code-sources/{provider}/credential"]["get"]
            .is_object()
    );
    // The error codes are listed, from the API's one error type.
    let codes: Vec<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
        .as_array()
        .expect("the codes are an enum")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for code in [
        "unauthenticated",
        "forbidden",
        "invalid_tenant",
        "unknown_provider",
        "not_bound",
        "missing_scope",
        "auto_build_off",
        "internal",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
}

#[tokio::test]
async fn github_credentials_use_the_x_access_token_user() {
    let app = spawn_app(Options::default()).await;
    let id = app.authorize("github", "approve").await.unwrap();
    app.call("code-sources/confirm", json!({"pending_id": id}))
        .await;
    let (status, c, _) = app.credential("local", "github", Some(SERVICE_TOKEN)).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["git_username"], "x-access-token");
    assert!(c["access_token"].as_str().unwrap().starts_with("gho_fake-"));
    assert_eq!(c["api_url"], format!("{}/github-api", app.fake.http_url()));
}

#[tokio::test]
async fn expiring_gitee_tokens_are_refreshed_once_under_concurrency() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve-short").await;
    assert_eq!(app.gitee_refreshes().await, 0);
    let calls = (0..12).map(|_| app.credential("local", "gitee", Some(SERVICE_TOKEN)));
    let results = futures_util::future::join_all(calls).await;
    let tokens: std::collections::HashSet<String> = results
        .iter()
        .map(|(status, c, _)| {
            assert_eq!(*status, 200, "{c}");
            assert!(
                c["expires_at"].as_i64().unwrap() > now() + 3600,
                "a fresh day-long token"
            );
            assert_eq!(c["git_username"], "gitee-bob");
            c["access_token"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(tokens.len(), 1, "every caller got the same refreshed token");
    assert_eq!(
        app.gitee_refreshes().await,
        1,
        "exactly one refresh upstream"
    );
    // The rotated refresh token was stored: no more refreshes while the token is fresh.
    app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    assert_eq!(app.gitee_refreshes().await, 1);
}

#[tokio::test]
async fn short_lived_refreshed_tokens_are_handed_out_not_refreshed_again() {
    // The host's refreshed tokens live two minutes, less than the five-minute promise.
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve-tiny").await;
    let mut tokens = std::collections::HashSet::new();
    for _ in 0..12 {
        let (status, c, _) = app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
        assert_eq!(status, 200, "{c}");
        let expires = c["expires_at"].as_i64().unwrap();
        assert!(
            (now() + 100..=now() + 120).contains(&expires),
            "the real expiry of the fresh token: {expires}"
        );
        tokens.insert(c["access_token"].as_str().unwrap().to_string());
    }
    assert_eq!(tokens.len(), 1, "one fresh token for all 12 calls");
    assert_eq!(app.gitee_refreshes().await, 1, "12 serial calls, 1 refresh");
}

#[tokio::test]
async fn a_refused_refresh_marks_the_binding_for_reauthorization() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve-short-dead").await;
    let (status, body, _) = app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "reauthorization_required");
    assert!(body["reason"].as_str().unwrap().contains("invalid_grant"));
    let (status, _, _) = app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    assert_eq!(status, 409, "remembered, without asking Gitee again");
}

#[tokio::test]
async fn metrics_count_requests_calls_and_bindings() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-alice").await;
    app.bind_gitee("approve-short").await;
    app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    let unauthenticated = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let text = app.metrics().await;
    assert!(
        text.contains("codesource_bindings{provider=\"gitlab\",status=\"bound\"} 1"),
        "{text}"
    );
    assert!(text.contains("codesource_bindings{provider=\"gitee\",status=\"bound\"} 1"));
    assert!(text.contains("codesource_token_refreshes_total{outcome=\"ok\"}"));
    assert!(
        text.contains("codesource_provider_call_seconds_count{provider=\"gitlab\",outcome=\"ok\"}")
    );
    assert!(text.contains(
        "route=\"/api/v1/tenants/{tenant}/code-sources/{provider}/credential\",status=\"200\""
    ));
    assert!(
        !text.contains("glpat") && !text.contains("gitee-fake"),
        "no secrets"
    );
}

#[tokio::test]
async fn github_app_user_tokens_are_refreshed_the_same_way() {
    let app = spawn_app(Options::default()).await;
    // A GitHub App user token: expires (here in a minute), with a rotating refresh token.
    let id = app.authorize("github", "approve-short").await.unwrap();
    app.call("code-sources/confirm", json!({"pending_id": id}))
        .await;
    let (status, c, _) = app.credential("local", "github", Some(SERVICE_TOKEN)).await;
    assert_eq!(status, 200, "{c}");
    assert!(
        c["expires_at"].as_i64().unwrap() > now() + 3600,
        "an 8-hour token after the refresh"
    );
}

#[tokio::test]
async fn a_host_that_cannot_refresh_right_now_gets_503_not_reauthorization() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitee("approve-short-flaky").await;
    let (status, body, headers) = app.credential("local", "gitee", Some(SERVICE_TOKEN)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("refresh_unavailable"))
    );
    assert_eq!(headers["retry-after"], "30");
    assert_eq!(
        app.row("gitee").await["status"],
        "Bound",
        "a transient failure is not a broken binding"
    );
}

#[tokio::test]
async fn devcloud_credential_carries_the_configured_address() {
    let app = spawn_app(Options {
        tweak: |c| {
            c.hosts.get_mut(Provider::DevCloud).url =
                Some("https://codehub.devcloud.cn-east-3.huaweicloud.com".into())
        },
        ..Default::default()
    })
    .await;
    let (status, c, _) = app
        .credential("local", "devcloud", Some(SERVICE_TOKEN))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["provider"], "devcloud");
    assert_eq!(
        c["base_url"],
        "https://codehub.devcloud.cn-east-3.huaweicloud.com"
    );
    assert_eq!(c["access_token"], json!(null));
}
