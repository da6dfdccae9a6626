//! Answers too large to read: every OAuth call stops at the bound.

use super::*;

/// Against a host that answers everything with 64 MiB: the token exchange, the refresh and
/// the account lookup each stop at the bound instead of reading it all.
#[tokio::test]
async fn oauth_answers_are_read_within_the_bound() {
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let fake = fake_hosts::start(any, any).await.unwrap();
    for base in ["huge", "huge-chunked"] {
        let url = format!("{}/{base}", fake.http_url());
        let app = OAuthProvider::new(
            &crate::hosts::github::OAUTH,
            &url,
            &url,
            "id",
            &SecretString::new("secret".into()),
            "http://127.0.0.1:3000/oauth/github/callback",
            Duration::from_secs(5),
        )
        .unwrap();
        let token = SecretString::new("gho_fake".into());
        assert_eq!(
            app.complete("code", None).await.err(),
            Some(HostError::AnswerTooLarge),
            "{base}: exchange"
        );
        assert!(
            matches!(
                app.refresh(&token).await.err(),
                Some(RefreshFailure::Transient(HostError::AnswerTooLarge))
            ),
            "{base}: refresh"
        );
        assert_eq!(
            app.validate(&token).await.err(),
            Some(HostError::AnswerTooLarge),
            "{base}: account lookup"
        );
    }
}
