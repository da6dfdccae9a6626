//! Avatars: fetched by the server when an account is checked (a GitLab check, an OAuth account
//! lookup), kept with the binding and served from our own origin (`web::avatars`). The viewer's
//! browser never loads an image from a code host or an avatar service (gravatar.com is blocked
//! in mainland China, and every view would tell a third party who is looking).
//!
//! The fetch goes through the [`OutboundPolicy`] like every other call to a host-given address
//! (IP literals checked here, names by the policy resolver, no redirects), within the provider
//! timeout, reading at most [`MAX_AVATAR`] bytes. Only raster images are kept: PNG, JPEG, GIF
//! and WebP, by `Content-Type` *and* by their magic bytes; never SVG (it can carry script).
//! Whatever goes wrong, there is no avatar: never an error for the bind.

use super::limits::read_bounded;
use super::policy::{resolver, OutboundPolicy};
use crate::store::StoredAvatar;
use base64::Engine;
use reqwest::{header, StatusCode};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Largest avatar we keep: 256 KiB. Avatars at the sizes hosts serve by default are a few KiB
/// (gravatar's 80 px) to a few tens of KiB; a binding record is read on every page load.
pub const MAX_AVATAR: usize = 256 * 1024;

/// Why there is no avatar (logged, never shown).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AvatarError {
    #[error("the address is not an http(s) URL")]
    BadUrl,
    #[error("the address is not allowed by the outbound policy")]
    Forbidden,
    #[error("no answer: {0:?}")]
    Transport(app::api::HostError),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("not an image type we keep (Content-Type {0:?})")]
    ContentType(String),
    #[error("the bytes are not the image the Content-Type says")]
    NotAnImage,
    #[error("empty")]
    Empty,
}

/// No answer: the network, or no free slot for the tenant's call.
impl From<app::api::HostError> for AvatarError {
    fn from(e: app::api::HostError) -> Self {
        AvatarError::Transport(e)
    }
}

/// The raster types we keep, by their magic bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The media type of a `Content-Type` header, if it is one we keep.
fn allowed_type(content_type: &str) -> Option<&'static str> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ["image/png", "image/jpeg", "image/gif", "image/webp"]
        .into_iter()
        .find(|t| *t == essence)
}

/// A client for avatar fetches from hosts that have no client of their own here (OAuth hosts'
/// avatar services): policy-checked DNS, no proxy, no redirects, the provider timeout.
pub fn client(
    policy: &OutboundPolicy,
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(resolver(policy.clone()))
        .user_agent(concat!("codesource/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Fetches the avatar at `url` with `http` (a client built with `policy`'s resolver, no
/// redirects, the provider timeout): the checked image, or why there is none.
pub async fn fetch(
    http: &reqwest::Client,
    policy: &OutboundPolicy,
    url: &str,
) -> Result<StoredAvatar, AvatarError> {
    let url = app::api::safe_http_url(url).ok_or(AvatarError::BadUrl)?;
    let parsed = url::Url::parse(url).map_err(|_| AvatarError::BadUrl)?;
    // IP literals never reach the resolver: check them here.
    let literal = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::from(v4)),
        Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::from(v6)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(AvatarError::BadUrl),
    };
    if let Some(ip) = literal {
        policy.check(ip).map_err(|_| AvatarError::Forbidden)?;
    }
    let resp = http
        .get(parsed)
        .header(
            header::ACCEPT,
            "image/png, image/jpeg, image/gif, image/webp",
        )
        .send()
        .await
        .map_err(|e| match super::instance::classify(&e) {
            app::api::HostError::AddressForbidden => AvatarError::Forbidden,
            other => AvatarError::Transport(other),
        })?;
    if resp.status() != StatusCode::OK {
        return Err(AvatarError::Status(resp.status().as_u16()));
    }
    let declared = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if allowed_type(&declared).is_none() {
        return Err(AvatarError::ContentType(
            declared.chars().take(64).collect(),
        ));
    }
    let bytes = read_bounded(resp, MAX_AVATAR)
        .await
        .map_err(AvatarError::Transport)?;
    if bytes.is_empty() {
        return Err(AvatarError::Empty);
    }
    let content_type = sniff(&bytes).ok_or(AvatarError::NotAnImage)?;
    Ok(StoredAvatar {
        content_type: content_type.to_string(),
        data_b64: base64::engine::general_purpose::STANDARD.encode(&bytes),
        sha256: crate::util::hex(&Sha256::digest(&bytes)),
    })
}

impl StoredAvatar {
    /// The image bytes (`None` if the record is damaged).
    pub fn bytes(&self) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.data_b64)
            .ok()
    }

    /// A short version of the image for its URL (a changed image gets a new URL).
    pub fn version(&self) -> &str {
        self.sha256.get(..16).unwrap_or(&self.sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_raster_images() {
        assert_eq!(sniff(fake_hosts::AVATAR_PNG), Some("image/png"));
        assert_eq!(
            sniff(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(sniff(b"GIF89a\x01\x00"), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        for not in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"<?xml version='1.0'?><svg/>",
            b"<html><script>alert(1)</script>",
            b"RIFF\x10\0\0\0WAVE",
            b"",
        ] {
            assert_eq!(sniff(not), None);
        }
        assert_eq!(allowed_type("image/PNG; charset=binary"), Some("image/png"));
        assert_eq!(allowed_type("image/svg+xml"), None);
        assert_eq!(allowed_type("text/html"), None);
        assert_eq!(allowed_type(""), None);
    }

    #[tokio::test]
    async fn refuses_forbidden_addresses_before_connecting() {
        let strict = OutboundPolicy::public_only(false);
        let http = client(&strict, Duration::from_secs(2)).unwrap();
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:1/a.png",
            "http://[::1]:1/a.png",
            "http://localhost:1/a.png",
        ] {
            assert_eq!(
                fetch(&http, &strict, url).await.err(),
                Some(AvatarError::Forbidden),
                "{url}"
            );
        }
        assert_eq!(
            fetch(&http, &strict, "javascript:alert(1)").await.err(),
            Some(AvatarError::BadUrl)
        );
    }

    #[tokio::test]
    async fn fetches_checks_and_bounds_avatars() {
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        let fake = fake_hosts::start(any, any).await.unwrap();
        let base = fake.http_url();
        let lax = OutboundPolicy::public_only(true);
        let http = client(&lax, Duration::from_secs(2)).unwrap();
        let ok = fetch(&http, &lax, &format!("{base}/avatars/alice.png"))
            .await
            .unwrap();
        assert_eq!(ok.content_type, "image/png");
        assert_eq!(ok.bytes().unwrap(), fake_hosts::AVATAR_PNG);
        assert_eq!(ok.sha256.len(), 64);
        for (path, why) in [
            (
                "/avatars/bob.svg",
                AvatarError::ContentType("image/svg+xml".into()),
            ),
            ("/avatars/liar.png", AvatarError::NotAnImage),
            ("/avatars/missing.png", AvatarError::Status(404)),
            (
                "/avatars/huge.png",
                AvatarError::Transport(app::api::HostError::AnswerTooLarge),
            ),
            (
                "/not-gitlab/a.png",
                AvatarError::ContentType("text/html".into()),
            ),
            ("/redirect/a.png", AvatarError::Status(301)),
        ] {
            assert_eq!(
                fetch(&http, &lax, &format!("{base}{path}")).await.err(),
                Some(why),
                "{path}"
            );
        }
        assert!(matches!(
            fetch(&http, &lax, "http://127.0.0.1:9/a.png").await.err(),
            Some(AvatarError::Transport(_))
        ));
    }
}
