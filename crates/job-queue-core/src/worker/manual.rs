//! Processing by hand, as BullMQ's `worker.getNextJob(token)` and `job.moveToCompleted` /
//! `moveToFailed` / `moveToWait` with the caller's own lock token: no loop, no timers.
//!
//! Every call that changes a job is one `finish_and_fetch` script call, the worker loop's own
//! script, with its settle step ([`super::settle`]): a job settled by hand gets the same
//! attempts, backoff, keep policies, metrics and events as one a worker ran. Calls are
//! strict: when the token does not hold the job's lock, or the job is not active, nothing is
//! written and nothing fetched. Locks of jobs taken by hand are not renewed (the caller
//! extends them, [`crate::Queue::extend_lock`]); the stalled check runs when the caller asks
//! ([`ManualWorker::check_stalled`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::connection::BlockingConnection as MultiplexedConnection;
use crate::connection::Connector as Client;
use tokio::sync::watch;

use super::running::Running;
use super::{runner, settle, Failure, Outcome, WorkerEvent, WorkerOptions};
use crate::connection::{self, SharedConnection};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::keys::QueueKeys;
use crate::marker;
use crate::metrics::{MetricsBatch, MetricsFlush, NO_METRICS};
use crate::options::StoredOptions;
use crate::queue::Queue;
use crate::schedule::NextIteration;
use crate::scripts::{self, Action, Fetch, Settle, StalledCheck};
use crate::time::now_ms;

/// BullMQ's token for settling a job without checking its lock (the job must still be
/// active): what `moveToWait` uses when given no token.
pub const ANY_HOLDER: &str = "0";

/// A worker without a processor: the caller fetches jobs and settles them. Cheap to make
/// (no Redis call); the blocking wait opens the worker's named connection on first use.
pub struct ManualWorker {
    client: Client,
    con: SharedConnection,
    keys: QueueKeys,
    options: WorkerOptions,
    state: Mutex<FetchState>,
    /// The named connection of the blocking wait, held by the one call waiting on it.
    blocking: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    closed: watch::Sender<bool>,
}

/// What the last fetch of [`ManualWorker::next_job`] found, as BullMQ's worker keeps it.
#[derive(Debug, Default)]
struct FetchState {
    /// It found nothing: the next call that may block waits for the marker first.
    drained: bool,
    /// The rate limit stopped it: no fetch before this.
    rate_until: Option<Instant>,
    /// Due time (ms) of the earliest delayed job, when it found nothing.
    next_delayed_ms: Option<u64>,
}

/// What a fetch by hand found.
#[derive(Debug, Default)]
pub struct NextJob {
    /// The job, now active and locked with the caller's token.
    pub job: Option<Job>,
    /// The queue's rate limit stopped the fetch: try again after this long.
    pub rate_limited: Option<Duration>,
    /// Due time (ms since the epoch) of the earliest delayed job, when nothing was fetched.
    pub next_delayed_ms: Option<u64>,
    /// [`ManualWorker::next_job`] found nothing where its previous call had found a job (or
    /// there was none): the queue has just been drained for this worker.
    pub drained: bool,
    /// The job is an iteration of a job scheduler whose next iteration could not be queued.
    pub schedule_error: Option<Error>,
}

/// What settling a job by hand did.
#[derive(Debug)]
pub struct ManualSettled {
    /// When the job finished (completed or failed for good), in ms since the epoch.
    pub finished_on: Option<u64>,
    /// The job's attempts made, this one counted.
    pub attempts_made: u32,
    /// A failed attempt that another attempt follows.
    pub retrying: bool,
    /// When retrying, after how long (zero: at once).
    pub retry_delay: Option<Duration>,
    /// The job's stack traces as stored now (JSON array), when this attempt changed them.
    pub stacktrace: Option<String>,
    /// The next job, when one was asked for (none for a retry at once, which fetches nothing).
    pub next: Option<NextJob>,
}

fn check_token(token: &str) -> Result<()> {
    if token.is_empty() {
        return Err(Error::validation("token", "must be a non-empty string"));
    }
    Ok(())
}

impl ManualWorker {
    /// A worker on `keys`' queue with `options` (checked): `lock_duration`, `name`,
    /// `limiter`, the keep policies, retry defaults, `drain_delay`, `metric_points` and the
    /// stalled check's settings apply; the rest is the worker loop's.
    pub(crate) fn new(
        client: Client,
        con: SharedConnection,
        keys: QueueKeys,
        options: WorkerOptions,
    ) -> Result<Self> {
        options.validate()?;
        Ok(Self {
            client,
            con,
            keys,
            options,
            state: Mutex::default(),
            blocking: tokio::sync::Mutex::new(None),
            closed: watch::Sender::new(false),
        })
    }

    fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Moves the next runnable job into active, locked with `token` for the lock duration,
    /// as the worker loop fetches (pause, global concurrency, rate limits, priorities and
    /// due delayed jobs respected). With `block`, when the previous call found nothing, first
    /// waits for a job to become runnable (the queue's marker, or the next delayed job's due
    /// time), trying again until one is taken or the drain delay has passed, as BullMQ's
    /// worker waits; when another call of this worker is waiting already, fetches once
    /// without waiting. Nothing while the rate limit found by the last fetch lasts, or once
    /// closed.
    pub async fn next_job(&self, token: &str, block: bool) -> Result<NextJob> {
        check_token(token)?;
        if self.is_closed() {
            return Ok(NextJob::default());
        }
        let (was_drained, rate_until, mut due_ms) = {
            let s = self.state.lock().expect("state lock");
            (s.drained, s.rate_until, s.next_delayed_ms)
        };
        let now = Instant::now();
        if let Some(until) = rate_until.filter(|t| *t > now) {
            return Ok(NextJob {
                rate_limited: Some(until - now),
                ..NextJob::default()
            });
        }
        let deadline = now + self.options.drain_delay;
        let mut drained = was_drained;
        loop {
            let waited = block && drained && self.wait_for_work(due_ms, deadline).await?;
            if self.is_closed() {
                return Ok(NextJob::default());
            }
            let mut next = self.call(None, &NO_METRICS, token, 1, now_ms()).await?;
            let found = next.job.is_some();
            {
                let mut s = self.state.lock().expect("state lock");
                s.drained = !found;
                s.rate_until = next.rate_limited.map(|d| Instant::now() + d);
                s.next_delayed_ms = next.next_delayed_ms;
            }
            // a wait that ended on a marker for a job someone else took: wait again
            let again = waited && Instant::now() < deadline;
            if found || next.rate_limited.is_some() || !again {
                next.drained = !found && !was_drained;
                return Ok(next);
            }
            drained = true;
            due_ms = next.next_delayed_ms;
        }
    }

    /// Waits for the queue's marker (a job became runnable), `deadline`, the next delayed
    /// job's due time, or [`close`](Self::close), whichever comes first; false when another
    /// call is waiting already (then it does not wait). A delay marker for a later time
    /// moves the due time instead of ending the wait, as in the worker loop's wait. Due
    /// times are kept by the BZPOPMIN timeout, so a delayed job may be seen up to one Redis
    /// server tick (100 ms at the default `hz`) late.
    async fn wait_for_work(&self, mut due_ms: Option<u64>, deadline: Instant) -> Result<bool> {
        let Ok(mut blocking) = self.blocking.try_lock() else {
            return Ok(false);
        };
        let con = match blocking.as_ref() {
            Some(con) => con.clone(),
            None => {
                let name = self.keys.worker_client_name(self.options.name.as_deref());
                let con = connection::blocking(&self.client, &name).await?;
                blocking.insert(con).clone()
            }
        };
        let mut closed = self.closed.subscribe();
        loop {
            let mut wait = deadline.saturating_duration_since(Instant::now());
            if let Some(due) = due_ms {
                wait = wait.min(Duration::from_millis(due.saturating_sub(now_ms())));
            }
            if wait.is_zero() {
                return Ok(true);
            }
            tokio::select! {
                reply = marker::pop(con.clone(), self.keys.key("marker"), wait) => match reply {
                    Ok(Some((_, _, score))) if score as u64 > now_ms() + 1 => {
                        let later = score as u64;
                        due_ms = Some(due_ms.map_or(later, |d| d.min(later)));
                    }
                    Ok(_) => return Ok(true),
                    Err(e) => {
                        *blocking = None;
                        return Err(e.into());
                    }
                },
                _ = closed.wait_for(|closed| *closed) => return Ok(true),
            }
        }
    }

    /// Completes the active job `id` held by `token` with `return_value` (JSON text); with
    /// `fetch_next`, takes the next job in the same call.
    pub async fn complete(
        &self,
        id: &str,
        token: &str,
        return_value: String,
        fetch_next: bool,
    ) -> Result<ManualSettled> {
        self.settle(id, token, Outcome::Completed(return_value), fetch_next)
            .await
    }

    /// Fails the current attempt of the active job `id` held by `token`: retried (at once,
    /// or after `delay` if given, else its backoff) while attempts remain and the failure is
    /// not unrecoverable, else failed for good. With `fetch_next`, takes the next job in the
    /// same call, except after a retry at once.
    pub async fn fail(
        &self,
        id: &str,
        token: &str,
        failure: Failure,
        delay: Option<Duration>,
        fetch_next: bool,
    ) -> Result<ManualSettled> {
        let outcome = match delay {
            Some(delay) => Outcome::FailedWithDelay(failure, delay),
            None => Outcome::Failed(failure),
        };
        self.settle(id, token, outcome, fetch_next).await
    }

    /// Moves the active job `id` back to waiting (prioritized when it has a priority, else
    /// the front of wait) without counting an attempt, as BullMQ's `moveToWait`; `token`
    /// must hold its lock unless it is none (then any holder). Returns the ms left of the
    /// queue's rate limit (0 when none).
    pub async fn move_to_wait(&self, id: &str, token: Option<&str>) -> Result<u64> {
        let token = token.unwrap_or(ANY_HOLDER);
        check_token(token)?;
        let job = self.stored(id, "moveJobFromActiveToWait").await?;
        let priority = job.priority;
        let attempts_made = job.attempts_made;
        let settle =
            Running::new(&job, token).settle(Action::BackToWait { priority }, None, attempts_made);
        self.call(Some(&settle), &NO_METRICS, token, 0, now_ms())
            .await?;
        let ttl: i64 = redis::cmd("PTTL")
            .arg(self.keys.key("limiter"))
            .query_async(&mut self.con.clone())
            .await?;
        Ok(ttl.max(0) as u64)
    }

    /// Runs the queue's stalled check once (unless any worker ran it within the stalled
    /// interval): jobs whose lock lapsed go back to wait, or are marked to fail.
    pub async fn check_stalled(&self) -> Result<StalledCheck> {
        scripts::check_stalled(
            &mut self.con.clone(),
            &self.keys,
            self.options.max_stalled_count,
            now_ms(),
            self.options.stalled_interval,
        )
        .await
    }

    /// Ends a blocking wait in progress and closes the named connection; later fetches
    /// find nothing. Jobs taken stay where they are.
    pub async fn close(&self) {
        self.closed.send_replace(true);
        self.blocking.lock().await.take();
    }

    /// The job's hash; a missing job is an error naming BullMQ's `command`.
    async fn stored(&self, id: &str, command: &'static str) -> Result<Job> {
        Queue::new(self.con.clone(), self.keys.clone())
            .get_job(id)
            .await?
            .ok_or_else(|| Error::JobNotFound {
                queue: self.keys.queue.clone(),
                id: id.to_owned(),
                command,
            })
    }

    /// Settles `outcome` for job `id` as the worker loop would, in one strict call.
    async fn settle(
        &self,
        id: &str,
        token: &str,
        outcome: Outcome,
        fetch_next: bool,
    ) -> Result<ManualSettled> {
        check_token(token)?;
        // what the loop reads at fetch time; while `token` holds the lock nobody changes it
        let job = self.stored(id, "moveToFinished").await?;
        let now = now_ms();
        let settled = settle::settle(
            Running::new(&job, token),
            outcome,
            None,
            &self.options,
            now,
            rand::random::<f64>(),
        );
        let mut metrics = MetricsBatch::default();
        if let Some(a) = &settled.attempt {
            metrics.record(&a.name, a.end, a.ran_ms, a.waited_ms);
        }
        let (retrying, retry_delay) = match &settled.event {
            Some(WorkerEvent::Failed {
                retrying,
                retry_delay,
                ..
            }) => (*retrying, *retry_delay),
            _ => (false, None),
        };
        let s = settled.settle;
        let finished = matches!(s.action, Action::Completed { .. } | Action::Failed { .. });
        // a retry at once is where a fetch would take it again: BullMQ fetches nothing then
        let count = usize::from(fetch_next && !matches!(s.action, Action::RetryNow { .. }));
        let next = self
            .call(Some(&s), &metrics.take(), token, count, now)
            .await?;
        Ok(ManualSettled {
            finished_on: finished.then_some(now),
            attempts_made: s.attempts_made,
            retrying,
            retry_delay,
            stacktrace: s.stacktrace,
            next: (count > 0).then_some(next),
        })
    }

    /// One strict `finish_and_fetch` call: settles `settle` (refused as a whole with its
    /// error when the token does not hold the job or the job is not active) and fetches up to
    /// `count` jobs locked with `token`.
    async fn call(
        &self,
        settle: Option<&Settle>,
        metrics: &MetricsFlush,
        token: &str,
        count: usize,
        now: u64,
    ) -> Result<NextJob> {
        let entries = settle.map_or(&[][..], std::slice::from_ref);
        let mut result = scripts::finish_and_fetch(
            &mut self.con.clone(),
            &self.keys,
            now,
            entries,
            self.fetch(token, count, metrics),
        )
        .await?;
        if let Some(status) = result.settled.pop() {
            status?;
        }
        if let Some((id, err)) = result.unreadable.pop() {
            self.fail_unreadable(id, token, &err).await;
            return Err(err);
        }
        let job = result.jobs.pop();
        let schedule_error = match &job {
            Some(job) => self.advance_schedule(job).await.err(),
            None => None,
        };
        Ok(NextJob {
            job,
            rate_limited: result.rate_limited,
            next_delayed_ms: result.next_delayed_ms,
            drained: false,
            schedule_error,
        })
    }

    fn fetch<'a>(&'a self, token: &'a str, count: usize, metrics: &'a MetricsFlush) -> Fetch<'a> {
        Fetch {
            token,
            lock: self.options.lock_duration,
            count,
            worker_name: self.options.name.as_deref(),
            limiter: self.options.limiter,
            metric_points: self.options.metric_points,
            metrics,
            strict: true,
        }
    }

    /// Fails for good a fetched job whose hash cannot be read, as the worker loop does (it
    /// cannot be handed out). Best effort: if this fails too, the job's lock lapses and the
    /// stalled check takes it back.
    async fn fail_unreadable(&self, id: String, token: &str, err: &Error) {
        let run = Running {
            id,
            name: String::new(),
            token: token.to_owned(),
            opts: StoredOptions::default(),
            attempts_made: 0,
            priority: 0,
            dedup_id: None,
            stacktrace: Vec::new(),
            started_ms: now_ms(),
            waited_ms: None,
            dispatched: None,
        };
        let failure = Failure {
            name: None,
            message: err.to_string(),
            stack: None,
            unrecoverable: true,
        };
        let now = now_ms();
        let settled = settle::settle(run, Outcome::Failed(failure), None, &self.options, now, 0.0);
        let fetch = self.fetch(token, 0, &NO_METRICS);
        let entries = std::slice::from_ref(&settled.settle);
        let _ =
            scripts::finish_and_fetch(&mut self.con.clone(), &self.keys, now, entries, fetch).await;
    }

    /// Queues the next iteration of the scheduler `job` belongs to, as the worker loop does
    /// when it fetches an iteration.
    async fn advance_schedule(&self, job: &Job) -> Result<()> {
        let Some(scheduler) = &job.repeat_job_key else {
            return Ok(());
        };
        match NextIteration::after(scheduler, &job.id, job.opts.get(), now_ms())? {
            Some(next) => {
                runner::queue_next_iteration(&mut self.con.clone(), &self.keys, &next).await
            }
            None => Ok(()),
        }
    }
}
