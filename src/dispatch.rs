//! Hands jobs and events to JavaScript through threadsafe functions, fire-and-forget: JS
//! reports outcomes back through `NativeWorker.complete` / `fail`, which is several times
//! cheaper than awaiting a promise per job across the boundary.
//!
//! Jobs and events travel through one threadsafe function, the `process` one, so JS gets
//! them in the order the worker sent them (two functions are two queues, which Node drains
//! in no set order): a settled job's event comes before the jobs fetched in the same trip
//! start, as BullMQ's worker emits an outcome before it runs the next job. Job batches are
//! JSON arrays, events `{"events": [...]}`, and what one round trip settled with the jobs it
//! fetched `{"events": [...], "jobs": [...]}`: one call, so JS has the new jobs in hand before
//! anything a listener of those events does runs (a pause waits for them).

use std::sync::Mutex;

use job_queue_core::worker::{Dispatched, Dispatcher, WorkerEvent};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

use crate::wire;

/// `(batch JSON) => void`, called on the JS thread. Strong, so a running worker keeps Node
/// alive; released by `close()`.
pub type ProcessFn = ThreadsafeFunction<String, (), String, Status, false>;
pub type EventsFn = ProcessFn;

pub struct JsDispatcher {
    process: Mutex<Option<ProcessFn>>,
    /// Held (and released) with `process` for the worker's lifetime; events go through
    /// `process` (see the module's comment).
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
        let text = format!("{{\"events\":{}}}", wire::encode_worker_events(events));
        Self::send(&self.process, text);
    }

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
