//! The state parameter: bound to the browser, tenant and provider, single use, expiring.

use super::*;
use crate::config::Config;
use crate::hosts::Hosts;
use crate::secret::{SecretBytes, SecretString};

pub(crate) fn flows() -> (OAuthFlows, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(crate::store::SledStore::open(dir.path()).unwrap());
    (flows_on(store), dir)
}

/// Flows for a GitHub app on `store`.
pub(super) fn flows_on(store: Arc<dyn Store>) -> OAuthFlows {
    let mut c = Config::defaults();
    c.hosts.get_mut(Provider::GitHub).app = Some(crate::config::OAuthApp {
        client_id: "id".into(),
        client_secret: SecretString::new("s".into()),
    });
    let cipher = Arc::new(Cipher::new(&SecretBytes::new(vec![1; 32])).unwrap());
    OAuthFlows::new(calls(&c), store, cipher)
}

/// The calls of `c`'s hosts.
pub(crate) fn calls(c: &Config) -> Arc<HostCalls> {
    let hosts = Arc::new(Hosts::from_config(c, "http://127.0.0.1:3000").unwrap());
    Arc::new(HostCalls::new(c, hosts))
}

pub(super) fn caller(tenant: &str) -> Caller {
    Caller {
        user_id: "u".into(),
        user_name: "U".into(),
        tenant: app::api::TenantId::parse(tenant).unwrap(),
        local_mode: false,
        request_id: "r".into(),
    }
}

pub(super) fn state_of(url: &str) -> String {
    url.split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn authorize_url_has_state_pkce_scopes_and_prompt() {
    let (f, _dir) = flows();
    let (url, cookie) = f
        .start(&caller("t1"), Provider::GitHub, true, false)
        .await
        .unwrap();
    assert!(url.starts_with("https://github.com/login/oauth/authorize?"));
    assert!(url.contains("code_challenge_method=S256"));
    assert!(url.contains("scope=repo+read%3Auser"));
    assert!(url.contains("prompt=select_account"));
    assert!(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Foauth%2Fgithub%2Fcallback"));
    assert!(state_of(&url).len() >= 43, "≥ 256 bits");
    assert!(cookie.len() >= 43);
    assert!(matches!(
        f.start(&caller("t1"), Provider::Gitee, true, false).await,
        Err(ApiError::NotConfigured)
    ));
}

#[tokio::test]
async fn state_is_single_use_and_bound_to_browser_tenant_provider() {
    let (f, _dir) = flows();
    let c1 = caller("t1");
    let start = || f.start(&c1, Provider::GitHub, true, false);
    let (url, browser) = start().await.unwrap();
    let state = state_of(&url);
    let fr = &f;
    let take = |c: Caller, p, s: String, b: String| async move {
        fr.take(&c, p, Some(&s), Some(&b)).await.err()
    };
    assert_eq!(
        take(
            c1.clone(),
            Provider::GitHub,
            state.clone(),
            "other-browser".into()
        )
        .await,
        Some(Refused::OtherBrowser)
    );
    // a failed attempt burns the state
    assert_eq!(
        take(c1.clone(), Provider::GitHub, state, browser).await,
        Some(Refused::Unknown)
    );
    let (url, browser) = start().await.unwrap();
    assert_eq!(
        take(caller("t2"), Provider::GitHub, state_of(&url), browser).await,
        Some(Refused::OtherTenant)
    );
    let (url, browser) = start().await.unwrap();
    assert_eq!(
        take(c1.clone(), Provider::Gitee, state_of(&url), browser).await,
        Some(Refused::OtherHost)
    );
    let (url, browser) = start().await.unwrap();
    let state = state_of(&url);
    assert_eq!(
        take(c1.clone(), Provider::GitHub, state.clone(), browser.clone()).await,
        None
    );
    assert_eq!(
        take(c1.clone(), Provider::GitHub, state, browser.clone()).await,
        Some(Refused::Unknown),
        "replay"
    );
    assert_eq!(
        f.take(&c1, Provider::GitHub, None, Some(&browser))
            .await
            .err(),
        Some(Refused::Missing)
    );
}

#[tokio::test]
async fn state_expires() {
    let (mut f, _dir) = flows();
    f.ttl = Duration::ZERO;
    let c1 = caller("t1");
    let (url, browser) = f.start(&c1, Provider::GitHub, false, false).await.unwrap();
    assert_eq!(
        f.take(&c1, Provider::GitHub, Some(&state_of(&url)), Some(&browser))
            .await
            .err(),
        Some(Refused::Expired)
    );
}
