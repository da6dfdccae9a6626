//! Embedding: the app under a base path, CORS and the cross-site check for widget origins,
//! cookie attributes for cross-site embedding, and who may frame the page.

use crate::support::*;
use serde_json::json;

fn under_base(c: &mut codesource_server::Config) {
    c.base_path = "/console/code-sources".into();
}

#[tokio::test]
async fn everything_is_served_under_the_base_path() {
    let mut app = spawn_app(Options {
        identity: true,
        tweak: under_base,
        ..Default::default()
    })
    .await;
    app.as_tenant("t1");
    assert!(app.base.ends_with("/console/code-sources"));

    // The page, with every URL it hands out under the prefix.
    for path in ["/", ""] {
        let resp = app.get(path).await;
        let status = resp.status();
        let html = resp.text().await.unwrap();
        assert_eq!(status, 200, "page at {path:?}: {html}");
        for expected in [
            r#"<meta name="codesource-base" content="/console/code-sources""#,
            r#"href="/console/code-sources/pkg/codesource.css""#,
            r#"href="/console/code-sources/favicon.svg""#,
            r#"/console/code-sources/pkg/codesource.js"#,
        ] {
            assert!(html.contains(expected), "missing {expected} in {html}");
        }
        assert!(!html.contains(r#"="/pkg/"#), "an asset ignores the prefix");
    }
    // Nothing answers outside the prefix.
    let outside = app
        .http
        .get(format!("{}/", app.origin))
        .bearer_auth(identity("t1", "u"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 404);
    let lookalike = app
        .http
        .get(format!("{}/console/code-sourcesX/", app.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(lookalike.status(), 404);

    // Server functions, health, the service API and its document.
    let page = app.page().await;
    assert_eq!(page["viewer"]["tenant"], "t1");
    assert_eq!(app.get("/healthz").await.status(), 200);
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert_eq!(
        doc["servers"],
        json!([{"url": "/console/code-sources"}]),
        "clients resolve the API's paths under the prefix"
    );
    let row = app.bind_gitlab("glpat-fake-alice").await;
    assert_eq!(row["provider"], "gitlab");

    // OAuth: the code host returns to the callback under the prefix; the flow cookie is
    // scoped to it.
    let resp = app.get("/oauth/github/start?mode=redirect").await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let callback = format!("{}/oauth/github/callback", app.base);
    assert!(
        location.contains(&format!(
            "redirect_uri={}",
            codesource_server::util::query_encode(&callback)
        )),
        "{location}"
    );
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("Path=/console/code-sources/oauth/github"),
        "{cookie}"
    );
    // The 401 page's stylesheet is under the prefix too.
    let anonymous = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous
        .text()
        .await
        .unwrap()
        .contains(r#"href="/console/code-sources/pkg/codesource.css""#));
}

const CONSOLE: &str = "http://console.test:8080";

fn widget_host(c: &mut codesource_server::Config) {
    c.widget_origins = vec![CONSOLE.into()];
    // The widget's entry script from the source tree stands in for Trunk's output.
    c.widget_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../widget").into();
}

#[tokio::test]
async fn widget_origins_get_cors_and_pass_the_cross_site_check() {
    let app = spawn_app(Options {
        identity: true,
        tweak: widget_host,
        ..Default::default()
    })
    .await;
    let url = format!("{}/api/code-sources/page", app.base);
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    // Allowed: the preflight (no identity: browsers never send cookies with it) says yes,
    // with credentials, to exactly this origin.
    let ok = preflight(CONSOLE).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], CONSOLE);
    assert_eq!(ok.headers()["access-control-allow-credentials"], "true");
    // Anyone else: no CORS headers, so the browser blocks the call.
    let other = preflight("http://evil.test").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));

    // The call itself, as the browser sends it from the widget's host page.
    let post = |origin: &'static str| {
        app.http
            .post(&url)
            .header("origin", origin)
            .header("sec-fetch-site", "cross-site")
            .bearer_auth(identity("t1", "u1"))
            .json(&json!({}))
            .send()
    };
    let ok = post(CONSOLE).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], CONSOLE);
    let refused = post("http://evil.test").await.unwrap();
    assert_eq!(refused.status(), 403, "other sites stay refused");
    assert!(!refused
        .headers()
        .contains_key("access-control-allow-origin"));

    // The widget's files load cross-origin (module scripts and wasm are CORS requests).
    let asset = app
        .http
        .get(format!("{}/widget/codesource-widget.js", app.base))
        .header("origin", CONSOLE)
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    let h = asset.headers();
    assert_eq!(h["access-control-allow-origin"], CONSOLE);
    assert!(h["content-type"].to_str().unwrap().contains("javascript"));
    // The stable entry: briefly cached, then revalidated by ETag (web/assets).
    assert_eq!(h["cache-control"], "public, max-age=300");
    assert!(h.contains_key("etag"));
    assert!(asset
        .text()
        .await
        .unwrap()
        .contains("export async function mountCodeSources"));
}

#[tokio::test]
async fn without_widget_origins_there_is_no_cors() {
    let app = spawn_identity_app().await;
    let resp = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/code-sources/page", app.base),
        )
        .header("origin", CONSOLE)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}

async fn locale_cookie(app: &TestApp) -> String {
    let resp = app
        .http
        .post(format!("{}/api/preferences/locale", app.base))
        .header("origin", &app.origin)
        .json(&json!({"tag": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.headers()["set-cookie"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn cookies_follow_the_embedding() {
    // On its own over http: Lax.
    let plain = spawn_app(Options::default()).await;
    let c = locale_cookie(&plain).await;
    assert!(c.contains("SameSite=Lax") && !c.contains("Secure"), "{c}");
    assert!(c.contains("Path=/;") || c.ends_with("Path=/"), "{c}");

    // Framed by another site over https: None + Secure, or the browser would not send it back.
    let framed = spawn_app(Options {
        tweak: |c| {
            c.frame_ancestors = vec!["https://console.example.com".into()];
            c.base_path = "/cs".into();
            c.public_url = c
                .public_url
                .as_ref()
                .map(|u| u.replace("http://", "https://"));
        },
        ..Default::default()
    })
    .await;
    let resp = framed
        .http
        .post(format!("{}/api/preferences/locale", framed.base))
        .json(&json!({"tag": "en"}))
        .send()
        .await
        .unwrap();
    let c = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        c.contains("SameSite=None") && c.contains("Secure") && c.contains("Path=/cs"),
        "{c}"
    );
}

#[tokio::test]
async fn only_listed_origins_may_frame_the_page() {
    let own = spawn_app(Options::default()).await;
    let resp = own.get("/").await;
    assert_eq!(resp.headers()["x-frame-options"], "SAMEORIGIN");
    assert!(resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .ends_with("frame-ancestors 'self'"));

    let framed = spawn_app(Options {
        tweak: |c| c.frame_ancestors = vec![CONSOLE.into()],
        ..Default::default()
    })
    .await;
    let resp = framed.get("/").await;
    assert!(!resp.headers().contains_key("x-frame-options"));
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains(&format!("frame-ancestors 'self' {CONSOLE}")),
        "{csp}"
    );
    // A signed-out user inside the console's frame sees the 401 page, not a refused frame.
    let framed_identity = spawn_app(Options {
        identity: true,
        tweak: |c| c.frame_ancestors = vec![CONSOLE.into()],
        ..Default::default()
    })
    .await;
    let resp = framed_identity.get("/").await;
    assert_eq!(resp.status(), 401);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.ends_with(&format!("frame-ancestors 'self' {CONSOLE}")),
        "{csp}"
    );
}

/// Starting an OAuth flow changes state (a flow, the browser's flow cookie): another site
/// navigating the user to the start is refused; our page and a widget host page may start one.
#[tokio::test]
async fn only_our_page_or_a_widget_host_starts_an_oauth_flow() {
    let app = spawn_app(Options {
        tweak: widget_host,
        ..Default::default()
    })
    .await;
    let start = |site: &'static str, referer: Option<&'static str>| {
        let mut req = app
            .http
            .get(format!("{}/oauth/github/start", app.base))
            .header("sec-fetch-site", site);
        if let Some(r) = referer {
            req = req.header("referer", r);
        }
        req.send()
    };
    let ours = start("same-origin", None).await.unwrap();
    assert_eq!(ours.status(), 303);
    let widget = start("cross-site", Some("http://console.test:8080/builds"))
        .await
        .unwrap();
    assert_eq!(widget.status(), 303);
    for (site, referer) in [
        ("cross-site", Some("http://evil.test/")),
        ("cross-site", None),
        ("same-site", Some("http://other.console.test:8080/")),
    ] {
        let refused = start(site, referer).await.unwrap();
        assert_eq!(refused.status(), 403, "{site} {referer:?}");
        assert!(
            !refused.headers().contains_key("set-cookie"),
            "no flow began"
        );
        assert!(refused.text().await.unwrap().contains("CrossSite"));
    }
}
