//! The Node binding: every `#[napi]` item. It converts between JavaScript and the engine and
//! forwards; decisions live in `job-queue-core`.
//!
//! Payloads cross the boundary as JSON text: job data is never turned into JS objects by Rust
//! nor into Rust values by JS, and a whole batch of jobs crosses in one call.

mod add_order;
mod connection;
mod dead_letters;
mod dispatch;
mod errors;
mod job;
mod observability;
mod operations;
mod queue;
mod queue_events;
mod queue_limits;
mod results;
mod scheduling;
mod security;
mod wire;
mod worker_control;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use job_queue_core::options::KeepPolicy;
use job_queue_core::producer::{NewJob, Preparer};
use job_queue_core::worker::{Failure, Outcome, Worker};
use job_queue_core::{Engine, Queue, RetryPolicy};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use dispatch::{EventsFn, JsDispatcher, ProcessFn};
use errors::{to_js, validation};

/// The engine's tasks mostly wait on Redis; on machines where Node and Redis share a few
/// cores, extra tokio workers mostly spin and steal. One worker thread serves them all.
#[napi_derive::module_init]
fn init() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
}

/// A list of jobs as the JSON array the JS side parses.
fn jobs_json(jobs: job_queue_core::Result<Vec<job_queue_core::job::Job>>) -> Result<String> {
    Ok(wire::encode_jobs(&jobs.map_err(to_js)?))
}

/// Where Redis is and how keys are named.
#[napi(object)]
pub struct EngineConfig {
    /// `redis://` or `rediss://` URL; wins over the separate fields.
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u32>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: Option<u32>,
    pub tls: Option<bool>,
    /// Key prefix, default `bull` (BullMQ's default).
    pub prefix: Option<String>,
    /// Largest accepted job data, in bytes of JSON (default 1 MiB).
    pub max_job_data_size: Option<u32>,
    /// Retries of a command while the connection is down before it fails (default 20).
    pub max_retries_per_request: Option<u32>,
    /// Retry such commands until the connection is back (ioredis' `maxRetriesPerRequest:
    /// null`); wins over `max_retries_per_request`.
    pub retry_until_connected: Option<bool>,
    /// ms between those retries (default 100).
    pub retry_delay_on_failover: Option<u32>,
}

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

#[napi]
pub struct NativeEngine {
    engine: Mutex<Option<Engine>>,
    max_data: usize,
    /// The order add calls are issued in (the order JavaScript made them).
    add_order: Arc<add_order::AddOrder>,
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

/// The shared connection's retry policy from the engine config (defaults where unset).
fn retry_policy(
    max_retries: Option<u32>,
    until_connected: Option<bool>,
    delay_ms: Option<u32>,
) -> RetryPolicy {
    let defaults = RetryPolicy::default();
    RetryPolicy {
        max_retries: if until_connected == Some(true) {
            None
        } else {
            max_retries.or(defaults.max_retries)
        },
        delay: ms(delay_ms, defaults.delay),
    }
}

#[napi]
impl NativeEngine {
    /// Connects to Redis (fails fast with a connection error when it does not answer), over
    /// TLS with `tls`'s certificates when given.
    #[napi(factory)]
    pub async fn connect(
        config: EngineConfig,
        tls: Option<connection::TlsConfig>,
    ) -> Result<NativeEngine> {
        connection::open(config, tls).await
    }

    fn engine(&self) -> Result<Engine> {
        self.engine
            .lock()
            .expect("engine lock")
            .clone()
            .ok_or_else(|| to_js(job_queue_core::Error::Closed("coordinator")))
    }

    fn queue(&self, name: &str) -> Result<Queue> {
        self.engine()?.queue(name).map_err(to_js)
    }

    /// Validates the jobs, then adds the valid ones in one atomic call. `payload` is
    /// `{defaults: [opts...], jobs: [{name, data, opts}]}`. With `all_or_nothing`, one invalid
    /// job rejects the call and nothing is written. Returns JSON
    /// `{opts: [stored opts text...], jobs: [[id, created, timestamp, opts index] | error]}`
    /// where an error is `{code, message, field}`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn add_jobs<'env>(
        &self,
        env: &'env Env,
        queue: String,
        payload: String,
        all_or_nothing: bool,
    ) -> Result<PromiseRaw<'env, String>> {
        let q = self.queue(&queue)?;
        let max_data = self.max_data;
        let order = self.add_order.clone();
        let ticket = order.ticket(); // on the JS thread: the order of the calls
        env.spawn_future(async move {
            let turn = order.turn(ticket).await;
            add_jobs_issued_in_turn(q, max_data, payload, all_or_nothing, turn).await
        })
    }

    /// Job counts per state.
    #[napi]
    pub async fn counts(&self, queue: String) -> Result<results::JobCountsResult> {
        let counts = self.queue(&queue)?.counts().await.map_err(to_js)?;
        Ok(counts.into())
    }

    #[napi]
    pub async fn is_paused(&self, queue: String) -> Result<bool> {
        self.queue(&queue)?.is_paused().await.map_err(to_js)
    }

    /// The job as JSON, or null.
    #[napi]
    pub async fn get_job(&self, queue: String, id: String) -> Result<Option<String>> {
        let job = self.queue(&queue)?.get_job(&id).await.map_err(to_js)?;
        Ok(job.as_ref().map(wire::encode_job))
    }

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
    pub async fn retry_job(&self, queue: String, id: String) -> Result<()> {
        self.queue(&queue)?.retry_job(&id).await.map_err(to_js)
    }

    #[napi]
    pub async fn update_progress(&self, queue: String, id: String, progress: String) -> Result<()> {
        self.queue(&queue)?
            .update_progress(&id, &progress)
            .await
            .map_err(to_js)
    }

    /// Appends a log line; returns the number of lines kept.
    #[napi]
    pub async fn add_log(&self, queue: String, id: String, line: String, keep: u32) -> Result<u32> {
        let n = self
            .queue(&queue)?
            .add_log(&id, &line, keep.into())
            .await
            .map_err(to_js)?;
        Ok(n as u32)
    }

    #[napi]
    pub async fn logs(&self, queue: String, id: String) -> Result<Vec<String>> {
        self.queue(&queue)?.logs(&id).await.map_err(to_js)
    }

    /// Throughput and mean processing time, measured from the finished sets.
    #[napi]
    pub async fn processing_stats(&self, queue: String) -> Result<results::ProcessingStatsResult> {
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

    /// Round-trip latency to Redis in ms.
    #[napi]
    pub async fn ping(&self) -> Result<f64> {
        let d = self.engine()?.ping().await.map_err(to_js)?;
        Ok(d.as_secs_f64() * 1000.0)
    }

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
        let options = worker_control::worker_options(config)?;
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

    /// Drops the shared connection. Workers must be closed first.
    #[napi]
    pub fn close(&self) {
        self.engine.lock().expect("engine lock").take();
    }
}

#[napi]
pub struct NativeWorker {
    worker: Arc<Worker>,
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

/// The work of one `addJobs` call once its turn has come: validates and prepares the jobs,
/// issues the script call, gives the turn to the next call, then awaits the reply.
async fn add_jobs_issued_in_turn(
    q: Queue,
    max_data: usize,
    payload: String,
    all_or_nothing: bool,
    turn: add_order::Turn<'_>,
) -> Result<String> {
    let input = wire::decode_add_payload(&payload).map_err(|e| validation("jobs", e))?;
    let preparer = Preparer::new(input.defaults, max_data, job_queue_core::time::now_ms())
        .allow_any_data(input.any_data)
        .bullmq_options(input.bullmq);
    let mut requests = Vec::with_capacity(input.jobs.len());
    let mut outcomes = Vec::with_capacity(input.jobs.len());
    for job in input.jobs {
        let new_job = NewJob {
            name: job.name,
            data: job.data.get(),
            opts: job.opts,
        };
        match preparer.prepare(new_job) {
            Ok((request, plain)) => {
                outcomes.push(Ok((requests.len(), plain)));
                requests.push(request);
            }
            Err(e) if all_or_nothing => return Err(to_js(e)),
            Err(e) => outcomes.push(Err(errors::reason(&e))),
        }
    }
    let mut call = Box::pin(async {
        let added = q.add(&requests).await;
        (added, requests)
    });
    // polled once, the call joins the connection's pipeline now; then the next may go
    let first = call
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    drop(turn);
    let (added, requests) = match first {
        std::task::Poll::Ready(done) => done,
        std::task::Poll::Pending => call.await,
    };
    let added = added.map_err(to_js)?;
    let mut opts: Vec<&str> = Vec::new();
    let mut default_index = None;
    let jobs: Vec<wire::AddEntry> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Err(reason) => wire::AddEntry::Refused(reason),
            Ok((i, plain)) => {
                let r = &requests[i];
                let index = match (plain, default_index) {
                    (true, Some(d)) => d,
                    _ => {
                        opts.push(&r.options.stored);
                        if plain {
                            default_index = Some(opts.len() - 1);
                        }
                        opts.len() - 1
                    }
                };
                let (id, created) = &added[i];
                wire::AddEntry::Added {
                    id,
                    created: *created,
                    timestamp: r.options.timestamp.unwrap_or(r.now_ms),
                    opts: index,
                }
            }
        })
        .collect();
    Ok(wire::encode_add_result(&opts, jobs))
}
