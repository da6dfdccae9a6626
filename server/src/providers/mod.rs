//! Clients for the code hosts. Every base URL is configurable (self-managed GitLab, GitHub
//! Enterprise), and every outbound connection to a user-given address goes through the
//! [`net::OutboundPolicy`], and every answer is read within the [`limits`].

pub mod address;
pub mod avatar;
pub mod gitlab;
pub mod instance;
pub mod limits;
pub mod net;
pub mod oauth;
#[cfg(test)]
mod test_support;

/// What checking a personal access token found.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    pub account: app::api::Account,
    pub scopes: Vec<String>,
    pub scopes_unknown: bool,
    /// `YYYY-MM-DD`.
    pub expires_at: Option<String>,
}

/// Where a redirect pointed, as the user may see it: scheme, host and port. That is what
/// fixes a mistyped address (`http` for `https`, another name); the path and query of an
/// internal address are not the caller's business, and may carry secrets.
pub fn redirect_origin(location: Option<&str>) -> Option<String> {
    let url = url::Url::parse(location?).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_redirect_shows_only_its_origin() {
        let origin = |l| super::redirect_origin(Some(l));
        assert_eq!(
            origin("https://gitlab.example.com/users/sign_in?token=x").as_deref(),
            Some("https://gitlab.example.com")
        );
        assert_eq!(
            origin("http://10.0.0.5:8080/a").as_deref(),
            Some("http://10.0.0.5:8080")
        );
        assert_eq!(origin("/relative/path"), None);
        assert_eq!(origin("javascript:alert(1)"), None);
        assert_eq!(super::redirect_origin(None), None);
    }
}
