//! BullMQ's queue-wide limits on `NativeEngine` (global concurrency, global rate limit, a
//! rate-limit pause of the whole queue, the meta hash), for lib/queue.js; the engine's
//! `queue_limits.rs` keeps them.

use job_queue_core::input;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{to_js, validation};
use crate::NativeEngine;

/// A positive whole number, as the engine judges it.
fn positive(v: f64, field: &str) -> Result<u64> {
    input::positive_int(v, field).map_err(to_js)
}

#[napi]
impl NativeEngine {
    /// Sets (or, with no limit, clears) the queue's global concurrency.
    #[napi]
    pub async fn set_global_concurrency(&self, queue: String, limit: Option<f64>) -> Result<()> {
        let q = self.queue(&queue)?;
        let limit = limit.map(|n| positive(n, "concurrency")).transpose()?;
        q.set_global_concurrency(limit).await.map_err(to_js)
    }

    /// Sets (or, with neither number, clears) the queue's global rate limit.
    #[napi]
    pub async fn set_global_rate_limit(
        &self,
        queue: String,
        max: Option<f64>,
        duration_ms: Option<f64>,
    ) -> Result<()> {
        let q = self.queue(&queue)?;
        let rate = match (max, duration_ms) {
            (None, None) => None,
            (Some(m), Some(d)) => Some((positive(m, "max")?, positive(d, "duration")?)),
            _ => return Err(validation("duration", "max and duration go together")),
        };
        q.set_global_rate_limit(rate).await.map_err(to_js)
    }

    /// Rate-limited workers of the queue fetch nothing for `ms`; 0 ends such a pause.
    #[napi]
    pub async fn pause_rate_limited(&self, queue: String, ms: f64) -> Result<()> {
        let q = self.queue(&queue)?;
        if ms == 0.0 {
            return q.clear_rate_limit().await.map_err(to_js);
        }
        q.pause_rate_limited(positive(ms.ceil(), "ms")?)
            .await
            .map_err(to_js)
    }

    /// Ms that workers allowed `max_jobs` per window (default: the queue's global max) must
    /// still wait.
    #[napi]
    pub async fn rate_limit_ttl(&self, queue: String, max_jobs: Option<f64>) -> Result<f64> {
        let q = self.queue(&queue)?;
        let max = max_jobs.map(|n| positive(n, "maxJobs")).transpose()?;
        Ok(q.rate_limit_ttl(max).await.map_err(to_js)? as f64)
    }

    /// The queue's meta hash as JSON `{field: value}`.
    #[napi]
    pub async fn queue_meta(&self, queue: String) -> Result<String> {
        let q = self.queue(&queue)?;
        let meta = q.meta().await.map_err(to_js)?;
        serde_json::to_string(&meta).map_err(|e| Error::from_reason(e.to_string()))
    }
}
