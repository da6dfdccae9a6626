//! GitLab's project webhooks: `POST/GET/DELETE /api/v4/projects/{id}/hooks` (push and tag push
//! events, the secret as the hook's `token`), deliveries carrying that token in
//! `X-Gitlab-Token` (compared in constant time; it does not cover the body, so the pushed
//! commit is confirmed through the API), the event in `X-Gitlab-Event` (`Push Hook`,
//! `Tag Push Hook`), the id in `X-Gitlab-Event-UUID`. Refusals: 403 with
//! `insufficient_scope` is the token's scope, any other 403 the user's role (hooks need
//! Maintainer). Docs: docs.gitlab.com/api/project_webhooks and
//! /user/project/integrations/webhook_events.

use super::GitLab;
use crate::hosts::hooks::{self, Delivery, DeliveryKind, DeliveryRequest, Hook, HookError};
use crate::hosts::hooks::{HookHost, HookSpec, ParseError, Push, RefChange, RefKind, RepoRef};
use crate::hosts::{Instance, RepoId};
use crate::outbound::http::{self, Answer, Auth};
use crate::secret::SecretString;
use crate::util::query_encode;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// The scope a token needs to manage a project's hooks.
const HOOK_SCOPES: &[&str] = &["api"];

/// What a refused hook call means at GitLab.
fn refused(a: Answer) -> HookError {
    let body = String::from_utf8_lossy(&a.body);
    let scope = a
        .header("www-authenticate")
        .is_some_and(|w| w.contains("insufficient_scope"))
        || body.contains("insufficient_scope");
    match a.status {
        403 if scope => HookError::missing(HOOK_SCOPES),
        403 => HookError::NotAdmin,
        404 => HookError::RepoNotFound,
        // "Maximum number of project hooks (100) exceeded" (GitLab's plan limit).
        422 | 400 if body.contains("aximum number") => HookError::LimitReached,
        _ => hooks::host_error(a),
    }
}

#[derive(Deserialize)]
struct ProjectAnswer {
    id: u64,
    path_with_namespace: String,
    #[serde(default)]
    http_url_to_repo: Option<String>,
}

#[derive(Deserialize)]
struct HookAnswer {
    id: u64,
    url: String,
    /// `executable`, `temporarily_disabled` or `disabled` (GitLab 15.7+; absent before).
    #[serde(default)]
    alert_status: Option<String>,
}

#[derive(Deserialize)]
struct RefAnswer {
    commit: CommitAnswer,
}

#[derive(Deserialize)]
struct CommitAnswer {
    id: String,
}

/// A `Push Hook` or `Tag Push Hook` payload.
#[derive(Deserialize)]
struct PushPayload {
    #[serde(rename = "ref")]
    full_ref: String,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    after: Option<String>,
    /// The commit checked out: a tag's commit where `after` is an annotated tag's object.
    #[serde(default)]
    checkout_sha: Option<String>,
    #[serde(default)]
    user_username: Option<String>,
    #[serde(default)]
    project_id: Option<u64>,
    #[serde(default)]
    project: Option<PayloadProject>,
}

#[derive(Deserialize)]
struct PayloadProject {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    path_with_namespace: Option<String>,
    #[serde(default)]
    git_http_url: Option<String>,
}

impl PushPayload {
    fn into_push(self) -> Push {
        let mut change = RefChange::from_full(
            &self.full_ref,
            self.before.as_deref(),
            self.after.as_deref(),
        );
        if let Some(c) = change.as_mut().filter(|c| c.after.is_some()) {
            if let Some(commit) = hooks::object_id(self.checkout_sha.as_deref()) {
                c.after = Some(commit);
            }
        }
        let project = self.project;
        Push {
            changes: change.into_iter().collect(),
            repo_stable_id: project
                .as_ref()
                .and_then(|p| p.id)
                .or(self.project_id)
                .map(|id| id.to_string()),
            full_name: project.as_ref().and_then(|p| p.path_with_namespace.clone()),
            clone_url: project
                .and_then(|p| p.git_http_url)
                .as_deref()
                .and_then(hooks::clean_clone_url),
            pusher: self.user_username.filter(|u| !u.is_empty()),
        }
    }
}

impl GitLab {
    async fn call(
        &self,
        at: Instance<'_>,
        method: Method,
        rest: &str,
        token: &SecretString,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, HookError> {
        let (address, client) = self.out.instance(at)?;
        let url = address.api(rest);
        Ok(http::send(client.http(), method, &url, Auth::PrivateToken(token), body).await?)
    }
}

#[async_trait::async_trait]
impl HookHost for GitLab {
    fn hook_scopes(&self) -> &'static [&'static str] {
        HOOK_SCOPES
    }

    fn signs_body(&self) -> bool {
        false
    }

    async fn repository(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        id: &RepoId,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        let rest = format!("/projects/{}", query_encode(id.as_str()));
        let a = self.call(at, Method::GET, &rest, token, None).await?;
        let p: ProjectAnswer = a.expect_json(refused)?;
        let clone = p
            .http_url_to_repo
            .as_deref()
            .and_then(hooks::clean_clone_url);
        Ok((
            RepoRef {
                stable_id: p.id.to_string(),
                full_name: p.path_with_namespace,
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
            "url": spec.url,
            "token": spec.secret.expose(),
            "push_events": true,
            "tag_push_events": true,
            "enable_ssl_verification": true,
        });
        let rest = format!("/projects/{}/hooks", query_encode(&repo.stable_id));
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
        let rest = format!(
            "/projects/{}/hooks?per_page=100",
            query_encode(&repo.stable_id)
        );
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
        // `PUT /projects/{id}/hooks/{hook_id}`: `url` is required; the secret is `token`.
        let body = json!({
            "url": spec.url,
            "token": spec.secret.expose(),
            "push_events": true,
            "tag_push_events": true,
            "enable_ssl_verification": true,
        });
        let rest = format!(
            "/projects/{}/hooks/{}",
            query_encode(&repo.stable_id),
            query_encode(hook_id)
        );
        let a = self
            .call(at, Method::PUT, &rest, token, Some(&body))
            .await?;
        Ok(a.expect_json::<HookAnswer, _>(refused)?.into_hook())
    }

    async fn repository_by_id(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        // The project id is what `/projects/{id}` takes anyway.
        let id = RepoId::parse(&repo.stable_id).map_err(|_| HookError::RepoNotFound)?;
        self.repository(at, token, &id).await
    }

    async fn delete_hook(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
    ) -> Result<(), HookError> {
        let rest = format!(
            "/projects/{}/hooks/{}",
            query_encode(&repo.stable_id),
            query_encode(hook_id)
        );
        let a = self.call(at, Method::DELETE, &rest, token, None).await?;
        hooks::deleted(a, refused)
    }

    fn verify(&self, req: &DeliveryRequest<'_>, secret: &SecretString, _now_ms: i64) -> bool {
        let Some(token) = req.header("x-gitlab-token") else {
            return false;
        };
        // Equal iff HMAC(secret, token) = HMAC(secret, secret), compared in constant time.
        let expected = hooks::hmac_sha256(secret, secret.expose().as_bytes());
        hooks::hmac_sha256_matches(secret, token.as_bytes(), &expected)
    }

    fn parse(&self, req: &DeliveryRequest<'_>) -> Result<Delivery, ParseError> {
        let event = req.required("x-gitlab-event")?.to_string();
        let kind = match event.as_str() {
            "Push Hook" | "Tag Push Hook" => {
                DeliveryKind::Push(req.json::<PushPayload>()?.into_push())
            }
            other => DeliveryKind::Other(other.to_string()),
        };
        Ok(Delivery {
            id: req.header("x-gitlab-event-uuid").map(str::to_string),
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
        let what = match kind {
            RefKind::Branch => "branches",
            RefKind::Tag => "tags",
        };
        // GitLab wants the whole name encoded, `/` included.
        let rest = format!(
            "/projects/{}/repository/{what}/{}",
            query_encode(&repo.stable_id),
            query_encode(name)
        );
        let a = self.call(at, Method::GET, &rest, token, None).await?;
        let head = a.optional_json::<RefAnswer, _>(hooks::NO_REF, refused)?;
        Ok(head.map(|r| r.commit.id))
    }

    fn hooks_settings_url(&self, at: Instance<'_>, repo: &RepoRef) -> Option<String> {
        let base = at.address?.trim_end_matches('/');
        Some(format!("{base}/{}/-/hooks", repo.full_name))
    }
}

impl HookAnswer {
    fn into_hook(self) -> Hook {
        Hook {
            id: self.id.to_string(),
            url: self.url,
            active: self.alert_status.as_deref() != Some("disabled"),
        }
    }
}

#[cfg(test)]
mod tests;
