//! What lib/managers/queue-manager.js (the design's QueueManager) asks of `NativeEngine`, and
//! lib/queue.js's pause, resume, isPaused and obliterate too: counts and throughput, pause and
//! resume, the periodic cleanup, obliterate, and the queue registry shared by every process.

use std::time::Duration;

use job_queue_core::cleanup::{Cleanup, CleanupPolicy};
use job_queue_core::input;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::results::{JobCountsResult, ProcessingStatsResult, QueueEntry};
use crate::NativeEngine;

/// Periodic cleanup settings, in ms at this boundary.
#[napi(object)]
pub struct CleanupConfig {
    pub interval_ms: f64,
    pub completed_age_ms: Option<f64>,
    pub keep_completed: Option<f64>,
    pub failed_age_ms: Option<f64>,
    pub keep_failed: Option<f64>,
}

/// A periodic cleanup; `stop()` ends it.
#[napi]
pub struct NativeCleanup {
    cleanup: Option<Cleanup>,
}

#[napi]
impl NativeCleanup {
    #[napi]
    pub fn stop(&mut self) {
        self.cleanup.take();
    }
}

/// An age of the cleanup config, as the engine judges it.
fn age(ms: Option<f64>, field: &str) -> Result<Option<Duration>> {
    ms.map(|m| input::non_negative_ms(m, field))
        .transpose()
        .map_err(to_js)
}

/// A count of the cleanup config (whole jobs: a fraction keeps its whole part).
fn count(n: Option<f64>, field: &str) -> Result<Option<u64>> {
    n.map(|n| input::non_negative_int(n.floor(), field))
        .transpose()
        .map_err(to_js)
}

#[napi]
impl NativeEngine {
    /// Job counts per state.
    #[napi]
    pub async fn counts(&self, queue: String) -> Result<JobCountsResult> {
        let counts = self.queue(&queue)?.counts().await.map_err(to_js)?;
        Ok(counts.into())
    }

    #[napi]
    pub async fn is_paused(&self, queue: String) -> Result<bool> {
        self.queue(&queue)?.is_paused().await.map_err(to_js)
    }

    /// Throughput and mean processing time, measured from the finished sets.
    #[napi]
    pub async fn processing_stats(&self, queue: String) -> Result<ProcessingStatsResult> {
        let stats = self
            .queue(&queue)?
            .processing_stats()
            .await
            .map_err(to_js)?;
        Ok(stats.into())
    }

    /// Workers of the queue connected to Redis (from any process, ours or BullMQ's).
    #[napi]
    pub async fn worker_count(&self, queue: String) -> Result<u32> {
        let n = self.queue(&queue)?.worker_count().await.map_err(to_js)?;
        Ok(n as u32)
    }

    /// Pauses the queue for every worker (BullMQ's too); false if it was paused already.
    #[napi]
    pub async fn pause_queue(&self, queue: String) -> Result<bool> {
        self.queue(&queue)?.pause().await.map_err(to_js)
    }

    #[napi]
    pub async fn resume_queue(&self, queue: String) -> Result<bool> {
        self.queue(&queue)?.resume().await.map_err(to_js)
    }

    /// Starts cleaning the queue's finished jobs now and every `interval_ms`.
    #[napi]
    pub async fn start_cleanup(
        &self,
        queue: String,
        config: CleanupConfig,
    ) -> Result<NativeCleanup> {
        let policy = CleanupPolicy {
            interval: input::positive_ms(config.interval_ms, "cleanup.interval").map_err(to_js)?,
            completed_age: age(config.completed_age_ms, "cleanup.completedJobAge")?,
            keep_completed: count(config.keep_completed, "cleanup.removeOnComplete")?,
            failed_age: age(config.failed_age_ms, "cleanup.failedJobAge")?,
            keep_failed: count(config.keep_failed, "cleanup.removeOnFail")?,
        };
        let cleanup = self.queue(&queue)?.start_cleanup(policy);
        Ok(NativeCleanup {
            cleanup: Some(cleanup),
        })
    }

    /// Deletes every key of the queue (refused with active jobs unless `force`) and its
    /// declaration; returns the number of keys deleted.
    #[napi]
    pub async fn obliterate(&self, queue: String, force: bool) -> Result<f64> {
        let n = self.queue(&queue)?.obliterate(force).await.map_err(to_js)?;
        self.engine()?.forget_queue(&queue).await.map_err(to_js)?;
        Ok(n as f64)
    }

    /// Records a queue's configuration (JSON) for every process.
    #[napi]
    pub async fn register_queue(&self, queue: String, config: String) -> Result<()> {
        self.engine()?
            .register_queue(&queue, &config)
            .await
            .map_err(to_js)
    }

    /// Every queue of the prefix, declared or merely in use.
    #[napi]
    pub async fn queues(&self) -> Result<Vec<QueueEntry>> {
        let list = self.engine()?.queues().await.map_err(to_js)?;
        Ok(list
            .into_iter()
            .map(|(name, config)| QueueEntry { name, config })
            .collect())
    }
}
