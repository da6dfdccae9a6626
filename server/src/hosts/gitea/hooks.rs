//! Gitea's and Forgejo's repository webhooks: `POST/GET/DELETE /api/v1/repos/{owner}/{repo}/hooks`
//! (a `gitea` hook, JSON, events `push` and `create`), deliveries signed in
//! `X-Gitea-Signature` / `X-Forgejo-Signature` (hex HMAC-SHA256 of the body), the event in
//! `X-Gitea-Event` / `X-Forgejo-Event`, the id in `X-Gitea-Delivery` / `X-Forgejo-Delivery`.
//! A tag push arrives twice, as `push` (`ref: refs/tags/x`) and as `create`
//! (`ref_type: tag`); both become the same [`RefChange`] so de-duplication merges them (both
//! carry the ref's new object id, which for an annotated tag is the tag object).
//! Refusals: 403 naming "required scope(s)" is the token's scope, any other 403 the user's
//! role. Docs: docs.gitea.com/usage/webhooks and the instance's `/api/swagger`.

use super::{api, refused as host_refusal, Gitea};
use crate::hosts::github_style::hooks::{
    push_of, GitHubStylePush, HookAnswer, PayloadRepo, Person,
};
use crate::hosts::hooks::{self, Delivery, DeliveryKind, DeliveryRequest, Hook, HookError};
use crate::hosts::hooks::{HookHost, HookSpec, ParseError, Push, RefChange, RefKind, RepoRef};
use crate::hosts::{Instance, RepoId};
use crate::outbound::http::{self, Answer, Auth};
use crate::secret::SecretString;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// The scope a token needs to manage a repository's hooks, in Gitea's names.
const HOOK_SCOPES: &[&str] = &["write:repository"];

/// What a refused hook call means at a Gitea.
fn refused(a: Answer) -> HookError {
    match a.status {
        403 if String::from_utf8_lossy(&a.body).contains("scope") => {
            HookError::missing(HOOK_SCOPES)
        }
        403 => HookError::NotAdmin,
        404 => HookError::RepoNotFound,
        _ => HookError::Host(host_refusal(&a)),
    }
}

#[derive(Deserialize)]
struct RepoAnswer {
    id: u64,
    full_name: String,
    #[serde(default)]
    clone_url: Option<String>,
}

#[derive(Deserialize)]
struct BranchAnswer {
    commit: BranchCommit,
}

#[derive(Deserialize)]
struct BranchCommit {
    id: String,
}

#[derive(Deserialize)]
struct TagAnswer {
    commit: TagCommit,
}

#[derive(Deserialize)]
struct TagCommit {
    sha: String,
}

/// The `create` event: a branch or tag was created (`ref` is its short name).
#[derive(Deserialize)]
struct CreatePayload {
    sha: String,
    #[serde(rename = "ref")]
    name: String,
    ref_type: CreatedRef,
    #[serde(default)]
    sender: Option<Person>,
    #[serde(default)]
    repository: Option<PayloadRepo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum CreatedRef {
    Branch,
    Tag,
}

impl Gitea {
    async fn call(
        &self,
        at: Instance<'_>,
        method: Method,
        rest: &str,
        token: &SecretString,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, HookError> {
        let (address, client) = self.out.instance(at)?;
        let url = api(&address, rest);
        Ok(http::send(client.http(), method, &url, Auth::Token(token), body).await?)
    }

    fn event<'r>(req: &'r DeliveryRequest<'_>) -> Result<&'r str, ParseError> {
        req.header("x-forgejo-event")
            .map(Ok)
            .unwrap_or_else(|| req.required("x-gitea-event"))
    }
}

#[async_trait::async_trait]
impl HookHost for Gitea {
    fn hook_scopes(&self) -> &'static [&'static str] {
        HOOK_SCOPES
    }

    fn signs_body(&self) -> bool {
        true
    }

    async fn repository(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        id: &RepoId,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        let rest = format!("/repos/{}", id.as_str());
        let a = self.call(at, Method::GET, &rest, token, None).await?;
        let r: RepoAnswer = a.expect_json(refused)?;
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
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError> {
        let body = json!({
            "type": "gitea",
            "active": true,
            "events": ["push", "create"],
            "branch_filter": "*",
            "config": {
                "url": spec.url,
                "content_type": "json",
                "secret": spec.secret.expose(),
            },
        });
        let rest = format!("/repos/{}/hooks", repo.full_name);
        let a = self
            .call(at, Method::POST, &rest, token, Some(&body))
            .await?;
        Ok(a.expect_json::<HookAnswer, _>(refused)?.into_hook())
    }

    async fn list_hooks(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<Vec<Hook>, HookError> {
        let rest = format!("/repos/{}/hooks?limit=50", repo.full_name);
        let a = self.call(at, Method::GET, &rest, token, None).await?;
        let hooks: Vec<HookAnswer> = a.expect_json(refused)?;
        Ok(hooks.into_iter().map(HookAnswer::into_hook).collect())
    }

    async fn update_hook(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError> {
        // `PATCH /repos/{owner}/{repo}/hooks/{id}` (EditHookOption): `config` is merged.
        let body = json!({
            "active": true,
            "config": {
                "url": spec.url,
                "content_type": "json",
                "secret": spec.secret.expose(),
            },
        });
        let rest = format!(
            "/repos/{}/hooks/{}",
            repo.full_name,
            hooks::path_encode(hook_id)
        );
        let a = self
            .call(at, Method::PATCH, &rest, token, Some(&body))
            .await?;
        Ok(a.expect_json::<HookAnswer, _>(refused)?.into_hook())
    }

    async fn repository_by_id(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        // `GET /repositories/{id}`: by id, so a renamed or transferred repository is found.
        let rest = format!("/repositories/{}", hooks::path_encode(&repo.stable_id));
        let a = self.call(at, Method::GET, &rest, token, None).await?;
        let r: RepoAnswer = a.expect_json(refused)?;
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
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
    ) -> Result<(), HookError> {
        let rest = format!(
            "/repos/{}/hooks/{}",
            repo.full_name,
            hooks::path_encode(hook_id)
        );
        let a = self.call(at, Method::DELETE, &rest, token, None).await?;
        hooks::deleted(a, refused)
    }

    fn verify(&self, req: &DeliveryRequest<'_>, secret: &SecretString, _now_ms: i64) -> bool {
        let signature = req
            .header("x-forgejo-signature")
            .or_else(|| req.header("x-gitea-signature"));
        hooks::hex_signature_matches(signature, "", secret, req.body)
    }

    fn parse(&self, req: &DeliveryRequest<'_>) -> Result<Delivery, ParseError> {
        let event = Self::event(req)?.to_string();
        let kind = match event.as_str() {
            // Gitea's `after` is the ref's new object for tags too, like `create`'s `sha`.
            "push" => DeliveryKind::Push(req.json::<GitHubStylePush>()?.into_push(false)),
            "create" => DeliveryKind::Push(req.json::<CreatePayload>()?.into_push()),
            other => DeliveryKind::Other(other.to_string()),
        };
        let id = req
            .header("x-forgejo-delivery")
            .or_else(|| req.header("x-gitea-delivery"));
        Ok(Delivery {
            id: id.map(str::to_string),
            event,
            kind,
        })
    }

    async fn ref_head(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        kind: RefKind,
        name: &str,
    ) -> Result<Option<String>, HookError> {
        let (what, name) = match kind {
            RefKind::Branch => ("branches", hooks::path_encode(name)),
            RefKind::Tag => ("tags", hooks::path_encode(name)),
        };
        let rest = format!("/repos/{}/{what}/{name}", repo.full_name);
        let a = self.call(at, Method::GET, &rest, token, None).await?;
        Ok(match kind {
            RefKind::Branch => a
                .optional_json::<BranchAnswer, _>(hooks::NO_REF, refused)?
                .map(|b| b.commit.id),
            RefKind::Tag => a
                .optional_json::<TagAnswer, _>(hooks::NO_REF, refused)?
                .map(|t| t.commit.sha),
        })
    }

    fn hooks_settings_url(&self, at: Instance<'_>, repo: &RepoRef) -> Option<String> {
        let base = at.address?.trim_end_matches('/');
        Some(format!("{base}/{}/settings/hooks", repo.full_name))
    }
}

impl CreatePayload {
    fn into_push(self) -> Push {
        let kind = match self.ref_type {
            CreatedRef::Branch => RefKind::Branch,
            CreatedRef::Tag => RefKind::Tag,
        };
        // Older Gitea versions sent the full ref.
        let name = match RefKind::parse_full(&self.name) {
            Some((k, short)) if k == kind => short.to_string(),
            _ => self.name,
        };
        let change = RefChange {
            kind,
            name,
            before: None,
            after: hooks::object_id(Some(&self.sha)),
        };
        push_of(
            vec![change],
            self.repository,
            self.sender.and_then(Person::handle),
        )
    }
}

#[cfg(test)]
mod tests;
