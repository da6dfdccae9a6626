//! Push deliveries in each host's wire format: headers (event, delivery id, signature) and body.
//! Formats from the hosts' webhook documentation:
//! - GitHub: "Webhook events and payloads" (`push`, `ping`) and "Validating webhook deliveries"
//!   (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`); content type `form` sends
//!   `payload=<json>` url-encoded, signed as sent.
//! - GitLab: "Webhook events" (`Push Hook` / `Tag Push Hook`, `X-Gitlab-Token` = the secret token,
//!   `X-Gitlab-Event-UUID`, `X-Gitlab-Webhook-UUID`, `Idempotency-Key` kept across retries).
//! - Gitee: "WebHook 推送数据格式" and "WebHook 密钥验证和验证工具" (`X-Gitee-Token`: the password,
//!   or in signing-key mode base64(HMAC-SHA256(secret, "{ts}\n{secret}")); `X-Gitee-Timestamp` in ms).
//! - Bitbucket Cloud: "Event payloads" (`repo:push`, `push.changes[]` with `new`/`old`,
//!   `X-Request-UUID`, `X-Hook-UUID`, `X-Hub-Signature: sha256=<hex>` when a secret is set).
//! - Gitea/Forgejo: "Webhooks" (`X-Gitea-Event`, `X-Gitea-Delivery`, `X-Gitea-Signature` = hex,
//!   the `X-Gogs-*` and GitHub-style copies; Forgejo adds `X-Forgejo-*`); a new ref also gets a
//!   `create` delivery, a deleted one a `delete` delivery.

use super::sign::{gitee_sign, hmac_hex};
use super::{uuid_v4, Delivery, Hook, Host, RepoInfo, ZERO};
use serde_json::{json, Value};

/// One ref a push moved.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    /// `refs/heads/x` or `refs/tags/y`.
    pub full_ref: String,
    pub before: String,
    pub after: String,
}

impl Change {
    fn is_tag(&self) -> bool {
        self.full_ref.starts_with("refs/tags/")
    }

    fn short(&self) -> &str {
        self.full_ref
            .strip_prefix("refs/heads/")
            .or_else(|| self.full_ref.strip_prefix("refs/tags/"))
            .unwrap_or(&self.full_ref)
    }

    fn created(&self) -> bool {
        self.before == ZERO
    }

    fn deleted(&self) -> bool {
        self.after == ZERO
    }
}

/// A push to one repository, as the control endpoint describes it.
pub(crate) struct Push {
    pub repo: RepoInfo,
    pub changes: Vec<Change>,
    /// Gitea only: also send Forgejo's `X-Forgejo-*` headers.
    pub forgejo: bool,
}

fn json_headers(user_agent: &str) -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("User-Agent".into(), user_agent.into()),
    ]
}

fn h(headers: &mut Vec<(String, String)>, k: &str, v: impl Into<String>) {
    headers.push((k.to_string(), v.into()));
}

/// Every delivery the push causes, hook by hook (only active hooks subscribed to the event).
pub(crate) fn deliveries(host: Host, push: &Push, hooks: &[Hook]) -> Vec<Delivery> {
    let mut out = vec![];
    for hook in hooks {
        match host {
            Host::Bitbucket => out.extend(bitbucket(push, hook)),
            Host::Github => push
                .changes
                .iter()
                .for_each(|c| out.extend(github(&push.repo, c, hook))),
            Host::Gitlab => push
                .changes
                .iter()
                .for_each(|c| out.extend(gitlab(&push.repo, c, hook))),
            Host::Gitee => push
                .changes
                .iter()
                .for_each(|c| out.extend(gitee(&push.repo, c, hook))),
            Host::Gitea => push
                .changes
                .iter()
                .for_each(|c| out.extend(gitea(&push.repo, c, hook, push.forgejo))),
        }
    }
    out
}

fn github_repo(r: &RepoInfo) -> Value {
    json!({
        "id": r.numeric_id(), "node_id": format!("R_fake{}", r.stable_id), "name": r.name,
        "full_name": r.full_name, "private": r.number.is_multiple_of(3),
        "owner": {"login": r.owner, "id": 583231, "type": "User"},
        "html_url": r.html_url, "clone_url": r.clone_url,
        "git_url": format!("git://github.com/{}.git", r.full_name),
        "ssh_url": format!("git@github.com:{}.git", r.full_name),
        "url": r.html_url, "default_branch": r.default_branch, "master_branch": r.default_branch,
    })
}

fn github_delivery(r: &RepoInfo, hook: &Hook, event: &str, payload: &Value) -> Delivery {
    let json = payload.to_string();
    let form = hook.config["content_type"] == "form";
    let (body, content_type) = if form {
        let encoded = serde_urlencoded::to_string([("payload", json)]).unwrap_or_default();
        (encoded, "application/x-www-form-urlencoded")
    } else {
        (json, "application/json")
    };
    let id = uuid_v4();
    let mut headers = vec![];
    h(&mut headers, "Content-Type", content_type);
    h(&mut headers, "User-Agent", "GitHub-Hookshot/fake");
    h(&mut headers, "X-GitHub-Event", event);
    h(&mut headers, "X-GitHub-Delivery", id.clone());
    h(&mut headers, "X-GitHub-Hook-ID", hook.id.to_string());
    h(
        &mut headers,
        "X-GitHub-Hook-Installation-Target-Type",
        "repository",
    );
    h(
        &mut headers,
        "X-GitHub-Hook-Installation-Target-ID",
        r.stable_id.clone(),
    );
    if let Some(secret) = &hook.secret {
        let sig = format!("sha256={}", hmac_hex(secret, body.as_bytes()));
        h(&mut headers, "X-Hub-Signature-256", sig);
    }
    Delivery {
        hook_id: hook.id,
        url: hook.url.clone(),
        event: event.into(),
        delivery_id: id,
        headers,
        body: body.into_bytes(),
    }
}

fn github(r: &RepoInfo, c: &Change, hook: &Hook) -> Option<Delivery> {
    if !hook.wants("push") {
        return None;
    }
    let head = (!c.deleted()).then(|| {
        json!({"id": c.after, "tree_id": c.after, "distinct": true,
        "message": "Fake commit", "timestamp": "2025-06-01T09:00:00Z"})
    });
    let payload = json!({
        "ref": c.full_ref, "before": c.before, "after": c.after,
        "created": c.created(), "deleted": c.deleted(), "forced": false, "base_ref": null,
        "compare": format!("{}/compare/{}...{}", r.html_url, &c.before[..12.min(c.before.len())], &c.after[..12.min(c.after.len())]),
        "commits": [], "head_commit": head, "repository": github_repo(r),
        "pusher": {"name": r.owner, "email": format!("{}@users.noreply.github.com", r.owner)},
        "sender": {"login": r.owner, "id": 583231, "type": "User"},
    });
    Some(github_delivery(r, hook, "push", &payload))
}

/// GitHub pings a hook right after it is created.
pub(crate) fn github_ping(r: &RepoInfo, hook: &Hook, hook_json: Value) -> Delivery {
    let payload = json!({
        "zen": "Keep it logically awesome.", "hook_id": hook.id, "hook": hook_json,
        "repository": github_repo(r), "sender": {"login": r.owner, "id": 583231, "type": "User"},
    });
    github_delivery(r, hook, "ping", &payload)
}

fn gitlab(r: &RepoInfo, c: &Change, hook: &Hook) -> Option<Delivery> {
    let (event, flag, kind) = if c.is_tag() {
        ("Tag Push Hook", "tag_push_events", "tag_push")
    } else {
        ("Push Hook", "push_events", "push")
    };
    if !hook.wants(flag) {
        return None;
    }
    let ssh = format!("git@gitlab.example:{}.git", r.full_name);
    let body = json!({
        "object_kind": kind, "event_name": kind, "before": c.before, "after": c.after,
        "ref": c.full_ref, "ref_protected": c.short() == r.default_branch,
        "checkout_sha": if c.deleted() { Value::Null } else { c.after.clone().into() },
        "message": null, "user_id": 8, "user_name": "Bob", "user_username": "bob",
        "user_email": "", "user_avatar": "", "project_id": r.numeric_id(),
        "project": {
            "id": r.numeric_id(), "name": r.name, "description": "", "web_url": r.html_url,
            "avatar_url": null, "git_ssh_url": ssh, "git_http_url": r.clone_url,
            "namespace": r.owner, "visibility_level": 0, "path_with_namespace": r.full_name,
            "default_branch": r.default_branch, "homepage": r.html_url, "url": ssh,
            "ssh_url": ssh, "http_url": r.clone_url,
        },
        "commits": [], "total_commits_count": 0, "push_options": {},
        "repository": {"name": r.name, "url": ssh, "description": "", "homepage": r.html_url,
            "git_http_url": r.clone_url, "git_ssh_url": ssh, "visibility_level": 0},
    })
    .to_string();
    let id = uuid_v4();
    let mut headers = json_headers("GitLab/17.5.0");
    h(&mut headers, "X-Gitlab-Event", event);
    h(&mut headers, "X-Gitlab-Event-UUID", id.clone());
    h(
        &mut headers,
        "X-Gitlab-Webhook-UUID",
        format!("00000000-0000-4000-8000-{:012x}", hook.id),
    );
    h(&mut headers, "X-Gitlab-Instance", "https://gitlab.example");
    h(&mut headers, "Idempotency-Key", uuid_v4());
    if let Some(secret) = &hook.secret {
        h(&mut headers, "X-Gitlab-Token", secret.clone());
    }
    Some(Delivery {
        hook_id: hook.id,
        url: hook.url.clone(),
        event: event.into(),
        delivery_id: id,
        headers,
        body: body.into_bytes(),
    })
}

fn now_ms() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map(|d| d.as_millis() as u64).unwrap_or_default()
}

fn gitee(r: &RepoInfo, c: &Change, hook: &Hook) -> Option<Delivery> {
    let (event, flag, hook_name) = if c.is_tag() {
        ("Tag Push Hook", "tag_push_events", "tag_push_hooks")
    } else {
        ("Push Hook", "push_events", "push_hooks")
    };
    if !hook.wants(flag) {
        return None;
    }
    let ts = now_ms();
    let signing = hook.config["encryption_type"] == 1;
    let secret = hook.secret.clone().unwrap_or_default();
    let token = if signing {
        gitee_sign(&secret, ts)
    } else {
        secret.clone()
    };
    let user = json!({"id": 1234567, "name": "码云 Bob", "username": r.owner, "login": r.owner,
        "email": format!("{}@example.invalid", r.owner), "user_name": r.owner});
    let repository = json!({
        "id": r.numeric_id(), "name": r.name, "path": r.name, "full_name": r.full_name,
        "owner": user, "private": false, "html_url": r.html_url, "url": r.html_url,
        "clone_url": r.clone_url, "git_http_url": r.clone_url,
        "ssh_url": format!("git@gitee.com:{}.git", r.full_name),
        "default_branch": r.default_branch, "namespace": r.owner, "path_with_namespace": r.full_name,
    });
    let mut body = json!({
        "hook_name": hook_name, "hook_id": hook.id, "hook_url": format!("{}/hooks/{}/edit", r.html_url, hook.id),
        "timestamp": ts.to_string(), "ref": c.full_ref, "before": c.before, "after": c.after,
        "created": c.created(), "deleted": c.deleted(),
        "compare": format!("{}/compare/{}...{}", r.html_url, c.before, c.after),
        "commits": [], "head_commit": null, "total_commits_count": 0, "commits_more_than_ten": false,
        "repository": repository.clone(), "project": repository, "user_id": 1234567,
        "user_name": r.owner, "user": user.clone(), "pusher": user.clone(), "sender": user,
        "enterprise": null,
    });
    if signing {
        body["sign"] = token.clone().into();
    } else {
        body["password"] = secret.into();
    }
    let mut headers = json_headers("git-oschina-hook");
    h(&mut headers, "X-Gitee-Token", token);
    h(&mut headers, "X-Gitee-Timestamp", ts.to_string());
    h(&mut headers, "X-Gitee-Event", event);
    h(&mut headers, "X-Gitee-Ping", "false");
    Some(Delivery {
        hook_id: hook.id,
        url: hook.url.clone(),
        event: event.into(),
        delivery_id: ts.to_string(),
        headers,
        body: body.to_string().into_bytes(),
    })
}

fn bitbucket(push: &Push, hook: &Hook) -> Option<Delivery> {
    if !hook.wants("repo:push") {
        return None;
    }
    let r = &push.repo;
    let side = |c: &Change, hash: &str| {
        (hash != ZERO).then(|| {
            let kind = if c.is_tag() { "tag" } else { "branch" };
            json!({"type": kind, "name": c.short(),
                "target": {"type": "commit", "hash": hash,
                    "links": {"html": {"href": format!("{}/commits/{hash}", r.html_url)}}},
                "links": {"html": {"href": format!("{}/src/{}", r.html_url, c.short())}}})
        })
    };
    let changes: Vec<Value> = push
        .changes
        .iter()
        .map(|c| {
            json!({"new": side(c, &c.after), "old": side(c, &c.before),
                "created": c.created(), "closed": c.deleted(), "forced": false,
                "truncated": false, "commits": []})
        })
        .collect();
    let actor = json!({"type": "user", "nickname": "bb-alice", "display_name": "Alice Bitbucket",
        "uuid": "{a11ce000-0000-4000-8000-00000000b0b0}",
        "account_id": "557058:00000000-fake-4000-8000-00000000a11c"});
    let body = json!({
        "push": {"changes": changes},
        "repository": {"type": "repository", "uuid": r.stable_id, "full_name": r.full_name,
            "name": r.name, "is_private": r.number.is_multiple_of(3), "scm": "git",
            "links": {"html": {"href": r.html_url}},
            "workspace": {"type": "workspace", "slug": r.owner, "name": "Fake Workspace"}},
        "actor": actor,
    })
    .to_string();
    let id = uuid_v4();
    let mut headers = json_headers("Bitbucket-Webhooks/2.0");
    h(&mut headers, "X-Event-Key", "repo:push");
    h(&mut headers, "X-Request-UUID", id.clone());
    h(&mut headers, "X-Hook-UUID", hook.bitbucket_uuid());
    h(&mut headers, "X-Attempt-Number", "1");
    if let Some(secret) = &hook.secret {
        h(
            &mut headers,
            "X-Hub-Signature",
            format!("sha256={}", hmac_hex(secret, body.as_bytes())),
        );
    }
    Some(Delivery {
        hook_id: hook.id,
        url: hook.url.clone(),
        event: "repo:push".into(),
        delivery_id: id,
        headers,
        body: body.into_bytes(),
    })
}

fn gitea(r: &RepoInfo, c: &Change, hook: &Hook, forgejo: bool) -> Vec<Delivery> {
    let user = json!({"id": 1, "login": r.owner, "username": r.owner, "full_name": "Alice Gitea",
        "email": format!("{}@example.invalid", r.owner)});
    let repository = json!({"id": r.numeric_id(), "owner": user, "name": r.name,
        "full_name": r.full_name, "private": r.number.is_multiple_of(3), "html_url": r.html_url,
        "clone_url": r.clone_url, "ssh_url": format!("git@localhost:{}.git", r.full_name),
        "default_branch": r.default_branch});
    let ref_type = if c.is_tag() { "tag" } else { "branch" };
    let mut out = vec![];
    if hook.wants("push") {
        let body = json!({
            "ref": c.full_ref, "before": c.before, "after": c.after,
            "compare_url": format!("{}/compare/{}...{}", r.html_url, c.before, c.after),
            "commits": [], "total_commits": 0, "head_commit": null,
            "repository": repository, "pusher": user, "sender": user,
        });
        out.push(gitea_delivery(hook, "push", &body, forgejo));
    }
    if c.created() && hook.wants("create") {
        let body = json!({"sha": c.after, "ref": c.short(), "ref_type": ref_type,
            "repository": repository, "sender": user});
        out.push(gitea_delivery(hook, "create", &body, forgejo));
    }
    if c.deleted() && hook.wants("delete") {
        let body = json!({"ref": c.short(), "ref_type": ref_type, "pusher_type": "user",
            "repository": repository, "sender": user});
        out.push(gitea_delivery(hook, "delete", &body, forgejo));
    }
    out
}

fn gitea_delivery(hook: &Hook, event: &str, body: &Value, forgejo: bool) -> Delivery {
    let body = body.to_string();
    let id = uuid_v4();
    let sig = hook
        .secret
        .as_deref()
        .map(|s| hmac_hex(s, body.as_bytes()))
        .unwrap_or_default();
    let mut headers = json_headers("Go-http-client/1.1");
    let mut prefixes = vec!["Gitea", "Gogs"];
    if forgejo {
        prefixes.insert(0, "Forgejo");
    }
    for p in prefixes {
        h(&mut headers, &format!("X-{p}-Event"), event);
        h(&mut headers, &format!("X-{p}-Event-Type"), event);
        h(&mut headers, &format!("X-{p}-Delivery"), id.clone());
        h(&mut headers, &format!("X-{p}-Signature"), sig.clone());
    }
    h(&mut headers, "X-GitHub-Event", event);
    h(&mut headers, "X-GitHub-Delivery", id.clone());
    h(&mut headers, "X-Hub-Signature-256", format!("sha256={sig}"));
    Delivery {
        hook_id: hook.id,
        url: hook.url.clone(),
        event: event.into(),
        delivery_id: id,
        headers,
        body: body.into_bytes(),
    }
}
