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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn host() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
                "[A-Za-z0-9]{1,8}\\.[A-Za-z]{2,5}",
                any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
                any::<[u16; 8]>().prop_map(|s| {
                    let groups: Vec<String> = s.iter().map(|g| format!("{g:x}")).collect();
                    format!("[{}]", groups.join(":"))
                }),
                Just("[::1]".to_string()),
            ]
        }

        /// Address-shaped input: optional scheme, a host, optional port and path.
        fn address() -> impl Strategy<Value = String> {
            (
                prop_oneof![
                    Just(""),
                    Just("https://"),
                    Just("http://"),
                    Just("HTTPS://"),
                    Just("hTTp://")
                ],
                host(),
                proptest::option::of(any::<u16>()),
                "(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}){0,3}/?",
            )
                .prop_map(|(scheme, host, port, path)| {
                    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                    format!("{scheme}{host}{port}{path}")
                })
        }

        /// Anything a user (or a script) might send.
        fn anything() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                "[ -~]{0,80}",
                address(),
                (address(), "[ -~]{0,20}").prop_map(|(a, junk)| format!("{a}{junk}")),
            ]
        }

        fn assert_clean(a: &HostAddress) {
            let u = a.url();
            assert!(matches!(u.scheme(), "http" | "https"), "{u}");
            assert!(u.host().is_some(), "{u}");
            assert!(u.username().is_empty() && u.password().is_none(), "{u}");
            assert!(u.query().is_none() && u.fragment().is_none(), "{u}");
            assert!(!a.as_str().ends_with('/'), "{u}");
            assert!(!a.as_str().contains(['?', '#']), "{u}");
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn never_panics_and_accepts_only_clean_urls(s in anything()) {
                if let Ok(a) = HostAddress::parse(&s) {
                    assert_clean(&a);
                }
            }

            /// What we store re-parses to the same address (and prints the same).
            #[test]
            fn accepted_addresses_round_trip(s in anything()) {
                if let Ok(a) = HostAddress::parse(&s) {
                    let again = HostAddress::parse(a.as_str());
                    prop_assert_eq!(again.as_ref(), Ok(&a), "{} -> {}", s, a.as_str());
                    let again = again.unwrap();
                    prop_assert_eq!(again.as_str(), a.as_str());
                }
            }

            #[test]
            fn other_schemes_are_refused(
                scheme in "[a-zA-Z][a-zA-Z0-9+.-]{0,9}",
                rest in address(),
            ) {
                prop_assume!(!scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https"));
                let s = format!("{scheme}://{rest}");
                prop_assert_eq!(HostAddress::parse(&s), Err(InputError::AddressScheme), "{}", s);
            }

            #[test]
            fn credentials_are_refused(
                scheme in prop_oneof![Just(""), Just("https://"), Just("http://")],
                user in "[A-Za-z0-9._~-]{0,10}",
                password in proptest::option::of("[A-Za-z0-9._~-]{0,10}"),
                host in host(),
            ) {
                // (`https://:@host` carries no credentials: the URL drops the empty userinfo.)
                prop_assume!(!user.is_empty() || password.as_deref().is_some_and(|p| !p.is_empty()));
                let password = password.map(|p| format!(":{p}")).unwrap_or_default();
                let s = format!("{scheme}{user}{password}@{host}");
                prop_assert_eq!(HostAddress::parse(&s), Err(InputError::AddressMalformed), "{}", s);
            }

            #[test]
            fn queries_and_fragments_are_refused(
                a in address(),
                mark in prop_oneof![Just('?'), Just('#')],
                tail in "[!-~]{0,20}",
            ) {
                let s = format!("{a}{mark}{tail}");
                prop_assert!(HostAddress::parse(&s).is_err(), "{}", s);
            }

            #[test]
            fn oversized_input_is_refused(a in address(), pad in 1usize..64) {
                let path = "a".repeat(app::api::limits::ADDRESS_MAX + pad);
                let s = format!("{a}/{path}");
                prop_assert_eq!(HostAddress::parse(&s), Err(InputError::AddressMalformed));
            }
        }
    }
}
