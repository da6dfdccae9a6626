//! Gitea and Forgejo (same API), by address: a personal access token sent as
//! `Authorization: token …`, checked with `GET /api/v1/user` (needs `read:user`) and a
//! one-item `GET /api/v1/user/repos` (needs `read:repository`), since Gitea cannot tell a
//! token its own scopes. Repositories page with `Link` and `X-Total-Count`; branches under
//! `/repos/{owner}/{repo}/branches`. No API revokes a token without the user's password: the
//! user deletes it under Settings → Applications. Git user is the login. Webhooks: `hooks`.
//! Docs: docs.gitea.com/development/api-usage and the instance's `/api/swagger`.

mod hooks;

use super::github_style::{self, GitHubStyleRepo, NamedBranch};
use super::hooks::HookHost;
use super::{AccessTokenHost, CodeHost, CredentialShape, Instance, Outbound, RepoHost, RepoId};
use super::{TokenCheck, PER_PAGE};
use crate::config::HostConfig;
use crate::hosts::oauth::github_style_user;
use crate::outbound::address::HostAddress;
use crate::outbound::http::{self, Answer, Auth};
use crate::outbound::instance::InstanceClient;
use crate::secret::SecretString;
use app::api::{BindMethod, Branch, HostError, HostInfo, Provider, RepoPage, RevocationPolicy};
use serde::Deserialize;

/// The scopes a token needs, in Gitea's names.
const SCOPES: [&str; 2] = ["read:user", "read:repository"];

pub struct Gitea {
    /// An operator may suggest their own instance; there is no public default.
    default_address: Option<String>,
    out: Outbound,
}

impl Gitea {
    pub fn new(c: &HostConfig, out: Outbound) -> Self {
        Gitea {
            default_address: c.url.clone(),
            out,
        }
    }
}

fn api(address: &HostAddress, rest: &str) -> String {
    format!("{}/api/v1{rest}", address.as_str())
}

/// Gitea's error body (`{"message": …, "url": …}`).
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

/// What a non-success answer means at a Gitea.
fn refused(a: &Answer) -> HostError {
    let is_json = a.header("content-type").is_some_and(|c| c.contains("json"));
    let body: ErrorBody = serde_json::from_slice(&a.body).unwrap_or_default();
    match a.status {
        // "token does not have at least one of required scope(s): [read:user]"
        403 if body.message.contains("scope") => match required_scopes(&body.message) {
            Some(needed) => HostError::MissingScopes { needed },
            None => HostError::InsufficientScope { scopes: vec![] },
        },
        300..=399 => HostError::Redirected {
            location: crate::outbound::redirect_origin(a.header("location")),
        },
        404 | 405 => HostError::UnexpectedAnswer,
        s if !is_json && s < 500 => HostError::UnexpectedAnswer,
        // 401, rate limits and the rest mean what they mean at every host.
        status => Answer {
            status,
            headers: a.headers.clone(),
            body: vec![],
        }
        .ok()
        .err()
        .unwrap_or(HostError::UnexpectedAnswer),
    }
}

async fn call(
    client: &InstanceClient,
    url: &str,
    token: &SecretString,
) -> Result<Answer, HostError> {
    let a = http::get(client.http(), url, Auth::Token(token)).await?;
    if (200..300).contains(&a.status) {
        Ok(a)
    } else {
        Err(refused(&a))
    }
}

#[async_trait::async_trait]
impl CodeHost for Gitea {
    fn provider(&self) -> Provider {
        Provider::Gitea
    }

    fn info(&self) -> HostInfo {
        HostInfo {
            provider: Provider::Gitea,
            bind: BindMethod::AccessToken,
            revocation: RevocationPolicy::Manual,
            default_address: self.default_address.clone(),
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            repositories: true,
        }
    }

    fn access_token(&self) -> Option<&dyn AccessTokenHost> {
        Some(self)
    }

    fn repos(&self) -> Option<&dyn RepoHost> {
        Some(self)
    }

    fn hooks(&self) -> Option<&dyn HookHost> {
        Some(self)
    }

    async fn validate(&self, at: Instance<'_>, token: &SecretString) -> Result<(), HostError> {
        super::validate_token(&self.out, self, at, token).await
    }

    fn credential(&self, at: Instance<'_>, account: &str) -> CredentialShape {
        let base = at.address.unwrap_or_default().to_string();
        CredentialShape {
            api_url: Some(format!("{base}/api/v1")),
            base_url: base,
            git_username: Some(account.to_string()),
        }
    }
}

/// The scopes a refusal names ("token does not have at least one of required scope(s):
/// [read:repository]"), when they look like scope names: they go into the dialog, so nothing
/// else of the host's text does.
fn required_scopes(message: &str) -> Option<Vec<String>> {
    let (_, rest) = message.split_once("required scope(s): [")?;
    let (list, _) = rest.split_once(']')?;
    let needed: Vec<String> = list
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let scope_like = |s: &String| {
        s.len() <= 40
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || matches!(b, b':' | b'_' | b'-'))
    };
    (!needed.is_empty() && needed.len() <= 8 && needed.iter().all(scope_like)).then_some(needed)
}

#[async_trait::async_trait]
impl AccessTokenHost for Gitea {
    async fn check(
        &self,
        client: &InstanceClient,
        address: &HostAddress,
        token: &SecretString,
    ) -> Result<TokenCheck, HostError> {
        client.check_literal(address)?;
        let user = call(client, &api(address, "/user"), token).await?;
        let account = github_style_user(&user.body).ok_or(HostError::UnexpectedAnswer)?;
        // Proves read:repository (Gitea has no endpoint that lists a token's own scopes).
        call(client, &api(address, "/user/repos?limit=1"), token).await?;
        Ok(TokenCheck {
            account,
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            scopes_unknown: false,
            expires_at: None,
        })
    }
}

#[derive(Deserialize)]
struct DefaultBranch {
    #[serde(default)]
    default_branch: Option<String>,
}

#[async_trait::async_trait]
impl RepoHost for Gitea {
    async fn repositories(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        search: &str,
        page: u32,
    ) -> Result<RepoPage, HostError> {
        let (address, client) = self.out.instance(at)?;
        let url = api(
            &address,
            &format!("/user/repos?page={page}&limit={PER_PAGE}"),
        );
        let answer = call(&client, &url, token).await?;
        let repos: Vec<GitHubStyleRepo> = answer.json()?;
        let mut items = repos
            .into_iter()
            .filter_map(GitHubStyleRepo::into_repository)
            .collect();
        github_style::filter(&mut items, search);
        let more = answer.has_next_link()
            || answer
                .header("x-total-count")
                .and_then(|t| t.trim().parse::<u32>().ok())
                .is_some_and(|total| page * PER_PAGE < total);
        Ok(super::repo_page(items, page, more))
    }

    async fn branches(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoId,
    ) -> Result<Vec<Branch>, HostError> {
        let (address, client) = self.out.instance(at)?;
        let base = api(&address, &format!("/repos/{}", repo.as_str()));
        let about: DefaultBranch = call(&client, &base, token).await?.json()?;
        let url = format!("{base}/branches?limit=50");
        let branches: Vec<NamedBranch> = call(&client, &url, token).await?.json()?;
        Ok(github_style::mark_default(
            branches,
            about.default_branch.as_deref(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn answer(status: u16, body: &str) -> Answer {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        Answer {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn maps_gitea_refusals() {
        let scope = r#"{"message":"token does not have at least one of required scope(s): [read:user]","url":"https://g.example/api/swagger"}"#;
        assert_eq!(
            refused(&answer(403, scope)),
            HostError::MissingScopes {
                needed: vec!["read:user".into()]
            }
        );
        let two = r#"{"message":"token does not have at least one of required scope(s): [read:repository, write:repository]"}"#;
        assert_eq!(
            refused(&answer(403, two)),
            HostError::MissingScopes {
                needed: vec!["read:repository".into(), "write:repository".into()]
            }
        );
        // Named in a way that does not look like scopes: said without names.
        let odd = r#"{"message":"required scope(s): [<b>everything</b>]"}"#;
        assert_eq!(
            refused(&answer(403, odd)),
            HostError::InsufficientScope { scopes: vec![] }
        );
        let vague = r#"{"message":"token scope is insufficient"}"#;
        assert_eq!(
            refused(&answer(403, vague)),
            HostError::InsufficientScope { scopes: vec![] }
        );
        let unknown = r#"{"message":"user does not exist [uid: 0, name: ]","url":"https://g.example/api/swagger"}"#;
        assert_eq!(refused(&answer(401, unknown)), HostError::TokenInvalid);
        assert_eq!(refused(&answer(404, "{}")), HostError::UnexpectedAnswer);
        assert_eq!(
            refused(&answer(503, "{}")),
            HostError::Upstream { status: 503 }
        );
    }
}
