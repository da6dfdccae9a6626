//! Branch and tag filters: which pushed refs become build events. Patterns are globs over the
//! short ref name (`main`, `release/1.2`, `v1.0.0`), as Google Cloud Build and GitHub Actions
//! filter: `*` matches within one path segment, `**` across segments, `?` one character.
//! Checked once when auto-build is turned on, so the ingress only matches.

use super::AutoBuildError;
use crate::hosts::hooks::RefKind;
use app::api::{filter_limits, AutoBuildFilters};

/// Filters that passed [`Filters::parse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filters {
    branches: Vec<String>,
    tags: Vec<String>,
}

impl Filters {
    /// Refuses an empty pair, too many or too long patterns, and characters git refuses in ref
    /// names (so a pattern that can never match is said at once, not discovered by a silent
    /// auto-build).
    pub fn parse(f: &AutoBuildFilters) -> Result<Filters, AutoBuildError> {
        if f.branches.is_empty() && f.tags.is_empty() {
            return Err(AutoBuildError::InvalidFilters(
                "name at least one branch or tag pattern",
            ));
        }
        for list in [&f.branches, &f.tags] {
            if list.len() > filter_limits::MAX_PATTERNS {
                return Err(AutoBuildError::InvalidFilters("too many patterns"));
            }
            for p in list {
                valid_pattern(p)?;
            }
        }
        Ok(Filters {
            branches: f.branches.clone(),
            tags: f.tags.clone(),
        })
    }

    /// The stored form (already checked when it was stored).
    pub fn stored(branches: &[String], tags: &[String]) -> Filters {
        Filters {
            branches: branches.to_vec(),
            tags: tags.to_vec(),
        }
    }

    pub fn branches(&self) -> &[String] {
        &self.branches
    }

    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// Whether a push of `name` (a branch or a tag) builds.
    pub fn matches(&self, kind: RefKind, name: &str) -> bool {
        let patterns = match kind {
            RefKind::Branch => &self.branches,
            RefKind::Tag => &self.tags,
        };
        patterns.iter().any(|p| glob(p.as_bytes(), name.as_bytes()))
    }
}

fn valid_pattern(p: &str) -> Result<(), AutoBuildError> {
    if p.is_empty() || p.len() > filter_limits::MAX_PATTERN_LEN {
        return Err(AutoBuildError::InvalidFilters(
            "a pattern is empty or longer than 100 characters",
        ));
    }
    // git check-ref-format: no control characters, space, `~ ^ : \ [`, no `..`, no leading `/`.
    let bad_char = p
        .chars()
        .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '\\' | '['));
    if bad_char || p.contains("..") || p.starts_with('/') || p.ends_with('/') {
        return Err(AutoBuildError::InvalidFilters(
            "a pattern holds a character git does not allow in branch or tag names",
        ));
    }
    Ok(())
}

/// Longest ref name matched at all (git sets no hard limit; hosts cap far below this). Longer
/// names match nothing, which keeps [`glob`]'s table small.
const MAX_REF_NAME: usize = 1024;

#[derive(Clone, Copy)]
enum Token {
    Byte(u8),
    /// `?`: one byte other than `/`.
    One,
    /// `*`: any bytes within a segment.
    Star,
    /// `**`: any bytes, `/` included.
    Stars,
}

fn tokens(p: &[u8]) -> Vec<Token> {
    let mut out = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        out.push(match p[i] {
            b'*' if p.get(i + 1) == Some(&b'*') => {
                i += 1;
                Token::Stars
            }
            b'*' => Token::Star,
            b'?' => Token::One,
            c => Token::Byte(c),
        });
        i += 1;
    }
    out
}

/// Glob match by dynamic programming over (pattern token, name position): O(pattern × name)
/// whatever the pattern, so no pattern a tenant writes can make a delivery slow.
fn glob(p: &[u8], s: &[u8]) -> bool {
    if s.len() > MAX_REF_NAME {
        return false;
    }
    let t = tokens(p);
    // next[j]: tokens i+1.. match s[j..]; row is being computed for token i.
    let mut next = vec![false; s.len() + 1];
    next[s.len()] = true;
    for tok in t.iter().rev() {
        let mut row = vec![false; s.len() + 1];
        for j in (0..=s.len()).rev() {
            let c = s.get(j).copied();
            row[j] = match (*tok, c) {
                (Token::Byte(b), Some(c)) => b == c && next[j + 1],
                (Token::One, Some(c)) => c != b'/' && next[j + 1],
                (Token::Star, Some(c)) => next[j] || (c != b'/' && row[j + 1]),
                (Token::Stars, Some(_)) => next[j] || row[j + 1],
                (Token::Star | Token::Stars, None) => next[j],
                (Token::Byte(_) | Token::One, None) => false,
            };
        }
        next = row;
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(branches: &[&str], tags: &[&str]) -> Result<Filters, AutoBuildError> {
        Filters::parse(&AutoBuildFilters {
            branches: branches.iter().map(|s| s.to_string()).collect(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn globs_match_like_ci_filters() {
        let cases: &[(&str, &str, bool)] = &[
            ("main", "main", true),
            ("main", "mainline", false),
            ("release/*", "release/1.2", true),
            ("release/*", "release/1.2/hotfix", false),
            ("release/**", "release/1.2/hotfix", true),
            ("**", "any/thing/at/all", true),
            ("*", "feature/x", false),
            ("*", "main", true),
            ("v*", "v1.0.0", true),
            ("v*", "1.0.0", false),
            ("v?.*", "v1.0", true),
            ("v?.*", "v10.0", false),
            ("feat-*-done", "feat-a-b-done", true),
            ("feat-*-done", "feat-a-b-don", false),
            ("**/hotfix", "release/1/hotfix", true),
            ("**/hotfix", "hotfix", false),
        ];
        for (p, s, want) in cases {
            assert_eq!(glob(p.as_bytes(), s.as_bytes()), *want, "{p} vs {s}");
        }
    }

    #[test]
    fn a_pathological_pattern_stays_fast() {
        // Exponential for a backtracking matcher; a table of 100 × 1025 cells here.
        let p = "**a**a**a**a**a**a**a**a**a**a**a**a**a**a**a**b";
        let s = "a".repeat(MAX_REF_NAME);
        assert!(!glob(p.as_bytes(), s.as_bytes()));
        assert!(!glob(b"**", "a".repeat(MAX_REF_NAME + 1).as_bytes()));
    }

    #[test]
    fn branches_and_tags_are_separate() {
        let filters = f(&["main"], &["v*"]).unwrap();
        assert!(filters.matches(RefKind::Branch, "main"));
        assert!(!filters.matches(RefKind::Tag, "main"));
        assert!(filters.matches(RefKind::Tag, "v2"));
        assert!(!filters.matches(RefKind::Branch, "v2"));
        let only_tags = f(&[], &["**"]).unwrap();
        assert!(!only_tags.matches(RefKind::Branch, "main"));
    }

    #[test]
    fn refuses_what_could_never_match_or_is_unbounded() {
        assert!(f(&[], &[]).is_err());
        assert!(f(&[""], &[]).is_err());
        assert!(f(&["a b"], &[]).is_err());
        assert!(f(&["a..b"], &[]).is_err());
        assert!(f(&["[ab]"], &[]).is_err());
        assert!(f(&[&"x".repeat(101)], &[]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("b{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(f(&many, &[]).is_err());
        assert!(f(&["main", "release/*"], &["v*"]).is_ok());
    }
}
