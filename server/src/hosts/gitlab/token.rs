//! GitLab: checks a personal access token against a GitLab instance (gitlab.com or
//! self-managed) with `GET /api/v4/user` and `GET /api/v4/personal_access_tokens/self`, and turns
//! every way that can fail into a [`HostError`] the user can act on. The calls go through the
//! one HTTP helper ([`http`]); what GitLab's error bodies mean is here.

use crate::hosts::TokenCheck;
use crate::outbound::address::HostAddress;
use crate::outbound::http::{self, Answer, Auth};
use crate::outbound::instance::InstanceClient;
use crate::secret::SecretString;
use app::api::{Account, HostError};
use reqwest::Method;
use serde::Deserialize;

/// Scopes that let git (or the API) read repository content.
pub const REPO_READ_SCOPES: &[&str] = &["read_repository", "write_repository", "api"];

#[derive(Deserialize)]
struct User {
    username: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    web_url: Option<String>,
}

#[derive(Deserialize)]
struct TokenSelf {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    revoked: bool,
}

impl User {
    /// What we keep and show of the account: bounded text, and only links that are plain
    /// http(s) URLs (a host's answer is not trusted: no `javascript:`, no markup).
    fn into_account(self) -> Account {
        Account {
            login: clip(&self.username, 255),
            name: self.name.map(|n| clip(&n, 255)),
            avatar_url: self
                .avatar_url
                .filter(|u| app::api::safe_http_url(u).is_some()),
            web_url: self
                .web_url
                .filter(|u| app::api::safe_http_url(u).is_some()),
        }
    }
}

fn yes() -> bool {
    true
}

/// GitLab's OAuth-style error body (`invalid_token`, `insufficient_scope`).
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// GitLab's calls on an [`InstanceClient`].
pub struct GitLab<'a>(pub &'a InstanceClient);

impl GitLab<'_> {
    pub async fn check(
        &self,
        base: &HostAddress,
        token: &SecretString,
    ) -> Result<TokenCheck, HostError> {
        // IP literals never reach the resolver: check them here.
        self.0.check_literal(base)?;
        let user: User = match self.get(base, "/user", token).await? {
            Ok(u) => u,
            Err(refused) => return Err(status_error(&refused)),
        };
        let (scopes, scopes_unknown, expires_at) = match self
            .get::<TokenSelf>(base, "/personal_access_tokens/self", token)
            .await?
        {
            Ok(t) => {
                if t.revoked {
                    return Err(HostError::TokenRevoked);
                }
                if !t.active {
                    return Err(HostError::TokenExpired);
                }
                if !t
                    .scopes
                    .iter()
                    .any(|s| REPO_READ_SCOPES.contains(&s.as_str()))
                {
                    return Err(HostError::InsufficientScope { scopes: t.scopes });
                }
                (t.scopes, false, t.expires_at.filter(|d| is_date(d)))
            }
            // Older GitLab (before 15.5) has no such endpoint, and some token types cannot call
            // it: the account is known, the scopes are not. Say so in the confirm dialog.
            Err(refused) if matches!(refused.status, 404 | 403 | 401) => (vec![], true, None),
            Err(refused) => return Err(status_error(&refused)),
        };
        Ok(TokenCheck {
            account: user.into_account(),
            scopes,
            scopes_unknown,
            expires_at,
        })
    }

    /// `DELETE /personal_access_tokens/self`: the token stops working everywhere.
    pub async fn revoke(&self, base: &HostAddress, token: &SecretString) -> Result<(), HostError> {
        self.0.check_literal(base)?;
        let url = base.api("/personal_access_tokens/self");
        let answer = http::send(
            self.0.http(),
            Method::DELETE,
            &url,
            Auth::PrivateToken(token),
            None,
        )
        .await?;
        if answer.ok_status() {
            return Ok(());
        }
        Err(status_error(&answer))
    }

    /// GET an API path: `Ok(Ok(json))` on 200, `Ok(Err(answer))` on another answer, `Err`
    /// when there was no usable HTTP answer.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        base: &HostAddress,
        path: &str,
        token: &SecretString,
    ) -> Result<Result<T, Answer>, HostError> {
        let url = base.api(path);
        let answer = http::get(self.0.http(), &url, Auth::PrivateToken(token)).await?;
        if answer.status != 200 {
            return Ok(Err(answer));
        }
        if !answer.is_json() {
            return Err(HostError::UnexpectedAnswer);
        }
        answer.json().map(Ok)
    }
}

/// Maps a non-200 answer to what it means for the user.
fn status_error(a: &Answer) -> HostError {
    let err: ErrorBody = serde_json::from_slice(&a.body).unwrap_or_default();
    let description = err
        .error_description
        .clone()
        .or_else(|| a.header("www-authenticate").map(str::to_string))
        .unwrap_or_default()
        .to_ascii_lowercase();
    // GitLab names the scopes the endpoint *needs* here, not the token's own.
    let scope_refused = a.status == 403 && err.error.as_deref() == Some("insufficient_scope");
    if !scope_refused {
        if let Some(limited) = a.rate_limit() {
            return limited;
        }
    }
    match a.status {
        401 if description.contains("expired") => HostError::TokenExpired,
        401 if description.contains("revoked") => HostError::TokenRevoked,
        401 => HostError::TokenInvalid,
        403 if scope_refused => HostError::InsufficientScope { scopes: vec![] },
        300..=399 => HostError::Redirected {
            location: crate::outbound::redirect_origin(a.header("location")),
        },
        404 | 405 => HostError::UnexpectedAnswer,
        s if !a.is_json() && s < 500 => HostError::UnexpectedAnswer,
        s => HostError::Upstream { status: s },
    }
}

/// An answer as a test wants it: a status, a body (JSON or not), `Retry-After: 7` and maybe a
/// `WWW-Authenticate` (one a header cannot carry is left out, as no host could send it).
#[cfg(test)]
fn test_answer(status: u16, body: &[u8], json: bool, retry: u64, www: Option<&str>) -> Answer {
    use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
    let mut headers = HeaderMap::new();
    let kind = if json {
        "application/json"
    } else {
        "text/html"
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(RETRY_AFTER, HeaderValue::from(retry));
    if let Some(v) = www.and_then(|w| HeaderValue::from_str(w).ok()) {
        headers.insert(WWW_AUTHENTICATE, v);
    }
    Answer {
        status,
        headers,
        body: body.to_vec(),
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a non-200 answer with `Retry-After: 7` means.
    fn mapped(status: u16, body: &str, json: bool) -> HostError {
        status_error(&test_answer(status, body.as_bytes(), json, 7, None))
    }

    #[test]
    fn maps_gitlab_error_bodies() {
        let expired = r#"{"error":"invalid_token","error_description":"Token has expired."}"#;
        let revoked = r#"{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}"#;
        let scope = r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_user"}"#;
        assert_eq!(mapped(401, expired, true), HostError::TokenExpired);
        assert_eq!(mapped(401, revoked, true), HostError::TokenRevoked);
        assert_eq!(
            mapped(401, r#"{"message":"401 Unauthorized"}"#, true),
            HostError::TokenInvalid
        );
        assert!(matches!(
            mapped(403, scope, true),
            HostError::InsufficientScope { .. }
        ));
        assert_eq!(
            mapped(429, "Retry later", false),
            HostError::RateLimited {
                retry_after_secs: Some(7)
            }
        );
        assert_eq!(mapped(404, "<html>", false), HostError::UnexpectedAnswer);
        assert_eq!(mapped(502, "", false), HostError::Upstream { status: 502 });
    }

    #[test]
    fn recognises_dates() {
        assert!(is_date("2027-01-31"));
        assert!(!is_date("2027-01-31T00:00:00Z"));
        assert!(!is_date("<script>"));
    }
}

#[cfg(test)]
mod proptests;
