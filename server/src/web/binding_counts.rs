//! The `codesource_bindings` gauge of `/metrics`: counting still walks every stored binding's
//! key (sled) or row (PostgreSQL), so a count is reused for a minute, and concurrent scrapes wait for the one
//! count in progress instead of starting their own.

use crate::store::{BindingStore, StoreError};
use app::api::Provider;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a count is served before the next scrape counts again.
const FRESH_FOR: Duration = Duration::from_secs(60);

type Counts = Vec<(Provider, bool, u64)>;

#[derive(Default)]
pub struct BindingCounts {
    last: Mutex<Option<(Instant, Counts)>>,
}

impl BindingCounts {
    pub async fn get(&self, store: &dyn BindingStore) -> Result<Counts, StoreError> {
        let mut last = self.last.lock().await;
        if let Some((at, counts)) = last.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return Ok(counts.clone());
            }
        }
        let counts = store.counts().await?;
        *last = Some((Instant::now(), counts.clone()));
        Ok(counts)
    }
}
