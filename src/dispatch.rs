//! Hands jobs and events to JavaScript through threadsafe functions, fire-and-forget: JS
//! reports outcomes back through `NativeWorker.complete` / `fail`, which is several times
//! cheaper than awaiting a promise per job across the boundary.

use std::sync::Mutex;

use job_queue_core::worker::{Dispatched, Dispatcher, WorkerEvent};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use serde_json::json;

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
        let text = serde_json::to_string(&jobs).expect("jobs serialise");
        Self::send(&self.process, text);
    }

    fn events(&self, events: Vec<WorkerEvent>) {
        let list: Vec<serde_json::Value> = events
            .into_iter()
            .map(|e| match e {
                WorkerEvent::Completed {
                    handle,
                    id,
                    return_value,
                } => {
                    json!({"type": "completed", "handle": handle, "id": id, "result": return_value})
                }
                WorkerEvent::Failed {
                    handle,
                    id,
                    name,
                    error_name,
                    reason,
                    retrying,
                    retry_delay,
                    attempt,
                    trace_id,
                } => json!({"type": "failed", "handle": handle, "id": id, "name": name, "errorName": error_name,
                            "reason": reason, "retrying": retrying,
                            "retryDelayMs": retry_delay.map(|d| d.as_millis() as u64),
                            "attempt": attempt, "traceId": trace_id}),
                WorkerEvent::TimedOut { handle, id } => {
                    json!({"type": "timedOut", "handle": handle, "id": id})
                }
                WorkerEvent::Stalled { id } => json!({"type": "stalled", "id": id}),
                WorkerEvent::Drained => json!({"type": "drained"}),
                WorkerEvent::Error { message } => json!({"type": "error", "message": message}),
                WorkerEvent::JobError {
                    handle,
                    id,
                    message,
                } => json!({"type": "error", "handle": handle, "id": id, "message": message}),
            })
            .collect();
        Self::send(&self.events, serde_json::Value::Array(list).to_string());
    }
}
