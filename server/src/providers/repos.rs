//! Listing the bound account's repositories and a repository's branches, for the build
//! configuration: GitHub `/user/repos`, Gitee `/api/v5/user/repos`, GitLab
//! `/api/v4/projects?membership=true`, each paginated the host's way. Answers are read within
//! [`super::limits::MAX_ANSWER`].

use super::gitlab::classify;
use super::limits::{parse_json, read_bounded, MAX_ANSWER};
use crate::secret::SecretString;
use crate::util::query_encode;
use app::api::{Branch, HostError, Provider, RepoPage, Repository};
use reqwest::header;
use serde::Deserialize;

pub const PER_PAGE: u32 = 20;

/// Where and how to ask.
pub struct RepoSource {
    pub provider: Provider,
    /// API base: `https://api.github.com`, `https://gitee.com/api/v5`, `https://host/api/v4`.
    pub api: String,
    pub http: reqwest::Client,
    pub token: SecretString,
}

#[derive(Deserialize)]
struct HostRepo {
    #[serde(alias = "path_with_namespace")]
    full_name: String,
    id: serde_json::Value,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(alias = "web_url", default)]
    html_url: Option<String>,
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct HostBranch {
    name: String,
    #[serde(default)]
    default: bool,
}

impl RepoSource {
    fn get(&self, url: String) -> reqwest::RequestBuilder {
        let mut auth = match self.provider {
            Provider::GitLab => header::HeaderValue::from_str(self.token.expose()),
            _ => header::HeaderValue::from_str(&format!("Bearer {}", self.token.expose())),
        }
        .unwrap_or_else(|_| header::HeaderValue::from_static(""));
        auth.set_sensitive(true);
        let name = if self.provider == Provider::GitLab {
            header::HeaderName::from_static("private-token")
        } else {
            header::AUTHORIZATION
        };
        self.http
            .get(url)
            .header(name, auth)
            .header(header::ACCEPT, "application/json")
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, HostError> {
        let resp = req.send().await.map_err(|e| classify(&e))?;
        match resp.status().as_u16() {
            200..=299 => Ok(resp),
            401 => Err(HostError::TokenInvalid),
            403 | 429
                if resp
                    .headers()
                    .get("x-ratelimit-remaining")
                    .is_some_and(|v| v == "0")
                    || resp.status().as_u16() == 429 =>
            {
                Err(HostError::RateLimited {
                    retry_after_secs: None,
                })
            }
            s => Err(HostError::Upstream { status: s }),
        }
    }

    pub async fn repositories(&self, search: &str, page: u32) -> Result<RepoPage, HostError> {
        let page = page.max(1);
        let search: String = search.chars().take(100).collect();
        let url = match self.provider {
            Provider::GitHub => format!(
                "{}/user/repos?per_page={PER_PAGE}&page={page}&sort=updated",
                self.api
            ),
            Provider::Gitee => format!(
                "{}/user/repos?per_page={PER_PAGE}&page={page}&sort=updated&q={}",
                self.api,
                query_encode(&search)
            ),
            _ => format!(
                "{}/projects?membership=true&simple=true&per_page={PER_PAGE}&page={page}&search={}",
                self.api,
                query_encode(&search)
            ),
        };
        let resp = self.send(self.get(url)).await?;
        let h = resp.headers().clone();
        let hdr = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = read_bounded(resp, MAX_ANSWER).await?;
        let repos: Vec<HostRepo> = parse_json(&body, HostError::Upstream { status: 200 })?;
        let more = match self.provider {
            // Gitee: `total_count` header.
            Provider::Gitee => hdr("total_count")
                .and_then(|t| t.parse::<u32>().ok())
                .is_some_and(|t| page * PER_PAGE < t),
            // GitHub and GitLab: `Link: <…>; rel="next"`.
            _ => hdr("link").is_some_and(|l| l.contains("rel=\"next\"")),
        };
        let mut items: Vec<Repository> = repos
            .into_iter()
            .map(|r| Repository {
                id: match self.provider {
                    Provider::GitLab => r.id.to_string(),
                    _ => r.full_name.clone(),
                },
                private: r
                    .private
                    .unwrap_or(r.visibility.as_deref() != Some("public")),
                web_url: r
                    .html_url
                    .filter(|u| app::format::safe_http_url(u).is_some()),
                default_branch: r.default_branch,
                full_name: r.full_name,
            })
            .collect();
        // GitHub's /user/repos cannot search: filter the page (the others searched upstream).
        if self.provider == Provider::GitHub && !search.is_empty() {
            let s = search.to_lowercase();
            items.retain(|r| r.full_name.to_lowercase().contains(&s));
        }
        Ok(RepoPage {
            items,
            page,
            next_page: more.then_some(page + 1),
        })
    }

    pub async fn branches(&self, repo_id: &str) -> Result<Vec<Branch>, HostError> {
        let ok_id = !repo_id.is_empty()
            && repo_id.len() <= 200
            && repo_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'))
            && !repo_id.contains("..");
        if !ok_id {
            return Err(HostError::Upstream { status: 400 });
        }
        let url = match self.provider {
            Provider::GitLab => format!(
                "{}/projects/{}/repository/branches?per_page=100",
                self.api,
                query_encode(repo_id)
            ),
            _ => format!("{}/repos/{repo_id}/branches?per_page=100", self.api),
        };
        let resp = self.send(self.get(url)).await?;
        let body = read_bounded(resp, MAX_ANSWER).await?;
        let branches: Vec<HostBranch> = parse_json(&body, HostError::Upstream { status: 200 })?;
        Ok(branches
            .into_iter()
            .map(|b| Branch {
                name: b.name,
                default: b.default,
            })
            .collect())
    }
}
