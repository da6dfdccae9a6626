//! GitHub deliveries: signatures and the documented `push` / `ping` payloads (trimmed).

use super::*;
use crate::hosts::hooks::tests::{headers, hex_mac};
use crate::hosts::hooks::{Push, RefChange};
use crate::outbound::http::Answer;
use app::api::HostError;

const SECRET: &str = "s3cr3t-of-the-hook";

fn github() -> GitHub {
    let c: crate::config::HostConfig = Default::default();
    GitHub::new(
        &c,
        "https://cs.example/oauth/github/callback",
        crate::hosts::tests::outbound(),
    )
    .unwrap()
}

const BRANCH_PUSH: &str = r#"{
  "ref": "refs/heads/main",
  "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
  "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
  "created": false, "deleted": false, "forced": false,
  "base_ref": null,
  "compare": "https://github.com/octocat/Hello-World/compare/6113728f27ae...0d1a26e67d8f",
  "commits": [{"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "Update README.md"}],
  "head_commit": {"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "message": "Update README.md"},
  "repository": {"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "Hello-World",
    "full_name": "octocat/Hello-World", "private": false,
    "clone_url": "https://github.com/octocat/Hello-World.git",
    "ssh_url": "git@github.com:octocat/Hello-World.git"},
  "pusher": {"name": "octocat", "email": "octocat@github.com"},
  "sender": {"login": "octocat", "id": 1}
}"#;

fn req<'a>(h: &'a ::http::HeaderMap, body: &'a str) -> DeliveryRequest<'a> {
    DeliveryRequest {
        headers: h,
        body: body.as_bytes(),
    }
}

#[test]
fn verifies_the_body_signature() {
    let gh = github();
    let secret = SecretString::new(SECRET.into());
    let good = format!("sha256={}", hex_mac(SECRET, BRANCH_PUSH.as_bytes()));
    let h = headers(&[("x-hub-signature-256", &good)]);
    assert!(gh.verify(&req(&h, BRANCH_PUSH), &secret, 0));
    // The body changed after signing.
    let forged = BRANCH_PUSH.replace("main", "evil");
    assert!(!gh.verify(&req(&h, &forged), &secret, 0));
    // Signed with another secret.
    let other = SecretString::new("another".into());
    assert!(!gh.verify(&req(&h, BRANCH_PUSH), &other, 0));
    // The legacy SHA-1 header alone is not enough.
    let sha1 = headers(&[("x-hub-signature", &good)]);
    assert!(!gh.verify(&req(&sha1, BRANCH_PUSH), &secret, 0));
    assert!(!gh.verify(&req(&headers(&[]), BRANCH_PUSH), &secret, 0));
}

#[test]
fn parses_a_branch_push() {
    let h = headers(&[
        ("x-github-event", "push"),
        ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ]);
    let d = github().parse(&req(&h, BRANCH_PUSH)).unwrap();
    assert_eq!(
        d.id.as_deref(),
        Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    );
    assert_eq!(d.event, "push");
    assert_eq!(
        d.kind,
        DeliveryKind::Push(Push {
            changes: vec![RefChange {
                kind: RefKind::Branch,
                name: "main".into(),
                before: Some("6113728f27ae82c7b1a177c8d03f9e96e0adf246".into()),
                after: Some("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c".into()),
            }],
            repo_stable_id: Some("1296269".into()),
            full_name: Some("octocat/Hello-World".into()),
            clone_url: Some("https://github.com/octocat/Hello-World.git".into()),
            pusher: Some("octocat".into()),
        })
    );
}

#[test]
fn an_annotated_tag_push_names_its_commit() {
    let body = r#"{"ref": "refs/tags/v1.0", "before": "0000000000000000000000000000000000000000",
      "after": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "created": true, "deleted": false,
      "base_ref": "refs/heads/main",
      "head_commit": {"id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"},
      "repository": {"id": 1296269, "full_name": "octocat/Hello-World"},
      "pusher": {"name": "octocat"}}"#;
    let h = headers(&[("x-github-event", "push")]);
    let DeliveryKind::Push(p) = github().parse(&req(&h, body)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(
        p.changes,
        vec![RefChange {
            kind: RefKind::Tag,
            name: "v1.0".into(),
            before: None,
            after: Some("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c".into()),
        }]
    );
}

#[test]
fn a_deletion_has_no_after() {
    let body = r#"{"ref": "refs/heads/gone", "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      "after": "0000000000000000000000000000000000000000", "created": false, "deleted": true,
      "head_commit": null, "repository": {"id": 1296269, "full_name": "octocat/Hello-World"},
      "pusher": {"name": "octocat"}}"#;
    let h = headers(&[("x-github-event", "push")]);
    let DeliveryKind::Push(p) = github().parse(&req(&h, body)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(p.changes[0].after, None);
    assert_eq!(p.changes[0].name, "gone");
}

#[test]
fn parses_ping_and_other_events() {
    let ping = r#"{"zen": "Keep it logically awesome.", "hook_id": 12345678,
      "hook": {"type": "Repository", "id": 12345678, "name": "web", "active": true, "events": ["push"],
        "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://cs.example/hooks/x"}},
      "repository": {"id": 1296269, "full_name": "octocat/Hello-World"}}"#;
    let h = headers(&[("x-github-event", "ping")]);
    assert_eq!(
        github().parse(&req(&h, ping)).unwrap().kind,
        DeliveryKind::Ping
    );
    let h = headers(&[("x-github-event", "issues")]);
    assert_eq!(
        github().parse(&req(&h, "{}")).unwrap().kind,
        DeliveryKind::Other("issues".into())
    );
    assert_eq!(
        github().parse(&req(&headers(&[]), ping)).unwrap_err(),
        ParseError::MissingHeader("x-github-event")
    );
    let h = headers(&[("x-github-event", "push")]);
    assert_eq!(
        github().parse(&req(&h, "not json")).unwrap_err(),
        ParseError::Body
    );
}

fn answer(status: u16, hdrs: &[(&str, &str)], body: &str) -> Answer {
    Answer {
        status,
        headers: headers(hdrs),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn maps_refusals() {
    let not_found = r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook","status":"404"}"#;
    // A token with only read:user: GitHub hides the repository's hooks.
    let a = answer(
        404,
        &[
            ("x-oauth-scopes", "read:user"),
            (
                "x-accepted-oauth-scopes",
                "admin:repo_hook, public_repo, repo, write:repo_hook",
            ),
        ],
        not_found,
    );
    assert!(matches!(
        refused(a, false),
        HookError::MissingScope { needed } if needed == ["admin:repo_hook"]
    ));
    // The scopes are fine: the user is no admin of the repository.
    let a = answer(404, &[("x-oauth-scopes", "repo, read:user")], not_found);
    assert!(matches!(refused(a, false), HookError::NotAdmin));
    let a = answer(404, &[("x-oauth-scopes", "repo, read:user")], not_found);
    assert!(matches!(refused(a, true), HookError::RepoNotFound));
    let fine_grained = r#"{"message":"Resource not accessible by personal access token"}"#;
    assert!(matches!(
        refused(answer(403, &[], fine_grained), false),
        HookError::MissingScope { .. }
    ));
    let limit = r#"{"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"The \"push\" event cannot have more than 20 hooks"}]}"#;
    assert!(matches!(
        refused(answer(422, &[], limit), false),
        HookError::LimitReached
    ));
    assert!(matches!(
        refused(answer(403, &[("x-ratelimit-remaining", "0")], "{}"), false),
        HookError::Host(HostError::RateLimited { .. })
    ));
    assert!(matches!(
        refused(answer(401, &[], "{}"), false),
        HookError::Host(HostError::TokenInvalid)
    ));
}

#[test]
fn reads_hooks() {
    let listed = r#"[{"type": "Repository", "id": 12345678, "name": "web", "active": true, "events": ["push"],
      "config": {"content_type": "json", "insecure_ssl": "0", "url": "https://cs.example/hooks/abc"},
      "url": "https://api.github.com/repos/octocat/Hello-World/hooks/12345678"}]"#;
    let hooks: Vec<HookAnswer> = serde_json::from_str(listed).unwrap();
    let hooks: Vec<Hook> = hooks.into_iter().map(HookAnswer::into_hook).collect();
    assert_eq!(
        hooks,
        vec![Hook {
            id: "12345678".into(),
            url: "https://cs.example/hooks/abc".into(),
            active: true
        }]
    );
    let repo = RepoRef {
        stable_id: "1296269".into(),
        full_name: "octocat/Hello-World".into(),
    };
    assert_eq!(
        github()
            .hooks_settings_url(Instance::default(), &repo)
            .as_deref(),
        Some("https://github.com/octocat/Hello-World/settings/hooks")
    );
}

/// A GitHub API that knows one repository and one admin token, to run the hook calls over
/// HTTP: what we send and how GitHub's refusals and annotated tags are read.
mod over_http {
    use super::*;
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{delete, get};
    use axum::{Json, Router};
    use serde_json::{json, Value};

    const ADMIN: &str = "gho_admin";
    const READER: &str = "gho_read_user_only";

    fn refuse(h: &HeaderMap) -> Option<Response> {
        let scopes = match h.get("authorization").and_then(|v| v.to_str().ok()) {
            Some(a) if a == format!("Bearer {ADMIN}") => return None,
            Some(a) if a == format!("Bearer {READER}") => "read:user",
            _ => return Some(StatusCode::UNAUTHORIZED.into_response()),
        };
        let headers = [
            ("x-oauth-scopes", scopes),
            (
                "x-accepted-oauth-scopes",
                "admin:repo_hook, repo, write:repo_hook",
            ),
        ];
        Some(
            (
                StatusCode::NOT_FOUND,
                headers,
                Json(json!({"message": "Not Found"})),
            )
                .into_response(),
        )
    }

    async fn serve() -> String {
        let app = Router::new()
            .route(
                "/repos/octocat/Hello-World/hooks",
                get(|h: HeaderMap| async move {
                    refuse(&h).unwrap_or_else(|| Json(json!([])).into_response())
                })
                .post(|h: HeaderMap, Json(body): Json<Value>| async move {
                    if let Some(r) = refuse(&h) {
                        return r;
                    }
                    let wanted = body["name"] == "web"
                        && body["events"] == json!(["push"])
                        && body["config"]["secret"] == "hook-secret"
                        && body["config"]["content_type"] == "json";
                    if !wanted {
                        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
                    }
                    let hook = json!({"id": 12345678, "active": true, "config": body["config"],
                        "url": "https://api.github.com/repos/octocat/Hello-World/hooks/12345678"});
                    (StatusCode::CREATED, Json(hook)).into_response()
                }),
            )
            .route(
                "/repos/octocat/Hello-World/hooks/{id}",
                delete(|h: HeaderMap| async move {
                    refuse(&h).unwrap_or_else(|| StatusCode::NO_CONTENT.into_response())
                }),
            )
            .route(
                "/repos/octocat/Hello-World/git/ref/tags/{name}",
                get(|Path(name): Path<String>| async move {
                    if name != "v1.0" {
                        return StatusCode::NOT_FOUND.into_response();
                    }
                    Json(json!({"ref": "refs/tags/v1.0", "object": {"type": "tag", "sha": "a1b2c3"}}))
                        .into_response()
                }),
            )
            .route(
                "/repos/octocat/Hello-World/git/tags/a1b2c3",
                get(|| async {
                    Json(json!({"tag": "v1.0", "object": {"type": "commit",
                        "sha": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"}}))
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    fn github_at(api: &str) -> GitHub {
        let c = crate::config::HostConfig {
            api_url: Some(api.to_string()),
            app: Some(crate::config::OAuthApp {
                client_id: "id".into(),
                client_secret: SecretString::new("secret".into()),
            }),
            ..Default::default()
        };
        let redirect = "https://cs.example/oauth/github/callback";
        GitHub::new(&c, redirect, crate::hosts::tests::outbound()).unwrap()
    }

    #[tokio::test]
    async fn creates_hooks_and_peels_tags() {
        let gh = github_at(&serve().await);
        let at = Instance::default();
        let admin = SecretString::new(ADMIN.into());
        let repo = RepoRef {
            stable_id: "1296269".into(),
            full_name: "octocat/Hello-World".into(),
        };
        let secret = SecretString::new("hook-secret".into());
        let spec = || HookSpec {
            url: "https://cs.example/hooks/r1",
            secret: &secret,
        };
        let hook = gh.create_hook(at, &admin, &repo, spec()).await.unwrap();
        assert_eq!(
            hook,
            Hook {
                id: "12345678".into(),
                url: "https://cs.example/hooks/r1".into(),
                active: true
            }
        );
        assert!(gh.list_hooks(at, &admin, &repo).await.unwrap().is_empty());
        gh.delete_hook(at, &admin, &repo, "12345678").await.unwrap();
        let head = gh
            .ref_head(at, &admin, &repo, RefKind::Tag, "v1.0")
            .await
            .unwrap();
        assert_eq!(
            head.as_deref(),
            Some("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c")
        );
        let none = gh.ref_head(at, &admin, &repo, RefKind::Tag, "v9").await;
        assert_eq!(none.unwrap(), None);

        let reader = SecretString::new(READER.into());
        assert!(matches!(
            gh.create_hook(at, &reader, &repo, spec()).await,
            Err(HookError::MissingScope { .. })
        ));
        // Without the scope, a hidden hook is not "already gone".
        assert!(matches!(
            gh.delete_hook(at, &reader, &repo, "12345678").await,
            Err(HookError::MissingScope { .. })
        ));
    }
}
