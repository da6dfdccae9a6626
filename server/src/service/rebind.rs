//! Storing a confirmed binding. Re-binding the same host with another account (or another
//! instance) replaces the old binding together with a cleanup job for the old account's
//! auto-build hooks, in one store write (`crate::jobs`): they are removed from the code host
//! in the background, and retried until they are.

use super::CodeSources;
use crate::jobs::Steps;
use crate::store::{StoreError, StoredAvatar, StoredBinding};
use crate::util::now_millis;

/// Times the old binding may change under a re-bind before it is simply replaced.
const MAX_ROUNDS: usize = 8;

impl CodeSources {
    /// Inserts or replaces `new`, then keeps `avatar` as its image (`new.avatar` is its
    /// reference); returns whether it replaced a binding. The image is written second, as the
    /// store keeps one only for an existing binding; failing to write it is logged, never an
    /// error for the bind (like failing to fetch it): the row then shows no image.
    pub(super) async fn put_binding(
        &self,
        new: &StoredBinding,
        avatar: Option<&StoredAvatar>,
    ) -> Result<bool, StoreError> {
        let replaced = self.put_binding_record(new).await?;
        if let Err(e) = self
            .store
            .put_avatar(&new.tenant, new.provider, avatar)
            .await
        {
            tracing::warn!(tenant = %new.tenant, provider = new.provider.as_str(),
                error = %crate::util::chain(&e), "storing the avatar failed");
        }
        Ok(replaced)
    }

    async fn put_binding_record(&self, new: &StoredBinding) -> Result<bool, StoreError> {
        for _ in 0..MAX_ROUNDS {
            let Some(old) = self.store.get(&new.tenant, new.provider).await? else {
                break;
            };
            if old.account.login == new.account.login && old.address == new.address {
                break;
            }
            let steps = Steps {
                revoke: false,
                activity: None,
                hooks: true,
            };
            let job = self.cleanup.job_for(&old, steps);
            let lease_until = self.cleanup.lease_until(now_millis());
            if self
                .jobs
                .rebind_with_job(&old, new, &job, lease_until)
                .await?
            {
                let cleanup = self.cleanup.clone();
                tokio::spawn(async move {
                    cleanup.run(job).await;
                });
                return Ok(true);
            }
        }
        self.store.put(new).await
    }
}
