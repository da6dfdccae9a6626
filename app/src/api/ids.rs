//! The two identifiers every other wire type is keyed by: the code host ([`Provider`]) and the
//! tenant ([`TenantId`]), each with the one spelling used in URLs, storage keys and logs.

use serde::{Deserialize, Serialize};

/// The code hosts a tenant can bind, in the order the table shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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

    #[test]
    fn tenant_ids_are_checked() {
        assert!(TenantId::parse("tenant-42").is_some());
        for bad in ["", "t1/../t2", "a b", &"x".repeat(129)] {
            assert!(TenantId::parse(bad).is_none(), "{bad}");
        }
    }
}
