//! Issue #23 against the fake GitHub (and Gitee for a lost hook scope): repair puts a
//! registration right after the host changed behind our back (a hook deleted or disabled, a
//! rename, a recreation, a lost scope, the hook limit), a manual build is one event with a push
//! of the same commit, and a secret rotation keeps the hook (same id) while old signatures pass
//! only during the grace period.

use super::*;
use serde_json::json;

/// Its own repository (repo-02), apart from the other files' tests of repo-01 (`GITHUB`).
const REPO_02: Host = Host {
    provider: "github",
    repo: "octo-alice%2Frepo-02",
    fake_repo: "octo-alice/repo-02",
};

/// The same repository by its stable id (what stays valid after a rename).
const BY_ID: Host = Host {
    provider: "github",
    repo: "1002",
    fake_repo: "1002",
};

async fn github_with_auto_build(decision: &str) -> TestApp {
    let app = spawn_app(Options::default()).await;
    app.bind_oauth("github", decision).await;
    app.turn_on(&REPO_02).await;
    app
}

impl TestApp {
    async fn op(&self, h: &Host, op: &str, body: Option<Value>) -> (u16, Value) {
        self.auto_build_op(h, op, body).await
    }

    async fn fake_control(&self, what: &str, body: Value) -> u16 {
        self.fake_control_of("github", what, body).await
    }
}

#[tokio::test]
async fn repair_recreates_a_deleted_hook_and_replaces_a_disabled_one() {
    let app = github_with_auto_build("approve").await;
    let hook = app.fake_hooks(&REPO_02).await[0].clone();
    let status = app
        .fake_control(
            "hook",
            json!({"repo": REPO_02.fake_repo, "id": hook["id"], "action": "delete"}),
        )
        .await;
    assert_eq!(status, 204);

    let (status, reg) = app.op(&REPO_02, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["found"], "hook_missing");
    assert_eq!(reg["changes"], json!(["hook_created"]));
    assert_eq!(
        (reg["status"].as_str(), reg["fix"].as_str()),
        (Some("active"), Some("none"))
    );
    assert!(reg["checked_at"].as_i64().is_some(), "{reg}");
    let hooks = app.fake_hooks(&REPO_02).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["url"], reg["webhook_url"]);
    // The re-created hook has the registration's secret: its pushes verify.
    let sent = app
        .fake_push(&REPO_02, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");

    // Disabled by the host: replaced by an active one, still one hook.
    let status = app
        .fake_control(
            "hook",
            json!({"repo": REPO_02.fake_repo, "id": hooks[0]["id"], "action": "disable"}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, reg) = app.op(&REPO_02, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["found"], "hook_disabled");
    assert_eq!(reg["changes"], json!(["disabled_hook_replaced"]));
    let hooks = app.fake_hooks(&REPO_02).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["active"], true);
    let sent = app
        .fake_push(&REPO_02, json!({"ref": "refs/heads/main", "after": SHA_B}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");

    // Nothing wrong: nothing changes.
    let (status, reg) = app.op(&REPO_02, "repair", None).await;
    assert_eq!(
        (status, &reg["found"], &reg["changes"]),
        (200, &json!("fine"), &json!([]))
    );
}

#[tokio::test]
async fn repair_follows_a_rename_and_marks_a_recreated_repository_gone() {
    let app = github_with_auto_build("approve").await;
    let status = app
        .fake_control(
            "repository",
            json!({"repo": REPO_02.fake_repo, "action": "rename", "name": "renamed-02"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, reg) = app.op(&BY_ID, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["full_name"], "octo-alice/renamed-02");
    assert_eq!(reg["changes"], json!(["renamed"]));
    assert_eq!(reg["status"], "active");
    // The hook API now works under the new name (rotation updates the hook there) and
    // deliveries still build.
    let (status, rotated) = app.op(&BY_ID, "rotate-secret", None).await;
    assert_eq!(status, 200, "{rotated}");
    let sent = app
        .fake_push(&BY_ID, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");

    // Recreated under the same name: a new id, so the registered repository is gone.
    let status = app
        .fake_control(
            "repository",
            json!({"repo": "octo-alice/renamed-02", "action": "recreate"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, reg) = app.op(&BY_ID, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["found"], "repository_gone");
    assert_eq!(
        (reg["status"].as_str(), reg["fix"].as_str()),
        (Some("repository_gone"), Some("turn_off"))
    );
    let (_, got) = app.auto_build(&BY_ID, reqwest::Method::GET, None).await;
    assert_eq!(got["status"], "repository_gone", "stored: {got}");
}

#[tokio::test]
async fn repair_at_the_hook_limit_is_the_typed_error() {
    let app = github_with_auto_build("approve").await;
    let hook = app.fake_hooks(&REPO_02).await[0].clone();
    app.fake_control(
        "hook",
        json!({"repo": REPO_02.fake_repo, "id": hook["id"], "action": "delete"}),
    )
    .await;
    // Twenty other hooks, made with the bound token.
    let (status, cred) = app
        .service(
            reqwest::Method::GET,
            "tenants/local/code-sources/github/credential",
            None,
        )
        .await;
    assert_eq!(status, 200, "{cred}");
    let token = cred["access_token"].as_str().unwrap().to_string();
    for i in 0..20 {
        let resp = app
            .http
            .post(format!(
                "{}/github-api/repos/{}/hooks",
                app.fake.http_url(),
                REPO_02.fake_repo
            ))
            .bearer_auth(&token)
            .json(&json!({"config": {"url": format!("https://other.example/{i}")}, "events": ["push"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    let (status, e) = app.op(&REPO_02, "repair", None).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (409, Some("hook_limit_reached")),
        "{e}"
    );
    let (_, got) = app.auto_build(&REPO_02, reqwest::Method::GET, None).await;
    assert_eq!(
        (got["status"].as_str(), got["fix"].as_str()),
        (Some("hook_missing"), Some("repair"))
    );
}

#[tokio::test]
async fn a_grant_without_the_hook_scope_shows_as_no_permission() {
    // Gitee: the hook scope is separate from reading (on GitHub `repo` grants both, and a grant
    // without `repo` is refused at binding).
    const GITEE_03: Host = Host {
        provider: "gitee",
        repo: "gitee-bob%2Frepo-03",
        fake_repo: "gitee-bob/repo-03",
    };
    let app = spawn_app(Options::default()).await;
    let resp = app
        .get("/oauth/gitee/start?mode=redirect&scope=hooks")
        .await;
    let flow = Flow::started(&resp);
    let back = app.decide(&flow.authorize_url, "approve").await;
    let id = app
        .callback(&back, Some(&flow.cookie))
        .await
        .expect("authorized");
    let _ = app.confirm_pending(&json!(id)).await;
    let (status, reg) = app
        .auto_build(
            &GITEE_03,
            reqwest::Method::PUT,
            Some(json!({"branches": ["master"]})),
        )
        .await;
    assert_eq!(
        (status, reg["status"].as_str()),
        (200, Some("active")),
        "{reg}"
    );
    // The same account re-authorizes with the scopes reading needs, not the hook scope.
    app.bind_gitee("approve").await;
    let (status, reg) = app.op(&GITEE_03, "repair", None).await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["found"], "no_permission");
    assert_eq!(
        (reg["status"].as_str(), reg["fix"].as_str()),
        (Some("no_permission"), Some("reauthorize"))
    );
}

#[tokio::test]
async fn building_the_latest_commit_is_one_event_with_a_push_of_it() {
    let app = github_with_auto_build("approve").await;
    let start = app.events(0).await.len();
    let (status, e) = app
        .op(&REPO_02, "build", Some(json!({"branch": "main"})))
        .await;
    assert_eq!(status, 201, "{e}");
    assert_eq!(
        (e["manual"].as_bool(), e["duplicate"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(e["ref"], "refs/heads/main");
    let commit = e["commit"].as_str().unwrap().to_string();
    assert_eq!(commit.len(), 40, "{e}");
    let events = app.events(0).await;
    assert_eq!(events.len(), start + 1);
    assert_eq!(events.last().unwrap()["id"], e["id"]);
    assert_eq!(events.last().unwrap()["manual"], true);

    // Again: the same event.
    let (status, again) = app
        .op(&REPO_02, "build", Some(json!({"branch": "main"})))
        .await;
    assert_eq!(
        (status, again["duplicate"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(again["id"], e["id"]);
    // A push of that very commit afterwards: nothing new.
    let sent = app
        .fake_push(&REPO_02, json!({"ref": "refs/heads/main", "after": commit}))
        .await;
    assert_eq!(statuses(&sent), vec![200], "{sent:?}");
    assert_eq!(app.events(0).await.len(), start + 1);

    // No such tag, and a body that names nothing.
    let (status, e) = app.op(&REPO_02, "build", Some(json!({"tag": "v9"}))).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (404, Some("ref_not_found")),
        "{e}"
    );
    let (status, _) = app
        .op(
            &REPO_02,
            "build",
            Some(json!({"branch": "main", "tag": "v1"})),
        )
        .await;
    assert_eq!(status, 422, "both a branch and a tag");
    assert_eq!(app.events(0).await.len(), start + 1);
}

#[tokio::test]
async fn a_rotated_secret_keeps_the_hook_and_the_old_one_passes_during_the_grace() {
    let app = github_with_auto_build("approve").await;
    let before = app.fake_hooks(&REPO_02).await;
    let sent = app
        .fake_push(&REPO_02, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");

    let (status, reg) = app.op(&REPO_02, "rotate-secret", None).await;
    assert_eq!(status, 200, "{reg}");
    assert!(reg.get("manual_setup").is_none(), "{reg}");
    let after = app.fake_hooks(&REPO_02).await;
    assert_eq!(after.len(), 1);
    assert_eq!(
        (&after[0]["id"], &after[0]["url"]),
        (&before[0]["id"], &before[0]["url"])
    );
    // The delivery signed before the rotation still verifies (a duplicate, not a 401).
    let again = app.fake_push(&REPO_02, json!({"redeliver": true})).await;
    assert_eq!(statuses(&again), vec![200], "{again:?}");

    // A second rotation: the first secret is the previous one now, the original is refused,
    // and the host's hook signs with the newest (its push builds).
    let (status, _) = app
        .service(
            reqwest::Method::POST,
            "tenants/local/auto-build/rotate-secrets",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let again = app.fake_push(&REPO_02, json!({"redeliver": true})).await;
    assert_eq!(statuses(&again), vec![401], "{again:?}");
    let sent = app
        .fake_push(&REPO_02, json!({"ref": "refs/heads/main", "after": SHA_B}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");
}
