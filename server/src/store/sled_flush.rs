//! Group commit for sled: writers that need their write on disk before they answer share
//! fsyncs. A flush of any tree writes the whole database log, so one flush that starts after a
//! write covers it; writers arriving while a flush runs wait for the next one, which then
//! covers all of them. With the build service asking for 64 credentials at once, 64 activity
//! entries cost a few fsyncs instead of 64 (each also holding a blocking thread).

use super::sled_store::blocking;
use super::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct GroupFlush {
    db: sled::Db,
    /// Writes done so far (each caller counts its own after its insert returned).
    written: AtomicU64,
    /// All writes up to this count are known to be on disk.
    durable: AtomicU64,
    /// One flush at a time; fair, so waiters take turns in arrival order.
    turn: tokio::sync::Mutex<()>,
    /// Flushes made (the tests check that concurrent writers share them).
    flushes: AtomicU64,
}

impl GroupFlush {
    pub fn new(db: sled::Db) -> Self {
        GroupFlush {
            db,
            written: AtomicU64::new(0),
            durable: AtomicU64::new(0),
            turn: tokio::sync::Mutex::new(()),
            flushes: AtomicU64::new(0),
        }
    }

    /// Call after a write has returned: resolves once that write is on disk.
    pub async fn durable(&self) -> Result<(), StoreError> {
        let mine = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        let _turn = self.turn.lock().await;
        if self.durable.load(Ordering::SeqCst) >= mine {
            // A flush that started after our write finished while we waited.
            return Ok(());
        }
        // Every write counted by now has returned, so the flush below covers it.
        let upto = self.written.load(Ordering::SeqCst);
        let db = self.db.clone();
        blocking(move || db.flush().map(|_| ())).await?;
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.durable.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }

    /// For tests: (writes counted, writes known durable, flushes made).
    #[cfg(test)]
    fn counts(&self) -> (u64, u64, u64) {
        (
            self.written.load(Ordering::SeqCst),
            self.durable.load(Ordering::SeqCst),
            self.flushes.load(Ordering::SeqCst),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_flushes_and_all_end_durable() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        let group = Arc::new(GroupFlush::new(db.clone()));
        let tasks: Vec<_> = (0..64u32)
            .map(|i| {
                let (group, tree) = (group.clone(), tree.clone());
                tokio::spawn(async move {
                    tree.insert(i.to_be_bytes(), &b"entry"[..]).unwrap();
                    group.durable().await.unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let (written, durable, flushes) = group.counts();
        assert_eq!((written, durable), (64, 64), "every write is covered");
        assert!((1..=32).contains(&flushes), "{flushes} flushes, 64 writers");
        // One more, alone: it gets a flush of its own.
        tree.insert(b"last", &b"entry"[..]).unwrap();
        group.durable().await.unwrap();
        assert_eq!(group.counts(), (65, 65, flushes + 1));
    }
}
