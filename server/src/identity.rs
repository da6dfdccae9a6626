//! The console's identity: an HS256 JWT from `Authorization: Bearer` or the `console_identity`
//! cookie, with claims `sub`, `tenant`, `name`, `exp` (and, when configured, `aud` and `iss`).
//! Verified here with a constant-time HMAC check; only HS256 is accepted (no `none`, no
//! algorithm switching). Two keys are accepted while the console rotates its key.

use crate::config::Config;
use crate::secret::SecretBytes;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub const IDENTITY_COOKIE: &str = "console_identity";
/// Clock skew tolerated between the console and us, for `exp`, `nbf` and `iat` alike. The
/// console's tokens live minutes to hours; half a minute covers NTP-synchronised clocks without
/// stretching a token's life noticeably, and bounds how far in the future `iat` may lie.
const LEEWAY_SECS: i64 = 30;
const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: String,
    #[serde(default)]
    pub name: Option<String>,
    pub exp: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub aud: Option<Audience>,
}

/// `aud`: one audience or several (RFC 7519, section 4.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("no identity token")]
    Missing,
    #[error("identity token is malformed")]
    Malformed,
    #[error("identity token uses an unsupported algorithm")]
    Algorithm,
    #[error("identity token signature is invalid")]
    Signature,
    #[error("identity token has expired")]
    Expired,
    #[error("identity token is not valid yet")]
    NotYetValid,
    #[error("identity token is issued in the future")]
    IssuedInFuture,
    #[error("identity token is for another audience")]
    Audience,
    #[error("identity token is from another issuer")]
    Issuer,
    #[error("identity token has an invalid subject or tenant")]
    BadClaims,
}

/// A key the console signs with, and its id (see [`key_id`]).
struct SigningKey {
    id: String,
    key: SecretBytes,
}

impl SigningKey {
    fn new(key: SecretBytes) -> Self {
        SigningKey {
            id: key_id(key.expose()),
            key,
        }
    }

    /// Constant time (`verify_slice`), whatever the signature.
    fn signed(&self, signing_input: &[u8], sig: &[u8]) -> bool {
        Hmac::<Sha256>::new_from_slice(self.key.expose()).is_ok_and(|mut mac| {
            mac.update(signing_input);
            mac.verify_slice(sig).is_ok()
        })
    }
}

/// The id of an identity key, for the JWT header's `kid`: the first 8 hex digits of the
/// SHA-256 of the key's bytes (`printf %s "$KEY" | sha256sum | cut -c1-8`). 32 bits of a hash
/// of a 32-byte key tell nothing about it.
pub fn key_id(key: &[u8]) -> String {
    crate::util::hex(&Sha256::digest(key)[..4])
}

pub struct IdentityVerifier {
    current: SigningKey,
    /// The key before a rotation, still accepted until the console stops using it.
    previous: Option<SigningKey>,
    /// `None`: `aud` is not checked (warned at start).
    audience: Option<String>,
    /// `None`: `iss` is not checked (warned at start).
    issuer: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

impl IdentityVerifier {
    /// Accepts tokens signed with `key`, for any audience and issuer.
    pub fn new(key: SecretBytes) -> Self {
        IdentityVerifier {
            current: SigningKey::new(key),
            previous: None,
            audience: None,
            issuer: None,
        }
    }

    /// The configured verifier; `None` in local mode.
    pub fn from_config(config: &Config) -> Option<Self> {
        let copy = |k: &SecretBytes| SecretBytes::new(k.expose().to_vec());
        let mut v = IdentityVerifier::new(copy(config.identity_key.as_ref()?));
        v.previous = config
            .identity_previous_key
            .as_ref()
            .map(|k| SigningKey::new(copy(k)));
        v.audience = config.identity_audience.clone();
        v.issuer = config.identity_issuer.clone();
        Some(v)
    }

    /// Also accepts tokens signed with `key` (the console's key before a rotation).
    pub fn with_previous_key(mut self, key: SecretBytes) -> Self {
        self.previous = Some(SigningKey::new(key));
        self
    }

    /// Requires `aud` to be, or to contain, `audience`.
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_string());
        self
    }

    /// Requires `iss` to be `issuer`.
    pub fn with_issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_string());
        self
    }

    /// What to warn about at start-up: the claims left unchecked, which lets any token the
    /// console signs with the same key for another service in.
    pub fn start_up_warning(&self) -> Option<String> {
        let unset: Vec<&str> = [
            ("CODESOURCE_IDENTITY_AUDIENCE", self.audience.is_none()),
            ("CODESOURCE_IDENTITY_ISSUER", self.issuer.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, unset)| unset.then_some(name))
        .collect();
        (!unset.is_empty()).then(|| {
            format!(
                "{} not set: identity tokens the console signs with the same key for other \
                 services are accepted here too",
                unset.join(" and ")
            )
        })
    }

    /// The keys a token may be signed with: the one its `kid` names, else every key (a
    /// console that names its keys its own way still works).
    fn candidates(&self, kid: Option<&str>) -> Vec<&SigningKey> {
        let all: Vec<&SigningKey> = std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .collect();
        let named: Vec<&SigningKey> = all
            .iter()
            .copied()
            .filter(|k| kid == Some(k.id.as_str()))
            .collect();
        if named.is_empty() {
            all
        } else {
            named
        }
    }

    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, IdentityError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(IdentityError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(IdentityError::Malformed);
        };
        let header: Header = decode_json(h)?;
        if header.alg != "HS256" {
            return Err(IdentityError::Algorithm);
        }
        let sig = B64URL.decode(s).map_err(|_| IdentityError::Malformed)?;
        let signing_input = &token[..h.len() + 1 + p.len()];
        // Every candidate is checked (no early exit), so the time says nothing about which
        // key signed.
        let signed = self
            .candidates(header.kid.as_deref())
            .into_iter()
            .fold(false, |any, k| {
                k.signed(signing_input.as_bytes(), &sig) | any
            });
        if !signed {
            return Err(IdentityError::Signature);
        }

        let claims: Claims = decode_json(p)?;
        if claims.exp + LEEWAY_SECS <= now {
            return Err(IdentityError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
            return Err(IdentityError::NotYetValid);
        }
        if claims.iat.is_some_and(|iat| iat - LEEWAY_SECS > now) {
            return Err(IdentityError::IssuedInFuture);
        }
        if let Some(issuer) = &self.issuer {
            if claims.iss.as_deref() != Some(issuer.as_str()) {
                return Err(IdentityError::Issuer);
            }
        }
        if let Some(audience) = &self.audience {
            if !claims.aud.as_ref().is_some_and(|a| a.contains(audience)) {
                return Err(IdentityError::Audience);
            }
        }
        if !valid_id(&claims.tenant) || !valid_id(&claims.sub) {
            return Err(IdentityError::BadClaims);
        }
        Ok(claims)
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, IdentityError> {
    let bytes = B64URL.decode(part).map_err(|_| IdentityError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| IdentityError::Malformed)
}

/// Tenant and user ids become storage keys: keep them short and free of separators.
pub fn valid_id(id: &str) -> bool {
    // One rule for tenant ids everywhere (`TenantId`), and the same for user ids.
    app::api::TenantId::parse(id).is_some()
}

/// Signs claims: used by tests and by the README's helper for local experiments.
pub fn sign_hs256(key: &[u8], claims: &serde_json::Value) -> String {
    sign_with_header(
        key,
        &serde_json::json!({"alg": "HS256", "typ": "JWT"}),
        claims,
    )
}

/// Signs claims under a header of the caller's choice (`kid`, or a hostile `alg` in tests).
pub fn sign_with_header(
    key: &[u8],
    header: &serde_json::Value,
    claims: &serde_json::Value,
) -> String {
    let h = B64URL.encode(header.to_string());
    let p = B64URL.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{h}.{p}").as_bytes());
    let s = B64URL.encode(mac.finalize().into_bytes());
    format!("{h}.{p}.{s}")
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
