//! Everything that reaches the network, whichever code host it is for: the outbound policy
//! for user-given addresses ([`policy`]), parsing those addresses ([`address`]), the client for
//! a user-given instance ([`instance`]), answer sizes and per-tenant call limits ([`limits`]),
//! avatar fetches ([`avatar`]), and the one HTTP helper every host's REST calls go through,
//! which reads the answer and classifies rate limits once ([`http`]). Nothing here knows a
//! host by name: what a host sends or means is in its module under `crate::hosts`.

pub mod address;
pub mod avatar;
pub mod http;
pub mod instance;
pub mod limits;
pub mod policy;
#[cfg(test)]
pub(crate) mod test_support;

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
