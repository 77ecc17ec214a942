//! What BullMQ's `Worker` API adds to a worker: starting one that `createWorker` made
//! connected but idle (`run`, so a worker made with `autorun: false` is listed by
//! `getWorkers` before it runs), closing without waiting as BullMQ's `close(true)`,
//! concurrency changed while it runs, a pause in fetching asked for by the processor
//! (`rateLimit`), jobs given back unprocessed (a processor's `RateLimitError`), and failures
//! whose retry delay JS worked out (a custom backoff strategy).

use std::time::Duration;

use job_queue_core::worker::{Failure, Outcome};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::NativeWorker;

#[napi]
impl NativeWorker {
    /// Starts fetching (and lock renewal, the stalled check, the heartbeat); nothing if it
    /// runs already or was closed.
    #[napi]
    pub fn run(&self) {
        self.worker.run();
    }

    /// Closes as BullMQ's `close(true)`: stops at once, leaves running jobs active with
    /// their locks no longer renewed (the stalled check recovers them), ignores their late
    /// outcomes, and releases the JS callbacks.
    #[napi]
    pub async fn close_abandoning(&self) {
        self.worker.close_abandoning().await;
        self.dispatcher.release();
    }

    /// Jobs run at once from now on (at least 1); running jobs carry on.
    #[napi]
    pub fn set_concurrency(&self, concurrency: u32) -> Result<()> {
        self.worker
            .set_concurrency(concurrency as usize)
            .map_err(to_js)
    }

    /// Fetches no job for `duration_ms`; running jobs carry on.
    #[napi]
    pub fn rate_limit(&self, duration_ms: f64) {
        self.worker
            .rate_limit(Duration::from_millis(duration_ms.max(0.0) as u64));
    }

    /// Gives jobs back to the front of the queue unprocessed: no attempt counted, no event.
    #[napi]
    pub fn release(&self, handles: Vec<i64>) {
        let outcomes = handles
            .into_iter()
            .map(|h| (h as u64, Outcome::Release))
            .collect();
        self.worker.report_many(outcomes);
    }

    /// Reports one job failed; if it is retried, after `delay_ms` rather than its backoff.
    #[napi]
    pub fn fail_with_delay(
        &self,
        handle: i64,
        name: Option<String>,
        message: String,
        stack: Option<String>,
        delay_ms: f64,
    ) {
        let failure = Failure {
            name,
            message,
            stack,
            unrecoverable: false,
        };
        let delay = Duration::from_millis(delay_ms.max(0.0) as u64);
        self.worker
            .report(handle as u64, Outcome::FailedWithDelay(failure, delay));
    }
}
