//! The cross-site request defence: a state-changing request must come from our own page, or
//! from a page on one of the widget's host origins. Cookies ride along with any request a
//! browser sends, so this, not the identity check, is what stops another site acting as the user.

use axum::http::{header, HeaderMap, HeaderValue};

/// Whether a state-changing request may proceed.
pub fn allowed(h: &HeaderMap, public_origin: Option<&str>, widget_origins: &[String]) -> bool {
    same_site(h, public_origin) || from_widget_origin(h, widget_origins)
}

/// Same-origin check for state-changing requests: `Sec-Fetch-Site` when the browser sends it,
/// else `Origin` against our public origin (or the `Host` we were reached at). Requests without
/// either header do not come from a browser and so cannot ride on a victim's cookies.
fn same_site(h: &HeaderMap, public_origin: Option<&str>) -> bool {
    let get = |n| h.get(n).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(site) = get(header::HeaderName::from_static("sec-fetch-site")) {
        return site == "same-origin";
    }
    let Some(origin) = get(header::ORIGIN) else {
        return true;
    };
    match public_origin {
        Some(p) => origin.eq_ignore_ascii_case(p),
        None => {
            let host = get(header::HOST).unwrap_or("");
            origin.split_once("://").is_some_and(|(_, authority)| {
                !host.is_empty() && authority.eq_ignore_ascii_case(host)
            })
        }
    }
}

/// A request from a page on one of the widget's host origins. The browser sets `Origin` and
/// pages cannot forge it, so naming the origin exactly is as strong as the same-origin check.
fn from_widget_origin(h: &HeaderMap, widget_origins: &[String]) -> bool {
    h.get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| widget_origins.iter().any(|w| w == o))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A header map from pairs (shared with the other middleware tests).
    pub(crate) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn cross_site_checks() {
        assert!(same_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        assert!(!same_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(!same_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            None
        ));
        assert!(same_site(
            &headers(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ]),
            None
        ));
        assert!(!same_site(
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:3000")
            ]),
            None
        ));
        assert!(same_site(
            &headers(&[("origin", "https://console.example")]),
            Some("https://console.example")
        ));
        assert!(!same_site(&headers(&[("origin", "null")]), None));
        assert!(
            same_site(&headers(&[]), None),
            "non-browser clients carry no ambient credentials"
        );
    }

    #[test]
    fn widget_origins_are_matched_exactly() {
        let allowed = ["https://console.example".to_string()];
        let from = |o: &str| from_widget_origin(&headers(&[("origin", o)]), &allowed);
        assert!(from("https://console.example"));
        assert!(!from("https://console.example.evil"));
        assert!(!from("http://console.example"));
        assert!(!from_widget_origin(&headers(&[]), &allowed));
    }
}
