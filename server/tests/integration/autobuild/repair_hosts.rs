//! Repair (issue #23) against the fake GitLab, Gitea and Bitbucket, each through its own hook
//! API (GitHub's are in `repair.rs`): a hook deleted on the host is created again, exactly one;
//! a duplicate of our hook and a stray one at our ingress are removed while a foreign hook and
//! another registration's stay; a hook the host disabled is replaced by an active one (none of
//! the three has a call that re-enables one: GitLab re-enables only on a test delivery or an
//! edit that is not in its API for auto-disabled hooks, Gitea and Bitbucket only through an
//! edit, which keeps a failure history we do not want); a renamed repository is followed by its
//! stable id and still builds.

use super::*;
use serde_json::json;

/// One host's repository twice: as its listing names it, and by its stable id.
struct Case {
    host: Host,
    by_id: Host,
    /// The repository after `rename_to`, as the fake's controls name it.
    renamed: &'static str,
    rename_to: &'static str,
}

const GITLAB: Case = Case {
    host: Host {
        provider: "gitlab",
        repo: "3001",
        fake_repo: "3001",
    },
    by_id: Host {
        provider: "gitlab",
        repo: "3001",
        fake_repo: "3001",
    },
    renamed: "alice/renamed-01",
    rename_to: "renamed-01",
};

const GITEA: Case = Case {
    host: Host {
        provider: "gitea",
        repo: "gitea-alice%2Frepo-01",
        fake_repo: "gitea-alice/repo-01",
    },
    by_id: Host {
        provider: "gitea",
        repo: "101",
        fake_repo: "101",
    },
    renamed: "gitea-alice/renamed-01",
    rename_to: "renamed-01",
};

const BITBUCKET: Case = Case {
    host: Host {
        provider: "bitbucket",
        repo: "fake-workspace%2Frepo-01",
        fake_repo: "fake-workspace/repo-01",
    },
    by_id: Host {
        provider: "bitbucket",
        repo: "%7B00000000-0000-4000-8000-000000000001%7D",
        fake_repo: "{00000000-0000-4000-8000-000000000001}",
    },
    renamed: "fake-workspace/renamed-01",
    rename_to: "renamed-01",
};

/// A registration id no registration has (the shape of ours).
const UNKNOWN_RID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// The server with `provider` bound by an account that may manage hooks.
async fn bound(provider: &str) -> TestApp {
    let app = spawn_app(Options::default()).await;
    match provider {
        "gitlab" => {
            app.bind_gitlab("glpat-fake-bob").await;
        }
        "gitea" => {
            let addr = format!("{}/gitea", app.fake.http_url());
            app.bind_token("gitea", &addr, "gitea-fake-writer").await;
        }
        "bitbucket" => {
            app.bind_oauth("bitbucket", "approve-webhook").await;
        }
        other => panic!("no binding for {other}"),
    }
    app
}

/// Turns auto-build on; the webhook URL.
async fn turn_on(app: &TestApp, h: &Host) -> String {
    app.turn_on(h).await["webhook_url"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Adds a hook to `url` behind the server's back, with the bound token through the host's own
/// API (what a user, or an earlier registration, could have done).
async fn add_hook(app: &TestApp, h: &Host, url: &str) {
    let fake = app.fake.http_url();
    let req = match h.provider {
        "gitlab" => app
            .http
            .post(format!("{fake}/api/v4/projects/{}/hooks", h.fake_repo))
            .header("private-token", "glpat-fake-bob")
            .json(&json!({"url": url, "push_events": true, "token": "someone-elses"})),
        "gitea" => app
            .http
            .post(format!("{fake}/gitea/api/v1/repos/{}/hooks", h.fake_repo))
            .header("authorization", "token gitea-fake-writer")
            .json(&json!({"type": "gitea", "active": true, "events": ["push"],
                          "config": {"url": url, "content_type": "json", "secret": "someone-elses"}})),
        "bitbucket" => {
            let (status, cred, _) = app
                .credential("local", "bitbucket", Some(SERVICE_TOKEN))
                .await;
            assert_eq!(status, 200, "{cred}");
            app.http
                .post(format!(
                    "{fake}/bitbucket-api/2.0/repositories/{}/hooks",
                    h.fake_repo
                ))
                .bearer_auth(cred["access_token"].as_str().unwrap())
                .json(&json!({"description": "by hand", "url": url, "active": true,
                              "events": ["repo:push"], "secret": "someone-elses"}))
        }
        other => panic!("no hook API for {other}"),
    };
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}

/// GitLab's plan limit (100 webhooks a project): turning auto-build on at it is refused with
/// the typed error, and nothing is added.
#[tokio::test]
async fn gitlab_at_its_hook_limit_refuses_with_the_typed_error() {
    let app = bound("gitlab").await;
    let h = &GITLAB.host;
    for i in 0..100 {
        add_hook(&app, h, &format!("https://other.example/{i}")).await;
    }
    let (status, e) = app
        .auto_build(
            h,
            reqwest::Method::PUT,
            Some(json!({"branches": ["main"], "tags": []})),
        )
        .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (409, Some("hook_limit_reached")),
        "{e}"
    );
    assert_eq!(app.fake_hooks(h).await.len(), 100);
}

/// The hooks on the host that point at `url`.
async fn hooks_at(app: &TestApp, h: &Host, url: &str) -> Vec<Value> {
    app.fake_hooks(h)
        .await
        .into_iter()
        .filter(|hook| hook["url"] == url)
        .collect()
}

/// What the fake host's push got from the hooks at `url` (others deliver elsewhere).
async fn push_to(app: &TestApp, h: &Host, url: &str, sha: &str) -> Vec<u64> {
    let sent = app
        .fake_push(h, json!({"ref": "refs/heads/main", "after": sha}))
        .await;
    let ours: Vec<Value> = sent.into_iter().filter(|d| d["url"] == url).collect();
    statuses(&ours)
}

async fn hook_control(app: &TestApp, h: &Host, id: &Value, action: &str) {
    let status = app
        .fake_control_of(
            h.provider,
            "hook",
            json!({"repo": h.fake_repo, "id": id, "action": action}),
        )
        .await;
    assert_eq!(status, 204, "{action} hook {id}");
}

/// A deleted hook comes back (one), a disabled one is replaced, duplicates and strays go.
async fn deleted_disabled_duplicated(c: &Case) {
    let app = bound(c.host.provider).await;
    let h = &c.host;
    let url = turn_on(&app, h).await;
    let hook = hooks_at(&app, h, &url).await[0].clone();

    // Deleted on the host: created again, exactly one, with the registration's secret.
    hook_control(&app, h, &hook["id"], "delete").await;
    assert!(app.fake_hooks(h).await.is_empty());
    let (status, reg) = app.auto_build_op(h, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["found"], "hook_missing", "{reg}");
    assert_eq!(reg["changes"], json!(["hook_created"]));
    assert_eq!(
        (reg["status"].as_str(), reg["fix"].as_str()),
        (Some("active"), Some("none"))
    );
    let hooks = app.fake_hooks(h).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["url"], url.as_str());
    assert_eq!(hooks[0]["has_secret"], true);
    assert_eq!(push_to(&app, h, &url, SHA_A).await, vec![202]);

    // Disabled by the host: replaced by an active one, still one.
    let hook = hooks[0].clone();
    hook_control(&app, h, &hook["id"], "disable").await;
    let (status, reg) = app.auto_build_op(h, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["found"], "hook_disabled", "{reg}");
    assert_eq!(reg["changes"], json!(["disabled_hook_replaced"]));
    assert_eq!(reg["status"], "active");
    let hooks = app.fake_hooks(h).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["active"], true);
    assert_ne!(hooks[0]["id"], hook["id"], "a new hook");
    assert_eq!(push_to(&app, h, &url, SHA_B).await, vec![202]);

    // A second hook to our URL, one to our ingress for a registration that does not exist,
    // one at an earlier webhook address of this registration, and someone else's.
    let rid = url.rsplit('/').next().unwrap();
    add_hook(&app, h, &url).await;
    add_hook(&app, h, &url.replace(rid, UNKNOWN_RID)).await;
    add_hook(&app, h, &format!("https://old-ingress.example/hooks/{rid}")).await;
    add_hook(&app, h, "https://ci.example.com/push").await;
    assert_eq!(app.fake_hooks(h).await.len(), 5);
    let (status, reg) = app.auto_build_op(h, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["found"], "fine", "{reg}");
    let mut changes: Vec<String> = serde_json::from_value(reg["changes"].clone()).unwrap();
    changes.sort();
    assert_eq!(
        changes,
        ["duplicate_removed", "stray_removed", "stray_removed"],
        "{reg}"
    );
    let left: Vec<Value> = app.fake_hooks(h).await;
    let urls: Vec<&str> = left.iter().map(|h| h["url"].as_str().unwrap()).collect();
    assert_eq!(urls.len(), 2, "ours and the foreign one are left: {urls:?}");
    assert!(urls.contains(&url.as_str()) && urls.contains(&"https://ci.example.com/push"));
    // The one kept is the registered one: its pushes verify.
    assert_eq!(push_to(&app, h, &url, SHA_C).await, vec![202]);

    // Nothing wrong: nothing changes.
    let (status, reg) = app.auto_build_op(h, "repair", None).await;
    assert_eq!(
        (status, &reg["found"], &reg["changes"]),
        (200, &json!("fine"), &json!([]))
    );
}

/// A rename is followed by the stable id: the name is recorded, the hook API used under it,
/// and pushes still build.
async fn renamed(c: &Case) {
    let app = bound(c.host.provider).await;
    let url = turn_on(&app, &c.host).await;
    let status = app
        .fake_control_of(
            c.host.provider,
            "repository",
            json!({"repo": c.host.fake_repo, "action": "rename", "name": c.rename_to}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, reg) = app.auto_build_op(&c.by_id, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["full_name"], c.renamed, "{reg}");
    assert_eq!(reg["changes"], json!(["renamed"]));
    assert_eq!(reg["found"], "fine");
    assert_eq!(reg["status"], "active");
    let (_, got) = app.auto_build(&c.by_id, reqwest::Method::GET, None).await;
    assert_eq!(got["full_name"], c.renamed, "stored: {got}");
    // Under the new name the hook is still ours, still one, and can be updated in place.
    let (status, rotated) = app.auto_build_op(&c.by_id, "rotate-secret", None).await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(hooks_at(&app, &c.by_id, &url).await.len(), 1);
    assert_eq!(push_to(&app, &c.by_id, &url, SHA_A).await, vec![202]);
    // A second repair finds nothing more to do.
    let (status, reg) = app.auto_build_op(&c.by_id, "repair", None).await;
    assert_eq!(
        (status, &reg["changes"], &reg["full_name"]),
        (200, &json!([]), &json!(c.renamed))
    );
}

#[tokio::test]
async fn gitlab_repair_recreates_replaces_and_cleans_up() {
    deleted_disabled_duplicated(&GITLAB).await;
}

#[tokio::test]
async fn gitea_repair_recreates_replaces_and_cleans_up() {
    deleted_disabled_duplicated(&GITEA).await;
}

#[tokio::test]
async fn bitbucket_repair_recreates_replaces_and_cleans_up() {
    deleted_disabled_duplicated(&BITBUCKET).await;
}

#[tokio::test]
async fn gitlab_repair_follows_a_rename() {
    renamed(&GITLAB).await;
}

#[tokio::test]
async fn gitea_repair_follows_a_rename() {
    renamed(&GITEA).await;
}

#[tokio::test]
async fn bitbucket_repair_follows_a_rename() {
    renamed(&BITBUCKET).await;
}

/// A hook at our ingress for another live registration (here another repository's; another
/// tenant's is the same to the check) is not a stray: it stays.
#[tokio::test]
async fn another_registrations_hook_is_not_a_stray() {
    let app = bound("gitlab").await;
    let url = turn_on(&app, &GITLAB.host).await;
    let other = Host {
        provider: "gitlab",
        repo: "3002",
        fake_repo: "3002",
    };
    let other_url = turn_on(&app, &other).await;
    add_hook(&app, &GITLAB.host, &other_url).await;
    let (status, reg) = app.auto_build_op(&GITLAB.host, "repair", None).await;
    assert_eq!(
        (status, &reg["found"], &reg["changes"]),
        (200, &json!("fine"), &json!([])),
        "{reg}"
    );
    assert_eq!(hooks_at(&app, &GITLAB.host, &other_url).await.len(), 1);
    assert_eq!(hooks_at(&app, &GITLAB.host, &url).await.len(), 1);
}
