//! URLs a code host hands us (avatars, repository pages, hook settings pages) are untrusted:
//! they reach the page's `src`/`href` and the server's avatar fetch only through
//! [`safe_http_url`], the one filter both sides use.

/// Returns the URL only if it is an absolute `http:` or `https:` URL without credentials or
/// control characters. Code hosts are untrusted: a `javascript:` avatar must never reach `src`/`href`.
pub fn safe_http_url(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return None;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let ok = !authority.is_empty()
        && !authority.contains('@')
        && url.len() <= 2048
        && !url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '"' || c == '<' || c == '>');
    ok.then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screens_urls() {
        assert!(safe_http_url("https://gitlab.com/uploads/a.png").is_some());
        assert!(safe_http_url("HTTP://10.0.0.5:8080/a").is_some());
        assert!(safe_http_url("javascript:alert(1)").is_none());
        assert!(safe_http_url("data:image/png;base64,xx").is_none());
        assert!(safe_http_url("https://user:pw@evil/").is_none());
        assert!(safe_http_url("https://a/\" onerror=x").is_none());
        assert!(safe_http_url("//evil.example/x").is_none());
        assert!(safe_http_url("https:///x").is_none());
    }
}
