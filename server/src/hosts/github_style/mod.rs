//! What GitHub and the hosts that copy its API (Gitee, Gitea, and Bitbucket's branches) share
//! in shape: a repository in a listing, a branch by name, a search done here for APIs that
//! cannot search, the default branch marked; and their webhooks' shapes ([`hooks`]).

pub(in crate::hosts) mod hooks;

use app::api::{Branch, Repository};
use serde::Deserialize;

/// A repository as GitHub describes it (Gitee and Gitea copy the shape).
#[derive(Deserialize)]
pub(super) struct GitHubStyleRepo {
    /// Every one of the three sends it; a listing without it still lists.
    #[serde(default)]
    id: Option<u64>,
    full_name: String,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    default_branch: Option<String>,
}

impl GitHubStyleRepo {
    /// The id passed back for branches is `owner/name`.
    pub(super) fn into_repository(self) -> Option<Repository> {
        Some(Repository {
            id: super::listed_id(&self.full_name)?,
            stable_id: self.id.map(|id| id.to_string()).unwrap_or_default(),
            private: self.private,
            web_url: self
                .html_url
                .filter(|u| app::api::safe_http_url(u).is_some()),
            default_branch: self.default_branch,
            full_name: self.full_name,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct NamedBranch {
    pub(super) name: String,
}

/// Keeps the repositories whose name contains `search` (for APIs that cannot search).
pub(super) fn filter(items: &mut Vec<Repository>, search: &str) {
    if !search.is_empty() {
        let s = search.to_lowercase();
        items.retain(|r| r.full_name.to_lowercase().contains(&s));
    }
}

/// Branches with the repository's default one marked.
pub(super) fn mark_default(branches: Vec<NamedBranch>, default: Option<&str>) -> Vec<Branch> {
    branches
        .into_iter()
        .map(|b| Branch {
            default: Some(b.name.as_str()) == default,
            name: b.name,
        })
        .collect()
}
