//! The cross-site request defence: a state-changing request must come from our own page, or
//! from a page on one of the widget's host origins. Cookies ride along with any request a
//! browser sends, so this, not the identity check, is what stops another site acting as the user.

use axum::http::{header, HeaderMap, HeaderValue};

/// Whether a state-changing request may proceed.
pub fn allowed(h: &HeaderMap, public_origin: Option<&str>, widget_origins: &[String]) -> bool {
    same_site(h, public_origin) || from_widget_origin(h, widget_origins)
}

/// Same-origin check for state-changing requests: `Sec-Fetch-Site` when the browser sends it,
/// else the origin the request comes from ([`request_origin`]) against our public origin (or the
/// `Host` we were reached at). Requests with none of these headers do not come from a browser
/// and so cannot ride on a victim's cookies.
fn same_site(h: &HeaderMap, public_origin: Option<&str>) -> bool {
    let get = |n| h.get(n).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(site) = get(header::HeaderName::from_static("sec-fetch-site")) {
        return site == "same-origin";
    }
    let Some(origin) = request_origin(h) else {
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

/// Where a request comes from: `Origin`, else the origin (`scheme://authority`) of `Referer`.
/// Browsers that send neither `Sec-Fetch-Site` nor `Origin` still send `Referer` unless a policy
/// drops it, and a page cannot forge it. A header that is present but unreadable counts as
/// an origin that matches nothing (`Some("")`), never as an absent one.
fn request_origin(h: &HeaderMap) -> Option<String> {
    if let Some(origin) = h.get(header::ORIGIN) {
        return Some(origin.to_str().unwrap_or("").to_string());
    }
    let referer = h.get(header::REFERER)?;
    Some(
        referer
            .to_str()
            .ok()
            .and_then(origin_of)
            .unwrap_or_default(),
    )
}

/// `scheme://authority` of an absolute URL; `None` when it is not one.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if scheme.is_empty() || authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

/// A request from a page on one of the widget's host origins. The browser sets `Origin` (and
/// `Referer`) and pages cannot forge it, so naming the origin exactly is as strong as the
/// same-origin check.
fn from_widget_origin(h: &HeaderMap, widget_origins: &[String]) -> bool {
    request_origin(h).is_some_and(|o| widget_origins.contains(&o))
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

    /// Without `Sec-Fetch-Site` and `Origin`, a `Referer` names the site the request came from.
    #[test]
    fn a_referer_counts_when_nothing_else_is_sent() {
        let ours = Some("https://console.example");
        let with_referer = |r: &str| headers(&[("referer", r)]);
        assert!(!same_site(
            &with_referer("https://evil.example/form.html"),
            ours
        ));
        assert!(!same_site(&with_referer("https://evil.example"), ours));
        assert!(!same_site(
            &with_referer("https://console.example.evil/"),
            ours
        ));
        assert!(!same_site(&with_referer("/relative"), ours));
        assert!(!same_site(&with_referer("not a url"), ours));
        assert!(!same_site(
            &with_referer("https://console.example@evil.example/"),
            ours
        ));
        assert!(same_site(
            &with_referer("https://console.example/code-sources?x=1"),
            ours
        ));
        assert!(same_site(&with_referer("https://console.example"), ours));
        // Against the `Host` we were reached at.
        let reached = |r: &str| headers(&[("referer", r), ("host", "127.0.0.1:3000")]);
        assert!(same_site(&reached("http://127.0.0.1:3000/"), None));
        assert!(!same_site(&reached("http://evil.example/"), None));
        // `Origin` and `Sec-Fetch-Site` still decide when present.
        assert!(same_site(
            &headers(&[
                ("origin", "https://console.example"),
                ("referer", "https://evil.example/")
            ]),
            ours
        ));
        assert!(!same_site(
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("referer", "https://console.example/")
            ]),
            ours
        ));
        // A referer that is not text matches nothing.
        let mut h = HeaderMap::new();
        h.insert(
            header::REFERER,
            HeaderValue::from_bytes(b"https://console.example/\xff").unwrap(),
        );
        assert!(!same_site(&h, ours));
    }

    #[test]
    fn widget_origins_are_matched_exactly() {
        let allowed = ["https://console.example".to_string()];
        let from = |o: &str| from_widget_origin(&headers(&[("origin", o)]), &allowed);
        assert!(from("https://console.example"));
        assert!(!from("https://console.example.evil"));
        assert!(!from("http://console.example"));
        assert!(!from_widget_origin(&headers(&[]), &allowed));
        let referred = |r: &str| from_widget_origin(&headers(&[("referer", r)]), &allowed);
        assert!(referred("https://console.example/app/page"));
        assert!(!referred("https://console.example.evil/app/page"));
    }
}
