//! The fake hosts' repositories as the hook APIs and the ref lookups see them: their stable ids,
//! names, clone URLs and default ref heads, with the renames and recreations a test made through
//! the control endpoints applied (issue #23: a hook follows the repository's id, not its name).
//!
//! | host | repositories | stable id | user is not admin on |
//! |---|---|---|---|
//! | GitHub | `octo-alice/repo-01` … `repo-45` | `1000 + n` | `repo-45` |
//! | Gitee | `gitee-bob/repo-01` … `repo-45` | `2000 + n` | `repo-45` |
//! | GitLab | `alice/repo-01` … `repo-45` | project `3000 + n` | `repo-45` (Developer) |
//! | Bitbucket | `fake-workspace/repo-01` … `repo-25` | `{00000000-0000-4000-8000-0000000000nn}` | `repo-25` |
//! | Gitea | `gitea-alice/repo-01` … `repo-25` | `100 + n` | `repo-25` |
//!
//! A recreated repository (same name, new repository) gets `10000 × generation` added to its
//! numeric id (Bitbucket: the generation in the UUID's third group).

use super::Host;
use sha2::Digest;
use std::collections::HashMap;

struct Spec {
    owner: &'static str,
    count: u32,
    base_id: u64,
    web: &'static str,
    default_branch: &'static str,
    branches: &'static [&'static str],
}

fn spec(host: Host) -> Spec {
    const THREE: &[&str] = &["main", "develop", "release"];
    match host {
        Host::Github => Spec {
            owner: "octo-alice",
            count: 45,
            base_id: 1000,
            web: "https://github.com",
            default_branch: "main",
            branches: THREE,
        },
        Host::Gitee => Spec {
            owner: "gitee-bob",
            count: 45,
            base_id: 2000,
            web: "https://gitee.com",
            default_branch: "master",
            branches: &["master", "develop"],
        },
        Host::Gitlab => Spec {
            owner: "alice",
            count: 45,
            base_id: 3000,
            web: "https://gitlab.example",
            default_branch: "main",
            branches: THREE,
        },
        Host::Bitbucket => Spec {
            owner: "fake-workspace",
            count: 25,
            base_id: 0,
            web: "https://bitbucket.org",
            default_branch: "main",
            branches: THREE,
        },
        Host::Gitea => Spec {
            owner: "gitea-alice",
            count: 25,
            base_id: 100,
            // Replaced by the fake's own origin (Gitea is self-hosted).
            web: "",
            default_branch: "main",
            branches: THREE,
        },
    }
}

/// What the control endpoints changed: new names, and how many times a repository was recreated.
#[derive(Default)]
pub(crate) struct Changes {
    names: HashMap<(Host, u32), String>,
    generations: HashMap<(Host, u32), u32>,
}

impl Changes {
    pub(crate) fn rename(&mut self, repo: &RepoInfo, new_name: &str) {
        self.names
            .insert((repo.host, repo.number), new_name.to_string());
    }

    pub(crate) fn recreate(&mut self, repo: &RepoInfo) {
        *self
            .generations
            .entry((repo.host, repo.number))
            .or_default() += 1;
    }
}

/// One repository of a fake host.
#[derive(Clone, Debug)]
pub(crate) struct RepoInfo {
    pub host: Host,
    /// `n` in `repo-nn` (kept across renames).
    pub number: u32,
    /// The host's own id: a number, or Bitbucket's `{uuid}`.
    pub stable_id: String,
    pub owner: String,
    pub name: String,
    pub full_name: String,
    pub html_url: String,
    pub clone_url: String,
    pub default_branch: String,
    /// Whether the fake user may manage the repository's hooks.
    pub admin: bool,
}

impl RepoInfo {
    pub(crate) fn numeric_id(&self) -> u64 {
        self.stable_id.parse().unwrap_or(0)
    }
}

fn info(host: Host, n: u32, changes: &Changes, origin: &str) -> RepoInfo {
    let s = spec(host);
    let generation = changes
        .generations
        .get(&(host, n))
        .copied()
        .unwrap_or_default();
    let name = changes
        .names
        .get(&(host, n))
        .cloned()
        .unwrap_or_else(|| format!("repo-{n:02}"));
    let stable_id = match host {
        Host::Bitbucket => format!("{{00000000-0000-4{generation:03x}-8000-0000000000{n:02}}}"),
        _ => (s.base_id + u64::from(n) + 10_000 * u64::from(generation)).to_string(),
    };
    let full_name = format!("{}/{name}", s.owner);
    let web = match host {
        Host::Gitea => format!("{origin}/gitea"),
        _ => s.web.to_string(),
    };
    let html_url = format!("{web}/{full_name}");
    RepoInfo {
        host,
        number: n,
        stable_id,
        owner: s.owner.into(),
        name,
        clone_url: format!("{html_url}.git"),
        html_url,
        full_name,
        default_branch: s.default_branch.into(),
        admin: n != s.count,
    }
}

/// The repository a caller named: by full name (owner case-insensitive, as the hosts match it),
/// by stable id, or on Bitbucket by `{workspace}/{uuid}`.
pub(crate) fn find(host: Host, key: &str, changes: &Changes, origin: &str) -> Option<RepoInfo> {
    (1..=spec(host).count)
        .map(|n| info(host, n, changes, origin))
        .find(|r| {
            let (owner, name) = key.split_once('/').unwrap_or(("", key));
            let by_name = owner.eq_ignore_ascii_case(&r.owner) && name == r.name;
            let by_id = key == r.stable_id
                || (host == Host::Bitbucket && owner == r.owner && name == r.stable_id);
            by_name || by_id
        })
}

/// The head of a ref no test has set: the catalogue's branches have one (Gitea and Bitbucket the
/// same commits their branch listings show), tags and other branches do not exist.
pub(crate) fn default_head(host: Host, repo: &RepoInfo, full_ref: &str) -> Option<String> {
    let branch = full_ref.strip_prefix("refs/heads/")?;
    let n = spec(host).branches.iter().position(|b| *b == branch)? as u64;
    let i = u64::from(repo.number);
    Some(match host {
        Host::Gitea => format!("{:040x}", 0x617e_a000_u64 + i * 10 + n),
        Host::Bitbucket => format!("{:040x}", 0xfa4e_0000_u64 + n),
        _ => {
            let digest =
                sha2::Sha256::digest(format!("{}/{}/{full_ref}", host.as_str(), repo.stable_id));
            digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
        }
    })
}
