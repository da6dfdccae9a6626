//! A client for a code host instance at a user-given address (GitLab, Gitea/Forgejo): the
//! outbound policy on every resolved address and IP literal, the user's private CA, no proxy,
//! no redirects; and the parsing of what the user typed (token, CA bundle).

use super::address::HostAddress;
use super::policy::{resolver, DnsFailure, Forbidden, OutboundPolicy};
use crate::secret::SecretString;
use app::api::{HostError, InputError};
use std::time::Duration;

pub struct InstanceClient {
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

impl InstanceClient {
    /// A client for one check: the CA certificates (from [`parse_ca`], possibly none) are added
    /// to the web PKI roots; no proxy (the policy must see the real peer), no redirects (the
    /// token must not follow them).
    pub fn new(
        policy: &OutboundPolicy,
        timeout: Duration,
        ca: Vec<reqwest::Certificate>,
    ) -> Result<Self, reqwest::Error> {
        let mut b = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(resolver(policy.clone()))
            .user_agent(concat!("codesource/", env!("CARGO_PKG_VERSION")));
        for cert in ca {
            b = b.add_root_certificate(cert);
        }
        Ok(InstanceClient {
            http: b.build()?,
            policy: policy.clone(),
        })
    }

    /// The HTTP client (policy-checked DNS, the private CA, no redirects) for the host's API calls.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Refuses an IP literal outside the policy (names are checked when they resolve).
    pub fn check_literal(&self, base: &HostAddress) -> Result<(), HostError> {
        match literal_ip(base) {
            Some(ip) => self
                .policy
                .check(ip)
                .map_err(|_| HostError::AddressForbidden),
            None => Ok(()),
        }
    }
}

/// Turns a transport failure into the reason a user can act on. An address the policy refused
/// is `AddressForbidden` whatever else the error says (it was refused before any connection,
/// and the answer must not tell what listens there); only then are the other reasons read.
pub fn classify(e: &reqwest::Error) -> HostError {
    if refused_by_policy(e) {
        return HostError::AddressForbidden;
    }
    if e.is_timeout() {
        return HostError::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = String::new();
    while let Some(s) = source {
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
        HostError::UnexpectedAnswer
    }
}

/// Whether the policy's [`Forbidden`] is anywhere in the error's chain.
fn refused_by_policy(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<Forbidden>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
}

pub(crate) fn literal_ip(base: &HostAddress) -> Option<std::net::IpAddr> {
    match base.url().host()? {
        url::Host::Ipv4(v4) => Some(v4.into()),
        url::Host::Ipv6(v6) => Some(v6.into()),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let policy = OutboundPolicy::public_only(false);
        assert!(InstanceClient::new(&policy, Duration::from_secs(1), certs).is_ok());
    }

    #[tokio::test]
    async fn a_refused_address_is_only_ever_address_forbidden() {
        let strict = InstanceClient::new(
            &OutboundPolicy::public_only(false),
            Duration::from_secs(2),
            vec![],
        )
        .unwrap();
        // Refused at the resolver: the answer is the policy's, not the closed port's behind it.
        let e = strict
            .http()
            .get("http://localhost:1/")
            .send()
            .await
            .unwrap_err();
        assert_eq!(classify(&e), HostError::AddressForbidden);
        for literal in [
            "http://[::ffff:0:7f00:1]:1",
            "http://127.0.0.1:1",
            "http://10.255.255.1",
            "http://[::ffff:10.255.255.1]",
            "http://[64:ff9b::a9fe:a9fe]",
        ] {
            let address = HostAddress::parse(literal).unwrap();
            assert_eq!(
                strict.check_literal(&address),
                Err(HostError::AddressForbidden),
                "{literal}"
            );
        }
        // The same closed port, allowed: its own reason.
        let lax = InstanceClient::new(
            &OutboundPolicy::public_only(true),
            Duration::from_secs(2),
            vec![],
        )
        .unwrap();
        let e = lax
            .http()
            .get("http://localhost:1/")
            .send()
            .await
            .unwrap_err();
        assert_eq!(classify(&e), HostError::ConnectionRefused);
    }
}
