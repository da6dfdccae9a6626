//! GitLab: checks a personal access token against a GitLab instance (gitlab.com or
//! self-managed) with `GET /api/v4/user` and `GET /api/v4/personal_access_tokens/self`, and turns
//! every way that can fail into a [`HostError`] the user can act on.

use super::address::HostAddress;
use super::limits::{read_bounded, MAX_ANSWER};
use super::net::{self, DnsFailure, Forbidden, OutboundPolicy};
use crate::secret::SecretString;
use app::api::{Account, HostError, InputError};
use reqwest::{header, StatusCode};
use serde::Deserialize;
use std::time::Duration;

/// Scopes that let git (or the API) read repository content.
pub const REPO_READ_SCOPES: &[&str] = &["read_repository", "write_repository", "api"];

/// What a successful check found.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    pub account: Account,
    pub scopes: Vec<String>,
    pub scopes_unknown: bool,
    pub expires_at: Option<String>,
}

#[derive(Deserialize)]
struct User {
    username: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    web_url: Option<String>,
}

#[derive(Deserialize)]
struct TokenSelf {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    revoked: bool,
}

impl User {
    /// What we keep and show of the account: bounded text, and only links that are plain
    /// http(s) URLs (a host's answer is not trusted: no `javascript:`, no markup).
    fn into_account(self) -> Account {
        Account {
            login: clip(&self.username, 255),
            name: self.name.map(|n| clip(&n, 255)),
            avatar_url: self
                .avatar_url
                .filter(|u| app::format::safe_http_url(u).is_some()),
            web_url: self
                .web_url
                .filter(|u| app::format::safe_http_url(u).is_some()),
        }
    }
}

fn yes() -> bool {
    true
}

/// GitLab's OAuth-style error body (`invalid_token`, `insufficient_scope`).
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

pub struct GitLabClient {
    http: reqwest::Client,
    policy: OutboundPolicy,
}

/// Parses a user-typed token: printable ASCII, no whitespace, bounded.
pub fn parse_token(raw: &str) -> Result<SecretString, InputError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(InputError::TokenEmpty);
    }
    if t.len() > app::api::limits::TOKEN_MAX || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(InputError::TokenMalformed);
    }
    Ok(SecretString::new(t.to_string()))
}

/// Parses an optional CA bundle (PEM): one or more certificates (other PEM sections are
/// ignored, as the TLS client would). Each certificate is decoded and loaded into a root store
/// here, the way the TLS client loads it, so something PEM-shaped that is not a certificate is
/// the user's input error now, and building the client with the result cannot fail on it later.
/// No CA: an empty list.
pub fn parse_ca(pem: Option<&str>) -> Result<Vec<reqwest::Certificate>, InputError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let Some(pem) = pem.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(vec![]);
    };
    if pem.len() > app::api::limits::CA_PEM_MAX || !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(InputError::CaInvalid);
    }
    let mut roots = rustls::RootCertStore::empty();
    let mut certs = vec![];
    for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let der = der.map_err(|_| InputError::CaInvalid)?;
        roots.add(der.clone()).map_err(|_| InputError::CaInvalid)?;
        certs
            .push(reqwest::Certificate::from_der(der.as_ref()).map_err(|_| InputError::CaInvalid)?);
    }
    if certs.is_empty() {
        return Err(InputError::CaInvalid);
    }
    Ok(certs)
}

impl GitLabClient {
    /// A client for one check: the CA certificates (from [`parse_ca`], possibly none) are added
    /// to the web PKI roots; no proxy (the policy must see the real peer), no redirects (the
    /// token must not follow them).
    pub fn new(
        policy: OutboundPolicy,
        timeout: Duration,
        ca: Vec<reqwest::Certificate>,
    ) -> Result<Self, reqwest::Error> {
        let mut b = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(net::resolver(policy))
            .user_agent(concat!("codesource/", env!("CARGO_PKG_VERSION")));
        for cert in ca {
            b = b.add_root_certificate(cert);
        }
        Ok(GitLabClient {
            http: b.build()?,
            policy,
        })
    }

    /// The HTTP client (policy-checked DNS, the private CA, no redirects) for other GitLab calls.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn check(
        &self,
        base: &HostAddress,
        token: &SecretString,
    ) -> Result<TokenCheck, HostError> {
        // IP literals never reach the resolver: check them here.
        if let Some(ip) = literal_ip(base) {
            self.policy
                .check(ip)
                .map_err(|_| HostError::AddressForbidden)?;
        }
        let user: User = match self.get(base, "/user", token).await? {
            Ok(u) => u,
            Err((status, body)) => return Err(status_error(status, &body)),
        };
        let (scopes, scopes_unknown, expires_at) = match self
            .get::<TokenSelf>(base, "/personal_access_tokens/self", token)
            .await?
        {
            Ok(t) => {
                if t.revoked {
                    return Err(HostError::TokenRevoked);
                }
                if !t.active {
                    return Err(HostError::TokenExpired);
                }
                if !t
                    .scopes
                    .iter()
                    .any(|s| REPO_READ_SCOPES.contains(&s.as_str()))
                {
                    return Err(HostError::InsufficientScope { scopes: t.scopes });
                }
                (t.scopes, false, t.expires_at.filter(|d| is_date(d)))
            }
            // Older GitLab (before 15.5) has no such endpoint, and some token types cannot call
            // it: the account is known, the scopes are not. Say so in the confirm dialog.
            Err((StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED, _)) => {
                (vec![], true, None)
            }
            Err((status, body)) => return Err(status_error(status, &body)),
        };
        Ok(TokenCheck {
            account: user.into_account(),
            scopes,
            scopes_unknown,
            expires_at,
        })
    }

    /// `DELETE /personal_access_tokens/self`: the token stops working everywhere.
    pub async fn revoke(&self, base: &HostAddress, token: &SecretString) -> Result<(), HostError> {
        if let Some(ip) = literal_ip(base) {
            self.policy
                .check(ip)
                .map_err(|_| HostError::AddressForbidden)?;
        }
        let mut value =
            header::HeaderValue::from_str(token.expose()).map_err(|_| HostError::TokenInvalid)?;
        value.set_sensitive(true);
        let resp = self
            .http
            .delete(base.api("/personal_access_tokens/self"))
            .header("PRIVATE-TOKEN", value)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let answer = Answer::read(resp).await?;
        Err(status_error(status, &answer))
    }

    /// GET an API path: `Ok(Ok(json))` on 200, `Ok(Err((status, body)))` on another answer,
    /// `Err` when there was no usable HTTP answer.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        base: &HostAddress,
        path: &str,
        token: &SecretString,
    ) -> Result<Result<T, (StatusCode, Answer)>, HostError> {
        let mut value =
            header::HeaderValue::from_str(token.expose()).map_err(|_| HostError::TokenInvalid)?;
        value.set_sensitive(true);
        let resp = self
            .http
            .get(base.api(path))
            .header("PRIVATE-TOKEN", value)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = resp.status();
        let answer = Answer::read(resp).await?;
        if status == StatusCode::OK {
            if !answer.is_json {
                return Err(HostError::NotGitLab);
            }
            return serde_json::from_slice(&answer.body)
                .map(Ok)
                .map_err(|_| HostError::NotGitLab);
        }
        Ok(Err((status, answer)))
    }
}

/// The parts of an answer we look at.
struct Answer {
    body: Vec<u8>,
    is_json: bool,
    retry_after: Option<u64>,
    location: Option<String>,
    www_authenticate: Option<String>,
}

impl Answer {
    async fn read(resp: reqwest::Response) -> Result<Answer, HostError> {
        let h = resp.headers();
        let get =
            |n: header::HeaderName| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        let is_json = get(header::CONTENT_TYPE).is_some_and(|c| c.contains("json"));
        let retry_after = get(header::RETRY_AFTER).and_then(|v| v.trim().parse().ok());
        let location = get(header::LOCATION);
        let www_authenticate = get(header::WWW_AUTHENTICATE);
        let body = read_bounded(resp, MAX_ANSWER).await?;
        Ok(Answer {
            body,
            is_json,
            retry_after,
            location,
            www_authenticate,
        })
    }
}

/// Maps a non-200 answer to what it means for the user.
fn status_error(status: StatusCode, a: &Answer) -> HostError {
    let err: ErrorBody = serde_json::from_slice(&a.body).unwrap_or_default();
    let description = err
        .error_description
        .clone()
        .or_else(|| a.www_authenticate.clone())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match status.as_u16() {
        401 if description.contains("expired") => HostError::TokenExpired,
        401 if description.contains("revoked") => HostError::TokenRevoked,
        401 => HostError::TokenInvalid,
        403 if err.error.as_deref() == Some("insufficient_scope") => HostError::InsufficientScope {
            // GitLab names the scopes the endpoint *needs* here, not the token's own.
            scopes: vec![],
        },
        429 => HostError::RateLimited {
            retry_after_secs: a.retry_after,
        },
        300..=399 => HostError::Redirected {
            location: a.location.clone(),
        },
        404 | 405 => HostError::NotGitLab,
        s if !a.is_json && s < 500 => HostError::NotGitLab,
        s => HostError::Upstream { status: s },
    }
}

/// Turns a transport failure into the reason a user can act on.
pub fn classify(e: &reqwest::Error) -> HostError {
    if e.is_timeout() {
        return HostError::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = String::new();
    while let Some(s) = source {
        if s.downcast_ref::<Forbidden>().is_some() {
            return HostError::AddressForbidden;
        }
        if s.downcast_ref::<DnsFailure>().is_some() {
            return HostError::DnsFailed;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionRefused => return HostError::ConnectionRefused,
                TimedOut => return HostError::Timeout,
                HostUnreachable | NetworkUnreachable | ConnectionReset | ConnectionAborted => {
                    return HostError::Unreachable
                }
                _ => {}
            }
        }
        text.push_str(&s.to_string().to_ascii_lowercase());
        text.push(' ');
        source = s.source();
    }
    if ["certificate", "tls", "handshake", "unknownissuer", "ssl"]
        .iter()
        .any(|w| text.contains(w))
    {
        return HostError::Tls;
    }
    if e.is_connect() {
        HostError::Unreachable
    } else {
        HostError::NotGitLab
    }
}

pub(crate) fn literal_ip(base: &HostAddress) -> Option<std::net::IpAddr> {
    match base.url().host()? {
        url::Host::Ipv4(v4) => Some(v4.into()),
        url::Host::Ipv6(v6) => Some(v6.into()),
        url::Host::Domain(_) => None,
    }
}

fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str, json: bool) -> Answer {
        Answer {
            body: body.as_bytes().to_vec(),
            is_json: json,
            retry_after: Some(7),
            location: None,
            www_authenticate: None,
        }
    }

    #[test]
    fn maps_gitlab_error_bodies() {
        let expired = r#"{"error":"invalid_token","error_description":"Token has expired."}"#;
        let revoked = r#"{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}"#;
        let scope = r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api read_user"}"#;
        assert_eq!(
            status_error(StatusCode::UNAUTHORIZED, &answer(expired, true)),
            HostError::TokenExpired
        );
        assert_eq!(
            status_error(StatusCode::UNAUTHORIZED, &answer(revoked, true)),
            HostError::TokenRevoked
        );
        assert_eq!(
            status_error(
                StatusCode::UNAUTHORIZED,
                &answer(r#"{"message":"401 Unauthorized"}"#, true)
            ),
            HostError::TokenInvalid
        );
        assert!(matches!(
            status_error(StatusCode::FORBIDDEN, &answer(scope, true)),
            HostError::InsufficientScope { .. }
        ));
        assert_eq!(
            status_error(StatusCode::TOO_MANY_REQUESTS, &answer("Retry later", false)),
            HostError::RateLimited {
                retry_after_secs: Some(7)
            }
        );
        assert_eq!(
            status_error(StatusCode::NOT_FOUND, &answer("<html>", false)),
            HostError::NotGitLab
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, &answer("", false)),
            HostError::Upstream { status: 502 }
        );
    }

    #[test]
    fn validates_tokens_and_cas() {
        assert_eq!(parse_token("  ").unwrap_err(), InputError::TokenEmpty);
        assert_eq!(
            parse_token("abc def").unwrap_err(),
            InputError::TokenMalformed
        );
        assert_eq!(parse_token("tök").unwrap_err(), InputError::TokenMalformed);
        assert_eq!(
            parse_token(" glpat-fake-1 ").unwrap().expose(),
            "glpat-fake-1"
        );
        assert!(parse_ca(None).unwrap().is_empty());
        assert!(parse_ca(Some("  ")).unwrap().is_empty());
        assert_eq!(parse_ca(Some("hello")).unwrap_err(), InputError::CaInvalid);
        let pem = include_str!("../../fake-hosts/tls/ca.pem");
        assert_eq!(parse_ca(Some(pem)).unwrap().len(), 1);
        // PEM-shaped, but not a certificate: the DER inside, the base64, the framing.
        let not_der =
            "-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----";
        for bad in [
            not_der.to_string(),
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----".to_string(),
            "-----BEGIN CERTIFICATE-----\nMIIB".to_string(),
            format!("{pem}\n{not_der}"),
        ] {
            assert_eq!(
                parse_ca(Some(&bad)).unwrap_err(),
                InputError::CaInvalid,
                "{bad}"
            );
        }
        // What passes builds a client.
        let two = format!("{pem}\n{pem}");
        let certs = parse_ca(Some(&two)).unwrap();
        assert_eq!(certs.len(), 2);
        let policy = OutboundPolicy {
            allow_loopback: false,
        };
        assert!(GitLabClient::new(policy, Duration::from_secs(1), certs).is_ok());
    }

    #[test]
    fn recognises_dates() {
        assert!(is_date("2027-01-31"));
        assert!(!is_date("2027-01-31T00:00:00Z"));
        assert!(!is_date("<script>"));
    }
}

#[cfg(test)]
mod proptests;
