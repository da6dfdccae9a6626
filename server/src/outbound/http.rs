//! The one HTTP helper every code host's REST calls go through (token checks, account
//! lookups, repositories, revocations, hooks): a GET, or a call with a JSON body, with the
//! token as the host wants it and the host's own headers, the answer read within
//! [`MAX_ANSWER`], and what every API means the same by (a rate limit, a refused token) mapped
//! once. What a status means beyond that (GitLab's error bodies, Gitea's scope messages) is the
//! host module's.

use super::instance::classify;
use super::limits::{read_bounded, MAX_ANSWER};
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
    /// HTTP Basic with an OAuth app's id and secret (GitHub's grant revocation).
    Basic(&'a str, &'a SecretString),
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
            Auth::Basic(id, secret) => {
                use base64::Engine as _;
                let pair = format!("{id}:{}", secret.expose());
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                (header::AUTHORIZATION, format!("Basic {encoded}"))
            }
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
    send_with(http, method, url, auth, &[], body).await
}

/// [`send`] with a host's own headers (`headers`: name and value), such as GitHub's API
/// version; one of them may replace the default `Accept: application/json`.
pub async fn send_with(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    auth: Auth<'_>,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> Result<Answer, HostError> {
    let (name, value) = auth.header()?;
    let mut req = http.request(method, url).header(name, value);
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(header::ACCEPT.as_str()))
    {
        req = req.header(header::ACCEPT, "application/json");
    }
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    let req = req.build().map_err(|e| classify(&e))?;
    execute(http, req).await
}

/// Sends a request someone else built (the `oauth2` crate's token requests) and reads the
/// answer as [`send`] does.
pub async fn execute(http: &reqwest::Client, req: reqwest::Request) -> Result<Answer, HostError> {
    let resp = http.execute(req).await.map_err(|e| classify(&e))?;
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

    /// Whether the host says the body is JSON (an HTML login page is not the API).
    pub fn is_json(&self) -> bool {
        self.header(header::CONTENT_TYPE.as_str())
            .is_some_and(|c| c.contains("json"))
    }

    /// The answer if it is a success; else what its status means for any of our hosts: 401 a
    /// token the host does not take, 429 (or GitHub's 403 with no requests left) a rate limit,
    /// anything else its real status.
    pub fn ok(self) -> Result<Answer, HostError> {
        match self.status {
            200..=299 => Ok(self),
            401 => Err(HostError::TokenInvalid),
            _ => Err(self.rate_limit().unwrap_or(HostError::Upstream {
                status: self.status,
            })),
        }
    }

    /// The rate-limit classifier, the one for every host and call: 429, or GitHub's 403 with no
    /// requests left, is a rate limit, retried after the host's `Retry-After` (seconds) if it
    /// gave one.
    pub fn rate_limit(&self) -> Option<HostError> {
        let limited = self.status == 429
            || (self.status == 403 && self.header("x-ratelimit-remaining") == Some("0"));
        limited.then(|| HostError::RateLimited {
            retry_after_secs: self
                .header(header::RETRY_AFTER.as_str())
                .and_then(|v| v.trim().parse().ok()),
        })
    }

    /// The answer if its status is a success; else what `refused` makes of it (each host
    /// reads its own refusals: a missing scope, not an admin, a limit reached).
    pub fn expect_ok<E>(self, refused: impl FnOnce(Answer) -> E) -> Result<Answer, E> {
        if self.ok_status() {
            Ok(self)
        } else {
            Err(refused(self))
        }
    }

    /// The body as `T` if the status is a success; else what `refused` makes of the answer.
    pub fn expect_json<T, E>(self, refused: impl FnOnce(Answer) -> E) -> Result<T, E>
    where
        T: serde::de::DeserializeOwned,
        E: From<HostError>,
    {
        Ok(self.expect_ok(refused)?.json()?)
    }

    /// As [`Answer::expect_json`], except that a status in `absent` (a 404 for a ref that does
    /// not exist) is `None`, not a refusal.
    pub fn optional_json<T, E>(
        self,
        absent: &[u16],
        refused: impl FnOnce(Answer) -> E,
    ) -> Result<Option<T>, E>
    where
        T: serde::de::DeserializeOwned,
        E: From<HostError>,
    {
        if absent.contains(&self.status) {
            return Ok(None);
        }
        self.expect_json(refused).map(Some)
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
