//! OAuth authorization-code flows for GitHub and Gitee, with the `oauth2` crate: authorize URLs
//! (PKCE S256 for GitHub), code exchange, and the account lookup. Base URLs come from
//! configuration (GitHub Enterprise Server, a Gitee stand-in in tests). Every answer, the
//! token exchanges included, is read within [`super::limits::MAX_ANSWER`].

use super::gitlab::classify;
use super::limits::{parse_json, read_bounded, MAX_ANSWER};
use crate::secret::SecretString;
use crate::util::now_secs;
use app::api::{Account, HostError, Provider};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};
use reqwest::header;
use serde::Deserialize;
use std::time::Duration;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// One configured OAuth code host.
pub struct OAuthProvider {
    pub provider: Provider,
    client: Client,
    /// Where the account is looked up (`…/user`).
    api_base: String,
    scopes: &'static [&'static str],
    pkce: bool,
    http: reqwest::Client,
    client_id: String,
    client_secret: SecretString,
}

/// What the code host gave us.
pub struct Authorized {
    pub account: Account,
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

#[derive(Deserialize)]
struct User {
    login: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
}

impl User {
    /// What we keep and show of the account: bounded text, and only links that are plain
    /// http(s) URLs (a host's answer is not trusted: no `javascript:`, no markup).
    fn into_account(self) -> Account {
        Account {
            login: self.login.chars().take(255).collect(),
            name: self.name.map(|n| n.chars().take(255).collect()),
            avatar_url: self
                .avatar_url
                .filter(|u| app::format::safe_http_url(u).is_some()),
            web_url: self
                .html_url
                .filter(|u| app::format::safe_http_url(u).is_some()),
        }
    }
}

impl OAuthProvider {
    /// `web` is the host's web base (`https://github.com`, `https://gitee.com`), `api` its REST base.
    pub fn new(
        provider: Provider,
        web: &str,
        api: &str,
        client_id: &str,
        client_secret: &SecretString,
        redirect: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let (authorize, token, scopes, pkce): (String, String, &'static [&'static str], bool) =
            match provider {
                Provider::GitHub => (
                    format!("{web}/login/oauth/authorize"),
                    format!("{web}/login/oauth/access_token"),
                    &["repo", "read:user"],
                    true,
                ),
                Provider::Gitee => (
                    format!("{web}/oauth/authorize"),
                    format!("{web}/oauth/token"),
                    &["user_info", "projects"],
                    false,
                ),
                other => anyhow::bail!("{} does not bind through OAuth", other.as_str()),
            };
        let client = BasicClient::new(ClientId::new(client_id.to_string()))
            .set_client_secret(ClientSecret::new(client_secret.expose().to_string()))
            .set_auth_uri(AuthUrl::new(authorize)?)
            .set_token_uri(TokenUrl::new(token)?)
            .set_redirect_uri(RedirectUrl::new(redirect.to_string())?)
            // Both hosts take the client secret in the form body.
            .set_auth_type(AuthType::RequestBody);
        // Gitee refuses requests without a User-Agent; GitHub's API asks for one too.
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("codesource/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OAuthProvider {
            provider,
            client,
            api_base: api.trim_end_matches('/').to_string(),
            scopes,
            pkce,
            http,
            client_id: client_id.to_string(),
            client_secret: client_secret.clone(),
        })
    }

    /// What the `oauth2` crate sends its token requests with: [`token_call`] on our client. The
    /// futures own a handle of the client (borrowing it trips the `Send` check of callers).
    fn token_client(&self) -> impl Fn(oauth2::HttpRequest) -> TokenFuture + Send + Sync {
        let http = self.http.clone();
        move |req| Box::pin(token_call(http.clone(), req))
    }

    /// The HTTP client for API calls with a user token (repositories).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The REST API base (GitHub: `https://api.github.com`; Gitee: `https://gitee.com`).
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    pub fn scopes(&self) -> &'static [&'static str] {
        self.scopes
    }

    /// The authorize URL for `state`, and the PKCE verifier to keep server-side.
    pub fn authorize_url(&self, state: &str) -> (String, Option<SecretString>) {
        let state = state.to_string();
        let mut req = self.client.authorize_url(move || CsrfToken::new(state));
        for s in self.scopes {
            req = req.add_scope(Scope::new(s.to_string()));
        }
        let mut verifier = None;
        if self.pkce {
            let (challenge, v) = PkceCodeChallenge::new_random_sha256();
            req = req.set_pkce_challenge(challenge);
            verifier = Some(SecretString::new(v.secret().clone()));
        }
        if self.provider == Provider::GitHub {
            // Let the user pick which GitHub account to authorize.
            req = req.add_extra_param("prompt", "select_account");
        }
        (req.url().0.to_string(), verifier)
    }

    /// Exchanges the code and looks the account up.
    pub async fn complete(
        &self,
        code: &str,
        verifier: Option<&SecretString>,
    ) -> Result<Authorized, HostError> {
        let mut req = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()));
        if let Some(v) = verifier {
            req = req.set_pkce_verifier(PkceCodeVerifier::new(v.expose().to_string()));
        }
        let token = req
            .request_async(&self.token_client())
            .await
            .map_err(exchange_error)?;
        let access_token = SecretString::new(token.access_token().secret().clone());
        let refresh_token = token
            .refresh_token()
            .map(|r| SecretString::new(r.secret().clone()));
        let expires_at = token.expires_in().map(|d| now_secs() + d.as_secs() as i64);
        let token_scopes: Vec<String> = token
            .scopes()
            .map(|s| {
                s.iter()
                    .flat_map(|s| s.split([',', ' ']))
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let (account, header_scopes) = self.user(&access_token).await?;
        Ok(Authorized {
            account,
            access_token,
            refresh_token,
            expires_at,
            scopes: header_scopes.unwrap_or(token_scopes),
        })
    }

    /// Whether a stored token still works (the periodic health check).
    pub async fn validate(&self, token: &SecretString) -> Result<(), HostError> {
        self.user(token).await.map(|_| ())
    }

    async fn user(
        &self,
        token: &SecretString,
    ) -> Result<(Account, Option<Vec<String>>), HostError> {
        let url = match self.provider {
            Provider::Gitee => format!("{}/api/v5/user", self.api_base),
            _ => format!("{}/user", self.api_base),
        };
        let mut auth = header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| HostError::UserLookupFailed)?;
        auth.set_sensitive(true);
        let resp = self
            .http
            .get(url)
            .header(header::AUTHORIZATION, auth)
            .header(
                header::ACCEPT,
                "application/vnd.github+json, application/json",
            )
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = resp.status();
        if status.as_u16() == 429
            || (status.as_u16() == 403
                && resp
                    .headers()
                    .get("x-ratelimit-remaining")
                    .is_some_and(|v| v == "0"))
        {
            let retry = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            return Err(HostError::RateLimited {
                retry_after_secs: retry,
            });
        }
        if status.as_u16() == 401 {
            return Err(HostError::TokenInvalid);
        }
        if !status.is_success() {
            tracing::info!(
                provider = self.provider.as_str(),
                status = status.as_u16(),
                "account lookup refused"
            );
            return Err(HostError::UserLookupFailed);
        }
        // GitHub tells the granted scopes of OAuth-app tokens in a header.
        let scopes = resp
            .headers()
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            });
        let body = read_bounded(resp, MAX_ANSWER).await?;
        let user: User = parse_json(&body, HostError::UserLookupFailed)?;
        Ok((user.into_account(), scopes))
    }
}

impl OAuthProvider {
    /// GitHub: `DELETE /applications/{client_id}/grant` (Basic auth with the app's credentials)
    /// removes our app's authorization and every token of it. Gitee has no such API.
    pub async fn revoke(&self, token: &SecretString) -> Result<(), HostError> {
        if self.provider != Provider::GitHub {
            return Err(HostError::Upstream { status: 501 });
        }
        let resp = self
            .http
            .delete(format!(
                "{}/applications/{}/grant",
                self.api_base, self.client_id
            ))
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .json(&serde_json::json!({ "access_token": token.expose() }))
            .send()
            .await
            .map_err(|e| classify(&e))?;
        match resp.status().as_u16() {
            204 | 200 => Ok(()),
            s => Err(HostError::Upstream { status: s }),
        }
    }
}

/// A new token pair from a refresh.
pub struct Refreshed {
    pub access_token: SecretString,
    /// Refresh tokens rotate: the old one is dead once this arrives.
    pub refresh_token: Option<SecretString>,
    pub expires_at: Option<i64>,
}

/// Why a refresh failed.
#[derive(Debug)]
pub enum RefreshFailure {
    /// The code host refused the refresh token (`invalid_grant`, …): only re-authorizing helps.
    Permanent(String),
    /// Network trouble, a 5xx, a timeout: worth retrying.
    Transient(HostError),
}

impl OAuthProvider {
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<Refreshed, RefreshFailure> {
        let token = self
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
            .request_async(&self.token_client())
            .await
            .map_err(|e| match exchange_error(e) {
                HostError::OAuthExchange { error } if error != "unexpected_response" => {
                    RefreshFailure::Permanent(error)
                }
                other => RefreshFailure::Transient(other),
            })?;
        Ok(Refreshed {
            access_token: SecretString::new(token.access_token().secret().clone()),
            refresh_token: token
                .refresh_token()
                .map(|r| SecretString::new(r.secret().clone())),
            expires_at: token.expires_in().map(|d| now_secs() + d.as_secs() as i64),
        })
    }
}

/// Why a token request (code exchange, refresh) got no usable answer.
#[derive(Debug, thiserror::Error)]
#[error("the token request failed: {0:?}")]
struct TokenCallFailed(HostError);

type TokenFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, TokenCallFailed>> + Send>,
>;

/// The HTTP client the `oauth2` crate makes its token requests with: ours (timeouts, no
/// redirects), reading the answer within [`MAX_ANSWER`]. (The crate's own reqwest integration
/// reads the whole body, however large.)
async fn token_call(
    http: reqwest::Client,
    req: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, TokenCallFailed> {
    let req = reqwest::Request::try_from(req).map_err(|e| TokenCallFailed(classify(&e)))?;
    let resp = http
        .execute(req)
        .await
        .map_err(|e| TokenCallFailed(classify(&e)))?;
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = read_bounded(resp, MAX_ANSWER)
        .await
        .map_err(TokenCallFailed)?;
    let mut out = oauth2::HttpResponse::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

/// Maps a failed exchange. GitHub answers errors with HTTP 200 and an `error` field, which the
/// `oauth2` crate reports as a parse failure of the token response: the body says which error.
fn exchange_error(
    e: RequestTokenError<
        TokenCallFailed,
        oauth2::StandardErrorResponse<oauth2::basic::BasicErrorResponseType>,
    >,
) -> HostError {
    match e {
        RequestTokenError::ServerResponse(r) => HostError::OAuthExchange {
            error: clip_code(r.error().as_ref()),
        },
        RequestTokenError::Parse(_, body) => match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(b) => HostError::OAuthExchange {
                error: clip_code(&b.error),
            },
            Err(_) => HostError::OAuthExchange {
                error: "unexpected_response".into(),
            },
        },
        RequestTokenError::Request(TokenCallFailed(e)) => e,
        RequestTokenError::Other(_) => HostError::OAuthExchange {
            error: "unexpected_response".into(),
        },
    }
}

/// Error codes are shown to the user: keep them short and plain.
fn clip_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod bounded_tests {
    use super::*;

    /// Against a host that answers everything with 64 MiB: the token exchange, the refresh and
    /// the account lookup each stop at the bound instead of reading it all.
    #[tokio::test]
    async fn oauth_answers_are_read_within_the_bound() {
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        let fake = fake_hosts::start(any, any).await.unwrap();
        for base in ["huge", "huge-chunked"] {
            let url = format!("{}/{base}", fake.http_url());
            let app = OAuthProvider::new(
                Provider::GitHub,
                &url,
                &url,
                "id",
                &SecretString::new("secret".into()),
                "http://127.0.0.1:3000/oauth/github/callback",
                Duration::from_secs(5),
            )
            .unwrap();
            let token = SecretString::new("gho_fake".into());
            assert_eq!(
                app.complete("code", None).await.err(),
                Some(HostError::AnswerTooLarge),
                "{base}: exchange"
            );
            assert!(
                matches!(
                    app.refresh(&token).await.err(),
                    Some(RefreshFailure::Transient(HostError::AnswerTooLarge))
                ),
                "{base}: refresh"
            );
            assert_eq!(
                app.validate(&token).await.err(),
                Some(HostError::AnswerTooLarge),
                "{base}: account lookup"
            );
        }
    }
}
