//! The build-event feed: events after a cursor, in commit order, with an optional long poll.
//! A waiting reader is woken at once by a delivery this process stored ([`Feed::advance`]), and
//! within [`POLL`] by one another replica stored: one poller per process asks the store for the
//! last sequence number while anyone waits, so a thousand waiting readers cost one query per
//! interval, and none when nobody waits.

use crate::store::{BuildEvent, Store, StoreError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the poller looks for events other replicas stored.
pub const POLL: Duration = Duration::from_millis(25);
/// The longest a reader may wait.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// Events per page at most.
pub const MAX_LIMIT: usize = 500;

pub struct Feed {
    store: Arc<dyn Store>,
    /// The highest sequence number known to exist.
    latest: watch::Sender<u64>,
    polling: AtomicBool,
    /// The highest cursor a reader has passed back: what the build service has taken (lag).
    taken: AtomicU64,
}

/// A page of the feed.
pub struct Page {
    pub events: Vec<(u64, BuildEvent)>,
    /// The cursor to pass back: the last event's, or the one given when there was none.
    pub next: u64,
}

impl Feed {
    pub fn new(store: Arc<dyn Store>) -> Arc<Feed> {
        Arc::new(Feed {
            store,
            latest: watch::Sender::new(0),
            polling: AtomicBool::new(false),
            taken: AtomicU64::new(0),
        })
    }

    /// A delivery stored events up to `seq` here: wake the readers.
    pub fn advance(&self, seq: u64) {
        self.latest.send_if_modified(|l| {
            let newer = seq > *l;
            if newer {
                *l = seq;
            }
            newer
        });
    }

    /// Events after `after`, at most `limit`; with `wait`, holds on until one exists or the
    /// wait is over.
    pub async fn page(
        self: &Arc<Self>,
        after: u64,
        limit: usize,
        wait: Duration,
    ) -> Result<Page, StoreError> {
        self.taken.fetch_max(after, Ordering::Relaxed);
        let limit = limit.clamp(1, MAX_LIMIT);
        let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        let mut rx = self.latest.subscribe();
        loop {
            // What was known before looking: wait for something newer than both, so numbers
            // swept by retention (known, but with no event left) never make this spin.
            let known = *rx.borrow_and_update();
            let events = self.store.events_after(after, limit).await?;
            if let Some((last, _)) = events.last() {
                self.advance(*last);
                return Ok(Page {
                    next: *last,
                    events,
                });
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Page {
                    events,
                    next: after,
                });
            }
            self.ensure_polling();
            let floor = known.max(after);
            let newer = rx.wait_for(|l| *l > floor);
            if tokio::time::timeout_at(deadline, newer).await.is_err() {
                // One last look: an event may have landed between the poll and the deadline.
                let events = self.store.events_after(after, limit).await?;
                let next = events.last().map(|(s, _)| *s).unwrap_or(after);
                return Ok(Page { events, next });
            }
        }
    }

    /// The lag of the build service: events stored past the highest cursor it passed back.
    pub fn lag(&self) -> u64 {
        let latest = *self.latest.borrow();
        latest.saturating_sub(self.taken.load(Ordering::Relaxed))
    }

    /// Starts the poller unless it runs; it stops when no reader waits.
    fn ensure_polling(self: &Arc<Self>) {
        if self.polling.swap(true, Ordering::AcqRel) {
            return;
        }
        let feed = self.clone();
        tokio::spawn(async move {
            loop {
                match feed.store.last_event_seq().await {
                    Ok(seq) => feed.advance(seq),
                    Err(e) => tracing::debug!(error = %e, "feed: polling the last event failed"),
                }
                tokio::time::sleep(POLL).await;
                // Readers hold a receiver while they wait (the feed's own sender keeps none).
                if feed.latest.receiver_count() == 0 {
                    feed.polling.store(false, Ordering::Release);
                    // A reader that subscribed between the check and the store starts it anew.
                    if feed.latest.receiver_count() == 0
                        || feed.polling.swap(true, Ordering::AcqRel)
                    {
                        return;
                    }
                }
            }
        });
    }

    /// The highest sequence number known here (metrics).
    pub fn latest(&self) -> u64 {
        *self.latest.borrow()
    }
}
