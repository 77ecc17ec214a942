//! What lib/managers/retry-handler.js (the design's RetryHandler) asks of `NativeEngine`: the
//! retry statistics the workers counted.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::results::RetryStatsResult;
use crate::NativeEngine;

#[napi]
impl NativeEngine {
    /// Retries as the workers counted them: totals, by attempt and error class, outcomes.
    #[napi]
    pub async fn retry_stats(&self, queue: String) -> Result<RetryStatsResult> {
        let stats = self.queue(&queue)?.retry_stats().await.map_err(to_js)?;
        Ok(stats.into())
    }
}
