//! The host-neutral model of a code host's webhooks, for auto-build (docs/auto-build.md):
//! [`HookHost`] creates, lists and deletes a repository's hook with the bound token, verifies
//! and parses a delivery, and reads the head of a ref. Each host implements it in its own
//! module and hands it out through `CodeHost::hooks()`; everything after parsing (filters,
//! de-duplication, build events) is one path for every host and never sees a host's format.

use super::{Instance, RepoId};
use crate::outbound::http::Answer;
use crate::secret::SecretString;
use app::api::HostError;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A repository as the hook API addresses it: the host's own stable id (what registrations
/// are keyed by) and its name as last seen (what most hosts' paths use).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoRef {
    pub stable_id: String,
    /// `owner/name` (Bitbucket `workspace/slug`, GitLab `path_with_namespace`).
    pub full_name: String,
}

/// What a created hook delivers to. Events are always push and tag push.
pub struct HookSpec<'a> {
    pub url: &'a str,
    pub secret: &'a SecretString,
}

/// A hook as the host lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hook {
    pub id: String,
    pub url: String,
    pub active: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The grant lacks these scopes (GitHub `admin:repo_hook`, GitLab `api`, Gitee `hook`,
    /// Bitbucket `webhook`, Gitea `write:repository`).
    #[error("the grant lacks the scopes {needed:?}")]
    MissingScope { needed: Vec<String> },
    /// The token works but its user may not manage the repository's hooks.
    #[error("the account may not manage the repository's hooks")]
    NotAdmin,
    #[error("no such repository")]
    RepoNotFound,
    /// The host allows no more hooks on the repository (GitHub: 20 per event).
    #[error("the repository has as many hooks as the host allows")]
    LimitReached,
    #[error("the code host: {0:?}")]
    Host(HostError),
}

impl HookError {
    /// The grant lacks `scopes` (a host's hook scopes, when its answer does not name them).
    pub fn missing(scopes: &[&str]) -> Self {
        HookError::MissingScope {
            needed: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What a ref API answers for a ref that does not exist (see [`Answer::optional_json`]).
pub const NO_REF: &[u16] = &[404];

/// The answer to deleting a hook: one the host no longer has (404) is gone as asked.
pub fn deleted(a: Answer, refused: impl FnOnce(Answer) -> HookError) -> Result<(), HookError> {
    match a.status {
        200..=299 | 404 => Ok(()),
        _ => Err(refused(a)),
    }
}

impl From<HostError> for HookError {
    fn from(e: HostError) -> Self {
        HookError::Host(e)
    }
}

/// A delivery as the ingress received it (the body already bounded).
pub struct DeliveryRequest<'a> {
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

impl DeliveryRequest<'_> {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A header the host always sends.
    pub fn required(&self, name: &'static str) -> Result<&str, ParseError> {
        self.header(name).ok_or(ParseError::MissingHeader(name))
    }

    /// The body as the host's documented JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ParseError> {
        serde_json::from_slice(self.body).map_err(|_| ParseError::Body)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    Branch,
    Tag,
}

impl RefKind {
    fn prefix(self) -> &'static str {
        match self {
            RefKind::Branch => "refs/heads/",
            RefKind::Tag => "refs/tags/",
        }
    }

    /// `refs/heads/{name}` or `refs/tags/{name}`.
    pub fn full_ref(self, name: &str) -> String {
        format!("{}{name}", self.prefix())
    }

    /// A full ref's kind and short name; `None` for refs that are neither (notes, pulls).
    pub fn parse_full(full: &str) -> Option<(RefKind, &str)> {
        [RefKind::Branch, RefKind::Tag].into_iter().find_map(|k| {
            full.strip_prefix(k.prefix())
                .filter(|n| !n.is_empty())
                .map(|n| (k, n))
        })
    }
}

/// One ref a push moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefChange {
    pub kind: RefKind,
    pub name: String,
    /// `None`: the ref was created (or the host did not say).
    pub before: Option<String>,
    /// The commit the ref points at now (a tag's commit where the payload names it, else the
    /// ref's new object); `None`: the ref was deleted.
    pub after: Option<String>,
}

impl RefChange {
    /// A change from a full ref and the before/after ids as hosts send them (all zeros: none).
    /// `None` for refs that are neither a branch nor a tag.
    pub fn from_full(full: &str, before: Option<&str>, after: Option<&str>) -> Option<RefChange> {
        let (kind, name) = RefKind::parse_full(full)?;
        Some(RefChange {
            kind,
            name: name.to_string(),
            before: object_id(before),
            after: object_id(after),
        })
    }
}

/// An object id as hosts send it: empty or all zeros means there is none.
pub fn object_id(id: Option<&str>) -> Option<String> {
    id.map(str::trim)
        .filter(|id| !id.is_empty() && !id.bytes().all(|b| b == b'0'))
        .map(str::to_string)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Push {
    pub changes: Vec<RefChange>,
    pub repo_stable_id: Option<String>,
    pub full_name: Option<String>,
    pub clone_url: Option<String>,
    pub pusher: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryKind {
    /// The host checking that the hook works.
    Ping,
    Push(Push),
    /// An event we do not build, by its name.
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The host's delivery id.
    pub id: Option<String>,
    /// The event header's value.
    pub event: String,
    pub kind: DeliveryKind,
}

/// A delivery that is not what the host documents. Never carries the body's content.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("the body is not the host's documented payload")]
    Body,
}

/// A code host's webhooks.
#[async_trait::async_trait]
pub trait HookHost: Send + Sync {
    /// Scopes the grant needs to manage hooks.
    fn hook_scopes(&self) -> &'static [&'static str];

    /// Whether the delivery's signature covers the body. false (GitLab token, Gitee signed
    /// timestamp): the pushed commit is confirmed through the API ([`HookHost::ref_head`])
    /// before an event is emitted.
    fn signs_body(&self) -> bool;

    /// One repository by the id a listing handed out (`Repository::id`: owner/name or a
    /// GitLab project id), with its stable id and its HTTPS clone URL.
    async fn repository(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        id: &RepoId,
    ) -> Result<(RepoRef, Option<String>), HookError>;

    async fn create_hook(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError>;

    async fn list_hooks(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<Vec<Hook>, HookError>;

    /// Gives an existing hook a new secret, keeping its id and URL (rotation: deliveries the
    /// host already queued keep verifying with the previous secret during the grace period).
    /// The hook is left active.
    async fn update_hook(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError>;

    /// The repository by its stable id, with its name now and its clone URL: follows a rename
    /// or a transfer. [`HookError::RepoNotFound`]: no repository has that id any more (deleted,
    /// or recreated under the same name with a new id).
    async fn repository_by_id(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<(RepoRef, Option<String>), HookError>;

    /// Already gone is Ok.
    async fn delete_hook(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
    ) -> Result<(), HookError>;

    /// Constant time. `now_ms` for hosts that sign a timestamp (Gitee: [`MAX_SKEW_MS`]).
    fn verify(&self, req: &DeliveryRequest<'_>, secret: &SecretString, now_ms: i64) -> bool;

    fn parse(&self, req: &DeliveryRequest<'_>) -> Result<Delivery, ParseError>;

    /// The commit at the head of a branch or tag now (`None`: no such ref). Confirms GitLab
    /// and Gitee pushes, and serves "build the latest commit".
    async fn ref_head(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        kind: RefKind,
        name: &str,
    ) -> Result<Option<String>, HookError>;

    /// The host's page where a user adds or removes the repository's hooks by hand.
    fn hooks_settings_url(&self, at: Instance<'_>, repo: &RepoRef) -> Option<String>;
}

/// How far a signed timestamp may be from our clock (Gitee): a replayed delivery is refused
/// after this, while a host's clock a little off or a slow delivery still passes.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// Whether `mac` is HMAC-SHA256(secret, msg), in constant time.
pub fn hmac_sha256_matches(secret: &SecretString, msg: &[u8], mac: &[u8]) -> bool {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
        return false;
    };
    m.update(msg);
    m.verify_slice(mac).is_ok()
}

/// HMAC-SHA256(secret, msg).
pub fn hmac_sha256(secret: &SecretString, msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// Whether `signature` (hex, after an optional `prefix` such as `sha256=`) is the body's
/// HMAC-SHA256 with `secret` (GitHub, Bitbucket, Gitea, Forgejo).
pub fn hex_signature_matches(
    signature: Option<&str>,
    prefix: &str,
    secret: &SecretString,
    body: &[u8],
) -> bool {
    signature
        .and_then(|s| s.trim().strip_prefix(prefix))
        .and_then(crate::util::unhex)
        .is_some_and(|mac| hmac_sha256_matches(secret, body, &mac))
}

/// Percent-encodes a ref name (or another path tail) for a URL path, keeping `/`.
pub fn path_encode(s: &str) -> String {
    s.split('/')
        .map(|seg| url::form_urlencoded::byte_serialize(seg.as_bytes()).collect::<String>())
        .map(|seg| seg.replace('+', "%20"))
        .collect::<Vec<_>>()
        .join("/")
}

/// A non-success answer as the generic host error its status means.
pub fn host_error(a: Answer) -> HookError {
    HookError::Host(a.ok().err().unwrap_or(HostError::UnexpectedAnswer))
}

/// A clone URL without any user part (Bitbucket names the account in it); only http(s).
pub fn clean_clone_url(u: &str) -> Option<String> {
    let mut url = url::Url::parse(u).ok()?;
    if !matches!(url.scheme(), "https" | "http") {
        return None;
    }
    url.set_username("").ok()?;
    url.set_password(None).ok()?;
    Some(url.to_string())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use http::{HeaderMap, HeaderName, HeaderValue};

    pub(in crate::hosts) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    pub(in crate::hosts) fn hex_mac(secret: &str, body: &[u8]) -> String {
        crate::util::hex(&hmac_sha256(&SecretString::new(secret.into()), body))
    }

    #[test]
    fn refs_round_trip() {
        assert_eq!(RefKind::Branch.full_ref("a/b"), "refs/heads/a/b");
        assert_eq!(RefKind::Tag.full_ref("v1"), "refs/tags/v1");
        assert_eq!(
            RefKind::parse_full("refs/heads/feature/x"),
            Some((RefKind::Branch, "feature/x"))
        );
        assert_eq!(
            RefKind::parse_full("refs/tags/v1.0"),
            Some((RefKind::Tag, "v1.0"))
        );
        assert_eq!(RefKind::parse_full("refs/notes/commits"), None);
        assert_eq!(RefKind::parse_full("refs/heads/"), None);
        assert_eq!(RefKind::parse_full("main"), None);
    }

    #[test]
    fn zeros_mean_no_object() {
        let c = RefChange::from_full(
            "refs/heads/main",
            Some(&"0".repeat(40)),
            Some("6dcb09b5b57875f334f61aebed695e2e4193db5e"),
        )
        .unwrap();
        assert_eq!(c.before, None);
        assert_eq!(
            c.after.as_deref(),
            Some("6dcb09b5b57875f334f61aebed695e2e4193db5e")
        );
        assert_eq!(object_id(Some("")), None);
        assert_eq!(object_id(None), None);
    }

    #[test]
    fn hex_signatures() {
        let secret = SecretString::new("It's a Secret to Everybody".into());
        // GitHub's documented example ("Validating webhook deliveries").
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(hex_signature_matches(
            Some(good),
            "sha256=",
            &secret,
            b"Hello, World!"
        ));
        assert!(!hex_signature_matches(
            Some(good),
            "sha256=",
            &secret,
            b"Hello, World?"
        ));
        assert!(!hex_signature_matches(
            Some(good),
            "",
            &secret,
            b"Hello, World!"
        ));
        assert!(!hex_signature_matches(None, "sha256=", &secret, b"x"));
        assert!(!hex_signature_matches(
            Some("sha256=zz"),
            "sha256=",
            &secret,
            b"x"
        ));
    }

    #[test]
    fn encodes_paths_and_clone_urls() {
        assert_eq!(path_encode("feature/a b#1"), "feature/a%20b%231");
        assert_eq!(
            clean_clone_url("https://ada@bitbucket.org/ws/repo.git").as_deref(),
            Some("https://bitbucket.org/ws/repo.git")
        );
        assert_eq!(clean_clone_url("git@github.com:o/r.git"), None);
        assert_eq!(clean_clone_url("ssh://git@h/o/r.git"), None);
    }
}
