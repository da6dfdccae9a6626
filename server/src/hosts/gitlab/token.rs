//! GitLab: checks a personal access token against a GitLab instance (gitlab.com or
//! self-managed) with `GET /api/v4/user` and `GET /api/v4/personal_access_tokens/self`, and turns
//! every way that can fail into a [`HostError`] the user can act on.

use crate::hosts::TokenCheck;
use crate::outbound::address::HostAddress;
use crate::outbound::instance::{classify, InstanceClient};
use crate::outbound::limits::{read_bounded, MAX_ANSWER};
use crate::secret::SecretString;
use app::api::{Account, HostError};
use reqwest::{header, StatusCode};
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
                .filter(|u| app::format::safe_http_url(u).is_some()),
            web_url: self
                .web_url
                .filter(|u| app::format::safe_http_url(u).is_some()),
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
            Err((status, body)) => return Err(status_error(status, &body)),
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
            Err((StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED, _)) => {
                (vec![], true, None)
            }
            Err((status, body)) => return Err(status_error(status, &body)),
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
        let mut value =
            header::HeaderValue::from_str(token.expose()).map_err(|_| HostError::TokenInvalid)?;
        value.set_sensitive(true);
        let resp = self
            .0
            .http()
            .delete(base.api("/personal_access_tokens/self"))
            .header("PRIVATE-TOKEN", value)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let answer = Answer::read(resp).await?;
        Err(status_error(status, &answer))
    }

    /// GET an API path: `Ok(Ok(json))` on 200, `Ok(Err((status, body)))` on another answer,
    /// `Err` when there was no usable HTTP answer.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        base: &HostAddress,
        path: &str,
        token: &SecretString,
    ) -> Result<Result<T, (StatusCode, Answer)>, HostError> {
        let mut value =
            header::HeaderValue::from_str(token.expose()).map_err(|_| HostError::TokenInvalid)?;
        value.set_sensitive(true);
        let resp = self
            .0
            .http()
            .get(base.api(path))
            .header("PRIVATE-TOKEN", value)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = resp.status();
        let answer = Answer::read(resp).await?;
        if status == StatusCode::OK {
            if !answer.is_json {
                return Err(HostError::UnexpectedAnswer);
            }
            return serde_json::from_slice(&answer.body)
                .map(Ok)
                .map_err(|_| HostError::UnexpectedAnswer);
        }
        Ok(Err((status, answer)))
    }
}

/// The parts of an answer we look at.
struct Answer {
    body: Vec<u8>,
    is_json: bool,
    retry_after: Option<u64>,
    location: Option<String>,
    www_authenticate: Option<String>,
}

impl Answer {
    async fn read(resp: reqwest::Response) -> Result<Answer, HostError> {
        let h = resp.headers();
        let get =
            |n: header::HeaderName| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        let is_json = get(header::CONTENT_TYPE).is_some_and(|c| c.contains("json"));
        let retry_after = get(header::RETRY_AFTER).and_then(|v| v.trim().parse().ok());
        let location = get(header::LOCATION);
        let www_authenticate = get(header::WWW_AUTHENTICATE);
        let body = read_bounded(resp, MAX_ANSWER).await?;
        Ok(Answer {
            body,
            is_json,
            retry_after,
            location,
            www_authenticate,
        })
    }
}

/// Maps a non-200 answer to what it means for the user.
fn status_error(status: StatusCode, a: &Answer) -> HostError {
    let err: ErrorBody = serde_json::from_slice(&a.body).unwrap_or_default();
    let description = err
        .error_description
        .clone()
        .or_else(|| a.www_authenticate.clone())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match status.as_u16() {
        401 if description.contains("expired") => HostError::TokenExpired,
        401 if description.contains("revoked") => HostError::TokenRevoked,
        401 => HostError::TokenInvalid,
        403 if err.error.as_deref() == Some("insufficient_scope") => HostError::InsufficientScope {
            // GitLab names the scopes the endpoint *needs* here, not the token's own.
            scopes: vec![],
        },
        429 => HostError::RateLimited {
            retry_after_secs: a.retry_after,
        },
        300..=399 => HostError::Redirected {
            location: crate::outbound::redirect_origin(a.location.as_deref()),
        },
        404 | 405 => HostError::UnexpectedAnswer,
        s if !a.is_json && s < 500 => HostError::UnexpectedAnswer,
        s => HostError::Upstream { status: s },
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

    fn answer(body: &str, json: bool) -> Answer {
        Answer {
            body: body.as_bytes().to_vec(),
            is_json: json,
            retry_after: Some(7),
            location: None,
            www_authenticate: None,
        }
    }

    #[test]
    fn maps_gitlab_error_bodies() {
        let expired = r#"{"error":"invalid_token","error_description":"Token has expired."}"#;
        let revoked = r#"{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}"#;
        let scope = r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_user"}"#;
        assert_eq!(
            status_error(StatusCode::UNAUTHORIZED, &answer(expired, true)),
            HostError::TokenExpired
        );
        assert_eq!(
            status_error(StatusCode::UNAUTHORIZED, &answer(revoked, true)),
            HostError::TokenRevoked
        );
        assert_eq!(
            status_error(
                StatusCode::UNAUTHORIZED,
                &answer(r#"{"message":"401 Unauthorized"}"#, true)
            ),
            HostError::TokenInvalid
        );
        assert!(matches!(
            status_error(StatusCode::FORBIDDEN, &answer(scope, true)),
            HostError::InsufficientScope { .. }
        ));
        assert_eq!(
            status_error(StatusCode::TOO_MANY_REQUESTS, &answer("Retry later", false)),
            HostError::RateLimited {
                retry_after_secs: Some(7)
            }
        );
        assert_eq!(
            status_error(StatusCode::NOT_FOUND, &answer("<html>", false)),
            HostError::UnexpectedAnswer
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, &answer("", false)),
            HostError::Upstream { status: 502 }
        );
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
