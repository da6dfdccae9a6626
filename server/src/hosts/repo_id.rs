//! A repository id as the page passes it back for branches: what a host's listing handed out
//! (`owner/name`, a workspace path, a GitLab project number), never a path of our choosing.

use app::api::InputError;

/// A checked repository id: ASCII letters, digits, `/ - _ .`, no `..`, at most 200 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_a_listing_hands_out() {
        for ok in ["octo/hello", "42", "ws/repo.name-1_x"] {
            assert!(RepoId::parse(ok).is_ok(), "{ok}");
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
        }
    }
}
