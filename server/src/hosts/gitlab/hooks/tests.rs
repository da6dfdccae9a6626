//! GitLab deliveries: the token check and the documented push and tag push payloads (trimmed).

use super::*;
use crate::hosts::hooks::tests::headers;
use app::api::HostError;

fn gitlab() -> GitLab {
    GitLab::new(&Default::default(), crate::hosts::tests::outbound())
}

fn req<'a>(h: &'a ::http::HeaderMap, body: &'a str) -> DeliveryRequest<'a> {
    DeliveryRequest {
        headers: h,
        body: body.as_bytes(),
    }
}

/// GitLab's documented push event, trimmed.
const BRANCH_PUSH: &str = r#"{
  "object_kind": "push", "event_name": "push",
  "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
  "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  "ref": "refs/heads/master", "ref_protected": true,
  "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  "user_id": 4, "user_name": "John Smith", "user_username": "jsmith",
  "project_id": 15,
  "project": {"id": 15, "name": "Diaspora", "web_url": "http://example.com/mike/diaspora",
    "git_ssh_url": "git@example.com:mike/diaspora.git", "git_http_url": "http://example.com/mike/diaspora.git",
    "namespace": "Mike", "path_with_namespace": "mike/diaspora", "default_branch": "master"},
  "commits": [{"id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "message": "fixed readme"}],
  "total_commits_count": 1
}"#;

/// GitLab's documented tag event, trimmed; `after` is the annotated tag's object.
const TAG_PUSH: &str = r#"{
  "object_kind": "tag_push", "event_name": "tag_push",
  "before": "0000000000000000000000000000000000000000",
  "after": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
  "ref": "refs/tags/v1.0.0", "ref_protected": true,
  "checkout_sha": "5937ac0a7beb003549fc5fd26fc247adbce4a52e",
  "user_id": 1, "user_name": "John Smith", "user_username": "jsmith",
  "project_id": 1,
  "project": {"id": 1, "name": "Example", "path_with_namespace": "jsmith/example",
    "git_http_url": "http://example.com/jsmith/example.git"},
  "commits": [], "total_commits_count": 0
}"#;

#[test]
fn verifies_the_token() {
    let g = gitlab();
    let secret = SecretString::new("gl-hook-token".into());
    let good = headers(&[("x-gitlab-token", "gl-hook-token")]);
    assert!(g.verify(&req(&good, BRANCH_PUSH), &secret, 0));
    for bad in ["gl-hook-toke", "gl-hook-token2", "GL-HOOK-TOKEN", ""] {
        let h = headers(&[("x-gitlab-token", bad)]);
        assert!(!g.verify(&req(&h, BRANCH_PUSH), &secret, 0), "{bad}");
    }
    let other = SecretString::new("another".into());
    assert!(!g.verify(&req(&good, BRANCH_PUSH), &other, 0));
    assert!(!g.verify(&req(&headers(&[]), BRANCH_PUSH), &secret, 0));
    // The token does not cover the body: the commit is confirmed through the API.
    assert!(!g.signs_body());
}

#[test]
fn parses_a_branch_push() {
    let h = headers(&[
        ("x-gitlab-event", "Push Hook"),
        (
            "x-gitlab-event-uuid",
            "13792a34-cac6-4fda-95a8-c58e00a3954e",
        ),
    ]);
    let d = gitlab().parse(&req(&h, BRANCH_PUSH)).unwrap();
    assert_eq!(
        d.id.as_deref(),
        Some("13792a34-cac6-4fda-95a8-c58e00a3954e")
    );
    assert_eq!(d.event, "Push Hook");
    assert_eq!(
        d.kind,
        DeliveryKind::Push(Push {
            changes: vec![RefChange {
                kind: RefKind::Branch,
                name: "master".into(),
                before: Some("95790bf891e76fee5e1747ab589903a6a1f80f22".into()),
                after: Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7".into()),
            }],
            repo_stable_id: Some("15".into()),
            full_name: Some("mike/diaspora".into()),
            clone_url: Some("http://example.com/mike/diaspora.git".into()),
            pusher: Some("jsmith".into()),
        })
    );
}

#[test]
fn a_tag_push_names_the_tagged_commit() {
    let h = headers(&[("x-gitlab-event", "Tag Push Hook")]);
    let DeliveryKind::Push(p) = gitlab().parse(&req(&h, TAG_PUSH)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(
        p.changes,
        vec![RefChange {
            kind: RefKind::Tag,
            name: "v1.0.0".into(),
            before: None,
            after: Some("5937ac0a7beb003549fc5fd26fc247adbce4a52e".into()),
        }]
    );
    assert_eq!(p.repo_stable_id.as_deref(), Some("1"));
}

#[test]
fn a_deletion_has_no_after() {
    let body = r#"{"object_kind": "push", "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
      "after": "0000000000000000000000000000000000000000", "ref": "refs/heads/gone",
      "checkout_sha": null, "user_username": "jsmith", "project_id": 15}"#;
    let h = headers(&[("x-gitlab-event", "Push Hook")]);
    let DeliveryKind::Push(p) = gitlab().parse(&req(&h, body)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(p.changes[0].after, None);
    // Only `project_id` named the project.
    assert_eq!(p.repo_stable_id.as_deref(), Some("15"));
    let h = headers(&[("x-gitlab-event", "Merge Request Hook")]);
    assert_eq!(
        gitlab().parse(&req(&h, "{}")).unwrap().kind,
        DeliveryKind::Other("Merge Request Hook".into())
    );
    assert_eq!(
        gitlab().parse(&req(&headers(&[]), body)).unwrap_err(),
        ParseError::MissingHeader("x-gitlab-event")
    );
    let h = headers(&[("x-gitlab-event", "Push Hook")]);
    assert_eq!(
        gitlab().parse(&req(&h, "[]")).unwrap_err(),
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
    let scope = r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api"}"#;
    let www = r#"Bearer realm="", error="insufficient_scope", error_description="The request requires higher privileges than provided by the access token.", scope="api""#;
    assert!(matches!(
        refused(answer(403, &[("www-authenticate", www)], scope)),
        HookError::MissingScope { needed } if needed == ["api"]
    ));
    let role = r#"{"message":"403 Forbidden"}"#;
    assert!(matches!(
        refused(answer(403, &[], role)),
        HookError::NotAdmin
    ));
    let missing = r#"{"message":"404 Project Not Found"}"#;
    assert!(matches!(
        refused(answer(404, &[], missing)),
        HookError::RepoNotFound
    ));
    let limit = r#"{"message":{"base":["Maximum number of project hooks (100) exceeded"]}}"#;
    assert!(matches!(
        refused(answer(422, &[], limit)),
        HookError::LimitReached
    ));
    assert!(matches!(
        refused(answer(401, &[], r#"{"message":"401 Unauthorized"}"#)),
        HookError::Host(HostError::TokenInvalid)
    ));
}

#[test]
fn reads_hooks() {
    let listed = r#"[{"id": 1, "url": "https://cs.example/hooks/a", "project_id": 3, "push_events": true,
        "tag_push_events": true, "alert_status": "executable"},
      {"id": 2, "url": "https://cs.example/hooks/b", "project_id": 3, "alert_status": "disabled"},
      {"id": 3, "url": "https://cs.example/hooks/c", "project_id": 3}]"#;
    let hooks: Vec<Hook> = serde_json::from_str::<Vec<HookAnswer>>(listed)
        .unwrap()
        .into_iter()
        .map(HookAnswer::into_hook)
        .collect();
    let active: Vec<(&str, bool)> = hooks.iter().map(|h| (h.id.as_str(), h.active)).collect();
    assert_eq!(active, [("1", true), ("2", false), ("3", true)]);
    let repo = RepoRef {
        stable_id: "15".into(),
        full_name: "mike/diaspora".into(),
    };
    let at = Instance {
        address: Some("https://gitlab.example.com"),
        ca_pem: None,
    };
    assert_eq!(
        gitlab().hooks_settings_url(at, &repo).as_deref(),
        Some("https://gitlab.example.com/mike/diaspora/-/hooks")
    );
}

/// A GitLab that knows project 15 and one token, to run the hook calls over HTTP: what we
/// send (method, path, token header, JSON body) and how its answers are read.
mod over_http {
    use super::*;
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{delete, get};
    use axum::{Json, Router};
    use serde_json::Value;

    const TOKEN: &str = "glpat-maintainer";
    const SCOPELESS: &str = "glpat-read-only";

    fn check(h: &HeaderMap) -> Result<(), (StatusCode, Json<Value>)> {
        match h.get("private-token").and_then(|v| v.to_str().ok()) {
            Some(TOKEN) => Ok(()),
            Some(SCOPELESS) => Err((
                StatusCode::FORBIDDEN,
                Json(json!({"error": "insufficient_scope", "scope": "api"})),
            )),
            _ => Err((
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "401 Unauthorized"})),
            )),
        }
    }

    async fn serve() -> String {
        let app = Router::new()
            .route(
                "/api/v4/projects/{id}/hooks",
                get(|h: HeaderMap| async move {
                    check(&h)?;
                    Ok::<_, (StatusCode, Json<Value>)>(Json(json!([
                        {"id": 7, "url": "https://cs.example/hooks/r1", "alert_status": "executable"}
                    ])))
                })
                .post(|h: HeaderMap, Json(body): Json<Value>| async move {
                    check(&h)?;
                    let wanted = body["token"] == "hook-secret"
                        && body["push_events"] == true
                        && body["tag_push_events"] == true;
                    if !wanted {
                        return Err((StatusCode::BAD_REQUEST, Json(json!({"error": "bad body"}))));
                    }
                    Ok((
                        StatusCode::CREATED,
                        Json(json!({"id": 8, "url": body["url"], "project_id": 15})),
                    ))
                }),
            )
            .route(
                "/api/v4/projects/{id}/hooks/{hook}",
                delete(|h: HeaderMap, Path((_, hook)): Path<(u64, u64)>| async move {
                    check(&h)?;
                    Ok::<_, (StatusCode, Json<Value>)>(if hook == 7 {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::NOT_FOUND
                    })
                }),
            )
            .route(
                "/api/v4/projects/{id}/repository/branches/{name}",
                get(
                    |h: HeaderMap, Path((_, name)): Path<(u64, String)>| async move {
                        check(&h)?;
                        if name != "feature/x" {
                            return Err((
                                StatusCode::NOT_FOUND,
                                Json(json!({"message": "404 Branch Not Found"})),
                            ));
                        }
                        Ok(Json(json!({"name": name, "commit": {"id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"}})))
                    },
                ),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn manages_hooks_and_reads_heads() {
        let base = serve().await;
        let at = Instance {
            address: Some(&base),
            ca_pem: None,
        };
        let g = gitlab();
        let token = SecretString::new(TOKEN.into());
        let repo = RepoRef {
            stable_id: "15".into(),
            full_name: "mike/diaspora".into(),
        };
        let secret = SecretString::new("hook-secret".into());
        let spec = HookSpec {
            url: "https://cs.example/hooks/r2",
            secret: &secret,
        };
        let hook = g.create_hook(at, &token, &repo, spec).await.unwrap();
        assert_eq!(
            hook,
            Hook {
                id: "8".into(),
                url: "https://cs.example/hooks/r2".into(),
                active: true
            }
        );
        let listed = g.list_hooks(at, &token, &repo).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "7");
        g.delete_hook(at, &token, &repo, "7").await.unwrap();
        // Already gone is fine.
        g.delete_hook(at, &token, &repo, "9").await.unwrap();
        let head = g
            .ref_head(at, &token, &repo, RefKind::Branch, "feature/x")
            .await
            .unwrap();
        assert_eq!(
            head.as_deref(),
            Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7")
        );
        let none = g.ref_head(at, &token, &repo, RefKind::Branch, "nope").await;
        assert_eq!(none.unwrap(), None);

        let scopeless = SecretString::new(SCOPELESS.into());
        let spec = HookSpec {
            url: "https://cs.example/hooks/r3",
            secret: &secret,
        };
        assert!(matches!(
            g.create_hook(at, &scopeless, &repo, spec).await,
            Err(HookError::MissingScope { .. })
        ));
        let wrong = SecretString::new("nobody".into());
        assert!(matches!(
            g.list_hooks(at, &wrong, &repo).await,
            Err(HookError::Host(HostError::TokenInvalid))
        ));
    }
}
