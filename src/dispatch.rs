//! Hands jobs and events to JavaScript through threadsafe functions, fire-and-forget: JS
//! reports outcomes back through `NativeWorker.complete` / `fail`, which is several times
//! cheaper than awaiting a promise per job across the boundary.

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
