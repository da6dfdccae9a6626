//! Pushing build events to the build service (`CODESOURCE_BUILD_EVENTS_URL`), signed per the
//! Standard Webhooks specification: `webhook-id` (the event's stable id, the same on every
//! retry, so the receiver de-duplicates), `webhook-timestamp` (Unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the key being
//! the base64 part of a `whsec_…` secret. Events wait in the store's outbox, written with the
//! delivery that produced them; every replica runs a worker, and the store's lease keeps one
//! attempt in flight per event. A failed attempt is retried with exponential backoff (1 s
//! doubling to 10 min) until the build service answers 2xx.

use crate::secret::SecretBytes;
use crate::store::{OutboxItem, Store};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long one attempt holds an event (longer than the request timeout).
const LEASE: Duration = Duration::from_secs(30);
/// Timeout of one POST.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Events claimed per round.
const BATCH: usize = 16;
/// With nothing to do, look again this often (other replicas' deliveries, due retries).
const IDLE: Duration = Duration::from_secs(1);
const MAX_BACKOFF_SECS: i64 = 600;

pub struct Pusher {
    url: String,
    key: SecretBytes,
    client: reqwest::Client,
    wake: Notify,
}

/// The HMAC key of a Standard Webhooks secret: `whsec_` + base64, as the specification's
/// libraries take it; any other string is used as it is.
pub fn secret_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b| B64.decode(b).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `v1,<signature>` of one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// Delay before attempt `attempts + 1`.
fn backoff_secs(attempts: u32) -> i64 {
    1i64.checked_shl(attempts.min(20))
        .unwrap_or(i64::MAX)
        .min(MAX_BACKOFF_SECS)
}

impl Pusher {
    pub fn new(url: String, secret: &str) -> anyhow::Result<Arc<Pusher>> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Arc::new(Pusher {
            url,
            key: SecretBytes::new(secret_key(secret)),
            client,
            wake: Notify::new(),
        }))
    }

    /// New events are in the outbox.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs the worker for the life of the process.
    pub fn spawn(self: Arc<Self>, store: Arc<dyn Store>) {
        tokio::spawn(async move {
            loop {
                let claimed = store.claim_outbox(LEASE, BATCH).await;
                match claimed {
                    Ok(items) if !items.is_empty() => {
                        for item in items {
                            self.attempt(store.as_ref(), item).await;
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %crate::util::chain(&e), "build events: claiming the outbox failed")
                    }
                }
                let _ = tokio::time::timeout(IDLE, self.wake.notified()).await;
            }
        });
    }

    async fn attempt(&self, store: &dyn Store, item: OutboxItem) {
        let body = match serde_json::to_vec(&item.event) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(seq = item.seq, error = %e, "build events: an event does not serialize");
                return;
            }
        };
        let ts = crate::util::now_secs();
        let signature = sign(self.key.expose(), &item.event.id, ts, &body);
        let sent = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", &item.event.id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let delivered = match sent {
            Ok(r) if r.status().is_success() => true,
            Ok(r) => {
                tracing::info!(
                    seq = item.seq,
                    status = r.status().as_u16(),
                    "build events: the build service refused an event; retrying later"
                );
                false
            }
            Err(e) => {
                tracing::info!(seq = item.seq, error = %crate::util::chain(&e), "build events: pushing an event failed; retrying later");
                false
            }
        };
        let recorded = if delivered {
            crate::metrics::metrics().events_pushed(true);
            store.finish_outbox(item.seq).await
        } else {
            crate::metrics::metrics().events_pushed(false);
            let attempts = item.attempts + 1;
            let retry_in = Duration::from_secs(backoff_secs(item.attempts) as u64);
            store.retry_outbox(item.seq, attempts, retry_in).await
        };
        if let Err(e) = recorded {
            // The lease runs out and the event is tried again: at least once, never lost.
            tracing::warn!(seq = item.seq, error = %crate::util::chain(&e), "build events: recording an attempt failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_standard_webhooks_reference() {
        // The specification's example: secret, msg id, timestamp, payload and signature.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let sig = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff_secs(0), 1);
        assert_eq!(backoff_secs(3), 8);
        assert_eq!(backoff_secs(30), MAX_BACKOFF_SECS);
    }
}
