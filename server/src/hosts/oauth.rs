//! OAuth authorization-code flows with the `oauth2` crate: authorize URLs (PKCE S256 where the
//! host supports it), code exchange, refresh and the account lookup, driven by each host's
//! [`OAuthSpec`]. Base URLs come from configuration (GitHub Enterprise Server, stand-ins in
//! tests). Every answer, the token exchanges included, is read within
//! [`crate::outbound::limits::MAX_ANSWER`]; the account lookup goes through the one HTTP
//! helper ([`http`]) and its rate-limit classifier.

use crate::outbound::http::{self, Auth};
use crate::secret::SecretString;
use crate::util::now_secs;
use app::api::{Account, HostError, Provider};
pub use oauth2::AuthType;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl,
};
use reqwest::Method;
use serde::Deserialize;
use std::time::Duration;

/// Token answers may name the granted scopes in `scopes` (Bitbucket) instead of OAuth's `scope`.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
pub struct HostTokenFields {
    #[serde(default)]
    scopes: Option<String>,
}

impl oauth2::ExtraTokenFields for HostTokenFields {}

type TokenAnswer = oauth2::StandardTokenResponse<HostTokenFields, oauth2::basic::BasicTokenType>;

type HostClient = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    TokenAnswer,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Whether the `granted` scopes cover `asked`: the scope itself, or one the host documents as
/// implying it (GitHub's `user` covers `read:user`; Bitbucket's `repository:write` and
/// `repository:admin` cover `repository`).
pub fn covers(granted: &[String], asked: &str) -> bool {
    granted.iter().any(|g| {
        g == asked
            || match asked {
                "read:user" => g == "user",
                "repository" => g == "repository:write" || g == "repository:admin",
                _ => false,
            }
    })
}

/// How one code host does OAuth, as data (each host module has one; see `crate::hosts`).
pub struct OAuthSpec {
    pub provider: Provider,
    /// Authorize page, relative to the web base (`/login/oauth/authorize`).
    pub authorize_path: &'static str,
    /// Token endpoint, relative to the web base.
    pub token_path: &'static str,
    /// Account lookup, relative to the API base (`/user`).
    pub user_path: &'static str,
    /// Headers the host's API wants on every call (GitHub: its media type and API version).
    pub api_headers: &'static [(&'static str, &'static str)],
    /// What we ask for (a scope not granted is a warning, unless in `repo_read_scopes`).
    pub scopes: &'static [&'static str],
    /// The scopes (among `scopes`) without which the token cannot read repositories. The one
    /// rule for every host: a grant lacking any of them is refused (`MissingScopes`), since the
    /// binding could not pull source; the other missing scopes (the account's) are a warning.
    pub repo_read_scopes: &'static [&'static str],
    /// Whether the authorize URL carries `scope` (Bitbucket takes the consumer's scopes).
    pub send_scopes: bool,
    pub pkce: bool,
    /// How the app authenticates at the token endpoint.
    pub client_auth: AuthType,
    /// Extra authorize parameters (GitHub: let the user pick the account).
    pub authorize_extra: &'static [(&'static str, &'static str)],
    /// The account in the host's user JSON; `None` when it does not parse.
    pub parse_user: fn(&[u8]) -> Option<Account>,
}

/// One configured OAuth code host.
pub struct OAuthProvider {
    pub provider: Provider,
    client: HostClient,
    /// Where the account is looked up.
    api_base: String,
    spec: &'static OAuthSpec,
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

impl OAuthProvider {
    /// `web` is the host's web base (`https://github.com`), `api` its REST base.
    pub fn new(
        spec: &'static OAuthSpec,
        web: &str,
        api: &str,
        client_id: &str,
        client_secret: &SecretString,
        redirect: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let web = web.trim_end_matches('/');
        let client: HostClient = oauth2::Client::new(ClientId::new(client_id.to_string()))
            .set_client_secret(ClientSecret::new(client_secret.expose().to_string()))
            .set_auth_uri(AuthUrl::new(format!("{web}{}", spec.authorize_path))?)
            .set_token_uri(TokenUrl::new(format!("{web}{}", spec.token_path))?)
            .set_redirect_uri(RedirectUrl::new(redirect.to_string())?)
            .set_auth_type(spec.client_auth.clone());
        // Gitee refuses requests without a User-Agent; GitHub's API asks for one too.
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("codesource/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OAuthProvider {
            provider: spec.provider,
            client,
            api_base: api.trim_end_matches('/').to_string(),
            spec,
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

    pub fn scopes(&self) -> &'static [&'static str] {
        self.spec.scopes
    }

    /// See [`OAuthSpec::repo_read_scopes`].
    pub fn repo_read_scopes(&self) -> &'static [&'static str] {
        self.spec.repo_read_scopes
    }

    /// The app's own credentials (GitHub's revocation authenticates with them).
    pub fn client_credentials(&self) -> (&str, &SecretString) {
        (&self.client_id, &self.client_secret)
    }

    /// The authorize URL for `state` asking for the host's scopes plus `extra` (hosts whose
    /// authorize URL carries scopes), and the PKCE verifier to keep server-side.
    pub fn authorize_url(&self, state: &str, extra: &[String]) -> (String, Option<SecretString>) {
        let state = state.to_string();
        let mut req = self.client.authorize_url(move || CsrfToken::new(state));
        if self.spec.send_scopes {
            let extra = extra.iter().map(String::as_str);
            for s in self.spec.scopes.iter().copied().chain(extra) {
                req = req.add_scope(Scope::new(s.to_string()));
            }
        }
        let mut verifier = None;
        if self.spec.pkce {
            let (challenge, v) = PkceCodeChallenge::new_random_sha256();
            req = req.set_pkce_challenge(challenge);
            verifier = Some(SecretString::new(v.secret().clone()));
        }
        for (k, v) in self.spec.authorize_extra {
            req = req.add_extra_param(*k, *v);
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
        let mut token_scopes: Vec<String> = token
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .or_else(|| token.extra_fields().scopes.clone().map(|s| vec![s]))
            .unwrap_or_default();
        token_scopes = token_scopes
            .iter()
            .flat_map(|s| s.split([',', ' ']))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
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
        let url = format!("{}{}", self.api_base, self.spec.user_path);
        let answer = http::send_with(
            &self.http,
            Method::GET,
            &url,
            Auth::Bearer(token),
            self.spec.api_headers,
            None,
        )
        .await
        .map_err(|e| match e {
            // Only a token no header can carry fails before the call; it came from the host's
            // own token answer, so the lookup failed rather than the user's token.
            HostError::TokenInvalid => HostError::UserLookupFailed,
            e => e,
        })?;
        if let Some(limited) = answer.rate_limit() {
            return Err(limited);
        }
        if answer.status == 401 {
            return Err(HostError::TokenInvalid);
        }
        if !answer.ok_status() {
            tracing::info!(
                provider = self.provider.as_str(),
                status = answer.status,
                "account lookup refused"
            );
            return Err(HostError::UserLookupFailed);
        }
        // GitHub tells the granted scopes of OAuth-app tokens in a header.
        let scopes = answer.header("x-oauth-scopes").map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        });
        let body = answer.body;
        let account = (self.spec.parse_user)(&body).ok_or(HostError::UserLookupFailed)?;
        Ok((account, scopes))
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

/// No answer at all (no free slot, the network): worth retrying.
impl From<HostError> for RefreshFailure {
    fn from(e: HostError) -> Self {
        RefreshFailure::Transient(e)
    }
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

mod token_call;
mod user;

use token_call::{exchange_error, token_call, TokenFuture};
pub use user::{account, github_style_user, GitHubStyleUser};

#[cfg(test)]
mod bounded_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod scope_tests;
