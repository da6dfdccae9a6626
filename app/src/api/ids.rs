//! The two identifiers every other wire type is keyed by: the code host ([`Provider`]) and the
//! tenant ([`TenantId`]), each with the one spelling used in URLs, storage keys and logs.

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
    const ALL: [IdRefused; 1] = [IdRefused(InputError::UnknownProvider)];

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
    fn tenant_ids_are_checked() {
        assert!(TenantId::parse("tenant-42").is_some());
        for bad in ["", "t1/../t2", "a b", &"x".repeat(129)] {
            assert!(TenantId::parse(bad).is_none(), "{bad}");
        }
    }
}
