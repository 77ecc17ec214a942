//! The worker behind lib/worker.js (BullMQ's `Worker`, and the coordinator's workers through
//! it): `NativeEngine.createWorker`, `NativeWorker` (outcomes, pause, resume, stats, close),
//! and the dispatcher that hands jobs and worker events to JavaScript. What BullMQ's Worker
//! API adds to a running worker is in `worker_control.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use job_queue_core::worker::{
    Dispatched, Dispatcher, Failure, Outcome, Worker, WorkerEvent, WorkerSettings,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::errors::to_js;
use crate::wire;
use crate::NativeEngine;

/// Worker settings, in milliseconds at this boundary. Numbers cross as JS gives them; the
/// engine's `WorkerSettings` checks each (the errors name BullMQ's options: `lockDuration`,
/// `limiter.max`, `retry.jitter`...).
#[napi(object)]
pub struct WorkerConfig {
    /// The worker's id (a new UUID when absent): BullMQ's Worker has its id from the start.
    pub id: Option<String>,
    /// Jobs run at once (default 1).
    pub concurrency: Option<f64>,
    /// How long a job's lock lives without renewal (default 30000).
    pub lock_duration_ms: Option<f64>,
    /// How often the stalled check runs (default 30000).
    pub stalled_interval_ms: Option<f64>,
    /// Recoveries after which a stalled job fails instead (default 1).
    pub max_stalled_count: Option<f64>,
    /// Shown by BullMQ's `getWorkers` and stored as the job's `processedBy`.
    pub name: Option<String>,
    /// At most `limiterMax` jobs per `limiterDurationMs` across the queue's workers.
    pub limiter_max: Option<f64>,
    pub limiter_duration_ms: Option<f64>,
    /// Longest blocking wait for a job when the queue is empty (default 5000).
    pub drain_delay_ms: Option<f64>,
    /// JSON of the worker-level `removeOnComplete` (bool, count or `{age, count}`).
    pub remove_on_complete: Option<String>,
    pub remove_on_fail: Option<String>,
    /// Jobs fetched ahead of free processing slots (default 0: none, as BullMQ).
    pub prefetch: Option<f64>,
    /// Hold one job ahead while attempts are short (`prefetch: 'auto'`); wins over `prefetch`.
    pub prefetch_auto: Option<bool>,
    /// Wait before the next round trip after one to Redis failed (default 5000).
    pub retry_process_delay_ms: Option<f64>,
    /// Cap on backoff delays for jobs whose backoff sets none (default 5 minutes).
    pub retry_max_delay_ms: Option<f64>,
    /// Jitter for jobs whose backoff sets none, in [0, 1] (default 0).
    pub retry_jitter: Option<f64>,
    /// Longest an attempt may run when the job sets no `timeoutMs` (default: no limit).
    pub timeout_ms: Option<f64>,
    /// Per-minute points kept in BullMQ's metrics keys (default 1440; 0 writes none).
    pub metric_points: Option<f64>,
}

impl From<WorkerConfig> for WorkerSettings {
    fn from(c: WorkerConfig) -> Self {
        WorkerSettings {
            id: c.id,
            name: c.name,
            concurrency: c.concurrency,
            lock_duration_ms: c.lock_duration_ms,
            stalled_interval_ms: c.stalled_interval_ms,
            max_stalled_count: c.max_stalled_count,
            limiter_max: c.limiter_max,
            limiter_duration_ms: c.limiter_duration_ms,
            drain_delay_ms: c.drain_delay_ms,
            remove_on_complete: c.remove_on_complete,
            remove_on_fail: c.remove_on_fail,
            prefetch: c.prefetch,
            prefetch_auto: c.prefetch_auto,
            retry_process_delay_ms: c.retry_process_delay_ms,
            retry_max_delay_ms: c.retry_max_delay_ms,
            retry_jitter: c.retry_jitter,
            timeout_ms: c.timeout_ms,
            metric_points: c.metric_points,
        }
    }
}

/// Counters for a worker's status (BullMQ's `Worker.stats()`, the design's WorkerStatus).
#[napi(object)]
pub struct WorkerStatsJs {
    /// Jobs this worker completed.
    pub completed: f64,
    /// Attempts of this worker that failed (retried or not).
    pub failed: f64,
    /// When it last fetched or settled a job, in ms since the epoch; 0 before then.
    pub last_activity_ms: f64,
    /// ms since it started.
    pub uptime_ms: f64,
    /// The last round trip to Redis failed.
    pub errored: bool,
    /// It is paused (here, or through the worker registry) and fetches nothing.
    pub paused: bool,
}

#[napi]
impl NativeEngine {
    /// Makes a worker, connected (getWorkers lists it) but idle until `run()`. `process`
    /// receives batches of jobs as JSON text (`[{handle, job}]`) and reports each outcome
    /// through `complete` / `fail`; `events` receives batches of worker events as JSON text.
    #[napi(
        ts_args_type = "queue: string, config: WorkerConfig, process: (batch: string) => void, events: (batch: string) => void"
    )]
    pub async fn create_worker(
        &self,
        queue: String,
        config: WorkerConfig,
        process: ProcessFn,
        events: EventsFn,
    ) -> Result<NativeWorker> {
        let engine = self.engine()?;
        let options = crate::worker_control::worker_options(config)?;
        let dispatcher = Arc::new(JsDispatcher::new(process, events));
        let worker = engine
            .connect_worker(&queue, options, dispatcher.clone())
            .await
            .map_err(to_js)?;
        Ok(NativeWorker {
            worker: Arc::new(worker),
            dispatcher,
        })
    }
}

#[napi]
pub struct NativeWorker {
    pub(crate) worker: Arc<Worker>,
    pub(crate) dispatcher: Arc<JsDispatcher>,
}

#[napi]
impl NativeWorker {
    /// Checks a worker config as `createWorker` would, synchronously and without Redis: the
    /// Worker class throws from its constructor, as BullMQ's does.
    #[napi]
    pub fn check_config(config: WorkerConfig) -> Result<()> {
        WorkerSettings::from(config)
            .into_options()
            .map(drop)
            .map_err(to_js)
    }

    #[napi(getter)]
    pub fn id(&self) -> String {
        self.worker.id().to_owned()
    }

    /// Reports jobs done, all at once: `values[i]` is the return value (JSON text) of the job
    /// dispatched with `handles[i]`.
    #[napi]
    pub fn complete(&self, handles: Vec<i64>, values: Vec<String>) {
        let outcomes = handles
            .into_iter()
            .zip(values)
            .map(|(h, v)| (h as u64, Outcome::Completed(v)))
            .collect();
        self.worker.report_many(outcomes);
    }

    /// Reports jobs failed, all at once; entry `i` of each list belongs to `handles[i]`.
    /// `names` are the errors' class names.
    #[napi]
    pub fn fail(
        &self,
        handles: Vec<i64>,
        names: Vec<Option<String>>,
        messages: Vec<String>,
        stacks: Vec<Option<String>>,
        unrecoverable: Vec<bool>,
    ) {
        let outcomes = handles
            .into_iter()
            .zip(names)
            .zip(messages)
            .zip(stacks)
            .zip(unrecoverable)
            .map(|((((h, name), message), stack), unrecoverable)| {
                let failure = Failure {
                    name,
                    message,
                    stack,
                    unrecoverable,
                };
                (h as u64, Outcome::Failed(failure))
            })
            .collect();
        self.worker.report_many(outcomes);
    }

    /// Forgets jobs their processor moved itself (to delayed, or to wait for children):
    /// nothing is written, no attempt counted, no event.
    #[napi]
    pub fn forget(&self, handles: Vec<i64>) {
        let outcomes = handles
            .into_iter()
            .map(|h| (h as u64, Outcome::Moved))
            .collect();
        self.worker.report_many(outcomes);
    }

    #[napi]
    pub fn pause(&self) {
        self.worker.pause();
    }

    #[napi]
    pub fn resume(&self) {
        self.worker.resume();
    }

    #[napi]
    pub fn stats(&self) -> WorkerStatsJs {
        use std::sync::atomic::Ordering::Relaxed;
        let s = self.worker.stats();
        WorkerStatsJs {
            completed: s.completed.load(Relaxed) as f64,
            failed: s.failed.load(Relaxed) as f64,
            last_activity_ms: s.last_activity_ms.load(Relaxed) as f64,
            uptime_ms: self.worker.uptime().as_millis() as f64,
            errored: s.errored.load(Relaxed),
            paused: self.worker.is_paused(),
        }
    }

    /// Stops fetching, waits up to `timeout_ms` for running jobs, gives unfinished ones back
    /// to the queue, and releases the JS callbacks so Node can exit.
    #[napi]
    pub async fn close(&self, timeout_ms: u32) {
        self.worker
            .close(Duration::from_millis(timeout_ms.into()))
            .await;
        self.dispatcher.release();
    }
}

/// `(batch JSON) => void`, called on the JS thread. Strong, so a running worker keeps Node
/// alive; released by `close()`.
pub type ProcessFn = ThreadsafeFunction<String, (), String, Status, false>;
pub type EventsFn = ProcessFn;

/// Hands jobs and events to JavaScript through threadsafe functions, fire-and-forget: JS
/// reports outcomes back through `NativeWorker.complete` / `fail`, which is several times
/// cheaper than awaiting a promise per job across the boundary.
pub struct JsDispatcher {
    process: Mutex<Option<ProcessFn>>,
    events: Mutex<Option<EventsFn>>,
}

impl JsDispatcher {
    pub fn new(process: ProcessFn, events: EventsFn) -> Self {
        Self {
            process: Mutex::new(Some(process)),
            events: Mutex::new(Some(events)),
        }
    }

    /// Drops both functions so they no longer keep the event loop alive.
    pub fn release(&self) {
        self.process.lock().expect("process lock").take();
        self.events.lock().expect("events lock").take();
    }

    fn send(slot: &Mutex<Option<ProcessFn>>, text: String) {
        if let Some(f) = slot.lock().expect("tsfn lock").as_ref() {
            // On Closing (Node is exiting) the jobs stay active; the stalled check of a live
            // worker recovers them.
            f.call(text, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

impl Dispatcher for JsDispatcher {
    fn dispatch(&self, jobs: Vec<Dispatched>) {
        Self::send(&self.process, wire::encode_job_batch(&jobs));
    }

    fn events(&self, events: Vec<WorkerEvent>) {
        // through `process`, so JS gets jobs and events in the order the worker sent them (two
        // threadsafe functions are two queues, which Node drains in no set order): a settled
        // job's event comes before the jobs fetched in the same trip start, as BullMQ's worker
        // emits an outcome before it runs the next job. Job batches are JSON arrays, events
        // `{"events": [...]}`.
        let text = format!("{{\"events\":{}}}", wire::encode_worker_events(events));
        Self::send(&self.process, text);
    }

    /// What one round trip settled with the jobs it fetched, as one message
    /// `{"events": [...], "jobs": [...]}`, so JS has the new jobs in hand before anything a
    /// listener of those events does runs (a pause waits for them).
    fn settled(&self, events: Vec<WorkerEvent>, jobs: Vec<Dispatched>) {
        match (events.is_empty(), jobs.is_empty()) {
            (true, true) => {}
            (false, true) => self.events(events),
            (true, false) => self.dispatch(jobs),
            (false, false) => {
                let text = format!(
                    "{{\"events\":{},\"jobs\":{}}}",
                    wire::encode_worker_events(events),
                    wire::encode_job_batch(&jobs)
                );
                Self::send(&self.process, text);
            }
        }
    }
}
