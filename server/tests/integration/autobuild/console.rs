//! The page's own calls for issue #23: the server functions `code-sources/auto-build/repair`,
//! `…/build` and `…/rotate-secret` run the operations the build service API runs, for the
//! caller's tenant only, recorded in the activity log under the console user; a manual-setup
//! registration's rotation answers the new secret once.

use super::*;
use serde_json::json;

fn repo() -> Value {
    json!({"provider": "gitlab", "repo": GITLAB.repo})
}

fn build(git_ref: Value) -> Value {
    json!({"provider": "gitlab", "repo": GITLAB.repo, "git_ref": git_ref})
}

/// Tenant A (this app's caller) with GitLab bound and auto-build on for `alice/repo-01`.
async fn tenant_a(manual: bool) -> TestApp {
    let mut app = spawn_identity_app().await;
    app.as_tenant("tenant-a");
    app.bind_gitlab("glpat-fake-bob").await;
    let (status, on) = app
        .call(
            "code-sources/auto-build/enable",
            json!({"provider": "gitlab", "repo": GITLAB.repo,
                   "filters": {"branches": ["main"], "tags": []}, "manual": manual}),
        )
        .await;
    assert_eq!(status, 200, "{on}");
    app
}

#[tokio::test]
async fn the_page_repairs_builds_and_rotates_for_its_own_tenant() {
    let app = tenant_a(false).await;
    // Another tenant names the same repository: nothing of tenant A's is reachable.
    for (endpoint, body) in [
        ("code-sources/auto-build/repair", repo()),
        (
            "code-sources/auto-build/build",
            build(json!({"branch": "main"})),
        ),
        ("code-sources/auto-build/rotate-secret", repo()),
    ] {
        let (status, e) = app.call_as("tenant-b", endpoint, body).await;
        assert_eq!((status, e), (404, json!("NotBound")), "{endpoint}");
    }
    assert!(app.events(0).await.is_empty());

    // Repair after the hook was deleted on the host: one hook again, status active.
    let hook = app.fake_hooks(&GITLAB).await[0].clone();
    let status = app
        .fake_control_of(
            "gitlab",
            "hook",
            json!({"repo": GITLAB.fake_repo, "id": hook["id"], "action": "delete"}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, r) = app.call("code-sources/auto-build/repair", repo()).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["changes"], json!(["hook_created"]));
    assert_eq!(r["view"]["status"], "active");
    assert!(r["view"]["checked_at"].as_i64().is_some(), "{r}");
    let hooks = app.fake_hooks(&GITLAB).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["url"], r["view"]["webhook_url"]);

    // Build the latest commit of main: one manual event, of tenant A; again: the same one.
    let (status, b) = app
        .call(
            "code-sources/auto-build/build",
            build(json!({"branch": "main"})),
        )
        .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        (b["git_ref"].as_str(), b["duplicate"].as_bool()),
        (Some("refs/heads/main"), Some(false))
    );
    let commit = b["commit"].as_str().unwrap().to_string();
    assert_eq!(commit.len(), 40, "{b}");
    let events = app.events(0).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (
            &events[0]["commit"],
            &events[0]["manual"],
            &events[0]["tenant"]
        ),
        (&json!(commit), &json!(true), &json!("tenant-a"))
    );
    let (status, again) = app
        .call(
            "code-sources/auto-build/build",
            build(json!({"branch": " main "})),
        )
        .await;
    assert_eq!(
        (status, again["duplicate"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(app.events(0).await.len(), 1);
    // A tag it does not have, and a name git refuses: no such ref.
    for git_ref in [json!({"tag": "v9"}), json!({"branch": "a b"})] {
        let (status, e) = app
            .call("code-sources/auto-build/build", build(git_ref.clone()))
            .await;
        assert_eq!(
            (status, e),
            (404, json!({"AutoBuild": "RefNotFound"})),
            "{git_ref}"
        );
    }
    let (status, e) = app
        .call(
            "code-sources/auto-build/build",
            build(json!({"branch": "main", "tag": "v1"})),
        )
        .await;
    assert_eq!(
        (status, e),
        (422, json!({"Invalid": "InvalidArguments"})),
        "a branch and a tag"
    );
    // The delivery log shows the manual build.
    let (status, log) = app.call("code-sources/auto-build/deliveries", repo()).await;
    assert_eq!(status, 200, "{log}");
    let manual: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event"] == "manual")
        .collect();
    assert_eq!(manual.len(), 2, "built, then a duplicate: {log}");
    assert!(manual.iter().all(|d| d["commit"] == commit.as_str()));

    // Rotate: the same hook gets the new secret (no secret in the answer); pushes still build.
    let (status, rotated) = app
        .call("code-sources/auto-build/rotate-secret", repo())
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(rotated["manual"], Value::Null);
    assert_eq!(app.fake_hooks(&GITLAB).await[0]["id"], hooks[0]["id"]);
    let sent = app
        .fake_push(&GITLAB, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");

    // Each under the console user, in tenant A's log only.
    let (_, log) = app
        .call("code-sources/activity", json!({"before": null}))
        .await;
    let by_user: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "user-of-tenant-a")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "auto_build_repaired",
        "auto_build_manual_build",
        "auto_build_secret_rotated",
    ] {
        assert!(by_user.contains(&action), "{action} in {by_user:?}");
    }
    let (_, other) = app
        .call_as("tenant-b", "code-sources/activity", json!({"before": null}))
        .await;
    assert!(other["entries"].as_array().unwrap().is_empty(), "{other}");
}

#[tokio::test]
async fn rotating_a_manual_setups_secret_shows_the_new_one_once() {
    let app = tenant_a(true).await;
    let (status, rotated) = app
        .call("code-sources/auto-build/rotate-secret", repo())
        .await;
    assert_eq!(status, 200, "{rotated}");
    let secret = rotated["manual"]["secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32, "{rotated}");
    assert_eq!(
        rotated["manual"]["payload_url"],
        rotated["view"]["webhook_url"]
    );
    assert_eq!(rotated["view"]["status"], "manual_setup");
    assert!(
        app.fake_hooks(&GITLAB).await.is_empty(),
        "nothing registered"
    );
    let (_, list) = app
        .call(
            "code-sources/auto-build/list",
            json!({"provider": "gitlab"}),
        )
        .await;
    assert!(!list.to_string().contains(&secret), "shown once: {list}");
}
