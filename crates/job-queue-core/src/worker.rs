//! The worker: fetches jobs, hands them to a processor, settles them, renews their locks and
//! runs the stalled check, all on Rust tasks so a busy JavaScript event loop never makes a
//! healthy job look stalled.
//!
//! One loop owns the worker's state. Processors report outcomes through a channel; every
//! round trip to Redis settles all outcomes gathered so far and fetches enough jobs to refill
//! the concurrency in the same script call. When the queue is empty the loop parks and a
//! separate task blocks on the queue's marker (BZPOPMIN) on its own connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::Client;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::job::Job;
use crate::keys::QueueKeys;
use crate::marker::watch_marker;
use crate::options::{KeepPolicy, StoredOptions};
use crate::scripts::{self, Action, Fetch, Settle};
use crate::time::now_ms;

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
    /// Shown by BullMQ's `getWorkers` and stored as the job's `processedBy`.
    pub name: Option<String>,
    /// At most `.0` jobs per `.1` across every worker of the queue.
    pub limiter: Option<(u64, Duration)>,
    /// Used when a job's own options say nothing (default: keep every finished job).
    pub remove_on_complete: KeepPolicy,
    pub remove_on_fail: KeepPolicy,
    /// Longest blocking wait on the marker when no delayed job is due sooner (default 5 s).
    pub drain_delay: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            concurrency: 1,
            lock_duration: Duration::from_secs(30),
            stalled_interval: Duration::from_secs(30),
            max_stalled_count: 1,
            name: None,
            limiter: None,
            remove_on_complete: KeepPolicy::KEEP_ALL,
            remove_on_fail: KeepPolicy::KEEP_ALL,
            drain_delay: Duration::from_secs(5),
        }
    }
}

impl WorkerOptions {
    pub fn validate(&self) -> Result<()> {
        if self.concurrency == 0 {
            return Err(Error::validation("concurrency", "must be at least 1"));
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
    Failed(Failure),
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub stack: Option<String>,
    /// Fail for good, whatever attempts remain.
    pub unrecoverable: bool,
}

/// A job handed to the processor; `handle` identifies it when reporting the outcome.
#[derive(Debug, serde::Serialize)]
pub struct Dispatched {
    pub handle: u64,
    pub job: Job,
}

/// Things the worker tells its owner, in batches.
#[derive(Debug, Clone)]
pub enum WorkerEvent {
    Completed {
        id: String,
        return_value: String,
    },
    /// `retrying` is false when the job has failed for good.
    Failed {
        id: String,
        reason: String,
        retrying: bool,
    },
    Stalled {
        id: String,
    },
    Error {
        message: String,
    },
}

/// The processor side: JavaScript in the binding, a closure in tests.
pub trait Dispatcher: Send + Sync + 'static {
    /// Starts processing `jobs`; must not block. Outcomes come back through
    /// [`Worker::report`].
    fn dispatch(&self, jobs: Vec<Dispatched>);
    fn events(&self, events: Vec<WorkerEvent>);
}

/// Counters for `getWorkerStatus`.
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub last_activity_ms: AtomicU64,
}

enum Msg {
    Report(u64, Outcome),
    MarkerWoke,
    Poke,
    Close(Instant, oneshot::Sender<()>),
}

/// A running worker. Dropping it does not stop it; call [`Worker::close`].
pub struct Worker {
    id: String,
    tx: UnboundedSender<Msg>,
    paused: Arc<AtomicBool>,
    stats: Arc<WorkerStats>,
    started: Instant,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A job this worker runs, with what settling it needs from its fetched hash.
struct Running {
    id: String,
    token: String,
    opts: StoredOptions,
    attempts_made: u32,
    priority: u64,
    dedup_id: Option<String>,
    stacktrace: Vec<String>,
}

impl Running {
    fn new(job: &Job, token: &str) -> Self {
        Self {
            id: job.id.clone(),
            token: token.to_owned(),
            opts: StoredOptions::parse(job.opts.get()),
            attempts_made: job.attempts_made,
            priority: job.priority,
            dedup_id: job.dedup_id.clone(),
            stacktrace: job.stacktrace.clone(),
        }
    }

    fn settle(self, action: Action, stacktrace: Option<String>, attempts_made: u32) -> Settle {
        Settle {
            id: self.id,
            token: self.token,
            action,
            stacktrace,
            attempts_made,
            dedup_id: self.dedup_id,
        }
    }
}

type RunningMap = Arc<Mutex<HashMap<u64, Running>>>;

impl Worker {
    /// Starts a worker on `keys`' queue. `con` is the shared connection; `client` opens the
    /// worker's own blocking connection.
    pub async fn start(
        client: Client,
        con: ConnectionManager,
        keys: QueueKeys,
        options: WorkerOptions,
        dispatcher: Arc<dyn Dispatcher>,
    ) -> Result<Worker> {
        options.validate()?;
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = unbounded_channel();
        let (watch_tx, watch_rx) = unbounded_channel();
        let running: RunningMap = Arc::default();
        let paused = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(WorkerStats::default());
        let marker_name = keys.worker_client_name(options.name.as_deref());
        let watcher = tokio::spawn(watch_marker(
            client,
            marker_name,
            keys.key("marker"),
            options.drain_delay,
            watch_rx,
            {
                let tx = tx.clone();
                move || tx.send(Msg::MarkerWoke).is_ok()
            },
        ));
        let renewer = tokio::spawn(renew_locks(
            con.clone(),
            keys.clone(),
            options.lock_duration,
            running.clone(),
            dispatcher.clone(),
        ));
        let checker = tokio::spawn(check_stalled(
            con.clone(),
            keys.clone(),
            options.clone(),
            dispatcher.clone(),
        ));
        let runner = Runner {
            token_base: id.clone(),
            seq: 0,
            next_handle: 1,
            con,
            keys,
            options,
            dispatcher,
            running,
            pending: Vec::new(),
            rx,
            watch_tx,
            watching: false,
            idle: false,
            next_delayed_ms: None,
            rate_until: None,
            closing: None,
            paused: paused.clone(),
            stats: stats.clone(),
            retry_backoff: Duration::from_millis(50),
        };
        let main = tokio::spawn(runner.run());
        Ok(Worker {
            id,
            tx,
            paused,
            stats,
            started: Instant::now(),
            tasks: Mutex::new(vec![main, watcher, renewer, checker]),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Reports the outcome of the job dispatched with `handle`. Cheap and non-blocking: the
    /// outcome is settled in Redis with the next round trip.
    pub fn report(&self, handle: u64, outcome: Outcome) {
        let _ = self.tx.send(Msg::Report(handle, outcome));
    }

    /// Stops fetching; running jobs carry on.
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        let _ = self.tx.send(Msg::Poke);
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
        let _ = self.tx.send(Msg::Poke);
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Stops fetching, waits up to `timeout` for running jobs, gives the unfinished ones back
    /// to the front of the queue, and stops every task and connection of the worker.
    pub async fn close(&self, timeout: Duration) {
        let (done_tx, done_rx) = oneshot::channel();
        if self
            .tx
            .send(Msg::Close(Instant::now() + timeout, done_tx))
            .is_ok()
        {
            let _ = done_rx.await;
        }
        for task in self.tasks.lock().expect("tasks lock").drain(..) {
            task.abort();
        }
    }
}

struct Runner {
    token_base: String,
    seq: u64,
    next_handle: u64,
    con: ConnectionManager,
    keys: QueueKeys,
    options: WorkerOptions,
    dispatcher: Arc<dyn Dispatcher>,
    running: RunningMap,
    /// Outcomes waiting for the next round trip, with the event each one announces.
    pending: Vec<(Settle, WorkerEvent)>,
    rx: UnboundedReceiver<Msg>,
    watch_tx: UnboundedSender<Option<u64>>,
    watching: bool,
    /// The last fetch found nothing; wait for the marker before fetching again.
    idle: bool,
    next_delayed_ms: Option<u64>,
    rate_until: Option<Instant>,
    closing: Option<(Instant, Vec<oneshot::Sender<()>>)>,
    paused: Arc<AtomicBool>,
    stats: Arc<WorkerStats>,
    retry_backoff: Duration,
}

impl Runner {
    async fn run(mut self) {
        loop {
            while let Ok(msg) = self.rx.try_recv() {
                self.on_msg(msg);
            }
            if let Some((deadline, _)) = &self.closing {
                if Instant::now() >= *deadline {
                    self.release_all();
                }
                if self.running_count() == 0 && self.pending.is_empty() {
                    break;
                }
            }
            let want = self.capacity();
            let rate_ok = self.rate_until.is_none_or(|t| Instant::now() >= t);
            let fetch = want > 0 && !self.idle && rate_ok;
            if fetch || !self.pending.is_empty() {
                self.round_trip(if fetch { want } else { 0 }).await;
                continue;
            }
            if want > 0 && self.idle && !self.watching {
                self.watching = self.watch_tx.send(self.next_delayed_ms).is_ok();
            }
            let wake_at = [self.rate_until, self.closing.as_ref().map(|(d, _)| *d)]
                .into_iter()
                .flatten()
                .min();
            let msg = match wake_at {
                Some(at) => match tokio::time::timeout_at(at.into(), self.rx.recv()).await {
                    Ok(msg) => msg,
                    Err(_) => {
                        self.rate_until = None;
                        continue;
                    }
                },
                None => self.rx.recv().await,
            };
            match msg {
                Some(msg) => self.on_msg(msg),
                None => break,
            }
        }
        if let Some((_, waiters)) = self.closing.take() {
            for w in waiters {
                let _ = w.send(());
            }
        }
    }

    fn running_count(&self) -> usize {
        self.running.lock().expect("running lock").len()
    }

    fn capacity(&self) -> usize {
        if self.closing.is_some() || self.paused.load(Ordering::SeqCst) {
            return 0;
        }
        self.options
            .concurrency
            .saturating_sub(self.running_count())
    }

    fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Report(handle, outcome) => {
                let run = self.running.lock().expect("running lock").remove(&handle);
                if let Some(run) = run {
                    let settled = self.settle(run, outcome);
                    self.pending.push(settled);
                }
            }
            Msg::MarkerWoke => {
                self.watching = false;
                self.idle = false;
            }
            Msg::Poke => self.idle = false,
            Msg::Close(deadline, done) => match &mut self.closing {
                Some((_, waiters)) => waiters.push(done),
                None => self.closing = Some((deadline, vec![done])),
            },
        }
    }

    /// Gives every running job back to the queue (shutdown timeout passed).
    fn release_all(&mut self) {
        let released: Vec<Running> = self
            .running
            .lock()
            .expect("running lock")
            .drain()
            .map(|(_, r)| r)
            .collect();
        for run in released {
            let event = WorkerEvent::Error {
                message: format!("job {} did not finish before shutdown; released", run.id),
            };
            let attempts_made = run.attempts_made;
            self.pending
                .push((run.settle(Action::Release, None, attempts_made), event));
        }
    }

    /// Decides what an outcome does to the job: complete, retry (now or later), or fail.
    fn settle(&self, mut run: Running, outcome: Outcome) -> (Settle, WorkerEvent) {
        match outcome {
            Outcome::Completed(return_value) => {
                let action = Action::Completed {
                    return_value: return_value.clone(),
                    keep: run
                        .opts
                        .remove_on_complete
                        .unwrap_or(self.options.remove_on_complete),
                    attempts: run.opts.attempts,
                };
                let event = WorkerEvent::Completed {
                    id: run.id.clone(),
                    return_value,
                };
                let attempts_made = run.attempts_made + 1;
                (run.settle(action, None, attempts_made), event)
            }
            Outcome::Failed(failure) => {
                let attempt = run.attempts_made + 1;
                let mut stacktrace = std::mem::take(&mut run.stacktrace);
                if let Some(stack) = failure.stack {
                    stacktrace.push(stack);
                }
                if let Some(limit) = run.opts.stack_trace_limit {
                    let excess = stacktrace.len().saturating_sub(limit);
                    stacktrace.drain(..excess);
                }
                let retrying = !failure.unrecoverable && attempt < run.opts.attempts;
                let reason = failure.message;
                let action = if retrying {
                    let delay = run
                        .opts
                        .backoff
                        .map(|b| b.delay_after(attempt, rand::random::<f64>()))
                        .unwrap_or_default();
                    if delay.is_zero() {
                        Action::RetryNow {
                            reason: reason.clone(),
                            lifo: run.opts.lifo,
                            priority: run.priority,
                        }
                    } else {
                        Action::RetryLater {
                            reason: reason.clone(),
                            delay,
                        }
                    }
                } else {
                    Action::Failed {
                        reason: reason.clone(),
                        keep: run
                            .opts
                            .remove_on_fail
                            .unwrap_or(self.options.remove_on_fail),
                        attempts: run.opts.attempts,
                    }
                };
                let event = WorkerEvent::Failed {
                    id: run.id.clone(),
                    reason,
                    retrying,
                };
                let stack = serde_json::to_string(&stacktrace).expect("strings serialise");
                (run.settle(action, Some(stack), attempt), event)
            }
        }
    }

    async fn round_trip(&mut self, count: usize) {
        self.seq += 1;
        let token = format!("{}:{}", self.token_base, self.seq);
        let (settle, events): (Vec<Settle>, Vec<WorkerEvent>) =
            std::mem::take(&mut self.pending).into_iter().unzip();
        let fetch = Fetch {
            token: &token,
            lock: self.options.lock_duration,
            count,
            worker_name: self.options.name.as_deref(),
            limiter: self.options.limiter,
        };
        let result =
            scripts::finish_and_fetch(&mut self.con, &self.keys, now_ms(), &settle, fetch).await;
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                // Keep the outcomes and try again: settling is idempotent per lock token.
                self.pending = settle.into_iter().zip(events).collect();
                self.dispatcher.events(vec![WorkerEvent::Error {
                    message: e.to_string(),
                }]);
                tokio::time::sleep(self.retry_backoff).await;
                self.retry_backoff = (self.retry_backoff * 2).min(Duration::from_secs(2));
                return;
            }
        };
        self.retry_backoff = Duration::from_millis(50);
        let mut out = Vec::with_capacity(events.len());
        for (status, event) in result.settled.into_iter().zip(events) {
            match status {
                Ok(()) => {
                    match &event {
                        WorkerEvent::Completed { .. } => &self.stats.completed,
                        _ => &self.stats.failed,
                    }
                    .fetch_add(1, Ordering::Relaxed);
                    out.push(event);
                }
                Err(e) => out.push(WorkerEvent::Error {
                    message: e.to_string(),
                }),
            }
        }
        let fetched = result.jobs.len() + result.unreadable.len();
        let mut batch = Vec::with_capacity(result.jobs.len());
        {
            let mut running = self.running.lock().expect("running lock");
            for job in result.jobs {
                let run = Running::new(&job, &token);
                if let Some(reason) = &job.deferred_failure {
                    let failure = Failure {
                        message: reason.clone(),
                        stack: None,
                        unrecoverable: true,
                    };
                    self.pending
                        .push(self.settle(run, Outcome::Failed(failure)));
                    continue;
                }
                let handle = self.next_handle;
                self.next_handle += 1;
                running.insert(handle, run);
                batch.push(Dispatched { handle, job });
            }
        }
        for (id, err) in result.unreadable {
            let run = Running {
                id,
                token: token.clone(),
                opts: StoredOptions::default(),
                attempts_made: 0,
                priority: 0,
                dedup_id: None,
                stacktrace: Vec::new(),
            };
            let failure = Failure {
                message: err.to_string(),
                stack: None,
                unrecoverable: true,
            };
            self.pending
                .push(self.settle(run, Outcome::Failed(failure)));
        }
        if fetched > 0 || !out.is_empty() {
            self.stats
                .last_activity_ms
                .store(now_ms(), Ordering::Relaxed);
        }
        if !batch.is_empty() {
            self.dispatcher.dispatch(batch);
        }
        if !out.is_empty() {
            self.dispatcher.events(out);
        }
        if count > 0 {
            self.rate_until = result.rate_limited.map(|d| Instant::now() + d);
            self.idle = fetched == 0 && self.rate_until.is_none();
            self.next_delayed_ms = result.next_delayed_ms;
        }
    }
}

/// Renews the locks of running jobs every half lock duration, from Rust, so a blocked JS
/// event loop cannot let them expire.
async fn renew_locks(
    mut con: ConnectionManager,
    keys: QueueKeys,
    lock: Duration,
    running: RunningMap,
    dispatcher: Arc<dyn Dispatcher>,
) {
    let mut tick = tokio::time::interval(lock / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let jobs: Vec<(String, String)> = running
            .lock()
            .expect("running lock")
            .values()
            .map(|r| (r.id.clone(), r.token.clone()))
            .collect();
        match scripts::extend_locks(&mut con, &keys, lock, &jobs).await {
            Ok(lost) if lost.is_empty() => {}
            Ok(lost) => dispatcher.events(
                lost.into_iter()
                    .map(|id| WorkerEvent::Error {
                        message: format!("lock of job {id} could not be renewed"),
                    })
                    .collect(),
            ),
            Err(e) => dispatcher.events(vec![WorkerEvent::Error {
                message: format!("lock renewal failed: {e}"),
            }]),
        }
    }
}

/// Runs the queue's stalled check now and every `stalled_interval`.
async fn check_stalled(
    mut con: ConnectionManager,
    keys: QueueKeys,
    options: WorkerOptions,
    dispatcher: Arc<dyn Dispatcher>,
) {
    let mut tick = tokio::time::interval(options.stalled_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let result = scripts::check_stalled(
            &mut con,
            &keys,
            options.max_stalled_count,
            now_ms(),
            options.stalled_interval,
        )
        .await;
        match result {
            Ok(check) if check.recovered.is_empty() => {}
            Ok(check) => dispatcher.events(
                check
                    .recovered
                    .into_iter()
                    .map(|id| WorkerEvent::Stalled { id })
                    .collect(),
            ),
            Err(e) => dispatcher.events(vec![WorkerEvent::Error {
                message: format!("stalled check failed: {e}"),
            }]),
        }
    }
}
