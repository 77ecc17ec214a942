//! `NativeEngine` methods behind BullMQ's `Job` class (lib/job.js): state, finished result,
//! data updates, lock renewal, moving back to delayed, retries from either finished set and
//! priority changes with `lifo`; and, at the end, what any layer reads or writes of one job by
//! id: the job itself (`Job.fromId`, `Queue.getJob`, the coordinator's `getJob`), its progress
//! and its logs.

use std::time::Duration;

use job_queue_core::input;
use job_queue_core::job_control::FinishedSet;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::results::JobFinishedResult;
use crate::wire;
use crate::NativeEngine;

/// A JS number of ms, as the engine judges it (finite and non-negative), in whole ms.
fn checked_ms(v: f64, field: &str) -> Result<u64> {
    let d = input::non_negative_ms(v, field).map_err(to_js)?;
    Ok(d.as_millis() as u64)
}

#[napi]
impl NativeEngine {
    /// The job's state as BullMQ names it: completed, failed, delayed, prioritized, active,
    /// waiting, waiting-children or unknown.
    #[napi]
    pub async fn job_state(&self, queue: String, id: String) -> Result<String> {
        let state = self.queue(&queue)?.job_state(&id).await.map_err(to_js)?;
        Ok(state.as_str().to_owned())
    }

    /// Whether the job finished, and with what result.
    #[napi]
    pub async fn job_finished(&self, queue: String, id: String) -> Result<JobFinishedResult> {
        let finished = self.queue(&queue)?.finished(&id).await.map_err(to_js)?;
        Ok(finished.into())
    }

    /// Replaces the job's data (JSON text of an object).
    #[napi]
    pub async fn update_data(&self, queue: String, id: String, data: String) -> Result<()> {
        self.queue(&queue)?
            .update_data(&id, &data, self.max_data)
            .await
            .map_err(to_js)
    }

    /// Renews the job's lock for `duration_ms` if `token` holds it: 1 if renewed, else 0.
    #[napi]
    pub async fn extend_lock(
        &self,
        queue: String,
        id: String,
        token: String,
        duration_ms: f64,
    ) -> Result<u32> {
        let ms = checked_ms(duration_ms, "duration")?;
        let renewed = self
            .queue(&queue)?
            .extend_lock(&id, &token, Duration::from_millis(ms))
            .await
            .map_err(to_js)?;
        Ok(renewed.into())
    }

    /// Moves an active job to delayed until `timestamp_ms`; with `token`, only if it holds
    /// the job's lock. Returns the delay stored, in ms.
    #[napi]
    pub async fn move_to_delayed(
        &self,
        queue: String,
        id: String,
        timestamp_ms: f64,
        token: Option<String>,
    ) -> Result<f64> {
        let at = checked_ms(timestamp_ms, "timestamp")?;
        let delay = self
            .queue(&queue)?
            .move_to_delayed(&id, at, token.as_deref())
            .await
            .map_err(to_js)?;
        Ok(delay as f64)
    }

    /// Moves a job of the finished set `state` ('completed' or 'failed') back to waiting.
    #[napi]
    pub async fn retry_finished(
        &self,
        queue: String,
        id: String,
        state: String,
        reset_attempts_made: bool,
        reset_attempts_started: bool,
    ) -> Result<()> {
        let from = FinishedSet::parse(&state).map_err(to_js)?;
        self.queue(&queue)?
            .retry_finished(&id, from, reset_attempts_made, reset_attempts_started)
            .await
            .map_err(to_js)
    }

    /// Gives the job a new priority; a waiting job moves at once, first among its peers with
    /// `lifo`.
    #[napi]
    pub async fn change_job_priority(
        &self,
        queue: String,
        id: String,
        priority: u32,
        lifo: bool,
    ) -> Result<()> {
        self.queue(&queue)?
            .change_priority_lifo(&id, priority.into(), lifo)
            .await
            .map_err(to_js)
    }
}

#[napi]
impl NativeEngine {
    /// The job as JSON, or null.
    #[napi]
    pub async fn get_job(&self, queue: String, id: String) -> Result<Option<String>> {
        let job = self.queue(&queue)?.get_job(&id).await.map_err(to_js)?;
        Ok(job.as_ref().map(wire::encode_job))
    }

    #[napi]
    pub async fn update_progress(&self, queue: String, id: String, progress: String) -> Result<()> {
        self.queue(&queue)?
            .update_progress(&id, &progress)
            .await
            .map_err(to_js)
    }

    /// Appends a log line; returns the number of lines kept.
    #[napi]
    pub async fn add_log(&self, queue: String, id: String, line: String, keep: u32) -> Result<u32> {
        let n = self
            .queue(&queue)?
            .add_log(&id, &line, keep.into())
            .await
            .map_err(to_js)?;
        Ok(n as u32)
    }

    #[napi]
    pub async fn logs(&self, queue: String, id: String) -> Result<Vec<String>> {
        self.queue(&queue)?.logs(&id).await.map_err(to_js)
    }
}

/// BullMQ's `job.clearLogs` and `worker.extendJobLocks`.
#[napi]
impl NativeEngine {
    /// Empties the job's log, or keeps its newest `keep` lines; returns the lines left.
    #[napi]
    pub async fn clear_logs(&self, queue: String, id: String, keep: f64) -> Result<f64> {
        let keep = input::non_negative_int(keep, "keepLogs").map_err(to_js)?;
        let left = self
            .queue(&queue)?
            .clear_logs(&id, keep)
            .await
            .map_err(to_js)?;
        Ok(left as f64)
    }

    /// Renews the lock of each job of `ids` held by the token of the same rank in `tokens`
    /// for `duration_ms`; returns the ids not renewed.
    #[napi]
    pub async fn extend_locks(
        &self,
        queue: String,
        ids: Vec<String>,
        tokens: Vec<String>,
        duration_ms: f64,
    ) -> Result<Vec<String>> {
        if ids.len() != tokens.len() {
            return Err(crate::errors::validation(
                "tokens",
                "must have one token per job id",
            ));
        }
        let ms = checked_ms(duration_ms, "duration")?;
        let pairs: Vec<(String, String)> = ids.into_iter().zip(tokens).collect();
        self.queue(&queue)?
            .extend_locks(&pairs, Duration::from_millis(ms))
            .await
            .map_err(to_js)
    }
}
