//! What lib/managers/metrics-collector.js (the design's JobQueueMetrics) asks of
//! `NativeEngine`: a queue's metrics as the engine reads them from Redis, and their
//! Prometheus exposition.

use job_queue_core::metrics::{prometheus_text, QueueMetrics};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::results::QueueMetricsResult;
use crate::NativeEngine;

impl NativeEngine {
    async fn metrics_of(&self, queue: &str) -> Result<QueueMetrics> {
        let q = self.queue(queue)?;
        let workers = q.worker_count().await.map_err(to_js)?;
        q.metrics(workers).await.map_err(to_js)
    }
}

#[napi]
impl NativeEngine {
    /// The queue's metrics: counts, per-minute series, rates, latencies, counters by job
    /// type.
    #[napi]
    pub async fn queue_metrics(&self, queue: String) -> Result<QueueMetricsResult> {
        Ok(self.metrics_of(&queue).await?.into())
    }

    /// The Prometheus text exposition of `queues`' metrics.
    #[napi]
    pub async fn prometheus(&self, queues: Vec<String>) -> Result<String> {
        let mut all = Vec::with_capacity(queues.len());
        for q in &queues {
            all.push(self.metrics_of(q).await?);
        }
        Ok(prometheus_text(&all))
    }
}
