//! What BullMQ's `Job` methods need of one job beyond the queue-level operations: its state,
//! whether it finished and how, new data, its lock (and several jobs' locks at once, for
//! BullMQ's `worker.extendJobLocks`), a move back to delayed, a retry from either finished
//! set, and clearing its log.

use std::time::Duration;

use serde::de::IgnoredAny;

use crate::error::{Error, Result};
use crate::queue::Queue;
use crate::scripts::{self, AttemptCounter};
use crate::time::now_ms;

/// Locks one `extend_locks` call renews at most.
pub const LOCK_BATCH: usize = 1000;

/// Where a job is, named as BullMQ's `getState` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// In the completed set.
    Completed,
    /// In the failed set (failed for good).
    Failed,
    /// In the delayed set, waiting for its due time.
    Delayed,
    /// Waiting in the prioritized set.
    Prioritized,
    /// Held by a worker.
    Active,
    /// In `wait` (or the legacy `paused` list).
    Waiting,
    /// Waiting for child jobs (BullMQ flows; this engine creates none, but reads them).
    WaitingChildren,
    /// In no state set: missing, or between states.
    Unknown,
}

impl JobState {
    /// The state's name as BullMQ's `getState` spells it ("waiting-children", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Delayed => "delayed",
            Self::Prioritized => "prioritized",
            Self::Active => "active",
            Self::Waiting => "waiting",
            Self::WaitingChildren => "waiting-children",
            Self::Unknown => "unknown",
        }
    }
}

/// Whether a job has finished, with its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    /// No such job.
    Missing,
    /// Not finished yet.
    No,
    /// Completed, with its stored return value (JSON text) if any.
    Completed(Option<String>),
    /// Failed for good, with its failure reason if any.
    Failed(Option<String>),
}

/// Which finished set a retry takes the job from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishedSet {
    /// The completed set.
    Completed,
    /// The failed set.
    Failed,
}

impl FinishedSet {
    /// Reads "completed" or "failed"; anything else is a validation error on `state`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "completed" => Ok(Self::Completed),
            "failed" => Ok(Self::Failed),
            _ => Err(Error::validation(
                "state",
                "must be 'completed' or 'failed'",
            )),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

impl Queue {
    /// The job's state, read from every state key in one atomic pipeline, checked in BullMQ's
    /// order (a job is in one of them at a time).
    pub async fn job_state(&self, id: &str) -> Result<JobState> {
        let k = &self.keys;
        type Hits = (
            Option<f64>,
            Option<f64>,
            Option<f64>,
            Option<f64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<f64>,
        );
        let hits: Hits = redis::pipe()
            .atomic()
            .zscore(k.key("completed"), id)
            .zscore(k.key("failed"), id)
            .zscore(k.key("delayed"), id)
            .zscore(k.key("prioritized"), id)
            .cmd("LPOS")
            .arg(k.key("active"))
            .arg(id)
            .cmd("LPOS")
            .arg(k.key("wait"))
            .arg(id)
            .cmd("LPOS")
            .arg(k.key("paused"))
            .arg(id)
            .zscore(k.key("waiting-children"), id)
            .query_async(&mut self.con.clone())
            .await?;
        Ok(match hits {
            (Some(_), ..) => JobState::Completed,
            (_, Some(_), ..) => JobState::Failed,
            (_, _, Some(_), ..) => JobState::Delayed,
            (_, _, _, Some(_), ..) => JobState::Prioritized,
            (_, _, _, _, Some(_), ..) => JobState::Active,
            (_, _, _, _, _, Some(_), ..) | (_, _, _, _, _, _, Some(_), _) => JobState::Waiting,
            (.., Some(_)) => JobState::WaitingChildren,
            _ => JobState::Unknown,
        })
    }

    /// Whether the job finished, and its return value or failure reason, in one atomic read.
    pub async fn finished(&self, id: &str) -> Result<Finished> {
        let k = &self.keys;
        type Read = (
            bool,
            Option<f64>,
            Option<f64>,
            (Option<String>, Option<String>),
        );
        let (exists, completed, failed, (value, reason)): Read = redis::pipe()
            .atomic()
            .exists(k.job(id))
            .zscore(k.key("completed"), id)
            .zscore(k.key("failed"), id)
            .cmd("HMGET")
            .arg(k.job(id))
            .arg("returnvalue")
            .arg("failedReason")
            .query_async(&mut self.con.clone())
            .await?;
        Ok(if !exists {
            Finished::Missing
        } else if completed.is_some() {
            Finished::Completed(value)
        } else if failed.is_some() {
            Finished::Failed(reason)
        } else {
            Finished::No
        })
    }

    /// Replaces the job's data with `data` (JSON text of an object, at most `max_size` bytes).
    pub async fn update_data(&self, id: &str, data: &str, max_size: usize) -> Result<()> {
        if serde_json::from_str::<IgnoredAny>(data).is_err() {
            return Err(Error::validation("data", "must be a JSON object"));
        }
        crate::producer::check_data(data, max_size, false)?;
        scripts::update_data(&mut self.con.clone(), &self.keys, id, data).await
    }

    /// Renews the job's lock for `duration` if `token` holds it; false if it does not (the
    /// lock expired or another worker holds it).
    pub async fn extend_lock(&self, id: &str, token: &str, duration: Duration) -> Result<bool> {
        if token.is_empty() {
            return Err(Error::validation("token", "must be a non-empty string"));
        }
        if duration.is_zero() {
            return Err(Error::validation(
                "duration",
                "must be a positive number of ms",
            ));
        }
        let pair = [(id.to_owned(), token.to_owned())];
        let lost =
            scripts::extend_locks(&mut self.con.clone(), &self.keys, duration, &pair).await?;
        Ok(lost.is_empty())
    }

    /// Moves an active job to delayed until `timestamp_ms` (now if that has passed); with
    /// `token` its lock must be held by it. Returns the delay stored, in ms.
    pub async fn move_to_delayed(
        &self,
        id: &str,
        timestamp_ms: u64,
        token: Option<&str>,
    ) -> Result<u64> {
        let now = now_ms();
        let delay = timestamp_ms.saturating_sub(now);
        scripts::move_to_delayed(
            &mut self.con.clone(),
            &self.keys,
            id,
            now + delay,
            delay,
            token,
        )
        .await?;
        Ok(delay)
    }

    /// Moves a job of a finished set back to waiting, resetting the counters asked for.
    pub async fn retry_finished(
        &self,
        id: &str,
        from: FinishedSet,
        reset_attempts_made: bool,
        reset_attempts_started: bool,
    ) -> Result<()> {
        let mut reset = Vec::with_capacity(2);
        if reset_attempts_made {
            reset.push(AttemptCounter::Made);
        }
        if reset_attempts_started {
            reset.push(AttemptCounter::Started);
        }
        scripts::retry_finished(&mut self.con.clone(), &self.keys, id, from.key(), &reset).await
    }

    /// Renews the locks of `(id, token)` pairs for `duration`, each only if its token holds
    /// it (BullMQ's `extendJobLocks`), [`LOCK_BATCH`] pairs per script call. Returns the ids
    /// not renewed (lock gone, or held by another token).
    pub async fn extend_locks(
        &self,
        jobs: &[(String, String)],
        duration: Duration,
    ) -> Result<Vec<String>> {
        if duration.is_zero() {
            return Err(Error::validation(
                "duration",
                "must be a positive number of ms",
            ));
        }
        if jobs.iter().any(|(_, token)| token.is_empty()) {
            return Err(Error::validation("tokens", "must be non-empty strings"));
        }
        let mut lost = Vec::new();
        for batch in jobs.chunks(LOCK_BATCH) {
            let mut con = self.con.clone();
            lost.extend(scripts::extend_locks(&mut con, &self.keys, duration, batch).await?);
        }
        Ok(lost)
    }

    /// Empties the job's log, or with `keep` > 0 keeps its newest `keep` lines (BullMQ's
    /// `clearLogs`); returns the lines left. A missing job has no log: no error.
    pub async fn clear_logs(&self, id: &str, keep: u64) -> Result<u64> {
        scripts::clear_logs(&mut self.con.clone(), &self.keys, id, keep).await
    }

    /// [`Queue::change_priority`] with BullMQ's `lifo`: the job goes first among its peers.
    pub async fn change_priority_lifo(&self, id: &str, priority: u64, lifo: bool) -> Result<()> {
        if priority > crate::options::MAX_PRIORITY {
            return Err(Error::validation(
                "priority",
                format!("must be between 0 and {}", crate::options::MAX_PRIORITY),
            ));
        }
        scripts::change_priority(&mut self.con.clone(), &self.keys, id, priority, lifo).await
    }
}
