//! The filters form's text: glob patterns separated by commas or new lines, checked against the
//! limits the server counts, so that a slip is caught before a round trip (the server checks
//! again and is the one that decides).

use crate::api::filter_limits::{MAX_PATTERNS, MAX_PATTERN_LEN};
use crate::api::AutoBuildFilters;

/// The patterns a field holds, in order, blanks dropped.
pub fn parse_patterns(text: &str) -> Vec<String> {
    text.split([',', '\n', '\r'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

/// A list as the field shows it again (editing the filters of a repository that has them).
pub fn join_patterns(patterns: &[String]) -> String {
    patterns.join(", ")
}

/// The filters the two fields describe, or `None` when the server would refuse them: nothing
/// to build at all, too many patterns, or one that is too long or could never name a ref.
pub fn filters_from(branches: &str, tags: &str) -> Option<AutoBuildFilters> {
    let filters = AutoBuildFilters {
        branches: parse_patterns(branches),
        tags: parse_patterns(tags),
    };
    let fits = |list: &[String]| list.len() <= MAX_PATTERNS && list.iter().all(|p| valid(p));
    let some = !(filters.branches.is_empty() && filters.tags.is_empty());
    (some && fits(&filters.branches) && fits(&filters.tags)).then_some(filters)
}

/// Git's rules for ref names (check-ref-format), as the server applies them to patterns: no
/// control characters, space, `~ ^ : \ [`, no `..`, no leading or trailing `/`.
fn valid(p: &str) -> bool {
    let bad_char = p
        .chars()
        .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '\\' | '['));
    p.len() <= MAX_PATTERN_LEN
        && !bad_char
        && !p.contains("..")
        && !p.starts_with('/')
        && !p.ends_with('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_and_lines_separate_patterns() {
        assert_eq!(
            parse_patterns(" main, release/*\r\n\n  hotfix/** ,"),
            ["main", "release/*", "hotfix/**"]
        );
        assert!(parse_patterns(" , \n").is_empty());
        assert_eq!(
            parse_patterns(&join_patterns(&["a".into(), "b/*".into()])),
            ["a", "b/*"]
        );
    }

    #[test]
    fn filters_need_something_to_build_and_fit_the_limits() {
        let f = filters_from("main", "").unwrap();
        assert_eq!((f.branches, f.tags), (vec!["main".to_string()], vec![]));
        assert!(filters_from("", "v*").is_some());
        assert_eq!(filters_from(" ", ","), None);
        let many = vec!["b"; MAX_PATTERNS + 1].join(",");
        assert_eq!(filters_from(&many, ""), None);
        assert!(filters_from(&vec!["b"; MAX_PATTERNS].join(","), "").is_some());
        let long = "x".repeat(MAX_PATTERN_LEN + 1);
        assert_eq!(filters_from("main", &long), None);
        assert!(filters_from("main", &long[1..]).is_some());
    }

    #[test]
    fn patterns_follow_git_ref_name_rules() {
        for ok in ["release/*", "**", "v?.*", "a//b", ".hidden", "feature/x.y"] {
            assert!(filters_from(ok, "").is_some(), "{ok}");
        }
        for bad in [
            "a..b", "/main", "main/", "a~1", "a^", "a:b", "a\\b", "a[0]", "a\u{7}",
        ] {
            assert_eq!(filters_from(bad, ""), None, "{bad}");
        }
    }
}
