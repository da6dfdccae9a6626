//! The fakes' shared webhook state: which hooks are registered on which repository, each
//! repository's ref → head commit map, and the deliveries sent. Each fake host's hook API
//! (`oauth/github_hooks.rs`, `gitlab/hooks.rs`, `oauth/gitee_hooks.rs`, `bitbucket/hooks.rs`,
//! `gitea/hooks.rs`) keeps its hooks here, and the test-only control endpoints (`control`) read
//! them to send a push delivery signed exactly as that host signs (`payload`, `sign`, `deliver`).
//!
//! Hooks are keyed by the repository's stable id (the host's own id), so a renamed repository
//! keeps its hooks and a repository recreated under the same name does not.

pub(crate) mod catalogue;
pub(crate) mod control;
mod deliver;
mod payload;
pub(crate) mod sign;
#[cfg(test)]
mod tests;

pub(crate) use catalogue::RepoInfo;
pub(crate) use deliver::{Delivery, Outcome};
pub(crate) use payload::github_ping as payload_ping;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The fake code hosts that take webhooks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Host {
    Github,
    Gitlab,
    Gitee,
    Bitbucket,
    Gitea,
}

impl Host {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Host::Github => "github",
            Host::Gitlab => "gitlab",
            Host::Gitee => "gitee",
            Host::Bitbucket => "bitbucket",
            Host::Gitea => "gitea",
        }
    }
}

/// One registered hook. `events` holds the host's own event names (GitHub `push`, Bitbucket
/// `repo:push`, GitLab/Gitee the `*_events` flags that are on); `config` the host-specific fields
/// the host echoes back (content type, Gitee's `encryption_type`, Bitbucket's description …).
#[derive(Clone, Debug)]
pub(crate) struct Hook {
    pub id: u64,
    pub url: String,
    /// Never shown back by any API (the hosts mask or omit it).
    pub secret: Option<String>,
    pub active: bool,
    pub events: Vec<String>,
    pub config: Value,
}

impl Hook {
    pub(crate) fn wants(&self, event: &str) -> bool {
        self.active && self.events.iter().any(|e| e == event || e == "*")
    }

    /// Bitbucket names hooks by UUID; the fake derives it from the numeric id.
    pub(crate) fn bitbucket_uuid(&self) -> String {
        format!("{{b00c0000-0000-4000-8000-{:012x}}}", self.id)
    }
}

/// A repository's ref heads: `None` marks a ref deleted by a push (so a default branch does not
/// come back), absent refs fall back to the catalogue's defaults.
#[derive(Default)]
struct RepoState {
    hooks: Vec<Hook>,
    refs: BTreeMap<String, Option<String>>,
    /// The deliveries of the last push (what `redeliver` resends).
    last: Vec<Delivery>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    repos: HashMap<(Host, String), RepoState>,
    /// Every delivery sent (pings included), in order: `GET /_fake/{host}/deliveries`.
    sent: Vec<(Host, String, Outcome)>,
    catalogue: catalogue::Changes,
}

/// The registry every fake host's hook API and the control endpoints share.
#[derive(Clone)]
pub struct Hooks {
    inner: Arc<Mutex<Inner>>,
    client: reqwest::Client,
}

impl Default for Hooks {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Hooks {
            inner: Arc::default(),
            client,
        }
    }
}

impl Hooks {
    /// Registers a hook (the id is assigned here) and returns it.
    pub(crate) fn create(&self, host: Host, repo: &str, mut hook: Hook) -> Hook {
        let mut inner = self.inner.lock().unwrap();
        inner.next_id += 1;
        hook.id = inner.next_id;
        let state = inner.repos.entry((host, repo.to_string())).or_default();
        state.hooks.push(hook.clone());
        hook
    }

    pub(crate) fn list(&self, host: Host, repo: &str) -> Vec<Hook> {
        let inner = self.inner.lock().unwrap();
        inner
            .repos
            .get(&(host, repo.to_string()))
            .map(|s| s.hooks.clone())
            .unwrap_or_default()
    }

    pub(crate) fn get(&self, host: Host, repo: &str, id: u64) -> Option<Hook> {
        self.list(host, repo).into_iter().find(|h| h.id == id)
    }

    /// Removes a hook; whether it was there.
    pub(crate) fn delete(&self, host: Host, repo: &str, id: u64) -> bool {
        let mut inner = self.inner.lock().unwrap();
        let Some(state) = inner.repos.get_mut(&(host, repo.to_string())) else {
            return false;
        };
        let before = state.hooks.len();
        state.hooks.retain(|h| h.id != id);
        state.hooks.len() != before
    }

    /// Changes a hook in place (same id: the hosts' PATCH/PUT); the hook after, if it was there.
    pub(crate) fn update(
        &self,
        host: Host,
        repo: &str,
        id: u64,
        change: impl FnOnce(&mut Hook),
    ) -> Option<Hook> {
        let mut inner = self.inner.lock().unwrap();
        let hook = inner
            .repos
            .get_mut(&(host, repo.to_string()))
            .and_then(|s| s.hooks.iter_mut().find(|h| h.id == id))?;
        change(hook);
        Some(hook.clone())
    }

    /// Turns a hook on or off; whether it was there.
    pub(crate) fn set_active(&self, host: Host, repo: &str, id: u64, active: bool) -> bool {
        let mut inner = self.inner.lock().unwrap();
        let hook = inner
            .repos
            .get_mut(&(host, repo.to_string()))
            .and_then(|s| s.hooks.iter_mut().find(|h| h.id == id));
        match hook {
            Some(h) => {
                h.active = active;
                true
            }
            None => false,
        }
    }

    /// The head commit of `full_ref` (`refs/heads/x`, `refs/tags/y`), if the ref exists.
    pub(crate) fn head(&self, host: Host, repo: &RepoInfo, full_ref: &str) -> Option<String> {
        let inner = self.inner.lock().unwrap();
        let set = inner
            .repos
            .get(&(host, repo.stable_id.clone()))
            .and_then(|s| s.refs.get(full_ref).cloned());
        match set {
            Some(head) => head,
            None => catalogue::default_head(host, repo, full_ref),
        }
    }

    /// The tags a push made (name, head), newest name last in name order.
    pub(crate) fn tags(&self, host: Host, repo: &RepoInfo) -> Vec<(String, String)> {
        let inner = self.inner.lock().unwrap();
        inner
            .repos
            .get(&(host, repo.stable_id.clone()))
            .map(|s| {
                s.refs
                    .iter()
                    .filter_map(|(r, head)| {
                        Some((r.strip_prefix("refs/tags/")?.to_string(), head.clone()?))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets (or with `None` deletes) a ref's head.
    pub(crate) fn set_ref(&self, host: Host, repo: &str, full_ref: &str, head: Option<String>) {
        let mut inner = self.inner.lock().unwrap();
        let state = inner.repos.entry((host, repo.to_string())).or_default();
        state.refs.insert(full_ref.to_string(), head);
    }

    fn remember(&self, host: Host, repo: &str, outcomes: &[Outcome], is_push: bool) {
        let mut inner = self.inner.lock().unwrap();
        if is_push {
            let state = inner.repos.entry((host, repo.to_string())).or_default();
            state.last = outcomes.iter().map(|o| o.delivery.clone()).collect();
        }
        for o in outcomes {
            inner.sent.push((host, repo.to_string(), o.clone()));
        }
    }

    fn last(&self, host: Host, repo: &str) -> Vec<Delivery> {
        let inner = self.inner.lock().unwrap();
        inner
            .repos
            .get(&(host, repo.to_string()))
            .map(|s| s.last.clone())
            .unwrap_or_default()
    }

    /// Sends deliveries one after the other (as a host's queue would) and records them.
    pub(crate) async fn send(
        &self,
        host: Host,
        repo: &str,
        deliveries: Vec<Delivery>,
        is_push: bool,
    ) -> Vec<Outcome> {
        let mut outcomes = vec![];
        for d in deliveries {
            outcomes.push(deliver::send(&self.client, d).await);
        }
        self.remember(host, repo, &outcomes, is_push);
        outcomes
    }

    /// Every delivery sent for `host`, oldest first.
    fn sent(&self, host: Host) -> Vec<Outcome> {
        let inner = self.inner.lock().unwrap();
        inner
            .sent
            .iter()
            .filter(|(h, _, _)| *h == host)
            .map(|(_, _, o)| o.clone())
            .collect()
    }

    /// A repository by the name (or id) a caller used, with renames and recreations applied.
    /// `origin`: the fake's own address (Gitea's URLs are on it).
    pub(crate) fn repo(&self, host: Host, key: &str, origin: &str) -> Option<RepoInfo> {
        let inner = self.inner.lock().unwrap();
        catalogue::find(host, key, &inner.catalogue, origin)
    }

    /// Renames or recreates a repository (control endpoints).
    pub(crate) fn catalogue_mut<R>(&self, f: impl FnOnce(&mut catalogue::Changes) -> R) -> R {
        f(&mut self.inner.lock().unwrap().catalogue)
    }
}

/// A random UUID v4 (delivery ids), lower-case hex with hyphens.
pub(crate) fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The all-zero commit every host uses for "no commit" (created or deleted refs).
pub(crate) const ZERO: &str = "0000000000000000000000000000000000000000";

/// The timestamp the fakes put in `created_at` fields (the hosts' exact times do not matter).
pub(crate) const CREATED_AT: &str = "2025-06-01T09:00:00Z";
