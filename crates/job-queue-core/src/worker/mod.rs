//! The worker: fetches jobs, hands them to a processor, settles them, renews their locks and
//! runs the stalled check, all on Rust tasks so a busy JavaScript event loop never makes a
//! healthy job look stalled.
//!
//! One loop owns the worker's state. Processors report outcomes through a channel; every
//! round trip to Redis settles all outcomes gathered so far and fetches enough jobs to refill
//! the concurrency in the same script call. When the queue is empty the loop parks and a
//! separate task blocks on the queue's marker (BZPOPMIN) on its own connection.
//!
//! `runner` is that loop and its round trips; `running` the jobs it runs; `settle` decides,
//! as a pure function, what an outcome does to its job; `deadlines` fails attempts that run
//! out of time; `timers` holds lock renewal and the stalled check; `settings` turns settings
//! given as plain numbers (the Node binding's) into [`WorkerOptions`]. `manual` is the worker
//! without a loop, whose caller fetches and settles jobs by hand with the same script and
//! settle step.

mod deadlines;
mod manual;
mod prefetch;
mod runner;
mod running;
mod settings;
mod settle;
mod timers;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::connection::Connector as Client;
use crate::connection::SharedConnection;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::job::Job;
use crate::keys::QueueKeys;
use crate::marker::watch_marker;
use crate::options::{KeepPolicy, RetryDefaults};
pub use manual::{ManualSettled, ManualWorker, NextJob, ANY_HOLDER};
pub use prefetch::Prefetch;
use runner::{Msg, Runner};
use running::RunningMap;
pub use settings::WorkerSettings;

/// Longest a closing worker waits for each Redis step of its close (dropping its named
/// connection, leaving the worker registry).
const CLOSE_STEP_WITHIN: Duration = Duration::from_secs(2);

/// The failed reason of a job fetched after more starts than
/// [`WorkerOptions::max_started_attempts`] allows (BullMQ's words).
pub const STARTED_TOO_OFTEN: &str = "job started more than allowable limit";

/// Worker settings. Durations inside the engine; `...Ms` numbers only at the JS boundary.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Jobs run at once by this worker (default 1).
    pub concurrency: usize,
    /// How long a job's lock lives without renewal (default 30 s); renewed every half of it.
    pub lock_duration: Duration,
    /// How often the stalled check runs (default 30 s).
    pub stalled_interval: Duration,
    /// Recoveries after which a stalled job fails instead (default 1).
    pub max_stalled_count: u32,
    /// Starts after which a fetched job fails without running, with
    /// [`STARTED_TOO_OFTEN`] (BullMQ's `maxStartedAttempts`): a job fetched with
    /// `attemptsStarted` above it. `None` (or 0): no limit.
    pub max_started_attempts: Option<u32>,
    /// Shown by BullMQ's `getWorkers` and stored as the job's `processedBy`.
    pub name: Option<String>,
    /// The worker's id (registry entry, lock tokens); a new UUID when none is given.
    pub id: Option<String>,
    /// At most `.0` jobs per `.1` across every worker of the queue.
    pub limiter: Option<(u64, Duration)>,
    /// Used when a job's own options say nothing (default: keep every finished job).
    pub remove_on_complete: KeepPolicy,
    /// Used when a job's own options say nothing (default: keep every failed job).
    pub remove_on_fail: KeepPolicy,
    /// Longest blocking wait on the marker when no delayed job is due sooner (default 5 s).
    pub drain_delay: Duration,
    /// Jobs fetched ahead and held (locked, in `active`) until a processing slot frees, so the
    /// next job starts without waiting for Redis. Visible: `active` counts them, and a held
    /// job is not overtaken by a later higher-priority one. Given back to the queue on pause
    /// and close. Default none, as BullMQ: `active` never exceeds the concurrency.
    /// [`Prefetch::Auto`] holds one while attempts are short.
    pub prefetch: Prefetch,
    /// Backoff cap and jitter for jobs whose `backoff` does not set them.
    pub retry: RetryDefaults,
    /// Longest an attempt may run when the job sets no `timeoutMs` (default: no limit). An
    /// attempt that runs longer fails with `TimeoutError` and follows its retry policy; the
    /// processor is told to abort, and its slot is freed.
    pub timeout: Option<Duration>,
    /// Per-minute points kept in BullMQ's metrics keys (default one day; 0 writes none).
    pub metric_points: u32,
    /// How long the worker waits before its next round trip after one to Redis failed
    /// (default 5 s, the design's `retryProcessDelay`). Outcomes waiting to be settled are
    /// kept and sent with that next trip.
    pub retry_process_delay: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            concurrency: 1,
            lock_duration: Duration::from_secs(30),
            stalled_interval: Duration::from_secs(30),
            max_stalled_count: 1,
            max_started_attempts: None,
            name: None,
            id: None,
            limiter: None,
            remove_on_complete: KeepPolicy::KEEP_ALL,
            remove_on_fail: KeepPolicy::KEEP_ALL,
            drain_delay: Duration::from_secs(5),
            prefetch: Prefetch::NONE,
            retry: RetryDefaults::default(),
            timeout: None,
            metric_points: crate::metrics::DEFAULT_POINTS,
            retry_process_delay: Duration::from_secs(5),
        }
    }
}

impl WorkerOptions {
    /// Checks the options: concurrency at least 1, lock duration and stalled interval at least
    /// 10 ms; the first that is not is a validation error naming it.
    pub fn validate(&self) -> Result<()> {
        if self.concurrency == 0 {
            return Err(Error::validation("concurrency", "must be at least 1"));
        }
        if self.id.as_deref() == Some("") {
            return Err(Error::validation("id", "must not be empty"));
        }
        if self.lock_duration < Duration::from_millis(10) {
            return Err(Error::validation("lockDuration", "must be at least 10 ms"));
        }
        if self.stalled_interval < Duration::from_millis(10) {
            return Err(Error::validation(
                "stalledInterval",
                "must be at least 10 ms",
            ));
        }
        Ok(())
    }
}

/// What the processor made of a job.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The return value as JSON text.
    Completed(String),
    /// The processor failed; retried or failed for good per the job's attempts and backoff.
    Failed(Failure),
    /// Failed, and if it is retried, after this delay rather than its backoff's (a backoff
    /// type the engine does not know, worked out by the processor's side).
    FailedWithDelay(Failure, Duration),
    /// Not processed after all (the processor hit a rate limit): back to the front of the
    /// queue with no attempt counted and no event.
    Release,
    /// The processor moved the job itself (to delayed, or to wait for its children) before
    /// giving it up: the worker forgets it and writes nothing, no attempt, no event.
    Moved,
}

/// Why an attempt failed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The error's class name (`TypeError`), if known.
    pub name: Option<String>,
    /// The error's message, stored as `failedReason`.
    pub message: String,
    /// The error's stack, added to the job's `stacktrace`.
    pub stack: Option<String>,
    /// Fail for good, whatever attempts remain.
    pub unrecoverable: bool,
}

/// A job handed to the processor; `handle` identifies it when reporting the outcome.
#[derive(Debug, serde::Serialize)]
pub struct Dispatched {
    /// Identifies this dispatch when the outcome is reported ([`Worker::report`]).
    pub handle: u64,
    /// The token the job's lock holds while this worker runs it.
    pub token: String,
    /// The job as fetched (its attempt counters are those before this attempt).
    pub job: Job,
}

/// Things the worker tells its owner, in batches.
#[derive(Debug, Clone)]
pub enum WorkerEvent {
    /// `handle`: the one the job was dispatched with (none for a job failed without being
    /// dispatched).
    Completed {
        /// The dispatch handle (none for a job that was not dispatched).
        handle: Option<u64>,
        /// The job's id.
        id: String,
        /// The processor's return value as JSON text.
        return_value: String,
    },
    /// `retrying` is false when the job has failed for good.
    Failed {
        /// The dispatch handle (none for a job failed without being dispatched).
        handle: Option<u64>,
        /// The job's id.
        id: String,
        /// The job's name, so failures can be grouped by kind of job.
        name: String,
        /// The error's class name, when known.
        error_name: Option<String>,
        /// The error's message.
        reason: String,
        /// Whether another attempt follows: the worker's one decision on retry-or-fail.
        retrying: bool,
        /// When retrying, how long before the retry runs (zero: at once); none otherwise.
        retry_delay: Option<Duration>,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// The job's `traceId` option, when it has one, to tie logs to the job's trace.
        trace_id: Option<String>,
        /// The job as fetched, for a job failed without being dispatched (it stalled too
        /// often), so the owner can still show the job it failed; none otherwise.
        job: Option<Box<Job>>,
    },
    /// The attempt ran past its timeout and has been failed; the processor should stop.
    TimedOut {
        /// The dispatch handle of the attempt.
        handle: u64,
        /// The job's id.
        id: String,
    },
    /// A job of the queue was found stalled and moved back to wait by this worker's check.
    Stalled {
        /// The job's id.
        id: String,
    },
    /// The worker found the queue empty after it had work.
    Drained,
    /// A round trip to Redis failed; the worker keeps going and retries.
    Error {
        /// What failed, for people.
        message: String,
    },
    /// Something went wrong with one job this worker ran: its outcome could not be settled
    /// (its lock was lost), or it was given back unfinished at shutdown. The worker is done
    /// with it.
    JobError {
        /// The dispatch handle, when the job was dispatched.
        handle: Option<u64>,
        /// The job's id.
        id: String,
        /// What went wrong, for people.
        message: String,
    },
}

/// The processor side: JavaScript in the binding, a closure in tests.
pub trait Dispatcher: Send + Sync + 'static {
    /// Starts processing `jobs`; must not block. Outcomes come back through
    /// [`Worker::report`].
    fn dispatch(&self, jobs: Vec<Dispatched>);
    /// Delivers events in the order they happened; must not block.
    fn events(&self, events: Vec<WorkerEvent>);
    /// What one round trip settled (`events`, announced first) and the jobs it fetched that
    /// start now (`jobs`), together: a dispatcher that crosses a queue to another thread sends
    /// them as one message, so that a listener acting on an outcome (a pause, say) sees the
    /// jobs fetched with it as already running. By default, `events` then `dispatch`.
    fn settled(&self, events: Vec<WorkerEvent>, jobs: Vec<Dispatched>) {
        if !events.is_empty() {
            self.events(events);
        }
        if !jobs.is_empty() {
            self.dispatch(jobs);
        }
    }
}

/// Counters for `getWorkerStatus`.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Jobs this worker settled as completed.
    pub completed: AtomicU64,
    /// Settled failed attempts of this worker's jobs (retried or not).
    pub failed: AtomicU64,
    /// When this worker last fetched or settled a job, in ms since the epoch (0 before then).
    pub last_activity_ms: AtomicU64,
    /// The last round trip to Redis failed.
    pub errored: AtomicBool,
}

/// A worker. Dropping it does not stop it; call [`Worker::close`].
pub struct Worker {
    id: String,
    con: SharedConnection,
    keys: QueueKeys,
    tx: UnboundedSender<Msg>,
    paused: Arc<AtomicBool>,
    stats: Arc<WorkerStats>,
    started: Instant,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// What [`run`](Self::run) starts, until it does.
    idle: Mutex<Option<Idle>>,
    /// The Redis client id of the named connection, for closing it for sure (0: none).
    client_id: Arc<AtomicU64>,
    /// The runtime it was connected on, where [`run`](Self::run) starts its tasks (it may be
    /// called from a thread outside the runtime).
    runtime: tokio::runtime::Handle,
}

/// A connected worker's loop and timers before they start.
struct Idle {
    runner: Runner,
    options: WorkerOptions,
    running: RunningMap,
    dispatcher: Arc<dyn Dispatcher>,
}

impl Worker {
    /// Starts a worker on `keys`' queue: [`connect`](Self::connect), then
    /// [`run`](Self::run).
    pub async fn start(
        client: Client,
        con: SharedConnection,
        keys: QueueKeys,
        options: WorkerOptions,
        dispatcher: Arc<dyn Dispatcher>,
    ) -> Result<Worker> {
        let worker = Self::connect(client, con, keys, options, dispatcher).await?;
        worker.run();
        Ok(worker)
    }

    /// A worker on `keys`' queue that is connected but does not run yet: its named connection
    /// (opened with `client`) is up, so BullMQ's `getWorkers` lists it, as it lists a BullMQ
    /// worker made with `autorun: false`; it fetches nothing, renews nothing, runs no stalled
    /// check and writes no heartbeat until [`run`](Self::run). `con` is the shared
    /// connection. Messages sent meanwhile (pause, concurrency) apply once it runs.
    pub async fn connect(
        client: Client,
        con: SharedConnection,
        keys: QueueKeys,
        options: WorkerOptions,
        dispatcher: Arc<dyn Dispatcher>,
    ) -> Result<Worker> {
        options.validate()?;
        let id = match options.id.clone() {
            Some(id) => id,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let (tx, rx) = unbounded_channel();
        let (watch_tx, watch_rx) = unbounded_channel();
        let running: RunningMap = Arc::default();
        let paused = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(WorkerStats::default());
        let client_id = Arc::new(AtomicU64::new(0));
        let marker_name = keys.worker_client_name(options.name.as_deref());
        // Connected before this returns (when Redis answers), so the worker is listed as soon
        // as its owner has it; if not, the watcher keeps trying.
        let marker_con =
            crate::marker::connect(&client, &marker_name, &keys.key("marker"), &client_id).await;
        let watcher = tokio::spawn(watch_marker(
            client,
            marker_name,
            marker_con,
            client_id.clone(),
            keys.key("marker"),
            options.drain_delay,
            watch_rx,
            {
                let tx = tx.clone();
                move || tx.send(Msg::MarkerWoke).is_ok()
            },
        ));
        let runner = Runner::new(
            id.clone(),
            con.clone(),
            keys.clone(),
            options.clone(),
            dispatcher.clone(),
            running.clone(),
            rx,
            watch_tx,
            paused.clone(),
            stats.clone(),
        );
        Ok(Worker {
            id,
            con,
            keys,
            tx,
            paused,
            stats,
            started: Instant::now(),
            tasks: Mutex::new(vec![watcher]),
            idle: Mutex::new(Some(Idle {
                runner,
                options,
                running,
                dispatcher,
            })),
            client_id,
            runtime: tokio::runtime::Handle::current(),
        })
    }

    /// Starts fetching, lock renewal, the stalled check and the heartbeat of a worker made
    /// by [`connect`](Self::connect); nothing if it runs already or was closed.
    pub fn run(&self) {
        let Some(idle) = self.idle.lock().expect("idle lock").take() else {
            return;
        };
        let Idle {
            runner,
            options,
            running,
            dispatcher,
        } = idle;
        let con = &self.con;
        let keys = &self.keys;
        let rt = &self.runtime;
        let renewer = rt.spawn(timers::renew_locks(
            con.clone(),
            keys.clone(),
            options.lock_duration,
            running,
            dispatcher.clone(),
        ));
        let checker = rt.spawn(timers::check_stalled(
            con.clone(),
            keys.clone(),
            options.clone(),
            dispatcher,
        ));
        let heartbeat = rt.spawn(timers::heartbeat(
            con.clone(),
            keys.clone(),
            self.id.clone(),
            options,
            self.stats.clone(),
            self.paused.clone(),
            self.tx.clone(),
        ));
        let main = rt.spawn(runner.run());
        self.tasks
            .lock()
            .expect("tasks lock")
            .extend([main, renewer, checker, heartbeat]);
    }

    /// The worker's id, unique across processes (its key in the worker registry).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Counters of what this worker did.
    pub fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    /// Time since the worker started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Reports the outcome of the job dispatched with `handle`. Cheap and non-blocking: the
    /// outcome is settled in Redis with the next round trip.
    pub fn report(&self, handle: u64, outcome: Outcome) {
        self.report_many(vec![(handle, outcome)]);
    }

    /// Reports several outcomes at once, so they settle in the same round trip.
    pub fn report_many(&self, outcomes: Vec<(u64, Outcome)>) {
        let _ = self.tx.send(Msg::Report(outcomes));
    }

    /// Stops fetching; running jobs carry on. (Another process asks through the worker
    /// registry, see [`crate::Engine::request_worker_pause`].)
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        let _ = self.tx.send(Msg::Poke);
    }

    /// Fetches again after [`pause`](Self::pause) (or a pause asked through the registry).
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
        let _ = self.tx.send(Msg::Poke);
    }

    /// Changes how many jobs run at once, from the next fetch on; running jobs carry on.
    pub fn set_concurrency(&self, concurrency: usize) -> Result<()> {
        if concurrency == 0 {
            return Err(Error::validation("concurrency", "must be at least 1"));
        }
        let _ = self.tx.send(Msg::SetConcurrency(concurrency));
        Ok(())
    }

    /// Sets [`WorkerOptions::max_started_attempts`] for the jobs fetched from now on (sent
    /// before [`run`](Self::run), it applies from the first fetch).
    pub fn set_max_started_attempts(&self, max: Option<u32>) {
        let _ = self.tx.send(Msg::MaxStartedAttempts(max));
    }

    /// Fetches no job for `duration` (running jobs carry on); a longer limit already in
    /// force stays.
    pub fn rate_limit(&self, duration: Duration) {
        let _ = self.tx.send(Msg::RateLimit(Instant::now() + duration));
    }

    /// Whether the worker is paused, locally or through the worker registry.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Stops fetching, waits up to `timeout` for running jobs, gives the unfinished ones back
    /// to the front of the queue, and stops every task and connection of the worker.
    pub async fn close(&self, timeout: Duration) {
        self.shut(timeout, false).await;
    }

    /// Closes as BullMQ's `close(true)`: stops fetching at once and forgets the running jobs
    /// without writing anything for them. Their locks are no longer renewed, so once they
    /// lapse the stalled check of a worker on the queue (any process, BullMQ's too) moves
    /// them back to wait (counting a stall, failing them past `max_stalled_count`); outcomes
    /// reported for them afterwards are ignored. Outcomes reported before are still settled,
    /// and held jobs, never started, are given back.
    pub async fn close_abandoning(&self) {
        self.shut(Duration::ZERO, true).await;
    }

    async fn shut(&self, timeout: Duration, abandon: bool) {
        // never run: no loop to stop, no registry entry to leave
        let never_ran = self.idle.lock().expect("idle lock").take().is_some();
        let (done_tx, done_rx) = oneshot::channel();
        let close = Msg::Close {
            deadline: Instant::now() + timeout,
            abandon,
            done: done_tx,
        };
        if !never_ran && self.tx.send(close).is_ok() {
            let _ = done_rx.await;
        }
        let tasks: Vec<JoinHandle<()>> = self.tasks.lock().expect("tasks lock").drain(..).collect();
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
        // The named connection is gone with the watcher task, but Redis sees its socket close
        // a moment later; wait (bounded, best effort) until Redis no longer lists it, so
        // BullMQ's getWorkers no longer lists the worker once close returns. A poll of
        // CLIENT LIST ID rather than CLIENT KILL: the ACL a user needs (lib/acl.js) then
        // grants no power over other clients' connections.
        let client_id = self.client_id.load(Ordering::SeqCst);
        let mut con = self.con.clone();
        if client_id != 0 {
            // the id is the marker server's (a cluster numbers connections per node)
            let mut con = self.con.at_key(&self.keys.key("marker"));
            let gone = async {
                loop {
                    let listed: redis::RedisResult<String> = redis::cmd("CLIENT")
                        .arg("LIST")
                        .arg("ID")
                        .arg(client_id)
                        .query_async(&mut con)
                        .await;
                    match listed {
                        Ok(text) if !text.trim().is_empty() => {
                            tokio::time::sleep(Duration::from_millis(5)).await
                        }
                        _ => break,
                    }
                }
            };
            let _ = tokio::time::timeout(CLOSE_STEP_WITHIN, gone).await;
        }
        if never_ran {
            return;
        }
        // leave the registry; if Redis is unreachable the entry goes stale and is forgotten
        // (bounded: the connection may be set to wait for Redis forever)
        let leave = crate::scripts::worker_heartbeat(
            &mut con,
            &self.keys.prefix,
            &self.id,
            crate::time::now_ms(),
            None,
            crate::registry::FORGET_AFTER,
        );
        let _ = tokio::time::timeout(CLOSE_STEP_WITHIN, leave).await;
    }
}
