//! Operations methods of `NativeEngine`: pause and resume a queue, clean and destroy it, and
//! the queue and worker registries shared by every process.

use std::time::Duration;

use job_queue_core::cleanup::{Cleanup, CleanupPolicy};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{to_js, validation};
use crate::results::{QueueEntry, WorkerRecord};
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

fn duration(ms: Option<f64>) -> Option<Duration> {
    ms.filter(|m| m.is_finite() && *m >= 0.0)
        .map(|m| Duration::from_millis(m as u64))
}

fn count(n: Option<f64>) -> Option<u64> {
    n.filter(|n| n.is_finite() && *n >= 0.0).map(|n| n as u64)
}

#[napi]
impl NativeEngine {
    /// Pauses the queue for every worker (BullMQ's too); false if it was paused already.
    #[napi]
    pub async fn pause_queue(&self, queue: String) -> Result<bool> {
        self.queue(&queue)?.pause().await.map_err(to_js)
    }

    #[napi]
    pub async fn resume_queue(&self, queue: String) -> Result<bool> {
        self.queue(&queue)?.resume().await.map_err(to_js)
    }

    /// Deletes finished jobs of `set` older than `older_than_ms` and beyond the newest `keep`.
    #[napi]
    pub async fn clean_queue(
        &self,
        queue: String,
        set: String,
        older_than_ms: Option<f64>,
        keep: Option<f64>,
    ) -> Result<f64> {
        let set = match set.as_str() {
            "completed" => "completed",
            "failed" => "failed",
            _ => return Err(validation("state", "must be 'completed' or 'failed'")),
        };
        let n = self
            .queue(&queue)?
            .clean(set, duration(older_than_ms), count(keep))
            .await
            .map_err(to_js)?;
        Ok(n as f64)
    }

    /// Starts cleaning the queue's finished jobs now and every `interval_ms`.
    #[napi]
    pub async fn start_cleanup(
        &self,
        queue: String,
        config: CleanupConfig,
    ) -> Result<NativeCleanup> {
        let interval = duration(Some(config.interval_ms))
            .filter(|d| !d.is_zero())
            .ok_or_else(|| validation("cleanup.interval", "must be a positive number of ms"))?;
        let cleanup = self.queue(&queue)?.start_cleanup(CleanupPolicy {
            interval,
            completed_age: duration(config.completed_age_ms),
            keep_completed: count(config.keep_completed),
            failed_age: duration(config.failed_age_ms),
            keep_failed: count(config.keep_failed),
        });
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

    /// Every registered worker of every process.
    #[napi]
    pub async fn workers(&self) -> Result<Vec<WorkerRecord>> {
        let list = self.engine()?.workers().await.map_err(to_js)?;
        Ok(list.into_iter().map(WorkerRecord::from).collect())
    }

    /// Asks a worker of any process to pause or resume; false if it is not registered.
    #[napi]
    pub async fn request_worker_pause(&self, id: String, paused: bool) -> Result<bool> {
        self.engine()?
            .request_worker_pause(&id, paused)
            .await
            .map_err(to_js)
    }
}
