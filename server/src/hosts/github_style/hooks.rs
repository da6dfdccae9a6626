//! The webhook shapes GitHub documents and Gitea and Gitee copy: a hook as their hook APIs
//! answer it, and the core of a `push` payload (ref, before/after, head commit, repository,
//! pusher). Each host's own module adds what differs (Gitee's top-level url, Gitea's `create`
//! event, GitHub's tag peeling).

use crate::hosts::hooks::{self, Hook, Push, RefChange, RefKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct HookConfig {
    #[serde(default)]
    url: Option<String>,
}

/// A hook as GitHub, Gitea and Gitee describe it (Gitee puts the url at the top).
#[derive(Deserialize)]
pub(in crate::hosts) struct HookAnswer {
    id: u64,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    config: Option<HookConfig>,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

impl HookAnswer {
    /// `config.url` is where it delivers (GitHub's top-level `url` is the hook's API URL).
    pub(in crate::hosts) fn into_hook(self) -> Hook {
        Hook {
            id: self.id.to_string(),
            url: self
                .config
                .and_then(|c| c.url)
                .or(self.url)
                .unwrap_or_default(),
            active: self.active,
        }
    }
}

/// A `push` payload as GitHub documents it; Gitea and Gitee send the same core fields.
#[derive(Deserialize)]
pub(in crate::hosts) struct GitHubStylePush {
    #[serde(rename = "ref")]
    full_ref: String,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    head_commit: Option<CommitId>,
    #[serde(default)]
    repository: Option<PayloadRepo>,
    #[serde(default)]
    pusher: Option<Person>,
    #[serde(default)]
    sender: Option<Person>,
}

#[derive(Deserialize)]
pub(in crate::hosts) struct CommitId {
    id: String,
}

#[derive(Deserialize)]
pub(in crate::hosts) struct PayloadRepo {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    clone_url: Option<String>,
}

/// A pusher or sender: GitHub's pusher has `name`, Gitea's `login`/`username`, senders `login`.
#[derive(Deserialize)]
pub(in crate::hosts) struct Person {
    #[serde(default)]
    login: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

impl Person {
    pub(in crate::hosts) fn handle(self) -> Option<String> {
        self.login
            .or(self.username)
            .or(self.name)
            .filter(|s| !s.is_empty())
    }
}

impl GitHubStylePush {
    /// `peel_tags`: for a tag, the commit `head_commit` names rather than the tag object
    /// (GitHub; Gitea's `create` event cannot peel, so its push must not either).
    pub(in crate::hosts) fn into_push(self, peel_tags: bool) -> Push {
        let mut change = RefChange::from_full(
            &self.full_ref,
            self.before.as_deref(),
            self.after.as_deref(),
        );
        if let Some(c) = change.as_mut() {
            if self.deleted {
                c.after = None;
            } else if peel_tags && c.kind == RefKind::Tag && c.after.is_some() {
                if let Some(head) = self.head_commit.and_then(|h| hooks::object_id(Some(&h.id))) {
                    c.after = Some(head);
                }
            }
        }
        let pusher = self
            .pusher
            .and_then(Person::handle)
            .or_else(|| self.sender.and_then(Person::handle));
        push_of(change.into_iter().collect(), self.repository, pusher)
    }
}

/// A push of `changes` to the repository a GitHub-style payload describes.
pub(in crate::hosts) fn push_of(
    changes: Vec<RefChange>,
    repo: Option<PayloadRepo>,
    pusher: Option<String>,
) -> Push {
    Push {
        changes,
        repo_stable_id: repo.as_ref().and_then(|r| r.id).map(|id| id.to_string()),
        full_name: repo.as_ref().and_then(|r| r.full_name.clone()),
        clone_url: repo
            .and_then(|r| r.clone_url)
            .as_deref()
            .and_then(hooks::clean_clone_url),
        pusher,
    }
}
