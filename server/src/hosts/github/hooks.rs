//! GitHub's (and GHES's) repository webhooks: `POST/GET/DELETE /repos/{owner}/{repo}/hooks`
//! (a `web` hook, JSON, the `push` event, which covers tags too), deliveries signed in
//! `X-Hub-Signature-256` (HMAC-SHA256 of the body), `X-GitHub-Event` `push` / `ping`, the id
//! in `X-GitHub-Delivery`. Refusals: GitHub answers 404 (or 403) on a repository's hooks to a
//! user who is not an admin, and to a token without a hook scope, which it then names in
//! `X-Accepted-OAuth-Scopes` next to the token's own `X-OAuth-Scopes`.
//! Docs: docs.github.com/rest/repos/webhooks and /webhooks/webhook-events-and-payloads#push.

use super::GitHub;
use crate::hosts::github_style::hooks::{GitHubStylePush, HookAnswer};
use crate::hosts::hooks::{self, Delivery, DeliveryKind, DeliveryRequest, Hook, HookError};
use crate::hosts::hooks::{HookHost, HookSpec, ParseError, RefKind, RepoRef};
use crate::hosts::{Instance, RepoId};
use crate::outbound::http::{self, Answer, Auth};
use crate::secret::SecretString;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// The scope that lets a classic token or an OAuth app manage a repository's hooks. `repo`
/// (which this app asks for) implies it; GitHub names what it accepts in its answer.
const HOOK_SCOPES: &[&str] = &["admin:repo_hook"];

/// Scopes any of which lets a token write a repository's hooks (GitHub's scope docs).
const ACCEPTED: &[&str] = &["repo", "admin:repo_hook", "write:repo_hook"];

/// What a refused hook call means at GitHub.
fn refused(a: Answer, on_repo: bool) -> HookError {
    match a.status {
        403 if a.header("x-ratelimit-remaining") == Some("0") => hooks::host_error(a),
        403 | 404 if lacks_hook_scope(&a) => HookError::missing(HOOK_SCOPES),
        404 if on_repo => HookError::RepoNotFound,
        403 | 404 => HookError::NotAdmin,
        // "Validation Failed": `The "push" event cannot have more than 20 hooks`.
        422 if String::from_utf8_lossy(&a.body).contains("more than") => HookError::LimitReached,
        _ => hooks::host_error(a),
    }
}

/// Whether the answer says the token has scopes and none that allows hooks. Fine-grained
/// tokens and GitHub Apps send no scope headers; their 403 says "Resource not accessible".
fn lacks_hook_scope(a: &Answer) -> bool {
    if let Some(granted) = a.header("x-oauth-scopes") {
        let accepted: Vec<&str> = a
            .header("x-accepted-oauth-scopes")
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .filter(|v: &Vec<&str>| !v.is_empty())
            .unwrap_or_else(|| ACCEPTED.to_vec());
        return !granted
            .split(',')
            .map(str::trim)
            .any(|g| accepted.contains(&g));
    }
    a.status == 403 && String::from_utf8_lossy(&a.body).contains("Resource not accessible")
}

#[derive(Deserialize)]
struct RepoAnswer {
    id: u64,
    full_name: String,
    #[serde(default)]
    clone_url: Option<String>,
}

#[derive(Deserialize)]
struct GitRef {
    object: GitObject,
}

#[derive(Deserialize)]
struct GitObject {
    sha: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct GitTag {
    object: GitObject,
}

/// Annotated tags pointing at annotated tags are legal; this many are followed.
const MAX_PEEL: usize = 4;

impl GitHub {
    fn repo_url(&self, repo: &RepoRef) -> String {
        format!("{}/repos/{}", self.api, repo.full_name)
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        token: &SecretString,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, HookError> {
        Ok(http::send(self.app()?.http(), method, url, Auth::Bearer(token), body).await?)
    }
}

#[async_trait::async_trait]
impl HookHost for GitHub {
    fn hook_scopes(&self) -> &'static [&'static str] {
        HOOK_SCOPES
    }

    fn signs_body(&self) -> bool {
        true
    }

    async fn repository(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        id: &RepoId,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        let url = format!("{}/repos/{}", self.api, id.as_str());
        let a = self.call(Method::GET, &url, token, None).await?;
        let r: RepoAnswer = a.expect_json(|a| refused(a, true))?;
        let clone = r.clone_url.as_deref().and_then(hooks::clean_clone_url);
        Ok((
            RepoRef {
                stable_id: r.id.to_string(),
                full_name: r.full_name,
            },
            clone,
        ))
    }

    async fn create_hook(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError> {
        let body = json!({
            "name": "web",
            "active": true,
            "events": ["push"],
            "config": {
                "url": spec.url,
                "content_type": "json",
                "secret": spec.secret.expose(),
                "insecure_ssl": "0",
            },
        });
        let url = format!("{}/hooks", self.repo_url(repo));
        let a = self.call(Method::POST, &url, token, Some(&body)).await?;
        Ok(a.expect_json::<HookAnswer, _>(|a| refused(a, false))?
            .into_hook())
    }

    async fn list_hooks(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<Vec<Hook>, HookError> {
        let url = format!("{}/hooks?per_page=100", self.repo_url(repo));
        let a = self.call(Method::GET, &url, token, None).await?;
        let hooks: Vec<HookAnswer> = a.expect_json(|a| refused(a, false))?;
        Ok(hooks.into_iter().map(HookAnswer::into_hook).collect())
    }

    async fn update_hook(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError> {
        // `config` is replaced as a whole: the URL goes with the new secret.
        let body = json!({
            "active": true,
            "config": {
                "url": spec.url,
                "content_type": "json",
                "secret": spec.secret.expose(),
                "insecure_ssl": "0",
            },
        });
        let url = format!(
            "{}/hooks/{}",
            self.repo_url(repo),
            hooks::path_encode(hook_id)
        );
        let a = self.call(Method::PATCH, &url, token, Some(&body)).await?;
        Ok(a.expect_json::<HookAnswer, _>(|a| refused(a, false))?
            .into_hook())
    }

    async fn repository_by_id(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        // `GET /repositories/{id}`: by id, so a renamed or transferred repository is found.
        let url = format!(
            "{}/repositories/{}",
            self.api,
            hooks::path_encode(&repo.stable_id)
        );
        let a = self.call(Method::GET, &url, token, None).await?;
        let r: RepoAnswer = a.expect_json(|a| refused(a, true))?;
        let clone = r.clone_url.as_deref().and_then(hooks::clean_clone_url);
        Ok((
            RepoRef {
                stable_id: r.id.to_string(),
                full_name: r.full_name,
            },
            clone,
        ))
    }

    async fn delete_hook(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
    ) -> Result<(), HookError> {
        let url = format!(
            "{}/hooks/{}",
            self.repo_url(repo),
            hooks::path_encode(hook_id)
        );
        let a = self.call(Method::DELETE, &url, token, None).await?;
        match a.status {
            200..=299 => Ok(()),
            // Gone, or never ours to see: GitHub cannot tell the two apart for us.
            404 if !lacks_hook_scope(&a) => Ok(()),
            _ => Err(refused(a, false)),
        }
    }

    fn verify(&self, req: &DeliveryRequest<'_>, secret: &SecretString, _now_ms: i64) -> bool {
        hooks::hex_signature_matches(
            req.header("x-hub-signature-256"),
            "sha256=",
            secret,
            req.body,
        )
    }

    fn parse(&self, req: &DeliveryRequest<'_>) -> Result<Delivery, ParseError> {
        let event = req.required("x-github-event")?.to_string();
        let kind = match event.as_str() {
            "ping" => DeliveryKind::Ping,
            "push" => DeliveryKind::Push(req.json::<GitHubStylePush>()?.into_push(true)),
            other => DeliveryKind::Other(other.to_string()),
        };
        Ok(Delivery {
            id: req.header("x-github-delivery").map(str::to_string),
            event,
            kind,
        })
    }

    async fn ref_head(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        kind: RefKind,
        name: &str,
    ) -> Result<Option<String>, HookError> {
        // `git/ref/…` is one small object; an annotated tag is peeled through `git/tags`.
        let full = kind.full_ref(name);
        let short = full.trim_start_matches("refs/");
        let url = format!(
            "{}/git/ref/{}",
            self.repo_url(repo),
            hooks::path_encode(short)
        );
        let a = self.call(Method::GET, &url, token, None).await?;
        // 409: the repository is empty, so it has no refs at all.
        let Some(head) = a.optional_json::<GitRef, _>(&[404, 409], |a| refused(a, true))? else {
            return Ok(None);
        };
        let mut object = head.object;
        for _ in 0..MAX_PEEL {
            if object.kind != "tag" {
                break;
            }
            let url = format!("{}/git/tags/{}", self.repo_url(repo), object.sha);
            let a = self.call(Method::GET, &url, token, None).await?;
            object = a.expect_json::<GitTag, _>(|a| refused(a, true))?.object;
        }
        Ok(Some(object.sha))
    }

    fn hooks_settings_url(&self, _at: Instance<'_>, repo: &RepoRef) -> Option<String> {
        Some(format!("{}/{}/settings/hooks", self.web, repo.full_name))
    }
}

#[cfg(test)]
mod tests;
