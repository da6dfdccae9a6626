//! OAuth flow state (RFC 9700 / RFC 7636): each Bind starts a flow with a random `state`
//! (256 bits), kept in the shared store (so the callback may reach any replica, or a restarted
//! process) under the state's hash, with the sealed PKCE verifier, the tenant that started it,
//! the code host, and a hash of a random browser cookie. The callback must bring the same
//! `state`, on the same code host's callback path, from the same browser and tenant, within
//! 10 minutes, once: taking the flow is one atomic delete.

use crate::crypto::Cipher;
use crate::host_calls::HostCalls;
use crate::hosts::oauth::{Authorized, OAuthProvider};
use crate::store::{flow_aad, FlowRecord, Store, StoreError, TakenFlow};
use crate::util::hex;
use app::api::service::Caller;
use app::api::{ApiError, HostError, Provider};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);
/// Open flows per tenant; the oldest is dropped beyond this.
const MAX_FLOWS_PER_TENANT: usize = 16;

/// What the callback found out.
pub struct Finished {
    pub popup: bool,
    pub result: Result<Authorized, ApiError>,
    /// Scopes the flow asked for beyond the host's own.
    pub extra_scopes: Vec<String>,
}

/// The callback's query string.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

pub struct OAuthFlows {
    /// Where the code exchange is made (the flow state itself is in the store).
    calls: Arc<HostCalls>,
    store: Arc<dyn Store>,
    cipher: Arc<Cipher>,
    ttl: Duration,
}

/// Why a callback's state was refused (logged, never shown).
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    Missing,
    Unknown,
    Expired,
    OtherHost,
    OtherTenant,
    OtherBrowser,
    Store(String),
}

impl Refused {
    fn as_str(&self) -> &str {
        match self {
            Refused::Missing => "state missing",
            Refused::Unknown => "state unknown or already used",
            Refused::Expired => "state expired",
            Refused::OtherHost => "state issued for another code host",
            Refused::OtherTenant => "state issued for another tenant",
            Refused::OtherBrowser => "state issued to another browser",
            Refused::Store(e) => e,
        }
    }
}

impl OAuthFlows {
    pub fn new(calls: Arc<HostCalls>, store: Arc<dyn Store>, cipher: Arc<Cipher>) -> Self {
        OAuthFlows {
            calls,
            store,
            cipher,
            ttl: STATE_TTL,
        }
    }

    pub fn configured(&self, p: Provider) -> bool {
        self.calls.host(p).configured()
    }

    /// The client for `p`, if configured (refreshing tokens uses it too).
    pub fn app(&self, p: Provider) -> Option<&OAuthProvider> {
        self.calls.host(p).oauth()
    }

    /// The scopes asked of `p`'s users.
    pub fn scopes(&self, p: Provider) -> &'static [&'static str] {
        self.app(p).map(|a| a.scopes()).unwrap_or(&[])
    }

    /// The scopes `p`'s grants must include to read repositories.
    pub fn repo_read_scopes(&self, p: Provider) -> &'static [&'static str] {
        self.app(p).map(|a| a.repo_read_scopes()).unwrap_or(&[])
    }

    /// Starts a flow: returns the authorize URL and the browser cookie value to set.
    /// Starts a flow; `hooks` asks for the host's hook scopes too (turning auto-build on
    /// with a grant that cannot manage hooks: the re-authorization the page offers).
    pub async fn start(
        &self,
        caller: &Caller,
        provider: Provider,
        popup: bool,
        hooks: bool,
    ) -> Result<(String, String), ApiError> {
        let app = self.app(provider).ok_or(ApiError::NotConfigured)?;
        let extra_scopes: Vec<String> = match self.calls.host(provider).hooks() {
            Some(h) if hooks => h.hook_scopes().iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        };
        let state = random_token();
        let browser = random_token();
        let (url, verifier) = app.authorize_url(&state, &extra_scopes);
        let state_hash = hex(&hash(&state));
        let record = FlowRecord {
            verifier: verifier.map(|v| self.cipher.seal(&v, &flow_aad(&state_hash))),
            state_hash,
            tenant: caller.tenant.to_string(),
            provider,
            browser_hash: hex(&hash(&browser)),
            popup,
            // The store stamps its own time (one clock for every replica).
            created_at: 0,
            extra_scopes,
        };
        self.store
            .insert_flow(&record, MAX_FLOWS_PER_TENANT, self.ttl)
            .await
            .map_err(|e| {
                crate::failures::store_failed(caller, "storing the OAuth flow failed", &e)
            })?;
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
        let flow = match self
            .take(caller, provider, q.state.as_deref(), browser)
            .await
        {
            Ok(f) => f,
            Err(reason) => {
                tracing::warn!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
                    reason = reason.as_str(), outcome = "oauth_state_rejected", "OAuth callback refused");
                let error = match reason {
                    Refused::Store(_) => ApiError::StorageUnavailable,
                    _ => ApiError::OAuthState,
                };
                return Finished {
                    popup: false,
                    result: Err(error),
                    extra_scopes: Vec::new(),
                };
            }
        };
        let verifier = match &flow.verifier {
            Some(v) => match self.cipher.open(v, &flow_aad(&flow.state_hash)) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::error!(request_id = %caller.request_id, error = %e, "opening the PKCE verifier failed");
                    return Finished {
                        popup: flow.popup,
                        extra_scopes: flow.extra_scopes.clone(),
                        result: Err(ApiError::Internal {
                            request_id: caller.request_id.clone(),
                        }),
                    };
                }
            },
            None => None,
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
                let Some(app) = self.app(provider) else {
                    // The operator removed the app while the user was authorizing.
                    return Finished {
                        popup: flow.popup,
                        result: Err(ApiError::NotConfigured),
                        extra_scopes: flow.extra_scopes.clone(),
                    };
                };
                self.calls
                    .call(
                        &caller.tenant,
                        provider,
                        app.complete(code, verifier.as_ref()),
                    )
                    .await
                    .map_err(ApiError::Host)
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
            extra_scopes: flow.extra_scopes,
        }
    }

    /// Takes the flow for `state` if everything about it matches; says why not otherwise.
    async fn take(
        &self,
        caller: &Caller,
        provider: Provider,
        state: Option<&str>,
        browser: Option<&str>,
    ) -> Result<FlowRecord, Refused> {
        let state = state
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or(Refused::Missing)?;
        // Removed whatever happens next: a state is good for one attempt only.
        let flow = self
            .store
            .take_flow(&hex(&hash(state)), self.ttl)
            .await
            .map_err(|e: StoreError| Refused::Store(format!("store: {e}")))?;
        // Judged by the store's clock, not this replica's.
        let flow = match flow {
            Some(TakenFlow::Fresh(flow)) => flow,
            Some(TakenFlow::Expired) => return Err(Refused::Expired),
            None => return Err(Refused::Unknown),
        };
        if flow.provider != provider {
            return Err(Refused::OtherHost);
        }
        if flow.tenant != caller.tenant.as_str() {
            return Err(Refused::OtherTenant);
        }
        let same_browser = browser
            .is_some_and(|b| constant_eq(hex(&hash(b)).as_bytes(), flow.browser_hash.as_bytes()));
        if !same_browser {
            return Err(Refused::OtherBrowser);
        }
        Ok(flow)
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

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod clock_skew;
#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod tests;
