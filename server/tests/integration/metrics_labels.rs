//! `/metrics` labels requests by the route they matched: made-up paths (probes, typos, an
//! attacker's random URLs) all share one label, so they cannot grow the series without bound.
//! (The registry is process-wide; nextest runs each test in its own process.)

use crate::support::*;
use serde_json::json;

const SERIES: &str = "codesource_http_requests_total{";

fn request_series(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with(SERIES)).collect()
}

/// Sends 200 unauthenticated requests to random paths, most under `/api/` and `/oauth/`;
/// every path carries `marker`.
async fn probe(app: &TestApp, marker: &str) {
    for i in 0..200 {
        let r = format!("{marker}{:016x}", rand::random::<u64>());
        let path = match i % 10 {
            0..=3 => format!("/api/{r}"),
            4 => format!("/api/v1/tenants/{r}/code-sources/gitlab/{r}"),
            5 => format!("/api/code-sources/{r}"),
            6 => format!("/oauth/{r}/start"),
            7 => format!("/oauth/github/{r}"),
            8 => format!("/oauth/{r}"),
            _ => format!("/{r}/{i}"),
        };
        let resp = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
    }
}

async fn assert_bounded(app: &TestApp) {
    let marker = "probe-";
    let before = app.metrics().await;
    probe(app, marker).await;
    let after = app.metrics().await;
    let (before, after) = (request_series(&before), request_series(&after));
    assert!(
        after.len() <= before.len() + 4,
        "200 random paths grew the series from {} to {}:\n{}",
        before.len(),
        after.len(),
        after.join("\n")
    );
    assert!(
        !after.iter().any(|l| l.contains(marker)),
        "no raw path becomes a label:\n{}",
        after.join("\n")
    );
    assert!(
        after
            .iter()
            .any(|l| l
                .starts_with("codesource_http_requests_total{route=\"unmatched\",status=\"401\"}")),
        "{}",
        after.join("\n")
    );
}

/// Real routes (the page, a server function, the credential API, the metrics themselves)
/// keep their own labels, by pattern.
async fn assert_real_routes_labelled(app: &mut TestApp) {
    app.as_tenant("t1");
    assert_eq!(app.get("/").await.status(), 200);
    let (status, v) = app.call("code-sources/page", json!({})).await;
    assert_eq!(status, 200, "{v}");
    let (status, _, _) = app.credential("t1", "gitlab", Some(SERVICE_TOKEN)).await;
    assert!((400..500).contains(&status), "nothing bound: {status}");
    app.metrics().await; // a request is counted once answered: the next scrape shows this one
    let text = app.metrics().await;
    for route in [
        "/",
        "/api/code-sources/page",
        "/api/v1/tenants/{tenant}/code-sources/{provider}/credential",
        "/metrics",
    ] {
        let label = format!("{SERIES}route=\"{route}\",");
        assert!(
            text.lines().any(|l| l.starts_with(&label)),
            "{route} has its own series:\n{text}"
        );
    }
    assert!(
        !text.contains("code-sources/gitlab/credential"),
        "tenants and providers are not labels:\n{text}"
    );
}

#[tokio::test]
async fn random_paths_do_not_create_series() {
    let mut app = spawn_identity_app().await;
    assert_real_routes_labelled(&mut app).await;
    app.bearer = None;
    assert_bounded(&app).await;
}

#[tokio::test]
async fn random_paths_under_a_base_path_do_not_create_series() {
    let mut app = spawn_app(Options {
        identity: true,
        tweak: |c| c.base_path = "/console/code-sources".into(),
        ..Default::default()
    })
    .await;
    assert_real_routes_labelled(&mut app).await;
    app.bearer = None;
    assert_bounded(&app).await;
}

/// Counting the bindings reads every stored record (seconds for a million), so scrapes within a
/// minute reuse the last count.
#[tokio::test]
async fn the_bindings_gauge_is_counted_at_most_once_a_minute() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-alice").await;
    let gauge = "codesource_bindings{provider=\"gitlab\",status=\"bound\"} 1";
    assert!(app.metrics().await.contains(gauge));
    let (status, _) = app
        .call(
            "code-sources/unbind",
            json!({"provider": "gitlab", "revoke": false}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        app.metrics().await.contains(gauge),
        "counted again too soon"
    );
}
