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
/// to build at all, too many patterns, or one too long.
pub fn filters_from(branches: &str, tags: &str) -> Option<AutoBuildFilters> {
    let filters = AutoBuildFilters {
        branches: parse_patterns(branches),
        tags: parse_patterns(tags),
    };
    let fits = |list: &[String]| {
        list.len() <= MAX_PATTERNS && list.iter().all(|p| p.len() <= MAX_PATTERN_LEN)
    };
    let some = !(filters.branches.is_empty() && filters.tags.is_empty());
    (some && fits(&filters.branches) && fits(&filters.tags)).then_some(filters)
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
}
