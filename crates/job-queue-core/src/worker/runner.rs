//! The worker loop. It owns the worker's state: jobs running, outcomes waiting to be settled,
//! and up to [`MAX_TRIPS`] script calls in flight, so Redis works on one batch while the
//! processor works on another.
//!
//! The jobs it runs live in `running`, their timeouts in `deadlines`, and what an outcome
//! does to its job is decided in `settle`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::connection::SharedConnection;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;

use super::prefetch::PrefetchPolicy;
use super::running::{Running, RunningMap};
use super::settle;
use super::{
    Dispatched, Dispatcher, Failure, Outcome, WorkerEvent, WorkerOptions, WorkerStats,
    STARTED_TOO_OFTEN,
};
use crate::error::Result;
use crate::job::Job;
use crate::keys::QueueKeys;
use crate::metrics::{MetricsBatch, MetricsFlush};
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
    /// Jobs fetched with more starts than this fail without running.
    MaxStartedAttempts(Option<u32>),
    /// Stop: wait for running jobs until `deadline`, then give them back; or, with `abandon`,
    /// forget them at once (BullMQ's `close(true)`).
    Close {
        deadline: Instant,
        abandon: bool,
        done: oneshot::Sender<()>,
    },
}

/// A script call in flight.
type TripCall = Pin<Box<dyn Future<Output = Trip> + Send>>;

/// The oldest call in flight, finished; pending while none is.
async fn oldest(trips: &mut VecDeque<TripCall>) -> Trip {
    match trips.front_mut() {
        Some(call) => call.await,
        None => std::future::pending().await,
    }
}

/// Queues a scheduler's next iteration, trying [`SCHEDULE_ATTEMPTS`] times with a growing
/// pause between tries (a dropped connection, a failover); the last try's error otherwise.
pub(super) async fn queue_next_iteration(
    con: &mut SharedConnection,
    keys: &QueueKeys,
    next: &NextIteration,
) -> Result<()> {
    let mut backoff = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match scripts::next_iteration(con, keys, next, now_ms()).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt == SCHEDULE_ATTEMPTS => return Err(e),
            Err(_) => {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
        }
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

/// Longest a rate-limited worker waits before fetching again, whatever the limit's length: a
/// fetch promotes due delayed jobs, also those added during the limit. BullMQ's workers wait
/// at most their `maximumRateLimitDelay`, 30 s by default, for the same reason.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(30);

/// When to fetch again after a fetch the queue's rate limit stopped (`limited`: for how
/// long): when the limit ends, at most [`MAX_RATE_LIMIT_WAIT`] later, or sooner when a
/// delayed job falls due before (`next_delayed_ms`, ms since the epoch; `now_ms` is `now` on
/// that clock), so that the fetch promotes it on time. None when the fetch was not rate
/// limited.
fn rate_limit_retry(
    limited: Option<Duration>,
    next_delayed_ms: Option<u64>,
    now: Instant,
    now_ms: u64,
) -> Option<Instant> {
    let until = now + limited?.min(MAX_RATE_LIMIT_WAIT);
    let due = next_delayed_ms.map(|ms| now + Duration::from_millis(ms.saturating_sub(now_ms)));
    Some(due.map_or(until, |d| d.min(until)))
}

pub(super) struct Runner {
    pub(super) token_base: String,
    pub(super) seq: u64,
    pub(super) next_handle: u64,
    pub(super) con: SharedConnection,
    pub(super) keys: Arc<QueueKeys>,
    pub(super) options: WorkerOptions,
    pub(super) dispatcher: Arc<dyn Dispatcher>,
    pub(super) running: RunningMap,
    /// Outcomes waiting for the next round trip, with the event each one announces (none for
    /// a job given back unprocessed).
    pub(super) pending: Vec<(Settle, Option<WorkerEvent>)>,
    /// Fetched jobs waiting for a processing slot (prefetch).
    pub(super) buffer: VecDeque<Dispatched>,
    pub(super) prefetch: PrefetchPolicy,
    /// Jobs handed to the processor and not reported yet.
    pub(super) processing: usize,
    /// Metric increments not yet sent.
    pub(super) metrics: MetricsBatch,
    /// When dispatched jobs with a timeout run out of time, soonest first.
    pub(super) deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Script calls in flight, oldest first, finished in that order: they share one connection,
    /// so Redis runs them in the order they started, and the jobs they fetch must reach the
    /// processor in that order too (FIFO at concurrency 1, with a job held ahead).
    trips: VecDeque<TripCall>,
    /// Jobs asked for by trips in flight: capacity they may fill.
    pub(super) reserved: usize,
    pub(super) rx: UnboundedReceiver<Msg>,
    pub(super) watch_tx: UnboundedSender<Option<u64>>,
    pub(super) watching: bool,
    /// The last fetch found nothing; wait for the marker before fetching again.
    pub(super) idle: bool,
    pub(super) next_delayed_ms: Option<u64>,
    pub(super) rate_until: Option<Instant>,
    /// After a failed call, no new one before this (`retry_process_delay` after the failure).
    pub(super) retry_at: Option<Instant>,
    pub(super) closing: Option<(Instant, Vec<oneshot::Sender<()>>)>,
    pub(super) paused: Arc<AtomicBool>,
    pub(super) stats: Arc<WorkerStats>,
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

    /// How many more jobs to fetch: enough to fill the processing slots and the prefetch.
    fn capacity(&self) -> usize {
        if self.closing.is_some() || self.paused.load(Ordering::SeqCst) {
            return 0;
        }
        (self.options.concurrency + self.prefetch.ahead())
            .saturating_sub(self.running_count() + self.reserved)
    }

    /// Hands buffered jobs to the processor while it has free slots, in one batch. Nothing
    /// once closing: what is still buffered then (held ahead, or fetched by a trip in flight
    /// when the close came) is given back unstarted.
    pub(super) fn dispatch_ready(&mut self) {
        let batch = self.take_ready();
        if !batch.is_empty() {
            self.dispatcher.dispatch(batch);
        }
    }

    /// The buffered jobs that start now (as many as there are free slots), their clocks
    /// started; none once closing.
    fn take_ready(&mut self) -> Vec<Dispatched> {
        if self.closing.is_some() {
            return Vec::new();
        }
        let free = self.options.concurrency.saturating_sub(self.processing);
        let n = free.min(self.buffer.len());
        if n == 0 {
            return Vec::new();
        }
        self.processing += n;
        let batch: Vec<Dispatched> = self.buffer.drain(..n).collect();
        self.start_clocks(&batch);
        batch
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
            Msg::MaxStartedAttempts(max) => self.options.max_started_attempts = max,
            Msg::Close {
                deadline,
                abandon,
                done,
            } => {
                match &mut self.closing {
                    Some((_, waiters)) => waiters.push(done),
                    None => self.closing = Some((deadline, vec![done])),
                }
                if abandon {
                    self.abandon_running();
                }
            }
        }
    }

    /// Settles one outcome (see [`settle::settle`]) and counts the attempt in the metrics.
    /// `handle` is the one the job was dispatched with (none for a job never dispatched).
    pub(super) fn settle(
        &mut self,
        run: Running,
        outcome: Outcome,
        handle: Option<u64>,
    ) -> (Settle, Option<WorkerEvent>) {
        let settled = settle::settle(
            run,
            outcome,
            handle,
            &self.options,
            now_ms(),
            rand::random::<f64>(),
        );
        if let Some(a) = settled.attempt {
            self.metrics.record(&a.name, a.end, a.ran_ms, a.waited_ms);
        }
        (settled.settle, settled.event)
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
                strict: false,
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

    /// Whether `job`, just fetched, has started more often than `max_started_attempts`
    /// allows.
    fn started_too_often(&self, job: &Job) -> bool {
        self.options
            .max_started_attempts
            .is_some_and(|max| max > 0 && job.attempts_started > max)
    }

    /// Fails a fetched job for good without running it (it stalled too often, started too
    /// often, or its hash is unreadable), with error `name` and `message`. Its `failed` event
    /// carries `job`, the job as fetched, when there is one.
    fn fail_unrun(
        &mut self,
        run: Running,
        name: Option<String>,
        message: String,
        fetched: Option<Job>,
    ) {
        let failure = Failure {
            name,
            message,
            stack: None,
            unrecoverable: true,
        };
        let (settle, mut event) = self.settle(run, Outcome::Failed(failure), None);
        if let Some(WorkerEvent::Failed { job, .. }) = &mut event {
            *job = fetched.map(Box::new);
        }
        self.pending.push((settle, event));
    }

    /// Queues the next iteration of the scheduler `job` belongs to, as BullMQ's worker does
    /// when an iteration starts. The script accepts only the current iteration as
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
            if let Err(e) = queue_next_iteration(&mut con, &keys, &next).await {
                tracing::error!(queue = %keys.queue, scheduler = %next.scheduler, error = %e,
                    "could not queue the next iteration of a scheduler");
                dispatcher.events(vec![WorkerEvent::Error {
                    message: format!(
                        "could not queue the next iteration of scheduler {}: {e}",
                        next.scheduler
                    ),
                }])
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
                        Action::Release | Action::BackToWait { .. } => None,
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
                if let Some(reason) = job.deferred_failure.clone() {
                    self.fail_unrun(run, None, reason, Some(job));
                    continue;
                }
                if self.started_too_often(&job) {
                    // as BullMQ's worker: an UnrecoverableError, whatever attempts remain
                    let name = Some("UnrecoverableError".to_owned());
                    self.fail_unrun(run, name, STARTED_TOO_OFTEN.to_owned(), Some(job));
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
            self.fail_unrun(run, None, err.to_string(), None);
        }
        if fetched > 0 || !out.is_empty() {
            self.stats
                .last_activity_ms
                .store(now_ms(), Ordering::Relaxed);
        }
        // what the trip settled is announced before the jobs it fetched start, as BullMQ's
        // worker emits a job's outcome before it runs the next one, and with them
        let ready = self.take_ready();
        self.dispatcher.settled(out, ready);
        // the queue's rate limit (also found by a trip that only gave a job back), ended
        // early when a delayed job falls due first
        let now = Instant::now();
        let limited = rate_limit_retry(result.rate_limited, result.next_delayed_ms, now, now_ms());
        // a limit set by the processor (Msg::RateLimit) while this trip ran still holds
        self.rate_until = self.rate_until.filter(|t| *t > now).max(limited);
        if trip.count > 0 {
            let was_idle = self.idle;
            self.idle = fetched == 0 && self.rate_until.is_none();
            if self.idle && !was_idle && self.processing == 0 && result.next_delayed_ms.is_none() {
                self.dispatcher.events(vec![WorkerEvent::Drained]);
            }
            self.next_delayed_ms = result.next_delayed_ms;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limited_fetch_is_retried_when_the_limit_ends_or_a_delayed_job_is_due() {
        let now = Instant::now();
        let limit = Some(Duration::from_secs(10));
        assert_eq!(rate_limit_retry(None, Some(5), now, 0), None);
        assert_eq!(
            rate_limit_retry(limit, None, now, 1_000),
            Some(now + Duration::from_secs(10))
        );
        // a delayed job due in 1.5 s: retried then, to promote it
        assert_eq!(
            rate_limit_retry(limit, Some(2_500), now, 1_000),
            Some(now + Duration::from_millis(1_500))
        );
        // due after the limit ends: the limit's end
        assert_eq!(
            rate_limit_retry(limit, Some(60_000), now, 1_000),
            Some(now + Duration::from_secs(10))
        );
        // already due (more than one call promotes): at once
        assert_eq!(rate_limit_retry(limit, Some(500), now, 1_000), Some(now));
        // a long limit: fetched again after 30 s, for delayed jobs added meanwhile
        assert_eq!(
            rate_limit_retry(Some(Duration::from_secs(3600)), None, now, 1_000),
            Some(now + MAX_RATE_LIMIT_WAIT)
        );
    }
}
