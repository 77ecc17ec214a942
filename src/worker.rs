//! The worker behind lib/worker.js (BullMQ's `Worker`, and the coordinator's workers through
//! it): `NativeEngine.createWorker`, `NativeWorker` (outcomes, pause, resume, stats, close),
//! and the dispatcher that hands jobs and worker events to JavaScript. What BullMQ's Worker
//! API adds to a running worker is in `worker_control.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use job_queue_core::options::{KeepPolicy, RetryDefaults};
use job_queue_core::worker::{
    Dispatched, Dispatcher, Failure, Outcome, Prefetch, Worker, WorkerEvent, WorkerOptions,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{to_js, validation};
use crate::wire;
use crate::NativeEngine;

/// Worker settings, in milliseconds at this boundary.
#[napi(object)]
pub struct WorkerConfig {
    /// The worker's id (a new UUID when absent): BullMQ's Worker has its id from the start.
    pub id: Option<String>,
    pub concurrency: Option<u32>,
    pub lock_duration_ms: Option<u32>,
    pub stalled_interval_ms: Option<u32>,
    pub max_stalled_count: Option<u32>,
    pub name: Option<String>,
    pub limiter_max: Option<u32>,
    pub limiter_duration_ms: Option<u32>,
    pub drain_delay_ms: Option<u32>,
    /// JSON of the worker-level `removeOnComplete` (bool, count or `{age, count}`).
    pub remove_on_complete: Option<String>,
    pub remove_on_fail: Option<String>,
    /// Jobs fetched ahead of free processing slots (default 0: none, as BullMQ).
    pub prefetch: Option<u32>,
    /// Hold one job ahead while attempts are short (`prefetch: 'auto'`); wins over `prefetch`.
    pub prefetch_auto: Option<bool>,
    /// Wait before the next round trip after one to Redis failed (default 5000).
    pub retry_process_delay_ms: Option<f64>,
    /// Cap on backoff delays for jobs whose backoff sets none (default 5 minutes).
    pub retry_max_delay_ms: Option<f64>,
    /// Jitter for jobs whose backoff sets none, in [0, 1] (default 0.1).
    pub retry_jitter: Option<f64>,
    /// Longest an attempt may run when the job sets no `timeoutMs` (default: no limit).
    pub timeout_ms: Option<f64>,
    /// Per-minute points kept in BullMQ's metrics keys (default 1440; 0 writes none).
    pub metric_points: Option<u32>,
}

/// Counters for a worker's status.
#[napi(object)]
pub struct WorkerStatsJs {
    pub completed: f64,
    pub failed: f64,
    pub last_activity_ms: f64,
    pub uptime_ms: f64,
    /// The last round trip to Redis failed.
    pub errored: bool,
    pub paused: bool,
}

fn parse_keep(json: Option<&str>, field: &str) -> Result<KeepPolicy> {
    match json {
        None => Ok(KeepPolicy::KEEP_ALL),
        Some(text) => {
            let v: Value = serde_json::from_str(text).map_err(|e| validation(field, e))?;
            KeepPolicy::parse(&v, field).map_err(to_js)
        }
    }
}

fn ms(v: Option<u32>, default: Duration) -> Duration {
    v.map_or(default, |m| Duration::from_millis(m.into()))
}

/// A JS number of ms (checked finite and non-negative by lib/) as a duration.
fn ms_f64(v: f64) -> Duration {
    Duration::from_millis(v.max(0.0) as u64)
}

#[napi]
impl NativeEngine {
    /// Starts a worker. `process` receives batches of jobs as JSON text
    /// (`[{handle, job}]`) and reports each outcome through `complete` / `fail`; `events`
    /// receives batches of worker events as JSON text.
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
        let defaults = WorkerOptions::default();
        let options = WorkerOptions {
            concurrency: config
                .concurrency
                .map_or(defaults.concurrency, |c| c as usize),
            lock_duration: ms(config.lock_duration_ms, defaults.lock_duration),
            stalled_interval: ms(config.stalled_interval_ms, defaults.stalled_interval),
            max_stalled_count: config
                .max_stalled_count
                .unwrap_or(defaults.max_stalled_count),
            name: config.name,
            id: config.id,
            limiter: match (config.limiter_max, config.limiter_duration_ms) {
                (Some(max), Some(d)) => Some((max.into(), Duration::from_millis(d.into()))),
                _ => None,
            },
            remove_on_complete: parse_keep(
                config.remove_on_complete.as_deref(),
                "removeOnComplete",
            )?,
            remove_on_fail: parse_keep(config.remove_on_fail.as_deref(), "removeOnFail")?,
            drain_delay: ms(config.drain_delay_ms, defaults.drain_delay),
            prefetch: match (config.prefetch_auto, config.prefetch) {
                (Some(true), _) => Prefetch::Auto,
                (_, Some(p)) => Prefetch::Jobs(p as usize),
                _ => defaults.prefetch,
            },
            retry: RetryDefaults {
                max_delay: config
                    .retry_max_delay_ms
                    .map_or(defaults.retry.max_delay, ms_f64),
                jitter: match config.retry_jitter {
                    None => defaults.retry.jitter,
                    Some(j) if (0.0..=1.0).contains(&j) => j,
                    Some(_) => return Err(validation("retry.jitter", "must be between 0 and 1")),
                },
            },
            timeout: config.timeout_ms.filter(|t| *t > 0.0).map(ms_f64),
            metric_points: config.metric_points.unwrap_or(defaults.metric_points),
            retry_process_delay: config
                .retry_process_delay_ms
                .map_or(defaults.retry_process_delay, ms_f64),
        };
        let dispatcher = Arc::new(JsDispatcher::new(process, events));
        let worker = engine
            .worker(&queue, options, dispatcher.clone())
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
    dispatcher: Arc<JsDispatcher>,
}

#[napi]
impl NativeWorker {
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
        Self::send(&self.events, wire::encode_worker_events(events));
    }
}
