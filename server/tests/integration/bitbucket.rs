//! Bitbucket Cloud through OAuth against the fake Bitbucket: the authorize URL (no scopes, the
//! consumer has them), the exchange with Basic client authentication, refresh of its 2-hour
//! tokens (one refresh, then the stored token), a refused refresh, the credential's shape,
//! repositories by `next` links, branches, and unbinding (no revocation API).

use crate::support::*;
use serde_json::json;

async fn refreshes(app: &TestApp) -> u64 {
    app.fake_json("bitbucket/__stats").await["refreshes"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn bitbucket_binds_and_serves_credentials_and_repositories() {
    let app = spawn_app(Options::default()).await;
    let flow = app.start_oauth("bitbucket").await;
    let url = &flow.authorize_url;
    assert!(url.starts_with(&format!(
        "{}/bitbucket/site/oauth2/authorize?",
        app.fake.http_url()
    )));
    assert!(url.contains("client_id=fake-bitbucket-client"), "{url}");
    assert!(
        !url.contains("scope="),
        "the consumer's permissions are the scopes: {url}"
    );
    let back = app.decide(url, "approve").await;
    let id = app.callback(&back, Some(&flow.cookie)).await.unwrap();
    let (_, pending) = app
        .call("code-sources/pending", json!({"pending_id": id}))
        .await;
    assert_eq!(pending["account"]["login"], "bb-alice");
    assert_eq!(pending["scopes"], json!(["account", "repository"]));
    assert_eq!(pending["missing_scopes"], json!([]));
    assert_eq!(pending["bind"], "OAuth");
    let _ = app.confirm_pending(&json!(id)).await;
    assert_eq!(app.row("bitbucket").await["status"], "Bound");

    let (status, c, _) = app
        .credential("local", "bitbucket", Some(SERVICE_TOKEN))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["git_username"], "x-token-auth");
    assert_eq!(c["base_url"], format!("{}/bitbucket", app.fake.http_url()));
    assert_eq!(
        c["api_url"],
        format!("{}/bitbucket-api/2.0", app.fake.http_url())
    );
    assert!(c["access_token"]
        .as_str()
        .unwrap()
        .starts_with("bitbucket-fake-access-"));

    let list = |page: u32, search: &str| {
        app.call(
            "code-sources/repositories",
            json!({"provider": "bitbucket", "search": search, "page": page}),
        )
    };
    let (status, p1) = list(1, "").await;
    assert_eq!(status, 200, "{p1}");
    assert_eq!(p1["items"].as_array().unwrap().len(), 20);
    assert_eq!(p1["next_page"], 2, "Bitbucket's `next` link");
    let first = &p1["items"][0];
    assert!(first["full_name"]
        .as_str()
        .unwrap()
        .starts_with("fake-workspace/"));
    assert_eq!(first["default_branch"], "main");
    let (_, p2) = list(2, "").await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 5);
    assert_eq!(p2["next_page"], json!(null));
    let (_, found) = list(1, "repo-07").await;
    let names: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["fake-workspace/repo-07"],
        "searched upstream (BBQL)"
    );
    let (status, branches) = app
        .call(
            "code-sources/branches",
            json!({"provider": "bitbucket", "repo_id": "fake-workspace/repo-01"}),
        )
        .await;
    assert_eq!(status, 200, "{branches}");
    let main = branches
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "main")
        .unwrap();
    assert_eq!(main["default"], true);

    // Bitbucket has no API to revoke the token: the user is told to do it there.
    let (status, revocation) = app
        .call("code-sources/unbind", json!({"provider": "bitbucket"}))
        .await;
    assert_eq!(
        (status, revocation),
        (200, json!({"revocation": "Manual", "hooks_left": []}))
    );
}

#[tokio::test]
async fn bitbucket_tokens_are_refreshed_once_and_a_refused_refresh_needs_reauthorization() {
    let app = spawn_app(Options::default()).await;
    app.bind_oauth("bitbucket", "approve-short").await;
    for _ in 0..3 {
        let (status, c, _) = app
            .credential("local", "bitbucket", Some(SERVICE_TOKEN))
            .await;
        assert_eq!(status, 200, "{c}");
        assert!(c["expires_at"].as_i64().unwrap() > now() + 3600, "{c}");
    }
    assert_eq!(refreshes(&app).await, 1, "a 2-hour token is refreshed once");

    let app = spawn_app(Options::default()).await;
    app.bind_oauth("bitbucket", "approve-short-dead").await;
    let (status, body, _) = app
        .credential("local", "bitbucket", Some(SERVICE_TOKEN))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["reason"], "refresh_refused:invalid_request");
    let row = app.row("bitbucket").await;
    assert_eq!(row["status"], "NeedsReauth");
    assert_eq!(row["reason"], "refresh_refused:invalid_request");
    let (_, activity) = app.call("code-sources/activity", json!({})).await;
    let failed = &activity["entries"][0];
    assert_eq!(failed["action"], "refresh_failed");
    assert_eq!(failed["outcome"], "refresh_refused:invalid_request");
}

#[tokio::test]
async fn bitbucket_exchange_failures_are_named() {
    let app = spawn_app(Options::default()).await;
    let err = app.authorize("bitbucket", "deny").await.unwrap_err();
    assert_eq!(err, json!({"Host": "OAuthDenied"}));
    // A consumer without the `repository` permission: refused (as a GitLab or Gitea token that
    // cannot read repositories is), naming what the consumer must be given.
    let err = app
        .authorize("bitbucket", "approve-narrow")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        json!({"Host": {"MissingScopes": {"needed": ["repository"]}}})
    );
    assert_ne!(app.row("bitbucket").await["status"], "Bound");

    let app = spawn_app(Options {
        tweak: |c| {
            let app = c.hosts.get_mut(Provider::Bitbucket).app.as_mut().unwrap();
            app.client_secret = codesource_server::secret::SecretString::new("wrong".into());
        },
        ..Default::default()
    })
    .await;
    let err = app.authorize("bitbucket", "approve").await.unwrap_err();
    assert_eq!(
        err,
        json!({"Host": {"OAuthExchange": {"error": "unauthorized_client"}}})
    );
}
