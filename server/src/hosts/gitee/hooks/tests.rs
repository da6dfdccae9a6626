//! Gitee deliveries: the signed timestamp (good, forged, wrong secret, stale, missing) and the
//! documented push and tag push payloads (trimmed).

use super::*;
use crate::hosts::hooks::tests::headers;
use crate::hosts::hooks::{Push, RefChange};
use app::api::HostError;

const SECRET: &str = "gitee-signing-key";
const TS: i64 = 1_576_754_827_988;

fn gitee() -> Gitee {
    let redirect = "https://cs.example/oauth/gitee/callback";
    Gitee::new(
        &Default::default(),
        redirect,
        crate::hosts::tests::outbound(),
    )
    .unwrap()
}

fn req<'a>(h: &'a ::http::HeaderMap, body: &'a str) -> DeliveryRequest<'a> {
    DeliveryRequest {
        headers: h,
        body: body.as_bytes(),
    }
}

/// The documented algorithm: base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")).
fn sign(secret: &str, ts: i64) -> String {
    let key = SecretString::new(secret.into());
    let mac = hooks::hmac_sha256(&key, format!("{ts}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac)
}

const PUSH: &str = r#"{
  "hook_name": "push_hooks", "hook_id": 1046123, "hook_url": "https://gitee.com/gitee-bob/demo/hooks/1046123/edit",
  "timestamp": "1576754827988", "sign": "", "password": "",
  "ref": "refs/heads/master",
  "before": "e3ac8a6e2a37c21ef1d6f5d4b6c1bd1bd8a8f0f1",
  "after": "8f6de4fe9d5a1a47e1ab6cc8c4bc6f0b1b0ed4e2",
  "created": false, "deleted": false,
  "compare": "https://gitee.com/gitee-bob/demo/compare/e3ac8a6e...8f6de4fe",
  "commits": [{"id": "8f6de4fe9d5a1a47e1ab6cc8c4bc6f0b1b0ed4e2", "message": "update README.md."}],
  "head_commit": {"id": "8f6de4fe9d5a1a47e1ab6cc8c4bc6f0b1b0ed4e2", "message": "update README.md."},
  "total_commits_count": 1,
  "repository": {"id": 7453127, "name": "demo", "path": "demo", "full_name": "gitee-bob/demo",
    "owner": {"id": 1, "login": "gitee-bob", "name": "Bob"}, "private": false,
    "html_url": "https://gitee.com/gitee-bob/demo", "clone_url": "https://gitee.com/gitee-bob/demo.git",
    "git_http_url": "https://gitee.com/gitee-bob/demo.git", "path_with_namespace": "gitee-bob/demo"},
  "pusher": {"id": 1, "name": "Bob", "email": "bob@example.com", "username": "gitee-bob", "user_name": "gitee-bob"},
  "sender": {"id": 1, "login": "gitee-bob", "name": "Bob", "username": "gitee-bob"}
}"#;

#[test]
fn verifies_the_signed_timestamp() {
    let g = gitee();
    let secret = SecretString::new(SECRET.into());
    let good = sign(SECRET, TS);
    let ts = TS.to_string();
    let h = headers(&[("x-gitee-token", &good), ("x-gitee-timestamp", &ts)]);
    assert!(g.verify(&req(&h, PUSH), &secret, TS + 1_000));
    assert!(g.verify(&req(&h, PUSH), &secret, TS - 1_000));
    // URL-encoded, as Gitee's docs write it.
    let encoded = good
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let h2 = headers(&[("x-gitee-token", &encoded), ("x-gitee-timestamp", &ts)]);
    assert!(g.verify(&req(&h2, PUSH), &secret, TS));
    // Too old or too far ahead: a replay or a clock far off.
    assert!(!g.verify(&req(&h, PUSH), &secret, TS + MAX_SKEW_MS + 1));
    assert!(!g.verify(&req(&h, PUSH), &secret, TS - MAX_SKEW_MS - 1));
    // The timestamp changed after signing.
    let later = (TS + 1).to_string();
    let forged = headers(&[("x-gitee-token", &good), ("x-gitee-timestamp", &later)]);
    assert!(!g.verify(&req(&forged, PUSH), &secret, TS));
    let other = SecretString::new("another-key".into());
    assert!(!g.verify(&req(&h, PUSH), &other, TS));
    // Password mode (the secret itself as the token) is not accepted.
    let plain = headers(&[("x-gitee-token", SECRET), ("x-gitee-timestamp", &ts)]);
    assert!(!g.verify(&req(&plain, PUSH), &secret, TS));
    for missing in [
        headers(&[("x-gitee-token", &good)]),
        headers(&[("x-gitee-timestamp", &ts)]),
        headers(&[("x-gitee-token", &good), ("x-gitee-timestamp", "-5")]),
    ] {
        assert!(!g.verify(&req(&missing, PUSH), &secret, TS));
    }
    assert!(!g.signs_body());
}

#[test]
fn parses_a_branch_push() {
    let ts = TS.to_string();
    let h = headers(&[("x-gitee-event", "Push Hook"), ("x-gitee-timestamp", &ts)]);
    let d = gitee().parse(&req(&h, PUSH)).unwrap();
    assert_eq!(d.id.as_deref(), Some("1576754827988:7453127"));
    assert_eq!(d.event, "Push Hook");
    assert_eq!(
        d.kind,
        DeliveryKind::Push(Push {
            changes: vec![RefChange {
                kind: RefKind::Branch,
                name: "master".into(),
                before: Some("e3ac8a6e2a37c21ef1d6f5d4b6c1bd1bd8a8f0f1".into()),
                after: Some("8f6de4fe9d5a1a47e1ab6cc8c4bc6f0b1b0ed4e2".into()),
            }],
            repo_stable_id: Some("7453127".into()),
            full_name: Some("gitee-bob/demo".into()),
            clone_url: Some("https://gitee.com/gitee-bob/demo.git".into()),
            pusher: Some("gitee-bob".into()),
        })
    );
}

#[test]
fn parses_tag_pushes_and_deletions() {
    let tag = PUSH
        .replace("push_hooks", "tag_push_hooks")
        .replace("refs/heads/master", "refs/tags/v1.0")
        .replace(
            "e3ac8a6e2a37c21ef1d6f5d4b6c1bd1bd8a8f0f1",
            "0000000000000000000000000000000000000000",
        );
    let h = headers(&[("x-gitee-event", "Tag Push Hook")]);
    let DeliveryKind::Push(p) = gitee().parse(&req(&h, &tag)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(
        p.changes,
        vec![RefChange {
            kind: RefKind::Tag,
            name: "v1.0".into(),
            before: None,
            after: Some("8f6de4fe9d5a1a47e1ab6cc8c4bc6f0b1b0ed4e2".into()),
        }]
    );
    let deleted = PUSH
        .replace("\"deleted\": false", "\"deleted\": true")
        .replace(
            "\"after\": \"8f6de4fe9d5a1a47e1ab6cc8c4bc6f0b1b0ed4e2\"",
            "\"after\": \"0000000000000000000000000000000000000000\"",
        );
    let h = headers(&[("x-gitee-event", "Push Hook")]);
    let DeliveryKind::Push(p) = gitee().parse(&req(&h, &deleted)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(p.changes[0].after, None);
    let h = headers(&[("x-gitee-event", "Issue Hook")]);
    assert_eq!(
        gitee().parse(&req(&h, "{}")).unwrap().kind,
        DeliveryKind::Other("Issue Hook".into())
    );
    assert_eq!(
        gitee().parse(&req(&headers(&[]), PUSH)).unwrap_err(),
        ParseError::MissingHeader("x-gitee-event")
    );
}

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        headers: headers(&[]),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn maps_refusals() {
    assert!(matches!(
        refused(answer(403, r#"{"message":"Access token scope is insufficient"}"#)),
        HookError::MissingScope { needed } if needed == ["hook"]
    ));
    assert!(matches!(
        refused(answer(403, r#"{"message":"Forbidden"}"#)),
        HookError::NotAdmin
    ));
    assert!(matches!(
        refused(answer(404, r#"{"message":"Not Found Project"}"#)),
        HookError::RepoNotFound
    ));
    assert!(matches!(
        refused(answer(
            401,
            r#"{"message":"401 Unauthorized: Access token does not exist"}"#
        )),
        HookError::Host(HostError::TokenInvalid)
    ));
    let listed = r#"[{"id": 1046123, "url": "https://cs.example/hooks/abc", "created_at": "2019-12-19T19:27:07+08:00",
      "password": "", "project_id": 7453127, "result": "", "result_code": null,
      "push_events": true, "tag_push_events": true}]"#;
    let hooks: Vec<Hook> = serde_json::from_str::<Vec<HookAnswer>>(listed)
        .unwrap()
        .into_iter()
        .map(HookAnswer::into_hook)
        .collect();
    assert_eq!(
        hooks,
        [Hook {
            id: "1046123".into(),
            url: "https://cs.example/hooks/abc".into(),
            active: true
        }]
    );
}
