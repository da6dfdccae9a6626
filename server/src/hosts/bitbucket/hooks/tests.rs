//! Bitbucket deliveries: signatures and a documented `repo:push` (trimmed) carrying several
//! changes: a branch update, a tag creation and a branch deletion.

use super::*;
use crate::hosts::hooks::tests::{headers, hex_mac};
use app::api::HostError;

const SECRET: &str = "bb-hook-secret";

fn bitbucket() -> Bitbucket {
    let redirect = "https://cs.example/oauth/bitbucket/callback";
    Bitbucket::new(
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

const PUSH: &str = r#"{
  "actor": {"type": "user", "display_name": "Ada Lovelace", "nickname": "ada",
    "uuid": "{d301aafa-d676-4ee0-88be-962be7417567}", "account_id": "557058:c0b72ad0"},
  "repository": {"type": "repository", "name": "engine", "full_name": "analytical/engine",
    "uuid": "{3e5a1c5e-0c5a-4d0e-9a1b-2f4c6f2b9d11}", "is_private": true,
    "links": {"html": {"href": "https://bitbucket.org/analytical/engine"}}},
  "push": {"changes": [
    {"old": {"type": "branch", "name": "main", "target": {"type": "commit", "hash": "1e65c05c1d5171631d92438a13901ca7dae9618c"}},
     "new": {"type": "branch", "name": "main", "target": {"type": "commit", "hash": "709d658dc5b6d6afcd46049c2f332ee3f515a67d"}},
     "created": false, "forced": false, "closed": false, "truncated": false},
    {"old": null,
     "new": {"type": "tag", "name": "v2.0", "target": {"type": "commit", "hash": "709d658dc5b6d6afcd46049c2f332ee3f515a67d"}},
     "created": true, "forced": false, "closed": false},
    {"old": {"type": "branch", "name": "old-feature", "target": {"type": "commit", "hash": "0c9ab1f9c1f0e0aa4ea3b73ee2c2dc42e1f8e9a1"}},
     "new": null, "created": false, "forced": false, "closed": true}
  ]}
}"#;

#[test]
fn verifies_the_body_signature() {
    let b = bitbucket();
    let secret = SecretString::new(SECRET.into());
    let good = format!("sha256={}", hex_mac(SECRET, PUSH.as_bytes()));
    let h = headers(&[("x-hub-signature", &good)]);
    assert!(b.verify(&req(&h, PUSH), &secret, 0));
    let forged = PUSH.replace("old-feature", "new-feature");
    assert!(!b.verify(&req(&h, &forged), &secret, 0));
    let other = SecretString::new("bb-hook-secreT".into());
    assert!(!b.verify(&req(&h, PUSH), &other, 0));
    // GitHub's header name is not Bitbucket's.
    let github = headers(&[("x-hub-signature-256", &good)]);
    assert!(!b.verify(&req(&github, PUSH), &secret, 0));
    assert!(!b.verify(&req(&headers(&[]), PUSH), &secret, 0));
}

#[test]
fn parses_every_change_of_a_push() {
    let h = headers(&[
        ("x-event-key", "repo:push"),
        ("x-request-uuid", "4b1a5c9e-6f7d-4a3b-9c2e-1d0f8e7a6b5c"),
        ("x-hook-uuid", "{2f8f2e4a-9a5b-4b2a-8a0e-0f5d1c2b3a4d}"),
    ]);
    let d = bitbucket().parse(&req(&h, PUSH)).unwrap();
    assert_eq!(
        d.id.as_deref(),
        Some("4b1a5c9e-6f7d-4a3b-9c2e-1d0f8e7a6b5c")
    );
    assert_eq!(d.event, "repo:push");
    assert_eq!(
        d.kind,
        DeliveryKind::Push(Push {
            changes: vec![
                RefChange {
                    kind: RefKind::Branch,
                    name: "main".into(),
                    before: Some("1e65c05c1d5171631d92438a13901ca7dae9618c".into()),
                    after: Some("709d658dc5b6d6afcd46049c2f332ee3f515a67d".into()),
                },
                RefChange {
                    kind: RefKind::Tag,
                    name: "v2.0".into(),
                    before: None,
                    after: Some("709d658dc5b6d6afcd46049c2f332ee3f515a67d".into()),
                },
                RefChange {
                    kind: RefKind::Branch,
                    name: "old-feature".into(),
                    before: Some("0c9ab1f9c1f0e0aa4ea3b73ee2c2dc42e1f8e9a1".into()),
                    after: None,
                },
            ],
            repo_stable_id: Some("{3e5a1c5e-0c5a-4d0e-9a1b-2f4c6f2b9d11}".into()),
            full_name: Some("analytical/engine".into()),
            clone_url: Some("https://bitbucket.org/analytical/engine.git".into()),
            pusher: Some("ada".into()),
        })
    );
}

#[test]
fn skips_what_is_neither_branch_nor_tag() {
    let body = r#"{"push": {"changes": [
      {"old": null, "new": {"type": "bookmark", "name": "b", "target": {"hash": "709d658dc5b6d6afcd46049c2f332ee3f515a67d"}}}]}}"#;
    let h = headers(&[("x-event-key", "repo:push")]);
    let DeliveryKind::Push(p) = bitbucket().parse(&req(&h, body)).unwrap().kind else {
        panic!("a push")
    };
    assert!(p.changes.is_empty());
    let h = headers(&[("x-event-key", "pullrequest:created")]);
    assert_eq!(
        bitbucket().parse(&req(&h, "{}")).unwrap().kind,
        DeliveryKind::Other("pullrequest:created".into())
    );
    assert_eq!(
        bitbucket().parse(&req(&headers(&[]), body)).unwrap_err(),
        ParseError::MissingHeader("x-event-key")
    );
    let h = headers(&[("x-event-key", "repo:push")]);
    assert_eq!(
        bitbucket().parse(&req(&h, r#"{"push": {}}"#)).unwrap_err(),
        ParseError::Body
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
    let scope = r#"{"type": "error", "error": {"message": "Your credentials lack one or more required privilege scopes.",
      "detail": {"granted": ["account", "repository"], "required": ["webhook"]}}}"#;
    assert!(matches!(
        refused(answer(403, scope)),
        HookError::MissingScope { needed } if needed == ["webhook"]
    ));
    let role = r#"{"type": "error", "error": {"message": "You do not have admin access to this repository."}}"#;
    assert!(matches!(refused(answer(403, role)), HookError::NotAdmin));
    let missing =
        r#"{"type": "error", "error": {"message": "Repository analytical/engine not found"}}"#;
    assert!(matches!(
        refused(answer(404, missing)),
        HookError::RepoNotFound
    ));
    assert!(matches!(
        refused(answer(401, "{}")),
        HookError::Host(HostError::TokenInvalid)
    ));
}

#[test]
fn addresses_the_repository_by_uuid() {
    let b = bitbucket();
    let repo = RepoRef {
        stable_id: "{3e5a1c5e-0c5a-4d0e-9a1b-2f4c6f2b9d11}".into(),
        full_name: "analytical/engine".into(),
    };
    assert_eq!(
        b.repo_url(&repo),
        "https://api.bitbucket.org/2.0/repositories/analytical/%7B3e5a1c5e-0c5a-4d0e-9a1b-2f4c6f2b9d11%7D"
    );
    assert_eq!(
        b.hooks_settings_url(Instance::default(), &repo).as_deref(),
        Some("https://bitbucket.org/analytical/engine/admin/webhooks")
    );
    let listed = r#"{"pagelen": 10, "values": [{"uuid": "{2f8f2e4a-9a5b-4b2a-8a0e-0f5d1c2b3a4d}",
      "url": "https://cs.example/hooks/abc", "description": "Code Source auto-build",
      "subject_type": "repository", "active": true, "events": ["repo:push"], "secret_set": true}], "page": 1, "size": 1}"#;
    let hooks: Paged<HookAnswer> = serde_json::from_str(listed).unwrap();
    let hooks: Vec<Hook> = hooks
        .values
        .into_iter()
        .map(HookAnswer::into_hook)
        .collect();
    assert_eq!(
        hooks,
        [Hook {
            id: "{2f8f2e4a-9a5b-4b2a-8a0e-0f5d1c2b3a4d}".into(),
            url: "https://cs.example/hooks/abc".into(),
            active: true
        }]
    );
}
