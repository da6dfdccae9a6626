//! The identifiers the wire types are keyed by: the code host ([`Provider`]), the tenant
//! ([`TenantId`]), a repository as a listing names it ([`RepoId`]) and an account waiting for
//! Confirm ([`PendingId`]), each with the one spelling used in URLs, storage keys and logs, and
//! checked when decoded.

use super::InputError;
use serde::{Deserialize, Serialize};

/// The code hosts a tenant can bind, in the order the table shows them.
///
/// Decoded from its id (`github`, …) only: a server function taking a `Provider` refuses an
/// unknown one while decoding its arguments, with [`IdRefused`] naming the error the caller
/// gets (`UnknownProvider`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Provider {
    DevCloud,
    GitHub,
    GitLab,
    Gitee,
    Bitbucket,
    /// Gitea, and Forgejo (which serves the same API).
    Gitea,
}

impl Provider {
    /// Table order, as the console manual lists them.
    pub const ALL: [Provider; 6] = [
        Provider::DevCloud,
        Provider::GitHub,
        Provider::GitLab,
        Provider::Gitee,
        Provider::Bitbucket,
        Provider::Gitea,
    ];

    /// Stable identifier used in URLs, storage keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::DevCloud => "devcloud",
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Gitee => "gitee",
            Provider::Bitbucket => "bitbucket",
            Provider::Gitea => "gitea",
        }
    }

    /// The letters of the row's logo badge.
    pub fn glyph(self) -> &'static str {
        match self {
            Provider::DevCloud => "D",
            Provider::GitHub => "GH",
            Provider::GitLab => "GL",
            Provider::Gitee => "G",
            Provider::Bitbucket => "BB",
            Provider::Gitea => "Gt",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Product names are not translated.
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::DevCloud => "DevCloud",
            Provider::GitHub => "GitHub",
            Provider::GitLab => "GitLab",
            Provider::Gitee => "Gitee",
            Provider::Bitbucket => "Bitbucket",
            Provider::Gitea => "Gitea",
        }
    }
}

impl TryFrom<String> for Provider {
    type Error = IdRefused;
    fn try_from(id: String) -> Result<Provider, IdRefused> {
        Provider::parse(&id).ok_or(IdRefused(InputError::UnknownProvider))
    }
}

/// An id refused while a request was decoded, and the input error that says so. server_fn hands
/// the error mapping only the decoder's message, so the message carries the error: [`Self::in_message`]
/// reads it back (`ApiError`'s mapping of decoding errors), and a typed argument answers what
/// parsing it by hand in the function did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRefused(pub InputError);

impl IdRefused {
    /// The refusals a typed id can raise, for reading them back.
    const ALL: [IdRefused; 3] = [
        IdRefused(InputError::UnknownProvider),
        IdRefused(InputError::RepoIdMalformed),
        IdRefused(InputError::InvalidArguments),
    ];

    /// The input error a decoder's message (`… at line 1 column 20`) starts with, if any.
    pub fn in_message(message: &str) -> Option<InputError> {
        IdRefused::ALL
            .into_iter()
            .find(|r| message.starts_with(&r.to_string()))
            .map(|r| r.0)
    }
}

impl std::fmt::Display for IdRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "id refused: {:?}", self.0)
    }
}

/// A repository id as a listing hands it out and the page passes it back for branches and
/// auto-build (`owner/name`, a workspace path, a GitLab project number), never a path of the
/// caller's choosing: ASCII letters, digits, `/ - _ .`, no `..`, at most 200 bytes. Decoding
/// checks it (refused as `RepoIdMalformed`), so a server function taking one has a checked id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoId(String);

impl RepoId {
    /// What the API document promises is accepted (a little narrower than [`RepoId::parse`]:
    /// segments of `[A-Za-z0-9_-]` joined by single `.` or `/`), for contract tests.
    pub const PATTERN: &'static str = "^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*$";

    pub fn parse(id: &str) -> Result<RepoId, InputError> {
        let ok = !id.is_empty()
            && id.len() <= 200
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'))
            && !id.contains("..")
            && !id.starts_with('/');
        if ok {
            Ok(RepoId(id.to_string()))
        } else {
            Err(InputError::RepoIdMalformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RepoId {
    type Error = IdRefused;
    fn try_from(id: String) -> Result<RepoId, IdRefused> {
        RepoId::parse(&id).map_err(IdRefused)
    }
}

impl From<RepoId> for String {
    fn from(id: RepoId) -> String {
        id.0
    }
}

impl std::fmt::Display for RepoId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A checked account waiting for Confirm, as the server named it: 32 hex digits (128 random
/// bits), never anything else. Decoding checks the shape; an id of another shape names nothing
/// we handed out (`InvalidArguments`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PendingId(String);

impl PendingId {
    pub fn parse(id: &str) -> Option<PendingId> {
        let ok = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| PendingId(id.to_string()))
    }

    /// A new id from 128 random bits (the server draws them).
    pub fn from_random(raw: [u8; 16]) -> PendingId {
        PendingId(raw.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PendingId {
    type Error = IdRefused;
    fn try_from(id: String) -> Result<PendingId, IdRefused> {
        PendingId::parse(&id).ok_or(IdRefused(InputError::InvalidArguments))
    }
}

impl From<PendingId> for String {
    fn from(id: PendingId) -> String {
        id.0
    }
}

impl std::fmt::Display for PendingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant of the console: the owner of bindings. Only ids the identity check accepted (or
/// the local tenant) are made into one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TryFrom<String> for TenantId {
    type Error = &'static str;
    fn try_from(s: String) -> Result<TenantId, Self::Error> {
        TenantId::parse(&s).ok_or("not a valid tenant id")
    }
}

impl From<TenantId> for String {
    fn from(t: TenantId) -> String {
        t.0
    }
}

impl TenantId {
    /// `id` must be a valid tenant id (non-empty, at most 128 of `[A-Za-z0-9-_.@:]`).
    pub fn parse(id: &str) -> Option<TenantId> {
        let ok = !id.is_empty()
            && id.len() <= 128
            && id.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@' | b':')
            });
        ok.then(|| TenantId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for TenantId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_round_trip() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
        }
        assert_eq!(Provider::parse("GitLab"), None);
    }

    /// On the wire a provider is its id; an unknown id is refused with a message that names
    /// `UnknownProvider`, and a value of another type is an ordinary decoding error.
    #[test]
    fn providers_decode_from_their_ids_only() {
        for p in Provider::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), p);
        }
        let unknown = serde_json::from_str::<Provider>("\"sourceforge\"").unwrap_err();
        assert_eq!(
            IdRefused::in_message(&unknown.to_string()),
            Some(InputError::UnknownProvider)
        );
        let number = serde_json::from_str::<Provider>("7").unwrap_err();
        assert_eq!(IdRefused::in_message(&number.to_string()), None);
    }

    #[test]
    fn pending_ids_are_128_bits_in_hex() {
        let id = PendingId::from_random([0xab; 16]);
        assert_eq!(id.as_str(), "ab".repeat(16));
        assert_eq!(PendingId::parse(id.as_str()), Some(id.clone()));
        for bad in [
            "",
            "ab",
            &"g".repeat(32),
            &"a".repeat(33),
            "../../../../../../../../../../...",
        ] {
            assert_eq!(PendingId::parse(bad), None, "{bad}");
            let refused = serde_json::from_value::<PendingId>(serde_json::json!(bad)).unwrap_err();
            assert_eq!(
                IdRefused::in_message(&refused.to_string()),
                Some(InputError::InvalidArguments)
            );
        }
    }

    #[test]
    fn repository_ids_are_only_ids_a_listing_hands_out() {
        for ok in ["octo/hello", "42", "ws/repo.name-1_x"] {
            assert!(RepoId::parse(ok).is_ok(), "{ok}");
            let json = serde_json::to_string(&RepoId::parse(ok).unwrap()).unwrap();
            assert_eq!(json, format!("\"{ok}\""));
        }
        for bad in [
            "",
            "../etc",
            "a/../b",
            "/abs",
            "a b",
            "a?b",
            &"x".repeat(201),
        ] {
            assert_eq!(
                RepoId::parse(bad),
                Err(InputError::RepoIdMalformed),
                "{bad}"
            );
            let refused = serde_json::from_value::<RepoId>(serde_json::json!(bad)).unwrap_err();
            assert_eq!(
                IdRefused::in_message(&refused.to_string()),
                Some(InputError::RepoIdMalformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn tenant_ids_are_checked() {
        assert!(TenantId::parse("tenant-42").is_some());
        for bad in ["", "t1/../t2", "a b", &"x".repeat(129)] {
            assert!(TenantId::parse(bad).is_none(), "{bad}");
        }
    }
}
