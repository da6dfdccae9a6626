//! OAuth flows as the browser drives them: start, the user's decision on the fake host's
//! authorize page, the callback and its report.

use super::*;

/// An OAuth flow started by the server: where it sends the browser, and the flow cookie.
pub struct Flow {
    pub authorize_url: String,
    pub cookie: String,
}

impl TestApp {
    /// `GET /oauth/{provider}/start` as the browser would.
    pub async fn start_oauth(&self, provider: &str) -> Flow {
        let resp = self
            .get(&format!("/oauth/{provider}/start?mode=redirect"))
            .await;
        Flow::started(&resp)
    }

    /// The user's decision on the fake code host's authorize page; returns where it redirects.
    pub async fn decide(&self, authorize_url: &str, decision: &str) -> String {
        decide(&self.http, authorize_url, decision).await
    }

    /// The browser arriving at our callback; returns the result page's report.
    pub async fn callback(&self, url: &str, cookie: Option<&str>) -> Result<String, Value> {
        let mut req = self.http.get(url);
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        callback_report(req.send().await.unwrap()).await
    }

    /// Start, approve, come back: the pending id.
    pub async fn authorize(&self, provider: &str, decision: &str) -> Result<String, Value> {
        let flow = self.start_oauth(provider).await;
        let back = self.decide(&flow.authorize_url, decision).await;
        self.callback(&back, Some(&flow.cookie)).await
    }
}

impl Flow {
    /// The flow from the answer to `GET /oauth/{provider}/start?mode=redirect`.
    pub fn started(resp: &reqwest::Response) -> Flow {
        assert_eq!(resp.status(), 303, "start redirects to the code host");
        let authorize_url = resp.headers()["location"].to_str().unwrap().to_string();
        let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
            "{set_cookie}"
        );
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        Flow {
            authorize_url,
            cookie,
        }
    }
}

/// The user's decision on the fake code host's authorize page; returns where it redirects.
pub async fn decide(http: &reqwest::Client, authorize_url: &str, decision: &str) -> String {
    let resp = http
        .get(format!("{authorize_url}&decision={decision}"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    resp.headers()["location"].to_str().unwrap().to_string()
}

/// The report of our callback's result page: the pending id, or the error.
pub async fn callback_report(resp: reqwest::Response) -> Result<String, Value> {
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    let html = resp.text().await.unwrap();
    assert!(
        !html.contains("code="),
        "the code never goes into a URL we make"
    );
    let link = html
        .split("href=\"/?")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let param = |name: &str| {
        link.split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    match (param("pending"), param("error")) {
        (Some(id), _) => Ok(id),
        (_, Some(e)) => Err(serde_json::from_str(&percent_decode(&e)).unwrap()),
        _ => panic!("no result in {link}"),
    }
}

pub fn percent_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// Replaces the value of query parameter `name` in `url`.
pub fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| {
            if kv.starts_with(&format!("{name}=")) {
                format!("{name}={value}")
            } else {
                kv.to_string()
            }
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}
