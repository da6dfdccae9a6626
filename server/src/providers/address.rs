//! Parsing user-typed code host addresses: `gitlab.example.com`, `10.0.0.5:8443`,
//! `http://gitlab.local/sub`, `https://[fd00::1]`. No scheme means https.

use app::api::InputError;
use url::Url;

/// A validated base URL: http(s), a host, no credentials, query or fragment; path kept (GitLab
/// can live under a relative URL root) without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostAddress {
    url: Url,
}

impl HostAddress {
    pub fn parse(input: &str) -> Result<Self, InputError> {
        let s = input.trim();
        if s.is_empty()
            || s.len() > app::api::limits::ADDRESS_MAX
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(InputError::AddressMalformed);
        }
        let with_scheme = match s.find("://") {
            Some(i) => {
                let scheme = s[..i].to_ascii_lowercase();
                if scheme != "http" && scheme != "https" {
                    return Err(InputError::AddressScheme);
                }
                s.to_string()
            }
            None => format!("https://{s}"),
        };
        let url = Url::parse(&with_scheme).map_err(|_| InputError::AddressMalformed)?;
        if url.host().is_none()
            || !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(InputError::AddressMalformed);
        }
        let mut url = url;
        let path = url.path().trim_end_matches('/').to_string();
        url.set_path(&path);
        Ok(HostAddress { url })
    }

    /// `scheme://host[:port][/path]`, as shown and stored.
    pub fn as_str(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// `base + /api/v4 + rest`.
    pub fn api(&self, rest: &str) -> String {
        format!("{}/api/v4{rest}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        HostAddress::parse(s).unwrap().as_str().to_string()
    }

    #[test]
    fn normalises_addresses() {
        assert_eq!(ok("https://gitlab.com"), "https://gitlab.com");
        assert_eq!(ok("gitlab.com/"), "https://gitlab.com");
        assert_eq!(ok("10.0.0.5:8443"), "https://10.0.0.5:8443");
        assert_eq!(ok("http://192.168.1.10"), "http://192.168.1.10");
        assert_eq!(
            ok("HTTPS://GitLab.Example.COM/gitlab/"),
            "https://gitlab.example.com/gitlab"
        );
        assert_eq!(ok("https://[fd00::1]:444"), "https://[fd00::1]:444");
        assert_eq!(ok("  gitlab.local  "), "https://gitlab.local");
        assert_eq!(
            HostAddress::parse("gitlab.local").unwrap().api("/user"),
            "https://gitlab.local/api/v4/user"
        );
    }

    #[test]
    fn rejects_bad_addresses() {
        use InputError::*;
        for (s, e) in [
            ("", AddressMalformed),
            ("ftp://gitlab.com", AddressScheme),
            ("javascript://x", AddressScheme),
            ("https://user:pw@gitlab.com", AddressMalformed),
            ("https://gitlab.com?x=1", AddressMalformed),
            ("https://gitlab.com#x", AddressMalformed),
            ("gitlab .com", AddressMalformed),
            ("https://", AddressMalformed),
            ("http://[::1", AddressMalformed),
        ] {
            assert_eq!(HostAddress::parse(s), Err(e), "{s}");
        }
        assert_eq!(HostAddress::parse(&"a".repeat(600)), Err(AddressMalformed));
    }
}
