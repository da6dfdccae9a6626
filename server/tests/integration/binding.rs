//! The GitLab bind / confirm / cancel / unbind flow, persistence and tenancy.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn page_lists_every_code_host_with_devcloud_bound() {
    let app = spawn_app(Options::default()).await;
    let page = app.page().await;
    let rows = page["rows"].as_array().unwrap();
    let order: Vec<&str> = rows
        .iter()
        .map(|r| r["provider"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "devcloud",
            "github",
            "gitlab",
            "gitee",
            "bitbucket",
            "gitea"
        ]
    );
    // How each binds and unbinds comes with the row, as data.
    let host = |i: usize| &rows[i]["host"];
    assert_eq!(host(0)["bind"], "Default");
    assert_eq!(host(1)["bind"], "OAuth");
    assert_eq!(host(1)["revocation"], "Automatic");
    assert_eq!(host(2)["bind"], "AccessToken");
    assert_eq!(host(2)["revocation"], "Optional");
    assert_eq!(host(4)["revocation"], "Manual");
    assert_eq!(host(5)["bind"], "AccessToken");
    assert_eq!(
        host(5)["default_address"],
        json!(null),
        "Gitea has no public default"
    );
    assert_eq!(rows[0]["status"], "Bound");
    assert_eq!(rows[0]["is_default"], true);
    // GitHub and Gitee are configured (fake OAuth apps) in these tests.
    assert_eq!(rows[1]["status"], "Unbound");
    assert_eq!(rows[2]["status"], "Unbound");
    assert_eq!(rows[3]["status"], "Unbound");
    assert_eq!(page["viewer"]["local_mode"], true);
    assert_eq!(page["build_node_cidrs"], json!(["192.0.2.0/24"]));
    assert_eq!(rows[2]["host"]["default_address"], "https://gitlab.com");
}

#[tokio::test]
async fn check_then_confirm_binds_and_persists_encrypted() {
    let app = spawn_app(Options::default()).await;
    let (status, pending) = app.check(&app.fake.http_url(), "glpat-fake-alice").await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(pending["account"]["login"], "alice");
    assert_eq!(pending["account"]["name"], "Alice Liddell");
    assert_eq!(pending["scopes"], json!(["read_repository", "read_api"]));
    assert_eq!(pending["expires_at"], "2027-06-30");
    assert!(
        !pending.to_string().contains("glpat-fake-alice"),
        "the token is never echoed"
    );

    // Checked but not confirmed: nothing is stored.
    assert_eq!(app.row("gitlab").await["status"], "Unbound");

    let row = app.confirm_pending(&pending["id"]).await;
    assert_eq!(row["status"], "Bound");
    let row = app.row("gitlab").await;
    assert_eq!(row["account"]["login"], "alice");
    assert_eq!(row["address"], app.fake.http_url());
    assert_eq!(row["token_expires_at"], "2027-06-30");
    assert!(row["bound_at"].as_i64().unwrap() > 1_700_000_000);

    // The token is on disk only in encrypted form.
    for entry in walk(app.data_dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(16).any(|w| w == b"glpat-fake-alice"),
            "plaintext token found in {}",
            entry.display()
        );
    }
    // The token went to GitLab in the PRIVATE-TOKEN header only, never in a URL; the avatar
    // (fetched by the server, wherever the account says it is) never gets it.
    let log = app.fake.log.entries();
    assert!(log.len() >= 3);
    assert!(log.iter().all(|(path, _)| !path.contains("glpat")));
    for (path, header) in &log {
        assert_eq!(*header, path.starts_with("/api/v4/"), "{path}");
    }
    assert!(log.iter().any(|(path, _)| path == "/avatars/alice.png"));
}

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn cancel_stores_nothing_and_the_pending_id_dies() {
    let app = spawn_app(Options::default()).await;
    let (_, pending) = app.check(&app.fake.http_url(), "glpat-fake-alice").await;
    let (status, _) = app
        .call("code-sources/cancel", json!({"pending_id": pending["id"]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.row("gitlab").await["status"], "Unbound");
    let (status, err) = app
        .call("code-sources/confirm", json!({"pending_id": pending["id"]}))
        .await;
    assert_eq!((status, err), (410, json!("PendingExpired")));
}

#[tokio::test]
async fn unbind_removes_the_binding_once() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-bob").await;
    assert_eq!(
        app.row("gitlab").await["token_expires_at"],
        serde_json::Value::Null
    );
    let (status, _) = app
        .call("code-sources/unbind", json!({"provider": "gitlab"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.row("gitlab").await["status"], "Unbound");
    let (status, err) = app
        .call("code-sources/unbind", json!({"provider": "gitlab"}))
        .await;
    assert_eq!((status, err), (404, json!("NotBound")));
    let (status, err) = app
        .call("code-sources/unbind", json!({"provider": "devcloud"}))
        .await;
    assert_eq!((status, err), (409, json!("DefaultBinding")));
    let (status, err) = app
        .call("code-sources/unbind", json!({"provider": "sourceforge"}))
        .await;
    assert_eq!((status, err), (422, json!({"Invalid": "UnknownProvider"})));
    let (status, err) = app
        .call("code-sources/unbind", json!({"provider": "bitbucket"}))
        .await;
    assert_eq!((status, err), (404, json!("NotBound")));
}

#[tokio::test]
async fn rebinding_replaces_the_account() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-alice").await;
    app.bind_gitlab("glpat-fake-bob").await;
    assert_eq!(app.row("gitlab").await["account"]["login"], "bob");
}

#[tokio::test]
async fn a_pending_binding_can_be_confirmed_only_once_even_concurrently() {
    let app = spawn_app(Options::default()).await;
    let (_, pending) = app.check(&app.fake.http_url(), "glpat-fake-alice").await;
    let body = json!({"pending_id": pending["id"]});
    let calls = (0..8).map(|_| app.call("code-sources/confirm", body.clone()));
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let gone = results.iter().filter(|(s, _)| *s == 410).count();
    assert_eq!((ok, gone), (1, 7));
}

#[tokio::test]
async fn tenants_never_see_or_touch_each_other() {
    let mut app = spawn_identity_app().await;
    app.as_tenant("tenant-a");
    app.bind_gitlab("glpat-fake-alice").await;
    let (_, pending_a) = app.check(&app.fake.http_url(), "glpat-fake-bob").await;

    app.as_tenant("tenant-b");
    let page = app.page().await;
    assert_eq!(page["viewer"]["tenant"], "tenant-b");
    assert_eq!(page["viewer"]["local_mode"], false);
    assert_eq!(app.row("gitlab").await["status"], "Unbound");
    assert!(!page.to_string().contains("alice"));
    // B cannot confirm A's checked token, nor unbind A's binding.
    let (status, _) = app
        .call(
            "code-sources/confirm",
            json!({"pending_id": pending_a["id"]}),
        )
        .await;
    assert_eq!(status, 410);
    let (status, _) = app
        .call("code-sources/unbind", json!({"provider": "gitlab"}))
        .await;
    assert_eq!(status, 404);

    app.as_tenant("tenant-a");
    assert_eq!(app.row("gitlab").await["account"]["login"], "alice");
    let (status, _) = app
        .call(
            "code-sources/confirm",
            json!({"pending_id": pending_a["id"]}),
        )
        .await;
    assert_eq!(status, 200, "A's own pending binding is still usable");
}

#[tokio::test]
async fn the_page_is_rendered_on_the_server_with_the_table() {
    let app = spawn_app(Options::default()).await;
    app.bind_gitlab("glpat-fake-evil").await;
    let resp = app
        .http
        .get(&app.base)
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("Code source configuration"));
    for name in ["DevCloud", "GitHub", "GitLab", "Gitee"] {
        assert!(html.contains(name), "{name} row missing");
    }
    // Host-supplied values are escaped and unsafe avatar URLs dropped.
    assert!(html.contains("mallory"));
    assert!(!html.contains("<img src=x onerror"));
    assert!(!html.contains("javascript:alert"));
    assert!(!html.contains("glpat-fake"));

    let zh = app
        .http
        .get(&app.base)
        .header("cookie", "cs_lang=zh-CN")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let html = zh.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\""));
    assert!(html.contains("代码源配置"));
}
