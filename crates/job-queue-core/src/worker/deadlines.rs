//! Attempt deadlines: each dispatched job with a timeout gets one; a job still running when
//! its deadline passes is failed with a `TimeoutError` and the processor is told to abort it.

use std::cmp::Reverse;
use std::time::Instant;

use super::runner::Runner;
use super::{Dispatched, Failure, Outcome, WorkerEvent};

impl Runner {
    /// Notes when each dispatched job started, and starts the timeout of those that have one.
    pub(super) fn start_clocks(&mut self, batch: &[Dispatched]) {
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

    /// Fails the jobs whose time ran out (a processor that hangs must not keep its job
    /// locked forever), frees their slots, and tells the processor to abort them.
    pub(super) fn expire(&mut self, now: Instant) {
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
}
