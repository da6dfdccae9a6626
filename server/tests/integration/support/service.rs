//! The build service's side: credentials, the API document, and the fake hosts' own records.

use super::*;

impl TestApp {
    /// The build service asking for a credential.
    pub async fn credential(
        &self,
        tenant: &str,
        provider: &str,
        token: Option<&str>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self.http.get(format!(
            "{}/api/v1/tenants/{tenant}/code-sources/{provider}/credential",
            self.base
        ));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        (status, resp.json().await.unwrap_or(Value::Null), headers)
    }

    /// Binds Gitee with the given decision on the authorize page (`approve-short`: a token that
    /// expires in a minute; `approve-short-dead`: and a refresh token the host no longer knows).
    pub async fn bind_gitee(&self, decision: &str) {
        self.bind_oauth("gitee", decision).await;
    }

    /// Authorizes `provider` with `decision` on its authorize page and confirms the account;
    /// returns the row.
    pub async fn bind_oauth(&self, provider: &str, decision: &str) -> serde_json::Value {
        let id = self
            .authorize(provider, decision)
            .await
            .expect("authorized");
        self.confirm_pending(&serde_json::json!(id)).await
    }

    /// A fake host's own record (`gitee/__stats`, `gitea/__log`, …), as JSON.
    pub async fn fake_json(&self, path: &str) -> Value {
        fake_json(&self.fake, path).await
    }

    pub async fn gitee_refreshes(&self) -> u64 {
        self.fake_json("gitee/__stats").await["refreshes"]
            .as_u64()
            .unwrap()
    }
}

impl TestApp {
    pub async fn credential_doc(&self) -> (u16, Value, reqwest::header::HeaderMap) {
        let resp = self
            .http
            .get(format!("{}/api/openapi.json", self.base))
            .send()
            .await
            .unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        (status, resp.json().await.unwrap_or(Value::Null), headers)
    }
}

/// A fake host's own record (`gitee/__stats`, `gitea/__log`, …), as JSON; for tests that run
/// the server as a process, too.
pub async fn fake_json(fake: &fake_hosts::Running, path: &str) -> Value {
    reqwest::get(format!("{}/{path}", fake.http_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
