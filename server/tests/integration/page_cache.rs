//! The page cache (web/page_cache): a page load whose data and language, theme and zone were
//! seen before is answered from memory; any change to the data is on the next load; tenants
//! never get each other's page; the CSP allows exactly the page's own scripts, by hash.

use crate::support::*;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The text of each inline `<script>` of a page, in order.
pub fn inline_scripts(html: &str) -> Vec<String> {
    html.split("<script")
        .skip(1)
        .filter_map(|s| {
            let (open, rest) = s.split_once('>')?;
            (!open.contains("src=")).then(|| rest.split("</script>").next().unwrap_or("").into())
        })
        .collect()
}

pub fn sha256_b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

/// (`cached`, `rendered`) from `codesource_page_loads_total`.
async fn loads(app: &TestApp) -> (u64, u64) {
    let text = app.metrics().await;
    let count = |result: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(&format!(
                    "codesource_page_loads_total{{result=\"{result}\"}} "
                ))
            })
            .and_then(|n| n.parse().ok())
            .unwrap()
    };
    (count("cached"), count("rendered"))
}

async fn page_as(app: &TestApp, bearer: &str, lang: &str) -> (String, String) {
    let resp = app
        .http
        .get(&app.base)
        .bearer_auth(bearer)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    (resp.text().await.unwrap(), csp)
}

#[tokio::test]
async fn a_page_seen_before_comes_from_memory_and_a_change_is_shown_at_once() {
    let mut app = spawn_identity_app().await;
    app.as_tenant("t-cache");
    let alice = identity("t-cache", "alice");
    let (first, csp) = page_as(&app, &alice, "en").await;
    assert_eq!(loads(&app).await, (0, 1));
    let (again, csp_again) = page_as(&app, &alice, "en").await;
    assert_eq!(
        loads(&app).await,
        (1, 1),
        "the same data and language: from memory"
    );
    assert_eq!(first, again);
    assert_eq!(csp, csp_again);

    // Another language is another page.
    let (zh, _) = page_as(&app, &alice, "zh-CN").await;
    assert!(zh.contains("代码源配置"));
    assert_eq!(loads(&app).await, (1, 2));

    // A binding made through the API (by another user of the tenant) is on the very next
    // load: no stale page.
    assert!(!first.contains("bob"));
    app.bind_gitlab("glpat-fake-bob").await;
    let (bound, _) = page_as(&app, &alice, "en").await;
    assert!(bound.contains("bob"), "the bound account is shown");
    assert_eq!(loads(&app).await, (1, 3));
    let (status, _) = app
        .call(
            "code-sources/unbind",
            serde_json::json!({"provider": "gitlab", "revoke": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (unbound, _) = page_as(&app, &alice, "en").await;
    assert!(!unbound.contains("bob") && !bound.contains("glpat"));
    // Unbound again, the data is what it was at first: so is the page, from memory.
    assert_eq!(unbound, first);
    assert_eq!(loads(&app).await, (2, 3));
}

#[tokio::test]
async fn tenants_and_users_never_share_a_cached_page() {
    let mut app = spawn_identity_app().await;
    let a = identity("tenant-a", "user-a");
    let b = identity("tenant-b", "user-b");
    app.as_tenant("tenant-a");
    app.bind_gitlab("glpat-fake-bob").await;
    let (page_a, _) = page_as(&app, &a, "en").await;
    let (page_b, _) = page_as(&app, &b, "en").await;
    assert!(page_a.contains("bob") && page_a.contains("user-a name"));
    assert!(!page_b.contains("bob") && !page_b.contains("user-a"));
    // The same tenant, another user: the viewer differs, so does the page.
    let a2 = identity("tenant-a", "user-a2");
    let (page_a2, _) = page_as(&app, &a2, "en").await;
    assert!(page_a2.contains("user-a2 name") && !page_a2.contains("user-a name"));
    assert_eq!(loads(&app).await, (0, 3));
}

#[tokio::test]
async fn cached_answers_are_compressed_once_and_chosen_per_request() {
    let app = spawn_identity_app().await;
    let alice = identity("t-enc", "alice");
    let get = |enc: &'static str| {
        app.http
            .get(&app.base)
            .bearer_auth(&alice)
            .header("accept-encoding", enc)
            .send()
    };
    let plain = get("identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len: usize = plain.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    for enc in ["br", "gzip"] {
        let r = get(enc).await.unwrap();
        assert_eq!(r.headers()["content-encoding"], enc);
        assert_eq!(r.headers()["vary"], "accept-encoding");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let len: usize = r.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(len * 3 < plain_len, "{enc}: {len} of {plain_len}");
    }
    assert_eq!(loads(&app).await, (2, 1));
}
