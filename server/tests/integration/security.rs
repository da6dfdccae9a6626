//! Authentication, cross-site defence, headers, limits, health.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn without_a_valid_identity_nothing_is_served() {
    let mut app = spawn_identity_app().await;
    let (status, body) = app.call("code-sources/page", json!({})).await;
    assert_eq!((status, body), (401, json!("Unauthenticated")));

    let page = app.get("/").await;
    assert_eq!(page.status(), 401);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("需要登录") || html.contains("Sign-in required"));
    assert!(!html.contains("DevCloud"));

    for token in [
        identity_with(IDENTITY_KEY.as_bytes(), "t1", "u1", now() - 3600),
        identity_with(
            b"some-other-key-some-other-key-0000",
            "t1",
            "u1",
            now() + 3600,
        ),
        "not.a.jwt".to_string(),
    ] {
        app.bearer = Some(token);
        let (status, _) = app.call("code-sources/page", json!({})).await;
        assert_eq!(status, 401);
    }

    // The console's cookie works like the header.
    let cookie = format!("console_identity={}", identity("t1", "u1"));
    let resp = app
        .http
        .get(&app.base)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn_app(Options::default()).await;
    let url = format!("{}/api/code-sources/unbind", app.base);
    let body = json!({"provider": "gitlab"});
    let r = app
        .http
        .post(&url)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        json!("CrossSite")
    );
    let r = app
        .http
        .post(&url)
        .header("sec-fetch-site", "cross-site")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .http
        .post(&url)
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "same-origin reaches the function (nothing bound)"
    );
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_csp_naming_their_scripts() {
    let app = spawn_app(Options::default()).await;
    let resp = app.get("/").await;
    let h = resp.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    assert!(
        !csp.contains("'nonce-"),
        "a cached page must not repeat a nonce: {csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'self'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h.contains_key("x-request-id"));
    let html = resp.text().await.unwrap();
    // Every inline script of the page is allowed by its hash, and nothing else is.
    let scripts = crate::page_cache::inline_scripts(&html);
    assert!(
        scripts.len() >= 2,
        "the hydration script and the data: {html}"
    );
    let allowed: Vec<&str> = csp
        .split_whitespace()
        .filter(|s| s.starts_with("'sha256-"))
        .collect();
    assert_eq!(allowed.len(), scripts.len(), "{csp}");
    for text in &scripts {
        let hash = format!("'sha256-{}'", crate::page_cache::sha256_b64(text));
        assert!(
            allowed.contains(&hash.as_str()),
            "{text} not allowed by {csp}"
        );
    }

    let (status, _) = app.call("code-sources/page", json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn oversized_requests_are_refused() {
    let app = spawn_app(Options::default()).await;
    let huge = "x".repeat(200 * 1024);
    let r = app
        .http
        .post(format!("{}/api/code-sources/token/check", app.base))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"provider": "gitlab", "address": "gitlab.com", "token": "t", "ca_pem": huge}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn health_endpoints_answer_without_identity() {
    let app = spawn_identity_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}
