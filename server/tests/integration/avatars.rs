//! Avatars are fetched by the server at check time and served from our own origin: the page
//! never gets a code host's (or gravatar's) URL, and an avatar that cannot be fetched, or is not
//! a raster image, means no avatar (the initials badge), never a failed bind.

use crate::support::*;
use serde_json::json;

/// Fetches what the page would load for `url` (our own path, under the base path).
async fn load(app: &TestApp, url: &str) -> reqwest::Response {
    let mut req = app.http.get(format!("{}{url}", app.origin));
    if let Some(b) = &app.bearer {
        req = req.bearer_auth(b);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_reachable_avatar_is_kept_and_served_from_our_origin_per_tenant() {
    let mut app = spawn_app(Options {
        identity: true,
        tweak: |c| c.base_path = "/console/code-sources".into(),
        ..Default::default()
    })
    .await;
    app.as_tenant("tenant-a");

    // The confirm dialog shows the pending account's avatar from our origin already.
    let (status, pending) = app.check(&app.fake.http_url(), "glpat-fake-alice").await;
    assert_eq!(status, 200, "{pending}");
    let url = pending["account"]["avatar_url"]
        .as_str()
        .unwrap()
        .to_string();
    let id = pending["id"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("/console/code-sources/avatars/pending/{id}?v=")),
        "{url}"
    );
    let resp = load(&app, &url).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), fake_hosts::AVATAR_PNG);
    app.confirm_pending(&json!(id)).await;

    let row = app.row("gitlab").await;
    let url = row["account"]["avatar_url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("/console/code-sources/avatars/gitlab?v="),
        "never the host's URL: {url}"
    );
    let resp = load(&app, &url).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["cache-control"], "private, max-age=86400");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let etag = h["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), fake_hosts::AVATAR_PNG);
    // The version in the URL is the image's: a changed avatar gets a new URL.
    assert!(
        url.ends_with(&format!("?v={}", &etag[1..17])),
        "{url} {etag}"
    );

    // Revalidation with the ETag: 304, same caching headers.
    let mut req = app
        .http
        .get(format!("{}{url}", app.origin))
        .header("if-none-match", &etag);
    req = req.bearer_auth(app.bearer.clone().unwrap());
    let not_modified = req.send().await.unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"], etag.as_str());
    assert_eq!(
        not_modified.headers()["cache-control"],
        "private, max-age=86400"
    );

    // Another tenant: no such avatar (its own GitLab row is unbound), nor the pending one.
    app.as_tenant("tenant-b");
    assert_eq!(load(&app, &url).await.status(), 404);
    assert_eq!(
        load(&app, "/console/code-sources/avatars/gitlab")
            .await
            .status(),
        404
    );
    // Rows without an avatar: 404, not an error page with content.
    assert_eq!(
        load(&app, "/console/code-sources/avatars/devcloud")
            .await
            .status(),
        404
    );
    assert_eq!(
        load(&app, "/console/code-sources/avatars/nonsense")
            .await
            .status(),
        404
    );
    assert_eq!(
        load(&app, "/console/code-sources/avatars/pending/zz")
            .await
            .status(),
        404
    );
    // Without an identity: refused.
    app.bearer = None;
    assert_eq!(load(&app, &url).await.status(), 401);

    // The page's policy: images from our origin only.
    app.as_tenant("tenant-a");
    let page = app.get("/").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("img-src 'self' data:;"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("/console/code-sources/avatars/gitlab?v="));
    assert!(
        !html.contains("/avatars/alice.png"),
        "no host URL in the page"
    );
}

#[tokio::test]
async fn an_avatar_that_cannot_be_used_means_none_and_the_bind_succeeds() {
    let app = spawn_app(Options::default()).await;
    // Unreachable (closed port), HTML, SVG (scriptable), 1 MiB, HTML claiming to be PNG, 404,
    // slower than the provider timeout.
    for kind in ["down", "html", "svg", "huge", "liar", "missing", "slow"] {
        let token = format!("glpat-fake-avatar-{kind}");
        let (status, pending) = app.check(&app.fake.http_url(), &token).await;
        assert_eq!(status, 200, "{kind}: {pending}");
        assert_eq!(pending["account"]["avatar_url"], json!(null), "{kind}");
        let id = pending["id"].as_str().unwrap();
        assert_eq!(
            app.get(&format!("/avatars/pending/{id}")).await.status(),
            404,
            "{kind}"
        );
        let (status, row) = app
            .call("code-sources/confirm", json!({"pending_id": id}))
            .await;
        assert_eq!(status, 200, "{kind}: {row}");
        assert_eq!(row["account"]["login"], json!(format!("avatar-{kind}")));
        assert_eq!(row["account"]["avatar_url"], json!(null), "{kind}");
        let row = app.row("gitlab").await;
        assert_eq!(row["status"], "Bound", "{kind}");
        assert_eq!(row["account"]["avatar_url"], json!(null), "{kind}");
        assert_eq!(app.get("/avatars/gitlab").await.status(), 404, "{kind}");
    }
    // A javascript: avatar is not even fetched.
    let row = app.bind_gitlab("glpat-fake-evil").await;
    assert_eq!(row["account"]["avatar_url"], json!(null));
}

#[tokio::test]
async fn oauth_accounts_get_their_avatar_from_our_origin() {
    let app = spawn_app(Options::default()).await;
    // The fake GitHub's account has a PNG avatar; the fake Gitee's an SVG one (refused).
    let id = app.authorize("github", "approve").await.unwrap();
    let (status, pending) = app
        .call("code-sources/pending", json!({"pending_id": id}))
        .await;
    assert_eq!(status, 200, "{pending}");
    let url = pending["account"]["avatar_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.starts_with(&format!("/avatars/pending/{id}?v=")),
        "{url}"
    );
    let _ = app.confirm_pending(&json!(id)).await;
    let row = app.row("github").await;
    let url = row["account"]["avatar_url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/avatars/github?v="), "{url}");
    let resp = app.get("/avatars/github").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), fake_hosts::AVATAR_PNG);

    let id = app.authorize("gitee", "approve").await.unwrap();
    let (_, pending) = app
        .call("code-sources/pending", json!({"pending_id": id}))
        .await;
    assert_eq!(pending["account"]["avatar_url"], json!(null), "{pending}");
}
