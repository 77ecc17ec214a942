//! The Node binding: every `#[napi]` item. It converts between JavaScript and the engine and
//! forwards; decisions live in `job-queue-core`.
//!
//! Payloads cross the boundary as JSON text: job data is never turned into JS objects by Rust
//! nor into Rust values by JS, and a whole batch of jobs crosses in one call.
//!
//! The files mirror `lib/`: each serves one JS module or manager and is named after it
//! (`queue.rs` for lib/queue.js, `job_scheduler.rs` for lib/managers/job-scheduler.js, ...);
//! `errors.rs`, `wire.rs` and `results.rs` are the boundary's error, encoding and result
//! types, shared by all. docs/architecture.md lists them.

mod add_order;
mod connection;
mod dead_letter_handler;
mod errors;
mod job;
mod job_scheduler;
mod logger;
mod metrics_collector;
mod queue;
mod queue_events;
mod queue_limits;
mod queue_manager;
mod results;
mod retry_handler;
mod security;
mod wire;
mod worker;
mod worker_control;
mod worker_manager;

pub(crate) use connection::NativeEngine;
pub(crate) use wire::jobs_json;
pub(crate) use worker::NativeWorker;

/// The engine's tasks mostly wait on Redis; on machines where Node and Redis share a few
/// cores, extra tokio workers mostly spin and steal. One worker thread serves them all.
#[napi_derive::module_init]
fn init() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
}
