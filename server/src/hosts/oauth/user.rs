//! The account in a code host's user JSON, reduced to what we keep and show.

use app::api::Account;
use serde::Deserialize;

/// The user JSON of GitHub and of hosts that copy its shape (Gitee, Gitea).
#[derive(Deserialize)]
pub struct GitHubStyleUser {
    login: String,
    #[serde(default, alias = "full_name")]
    name: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
}

/// [`OAuthSpec::parse_user`] for GitHub-shaped user JSON.
pub fn github_style_user(body: &[u8]) -> Option<Account> {
    let u: GitHubStyleUser = serde_json::from_slice(body).ok()?;
    Some(account(
        &u.login,
        u.name.as_deref(),
        u.avatar_url,
        u.html_url,
    ))
}

/// What we keep and show of an account: bounded text, and only links that are plain http(s)
/// URLs (a host's answer is not trusted: no `javascript:`, no markup). An empty name is none.
pub fn account(
    login: &str,
    name: Option<&str>,
    avatar_url: Option<String>,
    web_url: Option<String>,
) -> Account {
    Account {
        login: login.chars().take(255).collect(),
        name: name
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.chars().take(255).collect()),
        avatar_url: avatar_url.filter(|u| app::api::safe_http_url(u).is_some()),
        web_url: web_url.filter(|u| app::api::safe_http_url(u).is_some()),
    }
}
