//! OAuth flow state (RFC 9700 / RFC 7636): each Bind starts a flow with a random `state`
//! (256 bits), kept server-side with the PKCE verifier, the tenant and user that started it,
//! the code host, and a hash of a random browser cookie. The callback must bring the same
//! `state`, on the same code host's callback path, from the same browser and tenant, within
//! 10 minutes, once.

use crate::config::Config;
use crate::providers::oauth::{Authorized, OAuthProvider};
use crate::secret::SecretString;
use app::api::service::Caller;
use app::api::{ApiError, HostError, Provider};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);
/// Open flows per tenant; the oldest is dropped beyond this.
const MAX_FLOWS_PER_TENANT: usize = 16;

struct Flow {
    tenant: String,
    provider: Provider,
    verifier: Option<SecretString>,
    browser: [u8; 32],
    popup: bool,
    created: Instant,
}

/// What the callback found out.
pub struct Finished {
    pub popup: bool,
    pub result: Result<Authorized, ApiError>,
}

/// The callback's query string.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

pub struct OAuthFlows {
    apps: HashMap<Provider, OAuthProvider>,
    flows: Mutex<HashMap<String, Flow>>,
    ttl: Duration,
}

/// Redirect URI registered at the code host for `provider`.
pub fn callback_url(public_base: &str, provider: Provider) -> String {
    format!(
        "{}/oauth/{}/callback",
        public_base.trim_end_matches('/'),
        provider.as_str()
    )
}

impl OAuthFlows {
    pub fn from_config(config: &Config, public_base: &str) -> anyhow::Result<Self> {
        let mut apps = HashMap::new();
        if let Some(app) = &config.github_app {
            let p = Provider::GitHub;
            apps.insert(
                p,
                OAuthProvider::new(
                    p,
                    &config.github_url,
                    &config.github_api_url,
                    &app.client_id,
                    &app.client_secret,
                    &callback_url(public_base, p),
                    config.provider_timeout,
                )?,
            );
        }
        if let Some(app) = &config.gitee_app {
            let p = Provider::Gitee;
            apps.insert(
                p,
                OAuthProvider::new(
                    p,
                    &config.gitee_url,
                    &config.gitee_url,
                    &app.client_id,
                    &app.client_secret,
                    &callback_url(public_base, p),
                    config.provider_timeout,
                )?,
            );
        }
        Ok(OAuthFlows {
            apps,
            flows: Mutex::new(HashMap::new()),
            ttl: STATE_TTL,
        })
    }

    pub fn configured(&self, p: Provider) -> bool {
        self.apps.contains_key(&p)
    }

    /// The client for `p`, if configured (refreshing tokens uses it too).
    pub fn app(&self, p: Provider) -> Option<&OAuthProvider> {
        self.apps.get(&p)
    }

    /// The scopes asked of `p`'s users.
    pub fn scopes(&self, p: Provider) -> &'static [&'static str] {
        self.apps.get(&p).map(|a| a.scopes()).unwrap_or(&[])
    }

    /// Starts a flow: returns the authorize URL and the browser cookie value to set.
    pub fn start(
        &self,
        caller: &Caller,
        provider: Provider,
        popup: bool,
    ) -> Result<(String, String), ApiError> {
        let app = self.apps.get(&provider).ok_or(ApiError::NotConfigured)?;
        let state = random_token();
        let browser = random_token();
        let (url, verifier) = app.authorize_url(&state);
        let now = Instant::now();
        let mut flows = self.flows.lock().expect("flow map poisoned");
        flows.retain(|_, f| now.duration_since(f.created) < self.ttl);
        let mut mine: Vec<(String, Instant)> = flows
            .iter()
            .filter(|(_, f)| f.tenant == caller.tenant)
            .map(|(k, f)| (k.clone(), f.created))
            .collect();
        if mine.len() >= MAX_FLOWS_PER_TENANT {
            mine.sort_by_key(|(_, c)| *c);
            for (k, _) in mine.iter().take(mine.len() + 1 - MAX_FLOWS_PER_TENANT) {
                flows.remove(k);
            }
        }
        flows.insert(
            state,
            Flow {
                tenant: caller.tenant.clone(),
                provider,
                verifier,
                browser: hash(&browser),
                popup,
                created: now,
            },
        );
        Ok((url, browser))
    }

    /// Finishes a flow at `provider`'s callback.
    pub async fn finish(
        &self,
        caller: &Caller,
        provider: Provider,
        q: &CallbackQuery,
        browser: Option<&str>,
    ) -> Finished {
        let flow = match self.take(caller, provider, q.state.as_deref(), browser) {
            Ok(f) => f,
            Err(reason) => {
                tracing::warn!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
                    reason, outcome = "oauth_state_rejected", "OAuth callback refused");
                return Finished {
                    popup: false,
                    result: Err(ApiError::OAuthState),
                };
            }
        };
        let result = match (&q.error, &q.code) {
            (Some(e), _) if e == "access_denied" => Err(ApiError::Host(HostError::OAuthDenied)),
            (Some(e), _) => Err(ApiError::Host(HostError::OAuthExchange {
                error: e
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(64)
                    .collect(),
            })),
            (None, Some(code)) => {
                let app = self
                    .apps
                    .get(&provider)
                    .expect("a flow exists only for a configured provider");
                let started = std::time::Instant::now();
                let r = app.complete(code, flow.verifier.as_ref()).await;
                let outcome = if r.is_ok() { "ok" } else { "error" };
                crate::metrics::metrics().provider_call(
                    provider.as_str(),
                    outcome,
                    started.elapsed(),
                );
                r.map_err(ApiError::Host)
            }
            (None, None) => Err(ApiError::OAuthState),
        };
        match &result {
            Ok(a) => {
                tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
                account = %a.account.login, outcome = "authorized", "OAuth authorization completed")
            }
            Err(e) => {
                tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
                outcome = ?e, "OAuth authorization failed")
            }
        }
        Finished {
            popup: flow.popup,
            result,
        }
    }

    /// Takes the flow for `state` if everything about it matches; says why not otherwise.
    fn take(
        &self,
        caller: &Caller,
        provider: Provider,
        state: Option<&str>,
        browser: Option<&str>,
    ) -> Result<Flow, &'static str> {
        let state = state
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or("state missing")?;
        let mut flows = self.flows.lock().expect("flow map poisoned");
        // Removed whatever happens next: a state is good for one attempt only.
        let flow = flows.remove(state).ok_or("state unknown or already used")?;
        if flow.created.elapsed() >= self.ttl {
            return Err("state expired");
        }
        if flow.provider != provider {
            return Err("state issued for another code host");
        }
        if flow.tenant != caller.tenant {
            return Err("state issued for another tenant");
        }
        let same_browser = browser.is_some_and(|b| constant_eq(&hash(b), &flow.browser));
        if !same_browser {
            return Err("state issued to another browser");
        }
        Ok(flow)
    }

    #[cfg(test)]
    fn expire_all(&self) {
        for f in self.flows.lock().unwrap().values_mut() {
            f.created -= self.ttl;
        }
    }
}

/// 256 random bits, base64url.
fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    B64URL.encode(raw)
}

fn hash(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn constant_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows() -> OAuthFlows {
        let mut c = Config::defaults();
        c.github_app = Some(crate::config::OAuthApp {
            client_id: "id".into(),
            client_secret: SecretString::new("s".into()),
        });
        OAuthFlows::from_config(&c, "http://127.0.0.1:3000").unwrap()
    }

    fn caller(tenant: &str) -> Caller {
        Caller {
            user_id: "u".into(),
            user_name: "U".into(),
            tenant: tenant.into(),
            local_mode: false,
            request_id: "r".into(),
        }
    }

    fn state_of(url: &str) -> String {
        url.split("state=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string()
    }

    #[test]
    fn authorize_url_has_state_pkce_scopes_and_prompt() {
        let f = flows();
        let (url, cookie) = f.start(&caller("t1"), Provider::GitHub, true).unwrap();
        assert!(url.starts_with("https://github.com/login/oauth/authorize?"));
        assert!(url.contains("code_challenge_method=S256"));
        assert!(url.contains("scope=repo+read%3Auser"));
        assert!(url.contains("prompt=select_account"));
        assert!(
            url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Foauth%2Fgithub%2Fcallback")
        );
        assert!(state_of(&url).len() >= 43, "≥ 256 bits");
        assert!(cookie.len() >= 43);
        assert!(matches!(
            f.start(&caller("t1"), Provider::Gitee, true),
            Err(ApiError::NotConfigured)
        ));
    }

    #[test]
    fn state_is_single_use_and_bound_to_browser_tenant_provider() {
        let f = flows();
        let c1 = caller("t1");
        let (url, browser) = f.start(&c1, Provider::GitHub, true).unwrap();
        let state = state_of(&url);
        assert_eq!(
            f.take(&c1, Provider::GitHub, Some(&state), Some("other-browser"))
                .err(),
            Some("state issued to another browser")
        );
        // a failed attempt burns the state
        assert_eq!(
            f.take(&c1, Provider::GitHub, Some(&state), Some(&browser))
                .err(),
            Some("state unknown or already used")
        );

        let (url, browser) = f.start(&c1, Provider::GitHub, true).unwrap();
        let state = state_of(&url);
        assert_eq!(
            f.take(
                &caller("t2"),
                Provider::GitHub,
                Some(&state),
                Some(&browser)
            )
            .err(),
            Some("state issued for another tenant")
        );
        let (url, browser) = f.start(&c1, Provider::GitHub, true).unwrap();
        let state = state_of(&url);
        assert_eq!(
            f.take(&c1, Provider::Gitee, Some(&state), Some(&browser))
                .err(),
            Some("state issued for another code host")
        );
        let (url, browser) = f.start(&c1, Provider::GitHub, true).unwrap();
        let state = state_of(&url);
        assert!(f
            .take(&c1, Provider::GitHub, Some(&state), Some(&browser))
            .is_ok());
        assert!(
            f.take(&c1, Provider::GitHub, Some(&state), Some(&browser))
                .is_err(),
            "replay"
        );
        assert_eq!(
            f.take(&c1, Provider::GitHub, None, Some(&browser)).err(),
            Some("state missing")
        );
    }

    #[test]
    fn state_expires() {
        let f = flows();
        let c1 = caller("t1");
        let (url, browser) = f.start(&c1, Provider::GitHub, false).unwrap();
        f.expire_all();
        assert_eq!(
            f.take(&c1, Provider::GitHub, Some(&state_of(&url)), Some(&browser))
                .err(),
            Some("state expired")
        );
    }
}
