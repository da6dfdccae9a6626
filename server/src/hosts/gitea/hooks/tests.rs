//! Gitea and Forgejo deliveries: signatures, the documented `push` payload (trimmed), and a
//! tag push arriving as both `push` and `create`.

use super::*;
use crate::hosts::hooks::tests::{headers, hex_mac};
use app::api::HostError;

const SECRET: &str = "gitea-hook-secret";

fn gitea() -> Gitea {
    Gitea::new(&Default::default(), crate::hosts::tests::outbound())
}

fn req<'a>(h: &'a ::http::HeaderMap, body: &'a str) -> DeliveryRequest<'a> {
    DeliveryRequest {
        headers: h,
        body: body.as_bytes(),
    }
}

/// Gitea's documented example (docs.gitea.com/usage/webhooks), trimmed.
const BRANCH_PUSH: &str = r#"{
  "ref": "refs/heads/develop",
  "before": "28e1879d029cb852e4844d9c718537df08844e03",
  "after": "bffeb74224043ba2feb48d137756c8a9331c449a",
  "compare_url": "http://localhost:3000/gitea/webhooks/compare/28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9331c449a",
  "commits": [{"id": "bffeb74224043ba2feb48d137756c8a9331c449a", "message": "Webhooks Yay!",
    "url": "http://localhost:3000/gitea/webhooks/commit/bffeb74224043ba2feb48d137756c8a9331c449a"}],
  "repository": {"id": 140, "owner": {"id": 1, "login": "gitea", "username": "gitea"},
    "name": "webhooks", "full_name": "gitea/webhooks", "private": false,
    "html_url": "http://localhost:3000/gitea/webhooks",
    "clone_url": "http://localhost:3000/gitea/webhooks.git", "default_branch": "master"},
  "pusher": {"id": 1, "login": "gitea", "full_name": "Gitea", "email": "someone@gitea.io", "username": "gitea"},
  "sender": {"id": 1, "login": "gitea", "full_name": "Gitea", "username": "gitea"}
}"#;

const TAG_PUSH: &str = r#"{"ref": "refs/tags/v1.2.0", "before": "0000000000000000000000000000000000000000",
  "after": "5f3c9a7e2d1b0a9f8e7d6c5b4a39281706f5e4d3", "commits": [],
  "head_commit": {"id": "bffeb74224043ba2feb48d137756c8a9331c449a"},
  "repository": {"id": 140, "full_name": "gitea/webhooks", "clone_url": "http://localhost:3000/gitea/webhooks.git"},
  "pusher": {"login": "gitea", "username": "gitea"}, "sender": {"login": "gitea"}}"#;

const TAG_CREATE: &str = r#"{"sha": "5f3c9a7e2d1b0a9f8e7d6c5b4a39281706f5e4d3", "ref": "v1.2.0", "ref_type": "tag",
  "repository": {"id": 140, "full_name": "gitea/webhooks", "clone_url": "http://localhost:3000/gitea/webhooks.git"},
  "sender": {"id": 1, "login": "gitea", "username": "gitea"}}"#;

#[test]
fn verifies_gitea_and_forgejo_signatures() {
    let g = gitea();
    let secret = SecretString::new(SECRET.into());
    let mac = hex_mac(SECRET, BRANCH_PUSH.as_bytes());
    let gitea_h = headers(&[("x-gitea-signature", &mac)]);
    let forgejo_h = headers(&[("x-forgejo-signature", &mac), ("x-gitea-signature", &mac)]);
    assert!(g.verify(&req(&gitea_h, BRANCH_PUSH), &secret, 0));
    assert!(g.verify(&req(&forgejo_h, BRANCH_PUSH), &secret, 0));
    let forged = BRANCH_PUSH.replace("develop", "main");
    assert!(!g.verify(&req(&gitea_h, &forged), &secret, 0));
    let other = SecretString::new("not-it".into());
    assert!(!g.verify(&req(&gitea_h, BRANCH_PUSH), &other, 0));
    // Gitea's signature has no `sha256=` prefix.
    let prefixed = headers(&[("x-gitea-signature", &format!("sha256={mac}"))]);
    assert!(!g.verify(&req(&prefixed, BRANCH_PUSH), &secret, 0));
    assert!(!g.verify(&req(&headers(&[]), BRANCH_PUSH), &secret, 0));
}

#[test]
fn parses_a_branch_push() {
    let h = headers(&[
        ("x-gitea-event", "push"),
        ("x-gitea-delivery", "f6266f16-1bf3-46a5-9ea4-602e06ead473"),
    ]);
    let d = gitea().parse(&req(&h, BRANCH_PUSH)).unwrap();
    assert_eq!(
        d.id.as_deref(),
        Some("f6266f16-1bf3-46a5-9ea4-602e06ead473")
    );
    assert_eq!(
        d.kind,
        DeliveryKind::Push(Push {
            changes: vec![RefChange {
                kind: RefKind::Branch,
                name: "develop".into(),
                before: Some("28e1879d029cb852e4844d9c718537df08844e03".into()),
                after: Some("bffeb74224043ba2feb48d137756c8a9331c449a".into()),
            }],
            repo_stable_id: Some("140".into()),
            full_name: Some("gitea/webhooks".into()),
            clone_url: Some("http://localhost:3000/gitea/webhooks.git".into()),
            pusher: Some("gitea".into()),
        })
    );
}

#[test]
fn a_tag_push_and_its_create_event_are_the_same_change() {
    let push = headers(&[("x-forgejo-event", "push"), ("x-gitea-event", "push")]);
    let create = headers(&[("x-gitea-event", "create")]);
    let DeliveryKind::Push(a) = gitea().parse(&req(&push, TAG_PUSH)).unwrap().kind else {
        panic!("a push")
    };
    let DeliveryKind::Push(b) = gitea().parse(&req(&create, TAG_CREATE)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(a, b);
    assert_eq!(
        a.changes,
        vec![RefChange {
            kind: RefKind::Tag,
            name: "v1.2.0".into(),
            before: None,
            after: Some("5f3c9a7e2d1b0a9f8e7d6c5b4a39281706f5e4d3".into()),
        }]
    );
    // An older Gitea named the full ref in `create`.
    let full = TAG_CREATE.replace("\"v1.2.0\"", "\"refs/tags/v1.2.0\"");
    let DeliveryKind::Push(c) = gitea().parse(&req(&create, &full)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(c, a);
}

#[test]
fn a_branch_deletion_and_other_events() {
    let body = r#"{"ref": "refs/heads/old", "before": "28e1879d029cb852e4844d9c718537df08844e03",
      "after": "0000000000000000000000000000000000000000", "repository": {"id": 140, "full_name": "gitea/webhooks"}}"#;
    let h = headers(&[("x-gitea-event", "push")]);
    let DeliveryKind::Push(p) = gitea().parse(&req(&h, body)).unwrap().kind else {
        panic!("a push")
    };
    assert_eq!(p.changes[0].after, None);
    let h = headers(&[("x-gitea-event", "issues")]);
    assert_eq!(
        gitea().parse(&req(&h, "{}")).unwrap().kind,
        DeliveryKind::Other("issues".into())
    );
    assert_eq!(
        gitea().parse(&req(&headers(&[]), "{}")).unwrap_err(),
        ParseError::MissingHeader("x-gitea-event")
    );
    let h = headers(&[("x-gitea-event", "create")]);
    assert_eq!(
        gitea()
            .parse(&req(&h, r#"{"sha": "x", "ref": "v1", "ref_type": "note"}"#))
            .unwrap_err(),
        ParseError::Body
    );
}

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        headers: headers(&[("content-type", "application/json")]),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn maps_refusals() {
    let scope = r#"{"message":"token does not have at least one of required scope(s): [write:repository]","url":"https://g.example/api/swagger"}"#;
    assert!(matches!(
        refused(answer(403, scope)),
        HookError::MissingScope { needed } if needed == ["write:repository"]
    ));
    let role = r#"{"message":"Must have admin permission","url":"https://g.example/api/swagger"}"#;
    assert!(matches!(refused(answer(403, role)), HookError::NotAdmin));
    assert!(matches!(
        refused(answer(404, "{}")),
        HookError::RepoNotFound
    ));
    assert!(matches!(
        refused(answer(401, "{}")),
        HookError::Host(HostError::TokenInvalid)
    ));
    let repo = RepoRef {
        stable_id: "140".into(),
        full_name: "gitea/webhooks".into(),
    };
    let at = Instance {
        address: Some("https://git.example.org/"),
        ca_pem: None,
    };
    assert_eq!(
        gitea().hooks_settings_url(at, &repo).as_deref(),
        Some("https://git.example.org/gitea/webhooks/settings/hooks")
    );
}
