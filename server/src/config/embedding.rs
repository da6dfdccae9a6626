//! Settings for living inside a console: who may frame the page or mount the widget, the path
//! prefix, the widget's files and the console link. Checked here, so a typo stops the start
//! instead of silently opening (or closing) the page to the wrong origins.

use anyhow::bail;

/// Reads `CODESOURCE_FRAME_ANCESTORS`: exact origins (the page talks to those), or CSP
/// wildcards such as `https://*.example.com` (framing only: a message needs an exact origin).
pub(super) fn frame_ancestors(origins: Vec<String>, name: &str) -> anyhow::Result<Vec<String>> {
    for origin in &origins {
        if !(is_origin(origin) || is_wildcard_origin(origin)) {
            bail!("{name}: {origin:?} is not an origin such as https://console.example.com (or https://*.example.com)");
        }
    }
    Ok(origins)
}

/// Reads `CODESOURCE_WIDGET_ORIGINS`: exact origins only (CORS compares them byte for byte).
pub(super) fn widget_origins(origins: Vec<String>, name: &str) -> anyhow::Result<Vec<String>> {
    for origin in &origins {
        if !is_origin(origin) {
            bail!("{name}: {origin:?} is not an origin such as https://console.example.com");
        }
    }
    Ok(origins)
}

/// Reads `CODESOURCE_BUILD_URL`: a console path (resolved by the console against its own
/// origin) or an https URL; never `javascript:` or a protocol-relative `//host`.
pub(super) fn build_url(u: String, name: &str) -> anyhow::Result<Option<String>> {
    let path = u.starts_with('/') && !u.starts_with("//");
    let odd = u.contains(['"', '<', '>', ' ', '\\']) || u.chars().any(char::is_control);
    if !(path || u.starts_with("https://")) || odd {
        bail!("{name}: {u:?} is not a console path such as /console/builds/new or an https URL");
    }
    Ok(Some(u))
}

/// Exactly `scheme://host[:port]`, nothing more (CORS compares origins byte for byte).
fn is_origin(v: &str) -> bool {
    url::Url::parse(v).is_ok_and(|u| {
        // The URL parser takes hosts such as `*`; an origin needs a real name or address.
        let host_ok = u.host_str().is_some_and(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-[]:".contains(c))
        });
        matches!(u.scheme(), "http" | "https") && host_ok && u.origin().ascii_serialization() == v
    })
}

/// `https://*.example.com[:port]`: a CSP host wildcard.
fn is_wildcard_origin(v: &str) -> bool {
    let Some(rest) = v
        .strip_prefix("https://*.")
        .or_else(|| v.strip_prefix("http://*."))
    else {
        return false;
    };
    let sample = v.replacen('*', "x", 1);
    !rest.is_empty() && is_origin(&sample)
}

/// `/console/code-sources/` → `/console/code-sources`; `/` or empty → `""` (the root).
pub fn base_path(raw: &str) -> anyhow::Result<String> {
    let p = raw.trim().trim_end_matches('/');
    if p.is_empty() {
        return Ok(String::new());
    }
    let segments_ok = p
        .split('/')
        .skip(1)
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    let chars_ok = p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b));
    if !p.starts_with('/') || !segments_ok || !chars_ok {
        bail!("CODESOURCE_BASE_PATH: {raw:?} is not a path prefix such as /console/code-sources");
    }
    Ok(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::vars;
    use crate::config::Config;
    use std::path::PathBuf;

    #[test]
    fn base_path_is_normalised_and_checked() {
        assert_eq!(base_path("").unwrap(), "");
        assert_eq!(base_path("/").unwrap(), "");
        assert_eq!(
            base_path("/console/code-sources/").unwrap(),
            "/console/code-sources"
        );
        for bad in [
            "console", "/a//b", "/a/../b", "/a b", "/a?x=1", "/a#b", "/a/./b",
        ] {
            assert!(base_path(bad).is_err(), "{bad:?} accepted");
        }
        let (c, _) = Config::from_vars(&vars(&[("CODESOURCE_BASE_PATH", "/console/cs/")])).unwrap();
        assert_eq!(c.base_path, "/console/cs");
    }

    #[test]
    fn build_url_is_a_console_path_or_https() {
        let ok = |u: &str| Config::from_vars(&vars(&[("CODESOURCE_BUILD_URL", u)])).is_ok();
        assert!(ok("/console/builds/new"));
        assert!(ok("https://console.example.com/builds"));
        assert!(!ok("javascript:alert(1)"));
        assert!(!ok("//evil.example/x"));
        assert!(!ok("http://console.example.com/builds"));
        assert!(!ok("/\\evil.example/x"), "browsers read /\\ as //");
    }

    #[test]
    fn frame_ancestors_are_origins_or_wildcards() {
        let ok = |v: &str| Config::from_vars(&vars(&[("CODESOURCE_FRAME_ANCESTORS", v)])).is_ok();
        assert!(ok("https://console.example.com, http://127.0.0.1:3101"));
        assert!(ok("https://*.example.com"));
        for bad in [
            "https://console.example.com/",
            "https://console.example.com/app",
            "*",
            "https://*",
            "'self'",
            "https://a.example; script-src *",
        ] {
            assert!(!ok(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn widget_origins_must_be_bare_origins() {
        let (c, _) = Config::from_vars(&vars(&[(
            "CODESOURCE_WIDGET_ORIGINS",
            "https://console.example.com, http://127.0.0.1:3101",
        )]))
        .unwrap();
        assert_eq!(
            c.widget_origins,
            ["https://console.example.com", "http://127.0.0.1:3101"]
        );
        for bad in [
            "https://console.example.com/",
            "https://console.example.com/app",
            "console.example.com",
            "*",
        ] {
            assert!(
                Config::from_vars(&vars(&[("CODESOURCE_WIDGET_ORIGINS", bad)])).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn reads_the_embedding_keys_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "base_path = \"/console/cs\"\nwidget_origins = [\"https://console.example.com\"]\n\
             frame_ancestors = [\"https://console.example.com\"]\nbuild_url = \"/console/builds\"\n\
             data_dir = \"/tmp/x\"\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        let (c, _) = Config::from_vars(&vars(&[("CODESOURCE_CONFIG", file)])).unwrap();
        assert_eq!(c.base_path, "/console/cs");
        assert_eq!(c.widget_origins, ["https://console.example.com"]);
        assert_eq!(c.frame_ancestors, ["https://console.example.com"]);
        assert_eq!(c.build_url.as_deref(), Some("/console/builds"));
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    }
}
