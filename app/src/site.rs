//! Where the UI lives: the path prefix the server is mounted under (`CODESOURCE_BASE_PATH`,
//! behind the console's reverse proxy) or, in the widget, the absolute URL of the server it
//! talks to. Every URL the UI makes (assets, server functions, OAuth) is built here, so none
//! can ignore the prefix.

use leptos::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Site {
    /// `""` (served at the root), a path such as `/console/code-sources`, or, in the widget, an
    /// absolute URL such as `https://code-sources.example.com/console/code-sources`.
    pub base: String,
    /// Mounted into a host page by the widget: no router, no document title, and OAuth results
    /// arrive from the server's origin rather than the page's own.
    pub widget: bool,
    /// Console origins that may frame the page (exact origins): the only ones it talks to.
    pub embed_origins: Vec<String>,
}

impl Site {
    pub fn new(base: &str, widget: bool) -> Self {
        Site {
            base: base.trim_end_matches('/').to_string(),
            widget,
            embed_origins: Vec::new(),
        }
    }

    pub fn with_embed_origins(mut self, origins: Vec<String>) -> Self {
        self.embed_origins = origins;
        self
    }

    /// `path` (absolute, starting with `/`) under the base.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A URL the server handed out for itself, such as an avatar's (`/…`, already under the
    /// base path), resolved for where the UI runs: as is in our page, absolute to the server in
    /// the widget (which runs on the console's origin). Anything else (another host's URL,
    /// `//host/…`, `javascript:`) is `None`: the UI never loads it.
    pub fn own_url(&self, url: &str) -> Option<String> {
        let ours = url.starts_with('/')
            && !url.starts_with("//")
            && !url
                .chars()
                .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
        if !ours {
            return None;
        }
        Some(match self.server_origin() {
            Some(origin) => format!("{origin}{url}"),
            None => url.to_string(),
        })
    }

    /// The origin OAuth popups post their result from: the server's. `None` means the page's
    /// own origin (the server renders the page).
    pub fn server_origin(&self) -> Option<String> {
        let (scheme, rest) = self.base.split_once("://")?;
        let host = rest.split('/').next().unwrap_or(rest);
        Some(format!("{scheme}://{host}"))
    }
}

/// The site from context (the server and the entry points provide it).
pub fn use_site() -> Site {
    use_context::<Site>().unwrap_or_default()
}

/// What the server wrote into the page: `<meta name="codesource-base">` and
/// `<meta name="codesource-embed-origins">` (space-separated).
#[cfg(feature = "hydrate")]
pub fn from_document() -> Site {
    let meta = |name: &str| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector(&format!("meta[name={name}]"))
                    .ok()
                    .flatten()
            })
            .and_then(|m| m.get_attribute("content"))
            .unwrap_or_default()
    };
    let origins = meta("codesource-embed-origins")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Site::new(&meta("codesource-base"), false).with_embed_origins(origins)
}

/// Server functions go to `base` + their path. Set once, before the first call.
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub fn route_server_functions(base: &str) {
    if !base.is_empty() {
        let leaked: &'static str = Box::leak(base.to_string().into_boxed_str());
        let _ = leptos::server_fn::client::try_set_server_url(leaked);
    }
}

/// The page's `<html>` element (in the browser): where the server leaves the language and
/// zone it rendered in for hydration to read, and where the live language and theme are kept.
pub fn document_root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

/// The value of `key` in a query string (plain values only: no decoding needed for ours).
pub fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The value of cookie `name` in a `Cookie` header's text (or `document.cookie`).
pub fn cookie_value<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    cookies
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The value of cookie `name` in a request's headers (an HTTP/2 client may send its cookies
/// in several `Cookie` fields): the server render and the server's own pages read cookies here.
#[cfg(feature = "ssr")]
pub fn request_cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| cookie_value(v, name))
}

#[cfg(test)]
mod tests {
    /// HTTP/2 lets a browser send its cookies in several `Cookie` fields.
    #[cfg(feature = "ssr")]
    #[test]
    fn a_cookie_is_found_in_any_cookie_field() {
        let mut headers = http::HeaderMap::new();
        headers.append(http::header::COOKIE, "a=1; cs_lang=zh-CN".parse().unwrap());
        headers.append(http::header::COOKIE, "cs_tz=Asia/Tokyo".parse().unwrap());
        assert_eq!(super::request_cookie(&headers, "cs_lang"), Some("zh-CN"));
        assert_eq!(super::request_cookie(&headers, "cs_tz"), Some("Asia/Tokyo"));
        assert_eq!(super::request_cookie(&headers, "b"), None);
    }

    #[test]
    fn a_cookie_is_found_by_its_exact_name() {
        let header = "cs_lang=en; xcs_tz=Asia/Tokyo;cs_tz=Europe/Berlin";
        assert_eq!(super::cookie_value(header, "cs_tz"), Some("Europe/Berlin"));
        assert_eq!(super::cookie_value(header, "cs_lang"), Some("en"));
        assert_eq!(super::cookie_value(header, "tz"), None);
        assert_eq!(super::cookie_value("", "cs_tz"), None);
    }

    use super::*;

    #[test]
    fn builds_urls_under_the_base() {
        assert_eq!(Site::new("", false).url("/pkg/x.css"), "/pkg/x.css");
        assert_eq!(
            Site::new("/console/code-sources/", false).url("/oauth/github/start"),
            "/console/code-sources/oauth/github/start"
        );
        let w = Site::new("https://cs.example.com:8443/console/cs", true);
        assert_eq!(
            w.url("/api/code-sources/page"),
            "https://cs.example.com:8443/console/cs/api/code-sources/page"
        );
        assert_eq!(
            w.server_origin().as_deref(),
            Some("https://cs.example.com:8443")
        );
        assert_eq!(Site::new("/p", false).server_origin(), None);
    }

    #[test]
    fn resolves_only_our_own_urls() {
        let page = Site::new("/console/cs", false);
        assert_eq!(
            page.own_url("/console/cs/avatars/gitlab?v=1").as_deref(),
            Some("/console/cs/avatars/gitlab?v=1")
        );
        let w = Site::new("https://cs.example.com:8443/console/cs", true);
        assert_eq!(
            w.own_url("/console/cs/avatars/gitlab?v=1").as_deref(),
            Some("https://cs.example.com:8443/console/cs/avatars/gitlab?v=1")
        );
        for not in [
            "https://secure.gravatar.com/avatar/x",
            "http://gitlab.example.com/uploads/a.png",
            "//evil.example/a.png",
            "/\\evil.example/a.png",
            "javascript:alert(1)",
            "data:image/svg+xml,<svg/>",
            "avatars/gitlab",
            "/avatars/a b",
            "",
        ] {
            assert_eq!(page.own_url(not), None, "{not}");
            assert_eq!(w.own_url(not), None, "{not}");
        }
    }
}
