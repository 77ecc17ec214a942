//! Methods of `NativeEngine` behind the BullMQ-style `Queue` class (lib/queue.js): jobs and
//! counts by state and by priority, drain, clean, retryJobs / promoteJobs batches, orphaned
//! jobs, metrics, events trimming, meta, and the connections of workers and QueueEvents.
//! Each converts its arguments and forwards to the engine.

use std::collections::BTreeMap;

use job_queue_core::input;
use job_queue_core::queue_admin::JobState;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::results::MetricsSeriesResult;
use crate::{jobs_json, NativeEngine};

fn states(names: &[String]) -> Result<Vec<JobState>> {
    names
        .iter()
        .map(|n| JobState::parse(n).map_err(to_js))
        .collect()
}

/// A non-negative whole number, as the engine judges it.
fn count(v: f64, field: &str) -> Result<u64> {
    input::non_negative_int(v, field).map_err(to_js)
}

#[napi]
impl NativeEngine {
    /// Jobs of the given BullMQ states, ranks `start..=end` of each, as a JSON array.
    #[napi]
    pub async fn jobs_by_state(
        &self,
        queue: String,
        types: Vec<String>,
        start: i64,
        end: i64,
        asc: bool,
    ) -> Result<String> {
        let q = self.queue(&queue)?;
        let states = states(&types)?;
        jobs_json(
            q.jobs_by_state(&states, start as isize, end as isize, asc)
                .await,
        )
    }

    /// How many jobs each of the given states holds, in the order given.
    #[napi]
    pub async fn counts_by_state(&self, queue: String, types: Vec<String>) -> Result<Vec<f64>> {
        let q = self.queue(&queue)?;
        let states = states(&types)?;
        let counts = q.counts_by_state(&states).await.map_err(to_js)?;
        Ok(counts.into_iter().map(|n| n as f64).collect())
    }

    /// Removes the jobs that have not started (and with `delayed` the delayed ones) except
    /// schedulers' pending iterations; returns how many.
    #[napi]
    pub async fn drain_queue(&self, queue: String, delayed: bool) -> Result<f64> {
        let n = self.queue(&queue)?.drain(delayed).await.map_err(to_js)?;
        Ok(n as f64)
    }

    /// One batch of clean: ids of up to `limit` (≤ 1000) jobs of `state` older than
    /// `grace_ms`, removed.
    #[napi]
    pub async fn clean_jobs(
        &self,
        queue: String,
        state: String,
        grace_ms: f64,
        limit: f64,
    ) -> Result<Vec<String>> {
        let q = self.queue(&queue)?;
        let state = JobState::parse(&state).map_err(to_js)?;
        q.clean_batch(
            state,
            count(grace_ms.floor(), "grace")?,
            count(limit, "limit")?,
        )
        .await
        .map_err(to_js)
    }

    /// One batch of retryJobs (failed / completed, finished at or before `before_ms`) or
    /// promoteJobs (delayed): returns how many jobs moved.
    #[napi]
    pub async fn move_jobs_to_wait(
        &self,
        queue: String,
        state: String,
        count_per_call: f64,
        before_ms: f64,
    ) -> Result<f64> {
        let q = self.queue(&queue)?;
        let state = JobState::parse(&state).map_err(to_js)?;
        let n = q
            .move_to_wait(
                state,
                count(count_per_call, "count")?,
                count(before_ms.floor(), "timestamp")?,
            )
            .await
            .map_err(to_js)?;
        Ok(n as f64)
    }

    /// Trims the events stream to about `max_len` entries; returns how many went.
    #[napi]
    pub async fn trim_events(&self, queue: String, max_len: f64) -> Result<f64> {
        let q = self.queue(&queue)?;
        let n = q
            .trim_events(count(max_len, "maxLength")?)
            .await
            .map_err(to_js)?;
        Ok(n as f64)
    }

    /// Writes the events stream cap and a version label into the queue's meta.
    #[napi]
    pub async fn set_queue_meta(
        &self,
        queue: String,
        max_len_events: Option<f64>,
        version: Option<String>,
    ) -> Result<()> {
        let q = self.queue(&queue)?;
        let max_len = max_len_events
            .map(|n| count(n, "streams.events.maxLen"))
            .transpose()?;
        q.set_meta(max_len, version.as_deref()).await.map_err(to_js)
    }

    /// BullMQ's getMetrics result for `completed` or `failed`.
    #[napi]
    pub async fn metrics_series(
        &self,
        queue: String,
        kind: String,
        start: i64,
        end: i64,
    ) -> Result<MetricsSeriesResult> {
        let q = self.queue(&queue)?;
        let m = q
            .metrics_series(&kind, start as isize, end as isize)
            .await
            .map_err(to_js)?;
        Ok(m.into())
    }

    /// The queue's worker connections from CLIENT LIST, one map of CLIENT LIST's fields
    /// (`id`, `addr`, `name`, `age` in seconds, ...) per connection, values as Redis gives
    /// them.
    #[napi]
    pub async fn worker_clients(&self, queue: String) -> Result<Vec<BTreeMap<String, String>>> {
        self.queue(&queue)?.worker_clients().await.map_err(to_js)
    }

    /// The connections following the queue's events stream (QueueEvents, ours and BullMQ's),
    /// as `worker_clients` gives workers'.
    #[napi]
    pub async fn queue_events_clients(
        &self,
        queue: String,
    ) -> Result<Vec<BTreeMap<String, String>>> {
        self.queue(&queue)?
            .queue_events_clients()
            .await
            .map_err(to_js)
    }

    /// Runnable jobs per priority, in the order given (0: the wait list).
    #[napi]
    pub async fn counts_per_priority(
        &self,
        queue: String,
        priorities: Vec<f64>,
    ) -> Result<Vec<f64>> {
        let q = self.queue(&queue)?;
        let priorities = priorities
            .into_iter()
            .map(|p| count(p, "priorities"))
            .collect::<Result<Vec<u64>>>()?;
        let counts = q.counts_per_priority(&priorities).await.map_err(to_js)?;
        Ok(counts.into_iter().map(|n| n as f64).collect())
    }

    /// Deletes orphaned jobs, scanning about `scan_count` keys per SCAN call, at most `limit`
    /// of them (0: no limit); returns how many.
    #[napi]
    pub async fn remove_orphaned_jobs(
        &self,
        queue: String,
        scan_count: f64,
        limit: f64,
    ) -> Result<f64> {
        let q = self.queue(&queue)?;
        let n = q
            .remove_orphaned_jobs(count(scan_count, "count")?, count(limit, "limit")?)
            .await
            .map_err(to_js)?;
        Ok(n as f64)
    }
}

/// The last of BullMQ 6's Queue methods: job ids by state (getRanges), whether the queue is
/// at its global concurrency, deduplication keys, scheduler ids, the legacy `priority` key.
#[napi]
impl NativeEngine {
    /// Job ids of the given BullMQ states, ranks `start..=end` of each, each id once.
    #[napi]
    pub async fn job_ids_by_state(
        &self,
        queue: String,
        types: Vec<String>,
        start: i64,
        end: i64,
        asc: bool,
    ) -> Result<Vec<String>> {
        let q = self.queue(&queue)?;
        let states = states(&types)?;
        q.job_ids_by_state(&states, start as isize, end as isize, asc)
            .await
            .map_err(to_js)
    }

    /// Whether the queue runs as many jobs as its global concurrency allows.
    #[napi]
    pub async fn is_maxed(&self, queue: String) -> Result<bool> {
        self.queue(&queue)?.is_maxed().await.map_err(to_js)
    }

    /// The id of the job owning deduplication id `id`, or null.
    #[napi]
    pub async fn dedup_job_id(&self, queue: String, id: String) -> Result<Option<String>> {
        self.queue(&queue)?.dedup_job_id(&id).await.map_err(to_js)
    }

    /// Ends the deduplication window of `id`; with `owner`, only while that job owns it.
    /// Whether there was one.
    #[napi]
    pub async fn remove_dedup_key(
        &self,
        queue: String,
        id: String,
        owner: Option<String>,
    ) -> Result<bool> {
        self.queue(&queue)?
            .remove_dedup_key(&id, owner.as_deref())
            .await
            .map_err(to_js)
    }

    /// Deletes the `priority` key of older BullMQ versions; whether there was one.
    #[napi]
    pub async fn remove_legacy_priority(&self, queue: String) -> Result<bool> {
        self.queue(&queue)?
            .remove_legacy_priority()
            .await
            .map_err(to_js)
    }

    /// Whether `id` is a job scheduler of the queue.
    #[napi]
    pub async fn is_scheduler(&self, queue: String, id: String) -> Result<bool> {
        self.queue(&queue)?.is_scheduler(&id).await.map_err(to_js)
    }
}
