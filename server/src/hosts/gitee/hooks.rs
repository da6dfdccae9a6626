//! Gitee's repository webhooks: `POST/GET/DELETE /api/v5/repos/{owner}/{repo}/hooks` (push
//! and tag push events) in signing-key mode (`encryption_type: 1`): a delivery carries
//! `X-Gitee-Timestamp` (ms) and `X-Gitee-Token` = base64(HMAC-SHA256(secret,
//! "{timestamp}\n{secret}")). The signature covers the timestamp, not the body, so a stale
//! timestamp is refused ([`MAX_SKEW_MS`]) and the pushed commit is confirmed through the API.
//! The event is in `X-Gitee-Event` (`Push Hook`, `Tag Push Hook`); Gitee sends no delivery id,
//! so the timestamp and the repository stand for one. Payloads are GitHub-shaped.
//! Docs: help.gitee.com/webhook/how-to-verify-webhook-keys, gitee.com/api/v5/swagger.

use super::Gitee;
use crate::hosts::github_style::hooks::{GitHubStylePush, HookAnswer};
use crate::hosts::hooks::{self, Delivery, DeliveryKind, DeliveryRequest, Hook, HookError};
use crate::hosts::hooks::{HookHost, HookSpec, ParseError, RefKind, RepoRef, MAX_SKEW_MS};
use crate::hosts::{Instance, RepoId};
use crate::outbound::http::{self, Answer, Auth};
use crate::secret::SecretString;
use base64::Engine;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// The OAuth scope that manages a repository's hooks.
const HOOK_SCOPES: &[&str] = &["hook"];

/// Pages of tags read to find one (newest first): a tag just pushed is on the first.
const TAG_PAGES: u32 = 5;

/// What a refused hook call means at Gitee.
fn refused(a: Answer) -> HookError {
    let body = String::from_utf8_lossy(&a.body);
    match a.status {
        403 if body.contains("scope") => HookError::missing(HOOK_SCOPES),
        403 => HookError::NotAdmin,
        404 => HookError::RepoNotFound,
        _ => hooks::host_error(a),
    }
}

#[derive(Deserialize)]
struct RepoAnswer {
    id: u64,
    full_name: String,
    #[serde(default)]
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct NamedRef {
    name: String,
    commit: RefCommit,
}

#[derive(Deserialize)]
struct RefCommit {
    sha: String,
}

/// `%XX` escapes undone (Gitee's docs have the signature URL-encoded; it sends it plain).
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Whether `token` is Gitee's signature of `timestamp` with `secret`, the timestamp within
/// [`MAX_SKEW_MS`] of `now_ms`.
fn signed_timestamp_matches(
    token: &str,
    timestamp: &str,
    secret: &SecretString,
    now_ms: i64,
) -> bool {
    let ts = timestamp.trim();
    if ts.is_empty() || ts.len() > 15 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(at) = ts.parse::<i64>() else {
        return false;
    };
    if now_ms.abs_diff(at) > MAX_SKEW_MS.unsigned_abs() {
        return false;
    }
    let Some(mac) = percent_decode(token.trim())
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
    else {
        return false;
    };
    let msg = format!("{ts}\n{}", secret.expose());
    hooks::hmac_sha256_matches(secret, msg.as_bytes(), &mac)
}

impl Gitee {
    fn repo_url(&self, full_name: &str) -> String {
        format!("{}/repos/{full_name}", self.api())
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

    async fn tag_commit(
        &self,
        token: &SecretString,
        repo: &RepoRef,
        name: &str,
    ) -> Result<Option<String>, HookError> {
        for page in 1..=TAG_PAGES {
            let url = format!(
                "{}/tags?sort=updated&direction=desc&per_page=100&page={page}",
                self.repo_url(&repo.full_name)
            );
            let a = self.call(Method::GET, &url, token, None).await?;
            let tags: Vec<NamedRef> = a.expect_json(refused)?;
            let last = tags.len() < 100;
            if let Some(t) = tags.into_iter().find(|t| t.name == name) {
                return Ok(Some(t.commit.sha));
            }
            if last {
                break;
            }
        }
        Ok(None)
    }
}

#[async_trait::async_trait]
impl HookHost for Gitee {
    fn hook_scopes(&self) -> &'static [&'static str] {
        HOOK_SCOPES
    }

    fn signs_body(&self) -> bool {
        false
    }

    async fn repository(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        id: &RepoId,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        let a = self
            .call(Method::GET, &self.repo_url(id.as_str()), token, None)
            .await?;
        let r: RepoAnswer = a.expect_json(refused)?;
        // Gitee's `html_url` is the clone URL (it ends in `.git`).
        let clone = r.html_url.as_deref().and_then(|u| {
            let u = u.trim_end_matches('/');
            let u = if u.ends_with(".git") {
                u.to_string()
            } else {
                format!("{u}.git")
            };
            hooks::clean_clone_url(&u)
        });
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
            "url": spec.url,
            // 1: signing key (the password is the key, never sent with a delivery).
            "encryption_type": 1,
            "password": spec.secret.expose(),
            "push_events": true,
            "tag_push_events": true,
        });
        let url = format!("{}/hooks", self.repo_url(&repo.full_name));
        let a = self.call(Method::POST, &url, token, Some(&body)).await?;
        Ok(a.expect_json::<HookAnswer, _>(refused)?.into_hook())
    }

    async fn update_hook(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError> {
        // `PATCH /repos/{owner}/{repo}/hooks/{id}`: the same fields as creating one.
        let body = json!({
            "url": spec.url,
            "encryption_type": 1,
            "password": spec.secret.expose(),
            "push_events": true,
            "tag_push_events": true,
        });
        let url = format!(
            "{}/hooks/{}",
            self.repo_url(&repo.full_name),
            hooks::path_encode(hook_id)
        );
        let a = self.call(Method::PATCH, &url, token, Some(&body)).await?;
        Ok(a.expect_json::<HookAnswer, _>(refused)?.into_hook())
    }

    async fn repository_by_id(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        // Gitee looks repositories up by name only: a rename cannot be followed, but a
        // repository recreated under the name has another id, so it is not ours.
        let id = RepoId::parse(&repo.full_name).map_err(|_| HookError::RepoNotFound)?;
        let (found, clone) = self.repository(at, token, &id).await?;
        if found.stable_id != repo.stable_id {
            return Err(HookError::RepoNotFound);
        }
        Ok((found, clone))
    }

    async fn list_hooks(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<Vec<Hook>, HookError> {
        let url = format!("{}/hooks?per_page=100", self.repo_url(&repo.full_name));
        let a = self.call(Method::GET, &url, token, None).await?;
        let hooks: Vec<HookAnswer> = a.expect_json(refused)?;
        Ok(hooks.into_iter().map(HookAnswer::into_hook).collect())
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
            self.repo_url(&repo.full_name),
            hooks::path_encode(hook_id)
        );
        let a = self.call(Method::DELETE, &url, token, None).await?;
        hooks::deleted(a, refused)
    }

    fn verify(&self, req: &DeliveryRequest<'_>, secret: &SecretString, now_ms: i64) -> bool {
        match (req.header("x-gitee-token"), req.header("x-gitee-timestamp")) {
            (Some(token), Some(ts)) => signed_timestamp_matches(token, ts, secret, now_ms),
            _ => false,
        }
    }

    fn parse(&self, req: &DeliveryRequest<'_>) -> Result<Delivery, ParseError> {
        let event = req.required("x-gitee-event")?.to_string();
        let kind = match event.as_str() {
            "Push Hook" | "Tag Push Hook" => {
                DeliveryKind::Push(req.json::<GitHubStylePush>()?.into_push(true))
            }
            other => DeliveryKind::Other(other.to_string()),
        };
        let repo = match &kind {
            DeliveryKind::Push(p) => p.repo_stable_id.as_deref(),
            DeliveryKind::Ping | DeliveryKind::Other(_) => None,
        };
        let id = req
            .header("x-gitee-timestamp")
            .map(|ts| format!("{}:{}", ts.trim(), repo.unwrap_or_default()));
        Ok(Delivery { id, event, kind })
    }

    async fn ref_head(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        kind: RefKind,
        name: &str,
    ) -> Result<Option<String>, HookError> {
        match kind {
            RefKind::Branch => {
                let url = format!(
                    "{}/branches/{}",
                    self.repo_url(&repo.full_name),
                    hooks::path_encode(name)
                );
                let a = self.call(Method::GET, &url, token, None).await?;
                let head = a.optional_json::<NamedRef, _>(hooks::NO_REF, refused)?;
                Ok(head.map(|r| r.commit.sha))
            }
            RefKind::Tag => self.tag_commit(token, repo, name).await,
        }
    }

    fn hooks_settings_url(&self, _at: Instance<'_>, repo: &RepoRef) -> Option<String> {
        Some(format!("{}/{}/hooks", self.web, repo.full_name))
    }
}

#[cfg(test)]
mod tests;
