//! The worker loop. It owns the worker's state: jobs running, outcomes waiting to be settled,
//! and up to [`MAX_TRIPS`] script calls in flight, so Redis works on one batch while the
//! processor works on another.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::connection::SharedConnection;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;

use super::prefetch::PrefetchPolicy;
use super::{Dispatched, Dispatcher, Failure, Outcome, WorkerEvent, WorkerOptions, WorkerStats};
use crate::error::Result;
use crate::job::Job;
use crate::keys::QueueKeys;
use crate::metrics::{AttemptEnd, MetricsBatch, MetricsFlush};
use crate::options::StoredOptions;
use crate::schedule::NextIteration;
use crate::scripts::{self, Action, Fetch, FetchResult, Settle};
use crate::time::now_ms;

/// Script calls a worker keeps in flight at once.
const MAX_TRIPS: usize = 2;

/// Tries at queueing a scheduler's next iteration before reporting an error.
const SCHEDULE_ATTEMPTS: u32 = 5;

pub(crate) enum Msg {
    Report(Vec<(u64, Outcome)>),
    MarkerWoke,
    Poke,
    SetConcurrency(usize),
    /// Fetch nothing before this.
    RateLimit(Instant),
    Close(Instant, oneshot::Sender<()>),
}

/// A job this worker runs, with what settling it needs from its fetched hash.
pub(super) struct Running {
    id: String,
    name: String,
    token: String,
    opts: StoredOptions,
    attempts_made: u32,
    priority: u64,
    dedup_id: Option<String>,
    stacktrace: Vec<String>,
    /// When this attempt started (`processedOn`), and on a first attempt how long the job
    /// had been runnable before it, for the latency metrics.
    started_ms: u64,
    waited_ms: Option<u64>,
    /// When the processor got the job (none while it is held ahead).
    dispatched: Option<Instant>,
}

impl Running {
    fn new(job: &Job, token: &str) -> Self {
        Self {
            id: job.id.clone(),
            name: job.name.clone(),
            token: token.to_owned(),
            opts: StoredOptions::parse(job.opts.get()),
            attempts_made: job.attempts_made,
            priority: job.priority,
            dedup_id: job.dedup_id.clone(),
            stacktrace: job.stacktrace.clone(),
            started_ms: job.processed_on.unwrap_or_else(now_ms),
            waited_ms: (job.attempts_made == 0).then(|| {
                let runnable = job.timestamp + job.delay;
                job.processed_on
                    .unwrap_or(runnable)
                    .saturating_sub(runnable)
            }),
            dispatched: None,
        }
    }

    /// How long an attempt may run: the job's own timeout, else the worker's.
    fn timeout(&self, options: &WorkerOptions) -> Option<Duration> {
        self.opts.timeout.or(options.timeout)
    }

    /// The job id and the token its lock holds, for renewal.
    pub(super) fn lock(&self) -> (String, String) {
        (self.id.clone(), self.token.clone())
    }

    fn settle(self, action: Action, stacktrace: Option<String>, attempts_made: u32) -> Settle {
        Settle {
            id: self.id,
            token: self.token,
            action,
            stacktrace,
            attempts_made,
            dedup_id: self.dedup_id,
            error_name: None,
        }
    }
}

pub(super) type RunningMap = Arc<Mutex<HashMap<u64, Running>>>;

/// A script call in flight.
type TripCall = Pin<Box<dyn Future<Output = Trip> + Send>>;

/// The oldest call in flight, finished; pending while none is.
async fn oldest(trips: &mut VecDeque<TripCall>) -> Trip {
    match trips.front_mut() {
        Some(call) => call.await,
        None => std::future::pending().await,
    }
}

/// A finished script call, with what was sent.
struct Trip {
    token: String,
    count: usize,
    settle: Vec<Settle>,
    events: Vec<Option<WorkerEvent>>,
    metrics: MetricsFlush,
    result: Result<FetchResult>,
}

pub(super) struct Runner {
    token_base: String,
    seq: u64,
    next_handle: u64,
    con: SharedConnection,
    keys: Arc<QueueKeys>,
    options: WorkerOptions,
    dispatcher: Arc<dyn Dispatcher>,
    running: RunningMap,
    /// Outcomes waiting for the next round trip, with the event each one announces (none for
    /// a job given back unprocessed).
    pending: Vec<(Settle, Option<WorkerEvent>)>,
    /// Fetched jobs waiting for a processing slot (prefetch).
    buffer: VecDeque<Dispatched>,
    prefetch: PrefetchPolicy,
    /// Jobs handed to the processor and not reported yet.
    processing: usize,
    /// Metric increments not yet sent.
    metrics: MetricsBatch,
    /// When dispatched jobs with a timeout run out of time, soonest first.
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Script calls in flight, oldest first, finished in that order: they share one connection,
    /// so Redis runs them in the order they started, and the jobs they fetch must reach the
    /// processor in that order too (FIFO at concurrency 1, with a job held ahead).
    trips: VecDeque<TripCall>,
    /// Jobs asked for by trips in flight: capacity they may fill.
    reserved: usize,
    rx: UnboundedReceiver<Msg>,
    watch_tx: UnboundedSender<Option<u64>>,
    watching: bool,
    /// The last fetch found nothing; wait for the marker before fetching again.
    idle: bool,
    next_delayed_ms: Option<u64>,
    rate_until: Option<Instant>,
    /// After a failed call, no new one before this (`retry_process_delay` after the failure).
    retry_at: Option<Instant>,
    closing: Option<(Instant, Vec<oneshot::Sender<()>>)>,
    paused: Arc<AtomicBool>,
    stats: Arc<WorkerStats>,
}

impl Runner {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        token_base: String,
        con: SharedConnection,
        keys: QueueKeys,
        options: WorkerOptions,
        dispatcher: Arc<dyn Dispatcher>,
        running: RunningMap,
        rx: UnboundedReceiver<Msg>,
        watch_tx: UnboundedSender<Option<u64>>,
        paused: Arc<AtomicBool>,
        stats: Arc<WorkerStats>,
    ) -> Self {
        let prefetch = PrefetchPolicy::new(options.prefetch, options.limiter.is_some());
        Self {
            token_base,
            seq: 0,
            next_handle: 1,
            con,
            keys: Arc::new(keys),
            options,
            dispatcher,
            running,
            pending: Vec::new(),
            buffer: VecDeque::new(),
            prefetch,
            processing: 0,
            deadlines: BinaryHeap::new(),
            metrics: MetricsBatch::default(),
            trips: VecDeque::new(),
            reserved: 0,
            rx,
            watch_tx,
            watching: false,
            idle: false,
            next_delayed_ms: None,
            rate_until: None,
            retry_at: None,
            closing: None,
            paused,
            stats,
        }
    }

    pub(super) async fn run(mut self) {
        loop {
            while let Ok(msg) = self.rx.try_recv() {
                self.on_msg(msg);
            }
            if self.closing.is_some() || self.paused.load(Ordering::SeqCst) {
                self.release_buffer();
            }
            if let Some((deadline, _)) = &self.closing {
                if Instant::now() >= *deadline {
                    self.release_all();
                }
                if self.running_count() == 0
                    && self.pending.is_empty()
                    && self.trips.is_empty()
                    && self.metrics.is_empty()
                {
                    break;
                }
            }
            let now = Instant::now();
            let want = self.capacity();
            let rate_ok = self.rate_until.is_none_or(|t| now >= t);
            let fetch = want > 0 && !self.idle && rate_ok;
            let may_call = self.trips.len() < MAX_TRIPS && self.retry_at.is_none_or(|t| now >= t);
            let flush = self
                .metrics
                .due_at()
                .is_some_and(|at| now >= at || self.closing.is_some());
            if may_call && (fetch || flush || !self.pending.is_empty()) {
                // At most half the concurrency per trip, so two trips can overlap.
                let count = want.min(self.options.concurrency.div_ceil(MAX_TRIPS));
                self.start_trip(if fetch { count } else { 0 }, flush);
                continue;
            }
            if want > 0 && self.idle && !self.watching && self.trips.is_empty() {
                self.watching = self.watch_tx.send(self.next_delayed_ms).is_ok();
            }
            let wake_at = [
                self.rate_until,
                self.retry_at,
                self.closing.as_ref().map(|(d, _)| *d),
                self.deadlines.peek().map(|Reverse((at, _))| *at),
                // with every trip slot taken, a trip's end wakes the loop anyway
                self.metrics
                    .due_at()
                    .filter(|_| self.trips.len() < MAX_TRIPS),
            ]
            .into_iter()
            .flatten()
            .min();
            let sleep = async {
                match wake_at {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                trip = oldest(&mut self.trips), if !self.trips.is_empty() => {
                    self.trips.pop_front();
                    self.finish_trip(trip);
                }
                msg = self.rx.recv() => match msg {
                    Some(msg) => self.on_msg(msg),
                    None => break,
                },
                () = sleep => {
                    let now = Instant::now();
                    if self.rate_until.is_some_and(|t| now >= t) {
                        self.rate_until = None;
                    }
                    if self.retry_at.is_some_and(|t| now >= t) {
                        self.retry_at = None;
                    }
                    self.expire(now);
                }
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

    /// How many more jobs to fetch: enough to fill the processing slots and the prefetch.
    fn capacity(&self) -> usize {
        if self.closing.is_some() || self.paused.load(Ordering::SeqCst) {
            return 0;
        }
        (self.options.concurrency + self.prefetch.ahead())
            .saturating_sub(self.running_count() + self.reserved)
    }

    /// Hands buffered jobs to the processor while it has free slots, in one batch.
    fn dispatch_ready(&mut self) {
        let free = self.options.concurrency.saturating_sub(self.processing);
        let n = free.min(self.buffer.len());
        if n > 0 {
            self.processing += n;
            let batch: Vec<Dispatched> = self.buffer.drain(..n).collect();
            self.start_clocks(&batch);
            self.dispatcher.dispatch(batch);
        }
    }

    /// Notes when each dispatched job started, and starts the timeout of those that have one.
    fn start_clocks(&mut self, batch: &[Dispatched]) {
        let now = Instant::now();
        let mut running = self.running.lock().expect("running lock");
        for d in batch {
            let Some(run) = running.get_mut(&d.handle) else {
                continue;
            };
            run.dispatched = Some(now);
            if let Some(t) = run.timeout(&self.options) {
                self.deadlines.push(Reverse((now + t, d.handle)));
            }
        }
    }

    /// Fails the jobs whose time ran out (spec: a processor that hangs must not keep its job
    /// locked forever), frees their slots, and tells the processor to abort them.
    fn expire(&mut self, now: Instant) {
        let mut aborted = Vec::new();
        while let Some(Reverse((at, handle))) = self.deadlines.peek().copied() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            let run = self.running.lock().expect("running lock").remove(&handle);
            let Some(run) = run else { continue }; // finished in time
            self.processing -= 1;
            let timeout = run.timeout(&self.options).unwrap_or_default();
            tracing::warn!(queue = %self.keys.queue, job_id = %run.id, worker_id = %self.token_base,
                timeout_ms = timeout.as_millis() as u64, "job timed out");
            aborted.push(WorkerEvent::TimedOut {
                handle,
                id: run.id.clone(),
            });
            let failure = Failure {
                name: Some("TimeoutError".into()),
                message: format!("job timed out after {} ms", timeout.as_millis()),
                stack: None,
                unrecoverable: false,
            };
            let settled = self.settle(run, Outcome::Failed(failure), Some(handle));
            self.pending.push(settled);
        }
        if !aborted.is_empty() {
            self.dispatcher.events(aborted);
            self.dispatch_ready();
        }
    }

    /// Gives prefetched jobs back to the front of the queue (pause or close).
    fn release_buffer(&mut self) {
        for d in std::mem::take(&mut self.buffer) {
            let run = self.running.lock().expect("running lock").remove(&d.handle);
            if let Some(run) = run {
                let attempts_made = run.attempts_made;
                self.pending
                    .push((run.settle(Action::Release, None, attempts_made), None));
            }
        }
    }

    fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Report(outcomes) => {
                for (handle, outcome) in outcomes {
                    let run = self.running.lock().expect("running lock").remove(&handle);
                    if let Some(run) = run {
                        self.processing -= 1;
                        if let Some(at) = run.dispatched {
                            self.prefetch.record(at.elapsed());
                        }
                        if matches!(outcome, Outcome::Moved) {
                            continue;
                        }
                        let settled = self.settle(run, outcome, Some(handle));
                        self.pending.push(settled);
                    }
                }
                self.dispatch_ready();
            }
            Msg::MarkerWoke => {
                self.watching = false;
                self.idle = false;
            }
            Msg::Poke => self.idle = false,
            Msg::SetConcurrency(n) => {
                self.options.concurrency = n;
                self.idle = false;
                self.dispatch_ready();
            }
            Msg::RateLimit(until) => self.rate_until = self.rate_until.max(Some(until)),
            Msg::Close(deadline, done) => match &mut self.closing {
                Some((_, waiters)) => waiters.push(done),
                None => self.closing = Some((deadline, vec![done])),
            },
        }
    }

    /// Gives every running job back to the queue (shutdown timeout passed).
    fn release_all(&mut self) {
        self.buffer.clear();
        self.processing = 0;
        let released: Vec<(u64, Running)> =
            self.running.lock().expect("running lock").drain().collect();
        for (handle, run) in released {
            let event = Some(WorkerEvent::JobError {
                message: format!("job {} did not finish before shutdown; released", run.id),
                id: run.id.clone(),
                handle: Some(handle),
            });
            let attempts_made = run.attempts_made;
            self.pending
                .push((run.settle(Action::Release, None, attempts_made), event));
        }
    }

    /// Decides what an outcome does to the job: complete, retry (now or later), or fail.
    /// `handle` is the one the job was dispatched with (none for a job never dispatched).
    fn settle(
        &mut self,
        run: Running,
        outcome: Outcome,
        handle: Option<u64>,
    ) -> (Settle, Option<WorkerEvent>) {
        let ran_ms = now_ms().saturating_sub(run.started_ms);
        match outcome {
            Outcome::Completed(return_value) => {
                self.metrics
                    .record(&run.name, AttemptEnd::Completed, ran_ms, run.waited_ms);
                let action = Action::Completed {
                    return_value: return_value.clone(),
                    keep: run
                        .opts
                        .remove_on_complete
                        .unwrap_or(self.options.remove_on_complete),
                    attempts: run.opts.attempts,
                };
                let event = WorkerEvent::Completed {
                    handle,
                    id: run.id.clone(),
                    return_value,
                };
                let attempts_made = run.attempts_made + 1;
                (run.settle(action, None, attempts_made), Some(event))
            }
            Outcome::Release => {
                let attempts_made = run.attempts_made;
                (run.settle(Action::Release, None, attempts_made), None)
            }
            Outcome::Moved => unreachable!("a moved job is forgotten before settling"),
            Outcome::Failed(failure) => self.settle_failed(run, failure, None, handle),
            Outcome::FailedWithDelay(failure, delay) => {
                self.settle_failed(run, failure, Some(delay), handle)
            }
        }
    }

    /// A failed attempt: retry now, later (after `delay`, else the job's backoff), or fail
    /// for good.
    fn settle_failed(
        &mut self,
        mut run: Running,
        failure: Failure,
        delay: Option<Duration>,
        handle: Option<u64>,
    ) -> (Settle, Option<WorkerEvent>) {
        let ran_ms = now_ms().saturating_sub(run.started_ms);
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
        let end = if retrying {
            AttemptEnd::Retried
        } else {
            AttemptEnd::Failed
        };
        self.metrics.record(&run.name, end, ran_ms, run.waited_ms);
        let reason = failure.message;
        let retry = &self.options.retry;
        let action = if retrying {
            let delay = delay.unwrap_or_else(|| {
                run.opts
                    .backoff
                    .map(|b| b.delay_after(attempt, retry, rand::random::<f64>()))
                    .unwrap_or_default()
            });
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
            handle,
            id: run.id.clone(),
            name: run.name.clone(),
            error_name: failure.name.clone(),
            reason,
            retrying,
        };
        let stack = serde_json::to_string(&stacktrace).expect("strings serialise");
        let mut settle = run.settle(action, Some(stack), attempt);
        settle.error_name = failure.name;
        (settle, Some(event))
    }

    /// Sends the pending outcomes (and the metric increments, when `flush`) and asks for
    /// `count` jobs, without waiting for the answer.
    fn start_trip(&mut self, count: usize, flush: bool) {
        self.seq += 1;
        let token = format!("{}:{}", self.token_base, self.seq);
        let (settle, events): (Vec<Settle>, Vec<Option<WorkerEvent>>) =
            std::mem::take(&mut self.pending).into_iter().unzip();
        self.reserved += count;
        let mut con = self.con.clone();
        let keys = self.keys.clone();
        let lock = self.options.lock_duration;
        let worker_name = self.options.name.clone();
        let limiter = self.options.limiter;
        let metric_points = self.options.metric_points;
        let metrics = if flush {
            self.metrics.take()
        } else {
            MetricsFlush::default()
        };
        let mut call: TripCall = Box::pin(async move {
            let fetch = Fetch {
                token: &token,
                lock,
                count,
                worker_name: worker_name.as_deref(),
                limiter,
                metric_points,
                metrics: &metrics,
            };
            let result = scripts::finish_and_fetch(&mut con, &keys, now_ms(), &settle, fetch).await;
            Trip {
                token,
                count,
                settle,
                events,
                metrics,
                result,
            }
        });
        // Polled once here, the call joins the connection's pipeline now, in the order trips
        // start, whatever order they are awaited in later.
        if let Poll::Ready(trip) = call.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            call = Box::pin(std::future::ready(trip));
        }
        self.trips.push_back(call);
    }

    /// Fails a fetched job for good without running it (it stalled too often, or its hash is
    /// unreadable).
    fn fail_unrun(&mut self, run: Running, message: String) {
        let failure = Failure {
            name: None,
            message,
            stack: None,
            unrecoverable: true,
        };
        let settled = self.settle(run, Outcome::Failed(failure), None);
        self.pending.push(settled);
    }

    /// Queues the next iteration of the scheduler `job` belongs to, as BullMQ's worker does
    /// when an iteration starts (spec §6.9). The script accepts only the current iteration as
    /// producer, so a retry or a second worker cannot queue a tick twice.
    fn advance_schedule(&self, job: &Job) {
        let Some(scheduler) = &job.repeat_job_key else {
            return;
        };
        let next = match NextIteration::after(scheduler, &job.id, job.opts.get(), now_ms()) {
            Ok(Some(next)) => next,
            Ok(None) => return,
            Err(e) => {
                self.dispatcher.events(vec![WorkerEvent::Error {
                    message: e.to_string(),
                }]);
                return;
            }
        };
        let mut con = self.con.clone();
        let keys = self.keys.clone();
        let dispatcher = self.dispatcher.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(50);
            for attempt in 1..=SCHEDULE_ATTEMPTS {
                match scripts::next_iteration(&mut con, &keys, &next, now_ms()).await {
                    Ok(_) => return,
                    Err(e) if attempt == SCHEDULE_ATTEMPTS => {
                        tracing::error!(queue = %keys.queue, scheduler = %next.scheduler, error = %e,
                            "could not queue the next iteration of a scheduler");
                        dispatcher.events(vec![WorkerEvent::Error {
                            message: format!(
                                "could not queue the next iteration of scheduler {}: {e}",
                                next.scheduler
                            ),
                        }])
                    }
                    Err(_) => {
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                    }
                }
            }
        });
    }

    /// Takes in a finished trip: announces what it settled and dispatches what it fetched.
    fn finish_trip(&mut self, trip: Trip) {
        self.reserved -= trip.count;
        let result = match trip.result {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(queue = %self.keys.queue, worker_id = %self.token_base, error = %e,
                    retry_ms = self.options.retry_process_delay.as_millis() as u64,
                    "worker round trip failed; retrying after retryProcessDelay");
                self.stats.errored.store(true, Ordering::Relaxed);
                // Keep the outcomes and try again later: a settle whose first attempt did
                // reach Redis comes back as a lock error, never as a second completion.
                self.pending
                    .extend(trip.settle.into_iter().zip(trip.events));
                self.metrics.restore(trip.metrics);
                self.dispatcher.events(vec![WorkerEvent::Error {
                    message: e.to_string(),
                }]);
                self.retry_at = Some(Instant::now() + self.options.retry_process_delay);
                return;
            }
        };
        self.stats.errored.store(false, Ordering::Relaxed);
        let token = trip.token;
        let mut out = Vec::with_capacity(result.settled.len());
        for ((status, event), settled) in result
            .settled
            .into_iter()
            .zip(trip.events)
            .zip(&trip.settle)
        {
            match status {
                Ok(()) => {
                    let counter = match settled.action {
                        Action::Completed { .. } => Some(&self.stats.completed),
                        Action::Release => None,
                        _ => Some(&self.stats.failed),
                    };
                    if let Some(c) = counter {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                    out.extend(event);
                }
                Err(e) => out.push(WorkerEvent::JobError {
                    handle: match event {
                        Some(WorkerEvent::Completed { handle, .. })
                        | Some(WorkerEvent::Failed { handle, .. }) => handle,
                        _ => None,
                    },
                    id: settled.id.clone(),
                    message: e.to_string(),
                }),
            }
        }
        let fetched = result.jobs.len() + result.unreadable.len();
        {
            let running_map = self.running.clone();
            let mut running = running_map.lock().expect("running lock");
            for job in result.jobs {
                let run = Running::new(&job, &token);
                if let Some(reason) = &job.deferred_failure {
                    self.fail_unrun(run, reason.clone());
                    continue;
                }
                self.advance_schedule(&job);
                let handle = self.next_handle;
                self.next_handle += 1;
                running.insert(handle, run);
                self.buffer.push_back(Dispatched {
                    handle,
                    token: token.clone(),
                    job,
                });
            }
        }
        for (id, err) in result.unreadable {
            let run = Running {
                id,
                name: String::new(),
                token: token.clone(),
                opts: StoredOptions::default(),
                attempts_made: 0,
                priority: 0,
                dedup_id: None,
                stacktrace: Vec::new(),
                started_ms: now_ms(),
                waited_ms: None,
                dispatched: None,
            };
            self.fail_unrun(run, err.to_string());
        }
        if fetched > 0 || !out.is_empty() {
            self.stats
                .last_activity_ms
                .store(now_ms(), Ordering::Relaxed);
        }
        self.dispatch_ready();
        if !out.is_empty() {
            self.dispatcher.events(out);
        }
        if trip.count > 0 {
            let now = Instant::now();
            // a limit set by the processor (Msg::RateLimit) while this trip ran still holds
            self.rate_until = self
                .rate_until
                .filter(|t| *t > now)
                .max(result.rate_limited.map(|d| now + d));
            let was_idle = self.idle;
            self.idle = fetched == 0 && self.rate_until.is_none();
            if self.idle && !was_idle && self.processing == 0 && result.next_delayed_ms.is_none() {
                self.dispatcher.events(vec![WorkerEvent::Drained]);
            }
            self.next_delayed_ms = result.next_delayed_ms;
        }
    }
}
