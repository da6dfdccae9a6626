//! The grant rule: which granted scopes cover which asked ones, and each host's scopes that
//! read repositories (a grant without them is refused, see `OAuthSpec::repo_read_scopes`).

use super::*;

fn granted(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_scope_is_covered_by_itself_or_one_the_host_says_implies_it() {
    assert!(covers(&granted(&["account", "repository"]), "repository"));
    assert!(covers(&granted(&["repository:write"]), "repository"));
    assert!(covers(&granted(&["repository:admin"]), "repository"));
    assert!(!covers(&granted(&["account"]), "repository"));
    assert!(covers(&granted(&["user"]), "read:user"));
    assert!(!covers(&granted(&["read:user"]), "repo"));
    assert!(!covers(&granted(&["public_repo"]), "repo"));
    assert!(!covers(&granted(&[]), "projects"));
}

#[test]
fn every_oauth_host_names_what_reads_repositories_among_what_it_asks() {
    use crate::hosts::{bitbucket, gitee, github};
    for (spec, read) in [
        (&bitbucket::OAUTH, "repository"),
        (&github::OAUTH, "repo"),
        (&gitee::OAUTH, "projects"),
    ] {
        assert_eq!(spec.repo_read_scopes, [read], "{:?}", spec.provider);
        assert!(spec.scopes.contains(&read), "{:?}", spec.provider);
    }
}
