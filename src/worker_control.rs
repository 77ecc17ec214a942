//! What BullMQ's `Worker` API adds to a worker: starting one that `createWorker` made
//! connected but idle (`run`, so a worker made with `autorun: false` is listed by
//! `getWorkers` before it runs), closing without waiting as BullMQ's `close(true)`,
//! concurrency changed while it runs, BullMQ's `maxStartedAttempts`, jobs given back
//! unprocessed (a processor's `RateLimitError`; `worker.rateLimit` itself only sets the
//! queue's limiter key, in src/queue_limits.rs), and failures whose retry delay JS worked out (a custom backoff strategy). Also the worker options from
//! their JS form, and the worker without a processor whose caller fetches and settles jobs by
//! hand (`NativeManualWorker`: BullMQ's `getNextJob`, `moveToCompleted`, `moveToFailed`,
//! `moveToWait`).

use std::sync::Arc;
use std::time::Duration;

use job_queue_core::input;
use job_queue_core::worker::{Failure, ManualWorker, Outcome, WorkerOptions, WorkerSettings};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::worker::WorkerConfig;
use crate::{wire, NativeEngine, NativeWorker};

/// The engine's worker options from their JS form: the engine's `WorkerSettings` checks each
/// number (the one home of worker-option validation) and fills the defaults.
pub(crate) fn worker_options(config: WorkerConfig) -> Result<WorkerOptions> {
    WorkerSettings::from(config).into_options().map_err(to_js)
}

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

    /// BullMQ's `maxStartedAttempts`: a job fetched with more starts than `max` fails
    /// without running ("job started more than allowable limit"); none or 0: no limit. Set
    /// before `run`, it applies from the first fetch.
    #[napi]
    pub fn set_max_started_attempts(&self, max: Option<u32>) {
        self.worker.set_max_started_attempts(max.filter(|m| *m > 0));
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

/// A failed attempt reported by hand.
#[napi(object)]
pub struct ManualFailure {
    /// The error's class name.
    pub name: Option<String>,
    pub message: String,
    pub stack: Option<String>,
    /// Fail for good whatever attempts remain.
    pub unrecoverable: bool,
    /// If retried, after this many ms instead of the job's backoff (a custom backoff).
    pub delay_ms: Option<f64>,
}

/// A worker without a processor: its caller fetches jobs with its own lock token and settles
/// them, each change one script call (see `job_queue_core::worker::ManualWorker`).
#[napi]
pub struct NativeManualWorker {
    worker: Arc<ManualWorker>,
}

#[napi]
impl NativeEngine {
    /// A worker on `queue` for processing by hand, with the worker options that apply to it
    /// (lock duration, name, limiter, keep policies, retry defaults, drain delay, stalled
    /// check). Makes no Redis call.
    #[napi]
    pub fn manual_worker(&self, queue: String, config: WorkerConfig) -> Result<NativeManualWorker> {
        let options = worker_options(config)?;
        let worker = self
            .engine()?
            .manual_worker(&queue, options)
            .map_err(to_js)?;
        Ok(NativeManualWorker {
            worker: Arc::new(worker),
        })
    }
}

#[napi]
impl NativeManualWorker {
    /// Takes the next job, locked with `token`. JSON `{job, rateLimitMs, nextDelayedMs,
    /// drained, scheduleError}` (`job` null when there was none).
    #[napi]
    pub async fn next_job(&self, token: String, block: bool) -> Result<String> {
        let next = self.worker.next_job(&token, block).await.map_err(to_js)?;
        Ok(wire::encode_next_job(&next))
    }

    /// Completes job `id` held by `token` with `value` (JSON text). JSON `{finishedOn,
    /// attemptsMade, retrying, retryDelayMs, stacktrace, next}`, `next` as `nextJob`'s answer
    /// when `fetch_next`, else null.
    #[napi]
    pub async fn complete(
        &self,
        id: String,
        token: String,
        value: String,
        fetch_next: bool,
    ) -> Result<String> {
        let settled = self
            .worker
            .complete(&id, &token, value, fetch_next)
            .await
            .map_err(to_js)?;
        Ok(wire::encode_manual_settled(&settled))
    }

    /// Fails the current attempt of job `id` held by `token`; the answer as `complete`'s.
    #[napi]
    pub async fn fail(
        &self,
        id: String,
        token: String,
        failure: ManualFailure,
        fetch_next: bool,
    ) -> Result<String> {
        let delay = failure
            .delay_ms
            .map(|ms| input::non_negative_ms(ms, "delay"))
            .transpose()
            .map_err(to_js)?;
        let f = Failure {
            name: failure.name,
            message: failure.message,
            stack: failure.stack,
            unrecoverable: failure.unrecoverable,
        };
        let settled = self
            .worker
            .fail(&id, &token, f, delay, fetch_next)
            .await
            .map_err(to_js)?;
        Ok(wire::encode_manual_settled(&settled))
    }

    /// Moves job `id` back to waiting (with `token`, only if it holds the lock); returns the
    /// ms left of the queue's rate limit.
    #[napi]
    pub async fn move_to_wait(&self, id: String, token: Option<String>) -> Result<f64> {
        let ttl = self
            .worker
            .move_to_wait(&id, token.as_deref())
            .await
            .map_err(to_js)?;
        Ok(ttl as f64)
    }

    /// Runs the queue's stalled check once; returns the ids of the jobs it took back.
    #[napi]
    pub async fn check_stalled(&self) -> Result<Vec<String>> {
        let check = self.worker.check_stalled().await.map_err(to_js)?;
        Ok(check.recovered)
    }

    /// Ends a blocking wait and closes the worker's named connection.
    #[napi]
    pub async fn close(&self) {
        self.worker.close().await;
    }
}
