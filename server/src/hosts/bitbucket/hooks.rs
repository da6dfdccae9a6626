//! Bitbucket Cloud's repository webhooks: `POST/GET/DELETE
//! /2.0/repositories/{workspace}/{repo uuid}/hooks` (event `repo:push`, with a `secret`),
//! deliveries signed in `X-Hub-Signature` (`sha256=` and the hex HMAC-SHA256 of the body),
//! the event in `X-Event-Key`, the id in `X-Request-UUID`. One `repo:push` may carry several
//! ref changes: `push.changes[]` with `old` / `new` (`new` null: deleted; `old` null:
//! created). Refusals: 403 naming the scopes required is the grant's (the consumer lacks
//! `webhook`), any other 403 the user's role (hooks need repository admin).
//! Docs: developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-repositories-workspace-repo-slug-hooks-post
//! and support.atlassian.com/bitbucket-cloud/docs/event-payloads/#push.

use super::{Bitbucket, Links, Paged};
use crate::hosts::hooks::{self, Delivery, DeliveryKind, DeliveryRequest, Hook, HookError};
use crate::hosts::hooks::{HookHost, HookSpec, ParseError, Push, RefChange, RefKind, RepoRef};
use crate::hosts::{Instance, RepoId};
use crate::outbound::http::{self, Answer, Auth};
use crate::secret::SecretString;
use crate::util::query_encode;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// The consumer permission that manages a repository's webhooks.
const HOOK_SCOPES: &[&str] = &["webhook"];

/// Bitbucket's error body: `{"type": "error", "error": {"message": …, "detail": …}}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorDetail,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

/// What a refused hook call means at Bitbucket.
fn refused(a: Answer) -> HookError {
    let body: ErrorBody = serde_json::from_slice(&a.body).unwrap_or_default();
    match a.status {
        // "Your credentials lack one or more required privilege scopes."
        403 if body.error.message.contains("scope") => {
            let named: Option<Vec<String>> = body
                .error
                .detail
                .and_then(|d| d.get("required").cloned())
                .and_then(|r| serde_json::from_value(r).ok())
                .filter(|r: &Vec<String>| !r.is_empty());
            match named {
                Some(needed) => HookError::MissingScope { needed },
                None => HookError::missing(HOOK_SCOPES),
            }
        }
        403 => HookError::NotAdmin,
        404 => HookError::RepoNotFound,
        _ => hooks::host_error(a),
    }
}

#[derive(Deserialize)]
struct RepoAnswer {
    uuid: String,
    full_name: String,
    #[serde(default)]
    links: CloneLinks,
}

#[derive(Deserialize, Default)]
struct CloneLinks {
    #[serde(default)]
    clone: Vec<NamedHref>,
}

#[derive(Deserialize)]
struct NamedHref {
    name: String,
    href: String,
}

#[derive(Deserialize)]
struct HookAnswer {
    uuid: String,
    url: String,
    #[serde(default)]
    active: bool,
}

#[derive(Deserialize)]
struct RefAnswer {
    target: Target,
}

#[derive(Deserialize)]
struct Target {
    hash: String,
}

/// A `repo:push` payload.
#[derive(Deserialize)]
struct PushPayload {
    push: Changes,
    #[serde(default)]
    actor: Option<Actor>,
    #[serde(default)]
    repository: Option<PayloadRepo>,
}

#[derive(Deserialize)]
struct Changes {
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    old: Option<PushedRef>,
    #[serde(default)]
    new: Option<PushedRef>,
}

#[derive(Deserialize)]
struct PushedRef {
    #[serde(rename = "type")]
    kind: PushedRefKind,
    name: String,
    #[serde(default)]
    target: Option<Target>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum PushedRefKind {
    Branch,
    #[serde(alias = "annotated_tag")]
    Tag,
    /// Mercurial's named branches and bookmarks (gone from Bitbucket since 2020).
    #[serde(other)]
    Unsupported,
}

impl PushedRefKind {
    fn ref_kind(self) -> Option<RefKind> {
        match self {
            PushedRefKind::Branch => Some(RefKind::Branch),
            PushedRefKind::Tag => Some(RefKind::Tag),
            PushedRefKind::Unsupported => None,
        }
    }
}

#[derive(Deserialize)]
struct Actor {
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct PayloadRepo {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    links: Links,
}

impl Change {
    /// The change as one ref: its kind and name from `new` (or `old` for a deletion).
    fn into_ref_change(self) -> Option<RefChange> {
        let named = self.new.as_ref().or(self.old.as_ref())?;
        let kind = named.kind.ref_kind()?;
        let name = named.name.clone();
        let hash = |r: Option<PushedRef>| r.and_then(|r| r.target).map(|t| t.hash);
        Some(RefChange {
            kind,
            name,
            before: hooks::object_id(hash(self.old).as_deref()),
            after: hooks::object_id(hash(self.new).as_deref()),
        })
    }
}

impl PushPayload {
    fn into_push(self) -> Push {
        let repo = self.repository;
        Push {
            changes: self
                .push
                .changes
                .into_iter()
                .filter_map(Change::into_ref_change)
                .collect(),
            repo_stable_id: repo.as_ref().and_then(|r| r.uuid.clone()),
            full_name: repo.as_ref().and_then(|r| r.full_name.clone()),
            clone_url: repo
                .and_then(|r| r.links.html.href)
                .and_then(|h| hooks::clean_clone_url(&format!("{}.git", h.trim_end_matches('/')))),
            pusher: self
                .actor
                .and_then(|a| a.nickname.or(a.username).or(a.display_name))
                .filter(|p| !p.is_empty()),
        }
    }
}

impl Bitbucket {
    /// `/2.0/repositories/{workspace}/{uuid}`: by uuid, so a renamed repository is found.
    fn repo_url(&self, repo: &RepoRef) -> String {
        let workspace = repo.full_name.split('/').next().unwrap_or_default();
        format!(
            "{}/2.0/repositories/{}/{}",
            self.api,
            query_encode(workspace),
            query_encode(&repo.stable_id)
        )
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
impl HookHost for Bitbucket {
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
        let url = format!("{}/2.0/repositories/{}", self.api, id.as_str());
        let a = self.call(Method::GET, &url, token, None).await?;
        let r: RepoAnswer = a.expect_json(refused)?;
        let clone = r
            .links
            .clone
            .iter()
            .find(|c| c.name == "https")
            .and_then(|c| hooks::clean_clone_url(&c.href));
        Ok((
            RepoRef {
                stable_id: r.uuid,
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
            "description": "Code Source auto-build",
            "url": spec.url,
            "active": true,
            "secret": spec.secret.expose(),
            "events": ["repo:push"],
        });
        let url = format!("{}/hooks", self.repo_url(repo));
        let a = self.call(Method::POST, &url, token, Some(&body)).await?;
        Ok(a.expect_json::<HookAnswer, _>(refused)?.into_hook())
    }

    async fn list_hooks(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<Vec<Hook>, HookError> {
        let url = format!("{}/hooks?pagelen=100", self.repo_url(repo));
        let a = self.call(Method::GET, &url, token, None).await?;
        let hooks: Paged<HookAnswer> = a.expect_json(refused)?;
        Ok(hooks
            .values
            .into_iter()
            .map(HookAnswer::into_hook)
            .collect())
    }

    async fn update_hook(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError> {
        // `PUT …/hooks/{uid}` takes the whole subscription again.
        let body = json!({
            "description": "Code Source auto-build",
            "url": spec.url,
            "active": true,
            "secret": spec.secret.expose(),
            "events": ["repo:push"],
        });
        let url = format!("{}/hooks/{}", self.repo_url(repo), query_encode(hook_id));
        let a = self.call(Method::PUT, &url, token, Some(&body)).await?;
        Ok(a.expect_json::<HookAnswer, _>(refused)?.into_hook())
    }

    async fn repository_by_id(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        // `{workspace}/{uuid}`: the uuid survives a rename (a transfer to another workspace
        // is not followed: the old workspace no longer shows it).
        let a = self
            .call(Method::GET, &self.repo_url(repo), token, None)
            .await?;
        let r: RepoAnswer = a.expect_json(refused)?;
        let clone = r
            .links
            .clone
            .iter()
            .find(|c| c.name == "https")
            .and_then(|c| hooks::clean_clone_url(&c.href));
        Ok((
            RepoRef {
                stable_id: r.uuid,
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
        let url = format!("{}/hooks/{}", self.repo_url(repo), query_encode(hook_id));
        let a = self.call(Method::DELETE, &url, token, None).await?;
        hooks::deleted(a, refused)
    }

    fn verify(&self, req: &DeliveryRequest<'_>, secret: &SecretString, _now_ms: i64) -> bool {
        hooks::hex_signature_matches(req.header("x-hub-signature"), "sha256=", secret, req.body)
    }

    fn parse(&self, req: &DeliveryRequest<'_>) -> Result<Delivery, ParseError> {
        let event = req.required("x-event-key")?.to_string();
        let kind = match event.as_str() {
            "repo:push" => DeliveryKind::Push(req.json::<PushPayload>()?.into_push()),
            other => DeliveryKind::Other(other.to_string()),
        };
        Ok(Delivery {
            id: req.header("x-request-uuid").map(str::to_string),
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
        let what = match kind {
            RefKind::Branch => "branches",
            RefKind::Tag => "tags",
        };
        let url = format!("{}/refs/{what}/{}", self.repo_url(repo), query_encode(name));
        let a = self.call(Method::GET, &url, token, None).await?;
        let head = a.optional_json::<RefAnswer, _>(hooks::NO_REF, refused)?;
        Ok(head.map(|r| r.target.hash))
    }

    fn hooks_settings_url(&self, _at: Instance<'_>, repo: &RepoRef) -> Option<String> {
        Some(format!("{}/{}/admin/webhooks", self.web, repo.full_name))
    }
}

impl HookAnswer {
    fn into_hook(self) -> Hook {
        Hook {
            id: self.uuid,
            url: self.url,
            active: self.active,
        }
    }
}

#[cfg(test)]
mod tests;
