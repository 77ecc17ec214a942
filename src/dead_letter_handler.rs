//! What lib/managers/dead-letter-handler.js (the design's DeadLetterHandler) asks of
//! `NativeEngine`: the failed jobs (dead letters), archiving and purging them, and the
//! statistics of what failed.

use job_queue_core::input;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::results::FailedStatsResult;
use crate::{jobs_json, NativeEngine};

#[napi]
impl NativeEngine {
    /// Failed jobs, newest first, ranks `start..=end`, as a JSON array.
    #[napi]
    pub async fn failed_jobs(&self, queue: String, start: i64, end: i64) -> Result<String> {
        jobs_json(
            self.queue(&queue)?
                .failed_jobs(start as isize, end as isize)
                .await,
        )
    }

    #[napi]
    pub async fn archive_failed(&self, queue: String, id: String) -> Result<()> {
        self.queue(&queue)?.archive_failed(&id).await.map_err(to_js)
    }

    /// Archived jobs, most recently archived first, as a JSON array.
    #[napi]
    pub async fn archived_jobs(&self, queue: String, start: i64, end: i64) -> Result<String> {
        jobs_json(
            self.queue(&queue)?
                .archived_jobs(start as isize, end as isize)
                .await,
        )
    }

    /// Deletes failed jobs that failed at or before `until_ms` (all when absent).
    #[napi]
    pub async fn purge_failed(&self, queue: String, until_ms: Option<f64>) -> Result<f64> {
        let until = until_ms
            .map(|t| input::time_ms(t, "olderThan"))
            .transpose()
            .map_err(to_js)?;
        let n = self
            .queue(&queue)?
            .purge_failed(until)
            .await
            .map_err(to_js)?;
        Ok(n as f64)
    }

    /// What the dead letters are: totals, breakdowns by job name and error class, recency.
    #[napi]
    pub async fn failed_stats(&self, queue: String) -> Result<FailedStatsResult> {
        let stats = self.queue(&queue)?.failed_stats().await.map_err(to_js)?;
        Ok(stats.into())
    }
}
