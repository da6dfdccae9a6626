//! Auto-build end to end, for every code host with a hook API: the build service turns it on
//! (one hook on the fake host, our URL, a secret), the fake host pushes signed as that host
//! signs, and exactly one build event per pushed ref reaches the feed. Redeliveries, forged
//! signatures, over-long bodies, filters, deletions, Bitbucket's several changes and Gitea's
//! tag sent twice produce nothing more; turning it off removes the hook.

use crate::support::*;
use serde_json::{json, Value};

mod confirm;
mod console;
mod hosts;
mod repair;
mod repair_hosts;

/// One host's side of the tests: how to bind it, a repository as the listing names it and as
/// the fake's controls name it.
pub struct Host {
    pub provider: &'static str,
    /// The listing's id, percent-encoded for a path segment.
    pub repo: &'static str,
    /// What `/_fake/{host}/…` takes.
    pub fake_repo: &'static str,
}

/// Each fake host's first repository of the account the tests bind.
pub const GITHUB: Host = Host {
    provider: "github",
    repo: "octo-alice%2Frepo-01",
    fake_repo: "octo-alice/repo-01",
};
pub const GITLAB: Host = Host {
    provider: "gitlab",
    repo: "3001",
    fake_repo: "3001",
};
pub const GITEA: Host = Host {
    provider: "gitea",
    repo: "gitea-alice%2Frepo-01",
    fake_repo: "gitea-alice/repo-01",
};
pub const GITEE: Host = Host {
    provider: "gitee",
    repo: "gitee-bob%2Frepo-01",
    fake_repo: "gitee-bob/repo-01",
};
pub const BITBUCKET: Host = Host {
    provider: "bitbucket",
    repo: "fake-workspace%2Frepo-01",
    fake_repo: "fake-workspace/repo-01",
};

pub const SHA_A: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
pub const SHA_B: &str = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
pub const SHA_C: &str = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";
pub const ZERO: &str = "0000000000000000000000000000000000000000";

impl TestApp {
    /// A call to the build service API with the service token.
    pub async fn service(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1/{path}", self.base))
            .bearer_auth(SERVICE_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn auto_build(
        &self,
        h: &Host,
        method: reqwest::Method,
        body: Option<Value>,
    ) -> (u16, Value) {
        let path = format!(
            "tenants/local/code-sources/{}/repositories/{}/auto-build",
            h.provider, h.repo
        );
        self.service(method, &path, body).await
    }

    /// Turns auto-build on for `main` and `v*` (which must come out active); the registration.
    pub async fn turn_on(&self, h: &Host) -> Value {
        let (status, reg) = self
            .auto_build(
                h,
                reqwest::Method::PUT,
                Some(json!({"branches": ["main"], "tags": ["v*"]})),
            )
            .await;
        assert_eq!(
            (status, reg["status"].as_str()),
            (200, Some("active")),
            "{reg}"
        );
        reg
    }

    /// `POST …/repositories/{id}/auto-build/{op}` (`repair`, `build`, `rotate-secret`).
    pub async fn auto_build_op(&self, h: &Host, op: &str, body: Option<Value>) -> (u16, Value) {
        let path = format!(
            "tenants/local/code-sources/{}/repositories/{}/auto-build/{op}",
            h.provider, h.repo
        );
        self.service(
            reqwest::Method::POST,
            &path,
            Some(body.unwrap_or(json!({}))),
        )
        .await
    }

    /// A fake host's test-only control (`POST /_fake/{provider}/{what}`): its status.
    pub async fn fake_control_of(&self, provider: &str, what: &str, body: Value) -> u16 {
        self.http
            .post(format!("{}/_fake/{provider}/{what}", self.fake.http_url()))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Every event in the feed after `after`.
    pub async fn events(&self, after: u64) -> Vec<Value> {
        let (status, page) = self
            .service(
                reqwest::Method::GET,
                &format!("build-events?after={after}&limit=500"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        page["events"].as_array().unwrap().clone()
    }

    /// The fake host's control: push (or redeliver); the deliveries it made.
    pub async fn fake_push(&self, h: &Host, body: Value) -> Vec<Value> {
        let mut body = body;
        body["repo"] = json!(h.fake_repo);
        let resp = self
            .http
            .post(format!(
                "{}/_fake/{}/push",
                self.fake.http_url(),
                h.provider
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        v["deliveries"].as_array().unwrap().clone()
    }

    /// The hooks the fake host has on the repository.
    pub async fn fake_hooks(&self, h: &Host) -> Vec<Value> {
        let v = fake_json(
            &self.fake,
            &format!(
                "_fake/{}/hooks?repo={}",
                h.provider,
                h.fake_repo.replace('{', "%7B").replace('}', "%7D")
            ),
        )
        .await;
        v.as_array().cloned().unwrap_or_default()
    }
}

/// The statuses the fake host got back for its deliveries.
pub fn statuses(deliveries: &[Value]) -> Vec<u64> {
    deliveries
        .iter()
        .map(|d| d["status"].as_u64().unwrap_or(0))
        .collect()
}

/// The common path every host must pass, after `h` is bound.
pub async fn turn_on_push_and_off(app: &TestApp, h: &Host) {
    let on = json!({"branches": ["main", "release/*"], "tags": ["v*"]});
    let (status, reg) = app
        .auto_build(h, reqwest::Method::PUT, Some(on.clone()))
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["status"], "active");
    let url = reg["webhook_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/hooks/", app.base)), "{url}");
    assert!(
        reg.get("manual_setup").is_none(),
        "no secret unless asked for manual setup"
    );

    // Turning it on again keeps one hook, with the same URL.
    let (status, again) = app.auto_build(h, reqwest::Method::PUT, Some(on)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["webhook_url"], url.as_str());
    let hooks = app.fake_hooks(h).await;
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(hooks[0]["url"], url.as_str());
    assert_eq!(hooks[0]["has_secret"], true);
    let (status, got) = app.auto_build(h, reqwest::Method::GET, None).await;
    assert_eq!((status, &got["webhook_url"]), (200, &json!(url)));

    let start = app.events(0).await.len();
    // A push to main: one event, with everything the build service needs.
    let sent = app
        .fake_push(h, json!({"ref": "refs/heads/main", "after": SHA_A}))
        .await;
    assert_eq!(statuses(&sent), vec![202], "{sent:?}");
    let events = app.events(0).await;
    assert_eq!(events.len(), start + 1, "{events:?}");
    let e = events.last().unwrap();
    assert_eq!(e["ref"], "refs/heads/main");
    assert_eq!(e["ref_type"], "branch");
    assert_eq!(e["ref_name"], "main");
    assert_eq!(e["commit"], SHA_A);
    assert_eq!(e["provider"], h.provider);
    assert_eq!(e["tenant"], "local");
    assert_eq!(e["manual"], false);
    assert!(
        e["repository"]["id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{e}"
    );
    assert!(e["id"].as_str().is_some_and(|s| s.len() == 64), "{e}");

    // The same delivery again: acknowledged, nothing new.
    let again = app.fake_push(h, json!({"redeliver": true})).await;
    assert!(statuses(&again).iter().all(|s| *s == 200), "{again:?}");
    assert_eq!(app.events(0).await.len(), start + 1);

    // A branch outside the filters: 2xx (hosts disable hooks that fail), no event.
    let sent = app
        .fake_push(h, json!({"ref": "refs/heads/feature/x", "after": SHA_B}))
        .await;
    assert!(statuses(&sent).iter().all(|s| *s == 200), "{sent:?}");
    assert_eq!(app.events(0).await.len(), start + 1);

    // A tag inside the filters: one event of type tag.
    let sent = app
        .fake_push(h, json!({"ref": "refs/tags/v1.0", "after": SHA_C}))
        .await;
    assert!(statuses(&sent).contains(&202), "{sent:?}");
    let events = app.events(0).await;
    assert_eq!(events.len(), start + 2, "{events:?}");
    assert_eq!(events.last().unwrap()["ref_type"], "tag");
    assert_eq!(events.last().unwrap()["ref_name"], "v1.0");

    // Deleting a branch builds nothing.
    let sent = app
        .fake_push(h, json!({"ref": "refs/heads/main", "after": ZERO}))
        .await;
    assert!(
        statuses(&sent).iter().all(|s| (200..300).contains(s)),
        "{sent:?}"
    );
    assert_eq!(app.events(0).await.len(), start + 2);

    // A forged delivery, and one far too large: refused, nothing stored.
    let forged = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .header("x-hub-signature", format!("sha256={}", "0".repeat(64)))
        .header("x-gitea-signature", "0".repeat(64))
        .header("x-gitlab-token", "not-the-secret")
        .header("x-gitlab-event", "Push Hook")
        .header("x-event-key", "repo:push")
        .header("x-gitee-token", "bm90LXRoZS1zaWduYXR1cmU=")
        .header("x-gitee-timestamp", now().to_string() + "000")
        .body(json!({"ref": "refs/heads/main", "after": SHA_B}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let unknown = app
        .http
        .post(format!("{}/hooks/AAAAAAAAAAAAAAAAAAAAAA", app.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        401,
        "an unknown registration answers like a bad signature"
    );
    assert!(
        app.metrics().await.contains(
            r#"codesource_webhook_deliveries_total{provider="unknown",outcome="refused"}"#
        ),
        "deliveries answered before the registration is known are counted too"
    );
    let huge = app
        .http
        .post(&url)
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    assert_eq!(app.events(0).await.len(), start + 2);

    // The deliveries are visible.
    let (status, log) = app
        .service(
            reqwest::Method::GET,
            &format!(
                "tenants/local/code-sources/{}/repositories/{}/auto-build/deliveries",
                h.provider, h.repo
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let outcomes: Vec<&str> = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    for want in ["built", "duplicate", "ignored", "refused"] {
        assert!(outcomes.contains(&want), "{want} in {outcomes:?}");
    }

    // Off: 204, and the hook is gone from the host.
    let (status, _) = app.auto_build(h, reqwest::Method::DELETE, None).await;
    assert_eq!(status, 204);
    assert!(app.fake_hooks(h).await.is_empty());
    let (status, off) = app.auto_build(h, reqwest::Method::GET, None).await;
    assert_eq!(
        (status, off["error"].as_str()),
        (404, Some("auto_build_off"))
    );
    // A delivery to the old URL is refused.
    let late = app
        .fake_push(h, json!({"ref": "refs/heads/main", "after": SHA_B}))
        .await;
    assert!(late.is_empty(), "no hook is left to deliver: {late:?}");
}
