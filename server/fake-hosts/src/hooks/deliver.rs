//! Sends one delivery (a POST with the host's headers and body) and keeps what came of it, so
//! the control endpoints can report it and `redeliver` can resend it byte for byte.

use serde_json::{json, Value};

/// A delivery as built for one hook: resent unchanged on redelivery (same id, same signature).
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub hook_id: u64,
    pub url: String,
    /// The host's event name as sent in its event header (`push`, `Push Hook`, `repo:push` …).
    pub event: String,
    /// The host's delivery id header value (Gitee has none: its timestamp).
    pub delivery_id: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A sent delivery: the receiver's status, or why there was none.
#[derive(Clone, Debug)]
pub(crate) struct Outcome {
    pub delivery: Delivery,
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Outcome {
    pub(crate) fn to_json(&self) -> Value {
        let d = &self.delivery;
        json!({
            "hook_id": d.hook_id, "url": d.url, "event": d.event, "delivery_id": d.delivery_id,
            "status": self.status, "error": self.error,
        })
    }
}

pub(crate) async fn send(client: &reqwest::Client, d: Delivery) -> Outcome {
    let mut req = client.post(&d.url).body(d.body.clone());
    for (k, v) in &d.headers {
        req = req.header(k, v);
    }
    let (status, error) = match req.send().await {
        Ok(r) => (Some(r.status().as_u16()), None),
        // The reqwest error names the URL and the failure; nothing secret is in either.
        Err(e) => (None, Some(e.to_string())),
    };
    Outcome {
        delivery: d,
        status,
        error,
    }
}
