//! The REST calls every host module makes with a user's token: a GET, or a call with a JSON
//! body (the hook API's POST and DELETE), the answer read within [`MAX_ANSWER`], and the
//! statuses every API means the same by mapped once. What a status
//! means beyond that (GitLab's error bodies, Gitea's scope messages) is the host module's.

use crate::outbound::instance::classify;
use crate::outbound::limits::{read_bounded, MAX_ANSWER};
use crate::secret::SecretString;
use app::api::HostError;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

/// How a host wants the token.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `Authorization: Bearer …` (GitHub, Gitee, Bitbucket).
    Bearer(&'a SecretString),
    /// `Authorization: token …` (Gitea, Forgejo).
    Token(&'a SecretString),
    /// `PRIVATE-TOKEN: …` (GitLab).
    PrivateToken(&'a SecretString),
}

impl Auth<'_> {
    fn header(self) -> Result<(HeaderName, HeaderValue), HostError> {
        let (name, value) = match self {
            Auth::Bearer(t) => (header::AUTHORIZATION, format!("Bearer {}", t.expose())),
            Auth::Token(t) => (header::AUTHORIZATION, format!("token {}", t.expose())),
            Auth::PrivateToken(t) => (
                HeaderName::from_static("private-token"),
                t.expose().to_string(),
            ),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| HostError::TokenInvalid)?;
        value.set_sensitive(true);
        Ok((name, value))
    }
}

/// A host's answer, read within the bound.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// GETs `url` with the token; any HTTP answer is `Ok` (see [`Answer::ok`]).
pub async fn get(http: &reqwest::Client, url: &str, auth: Auth<'_>) -> Result<Answer, HostError> {
    send(http, reqwest::Method::GET, url, auth, None).await
}

/// Calls `url` with `method`, the token and `body` as JSON (if any); any HTTP answer is `Ok`
/// (see [`Answer::ok`]). The client is the caller's, so its policy and timeout hold.
pub async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    auth: Auth<'_>,
    body: Option<&serde_json::Value>,
) -> Result<Answer, HostError> {
    let (name, value) = auth.header()?;
    let mut req = http
        .request(method, url)
        .header(name, value)
        .header(header::ACCEPT, "application/json");
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = req.send().await.map_err(|e| classify(&e))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = read_bounded(resp, MAX_ANSWER).await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

impl Answer {
    /// Whether the status is a success (2xx).
    pub fn ok_status(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The answer if it is a success; else what its status means for any of our hosts: 401 a
    /// token the host does not take, 429 (or GitHub's 403 with no requests left) a rate limit,
    /// anything else its real status.
    pub fn ok(self) -> Result<Answer, HostError> {
        match self.status {
            200..=299 => Ok(self),
            401 => Err(HostError::TokenInvalid),
            429 => Err(self.rate_limited()),
            403 if self.header("x-ratelimit-remaining") == Some("0") => Err(self.rate_limited()),
            status => Err(HostError::Upstream { status }),
        }
    }

    fn rate_limited(&self) -> HostError {
        HostError::RateLimited {
            retry_after_secs: self
                .header(header::RETRY_AFTER.as_str())
                .and_then(|v| v.trim().parse().ok()),
        }
    }

    /// The body as `T`; one that does not parse is not the API we expected.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HostError> {
        serde_json::from_slice(&self.body).map_err(|_| HostError::UnexpectedAnswer)
    }

    /// Whether a `Link` header (RFC 8288, as GitHub, GitLab and Gitea send it) has a next page.
    pub fn has_next_link(&self) -> bool {
        self.header("link").is_some_and(|l| {
            l.split(',')
                .any(|part| part.split(';').skip(1).any(|p| p.trim() == "rel=\"next\""))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &str)]) -> Answer {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        Answer {
            status,
            headers: h,
            body: vec![],
        }
    }

    #[test]
    fn statuses_mean_the_same_everywhere() {
        assert_eq!(answer(401, &[]).ok().err(), Some(HostError::TokenInvalid));
        assert_eq!(
            answer(429, &[("retry-after", "30")]).ok().err(),
            Some(HostError::RateLimited {
                retry_after_secs: Some(30)
            })
        );
        assert_eq!(
            answer(403, &[("x-ratelimit-remaining", "0")]).ok().err(),
            Some(HostError::RateLimited {
                retry_after_secs: None
            })
        );
        assert_eq!(
            answer(502, &[]).ok().err(),
            Some(HostError::Upstream { status: 502 })
        );
        assert!(answer(204, &[]).ok().is_ok());
    }

    #[test]
    fn finds_the_next_link() {
        let gitea = r#"<https://g.example/api/v1/user/repos?limit=20&page=2>; rel="next",<https://g.example/api/v1/user/repos?limit=20&page=3>; rel="last""#;
        assert!(answer(200, &[("link", gitea)]).has_next_link());
        let last = r#"<https://g.example/api/v1/user/repos?page=1>; rel="first",<https://g.example/api/v1/user/repos?page=2>; rel="prev""#;
        assert!(!answer(200, &[("link", last)]).has_next_link());
        assert!(!answer(200, &[]).has_next_link());
    }
}
