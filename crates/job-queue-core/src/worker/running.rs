//! The jobs a worker runs: what settling each one needs from its fetched hash, and giving
//! them back to the queue unprocessed (pause, close, shutdown timeout).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::runner::Runner;
use super::{WorkerEvent, WorkerOptions};
use crate::job::Job;
use crate::options::StoredOptions;
use crate::scripts::{Action, Settle};
use crate::time::now_ms;

/// A job this worker runs, with what settling it needs from its fetched hash.
pub(super) struct Running {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) token: String,
    pub(super) opts: StoredOptions,
    pub(super) attempts_made: u32,
    pub(super) priority: u64,
    pub(super) dedup_id: Option<String>,
    pub(super) stacktrace: Vec<String>,
    /// When this attempt started (`processedOn`), and on a first attempt how long the job
    /// had been runnable before it, for the latency metrics.
    pub(super) started_ms: u64,
    pub(super) waited_ms: Option<u64>,
    /// When the processor got the job (none while it is held ahead).
    pub(super) dispatched: Option<Instant>,
}

impl Running {
    pub(super) fn new(job: &Job, token: &str) -> Self {
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
    pub(super) fn timeout(&self, options: &WorkerOptions) -> Option<Duration> {
        self.opts.timeout.or(options.timeout)
    }

    /// The job id and the token its lock holds, for renewal.
    pub(super) fn lock(&self) -> (String, String) {
        (self.id.clone(), self.token.clone())
    }

    pub(super) fn settle(
        self,
        action: Action,
        stacktrace: Option<String>,
        attempts_made: u32,
    ) -> Settle {
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

impl Runner {
    pub(super) fn running_count(&self) -> usize {
        self.running.lock().expect("running lock").len()
    }

    /// Gives prefetched jobs back to the front of the queue (pause or close).
    pub(super) fn release_buffer(&mut self) {
        for d in std::mem::take(&mut self.buffer) {
            let run = self.running.lock().expect("running lock").remove(&d.handle);
            if let Some(run) = run {
                let attempts_made = run.attempts_made;
                self.pending
                    .push((run.settle(Action::Release, None, attempts_made), None));
            }
        }
    }

    /// Forgets the jobs the processor runs, as BullMQ's `close(true)` does: nothing is written
    /// for them, their locks are no longer renewed (the renewer reads `running`) and their
    /// late outcomes find no entry, so they are ignored. They stay in `active` until their
    /// locks lapse, and the stalled check of a worker on the queue (any process, BullMQ's
    /// too) moves them back to wait, counting a stall. Held jobs, never started, are given
    /// back first.
    pub(super) fn abandon_running(&mut self) {
        self.release_buffer();
        let abandoned: Vec<String> = self
            .running
            .lock()
            .expect("running lock")
            .drain()
            .map(|(_, run)| run.id)
            .collect();
        self.processing = 0;
        self.deadlines.clear();
        if !abandoned.is_empty() {
            tracing::debug!(queue = %self.keys.queue, worker_id = %self.token_base, jobs = ?abandoned,
                "closed without waiting: running jobs left to the stalled check");
        }
    }

    /// Gives every running job back to the queue (shutdown timeout passed).
    pub(super) fn release_all(&mut self) {
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
}
