//! Queue-wide maintenance: pause and resume, periodic cleanup of finished jobs, and
//! destroying a queue with every key it has.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::queue::Queue;
use crate::scan::Scan;
use crate::scripts;
use crate::time::now_ms;

/// Jobs deleted per cleanup script call: bounded so one call never blocks Redis for long.
const CLEAN_BATCH: u64 = 1000;

/// What periodic cleanup removes from a queue's finished sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanupPolicy {
    /// Time between cleanup runs.
    pub interval: Duration,
    /// Completed jobs older than this go.
    pub completed_age: Option<Duration>,
    /// At most this many completed jobs stay, the newest.
    pub keep_completed: Option<u64>,
    /// Failed jobs older than this go.
    pub failed_age: Option<Duration>,
    /// At most this many failed jobs stay, the newest.
    pub keep_failed: Option<u64>,
}

/// A running cleanup; stops when dropped.
pub struct Cleanup {
    task: JoinHandle<()>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Queue {
    /// Pauses the queue for every worker of every process (BullMQ's too). Returns false when
    /// it was already paused.
    pub async fn pause(&self) -> Result<bool> {
        scripts::pause_queue(&mut self.con.clone(), &self.keys).await
    }

    /// Resumes a paused queue and wakes the workers; moves a legacy (BullMQ 5) `paused` list
    /// into wait, in bounded batches (one script call each), as BullMQ's resume does.
    /// Returns false when there was nothing to resume: not paused, no legacy list.
    pub async fn resume(&self) -> Result<bool> {
        let mut con = self.con.clone();
        let (changed, mut left) = scripts::resume_queue(&mut con, &self.keys, true).await?;
        while left > 0 {
            (_, left) = scripts::resume_queue(&mut con, &self.keys, false).await?;
        }
        Ok(changed)
    }

    /// Deletes jobs of `set` ("completed" or "failed") older than `older_than`, then the
    /// oldest beyond the newest `keep`. Returns how many.
    pub async fn clean(
        &self,
        set: &'static str,
        older_than: Option<Duration>,
        keep: Option<u64>,
    ) -> Result<u64> {
        let before = older_than.map(|age| now_ms().saturating_sub(age.as_millis() as u64));
        self.clean_before(set, before, keep).await
    }

    /// [`Queue::clean`] by finishing time: jobs of `set` that finished at or before
    /// `before_ms`, then the oldest beyond the newest `keep`, in batches. Returns how many.
    pub(crate) async fn clean_before(
        &self,
        set: &str,
        before_ms: Option<u64>,
        keep: Option<u64>,
    ) -> Result<u64> {
        let mut con = self.con.clone();
        let mut total = 0;
        loop {
            let n =
                scripts::clean_finished(&mut con, &self.keys, set, before_ms, keep, CLEAN_BATCH)
                    .await?;
            total += n;
            if n < CLEAN_BATCH {
                return Ok(total);
            }
        }
    }

    /// Runs `policy` now and every `policy.interval` until the returned handle is dropped.
    /// Several processes may clean the same queue: each pass is idempotent.
    pub fn start_cleanup(&self, policy: CleanupPolicy) -> Cleanup {
        let queue = self.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(policy.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // A failed pass (Redis away) is retried at the next tick.
                let passes = [
                    ("completed", policy.completed_age, policy.keep_completed),
                    ("failed", policy.failed_age, policy.keep_failed),
                ];
                for (set, age, keep) in passes {
                    match queue.clean(set, age, keep).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::debug!(queue = %queue.keys.queue, set, removed = n, "cleanup")
                        }
                        Err(e) => {
                            tracing::warn!(queue = %queue.keys.queue, set, error = %e, "cleanup failed")
                        }
                    }
                }
            }
        });
        Cleanup { task }
    }

    /// Deletes every key of the queue. Refused while jobs are active, unless `force`.
    /// Returns how many keys were deleted.
    pub async fn obliterate(&self, force: bool) -> Result<u64> {
        let mut con = self.con.clone();
        let active: u64 = redis::cmd("LLEN")
            .arg(self.keys.key("active"))
            .query_async(&mut con)
            .await?;
        if active > 0 && !force {
            // BullMQ's words (its users match on them); pass force to destroy it anyway
            return Err(Error::validation_worded(
                "force",
                "Cannot obliterate queue with active jobs",
            ));
        }
        let mut scan = Scan::new(&self.keys.base, "*");
        let mut deleted = 0;
        // on a cluster, SCAN the node holding the queue's slot
        let mut on_queue_node = self.con.at_key(&self.keys.key("meta"));
        while let Some(keys) = scan.next_batch(&mut on_queue_node).await? {
            if !keys.is_empty() {
                deleted += redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async::<u64>(&mut con)
                    .await?;
            }
        }
        Ok(deleted)
    }
}
