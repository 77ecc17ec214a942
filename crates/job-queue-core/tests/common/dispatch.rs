//! A Rust dispatcher standing in for JavaScript in the worker tests: dispatched jobs arrive on
//! a channel, and the test decides their outcomes; the worker's events are kept in order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use job_queue_core::worker::{Dispatched, Dispatcher, Failure, Worker, WorkerEvent, WorkerOptions};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::TestQueue;

/// Sends dispatched jobs to the test, which decides their outcome.
pub struct Channel {
    pub jobs: UnboundedSender<Dispatched>,
    pub events: Mutex<Vec<WorkerEvent>>,
}

/// A dispatcher whose jobs arrive on the returned receiver.
pub fn channel() -> (Arc<Channel>, UnboundedReceiver<Dispatched>) {
    let (tx, rx) = unbounded_channel();
    let channel = Arc::new(Channel {
        jobs: tx,
        events: Mutex::default(),
    });
    (channel, rx)
}

impl Dispatcher for Channel {
    fn dispatch(&self, jobs: Vec<Dispatched>) {
        for j in jobs {
            let _ = self.jobs.send(j);
        }
    }
    fn events(&self, events: Vec<WorkerEvent>) {
        self.events.lock().unwrap().extend(events);
    }
}

/// Starts a worker on the test's queue; its jobs arrive on the returned receiver.
pub async fn start(
    t: &TestQueue,
    options: WorkerOptions,
) -> (Worker, Arc<Channel>, UnboundedReceiver<Dispatched>) {
    let (channel, rx) = channel();
    let worker = t
        .engine
        .worker(&t.keys.queue, options, channel.clone())
        .await
        .unwrap();
    (worker, channel, rx)
}

/// The next dispatched job, within 5 s.
pub async fn next(rx: &mut UnboundedReceiver<Dispatched>) -> Dispatched {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a job within 5 s")
        .unwrap()
}

/// A retryable failure with this message.
pub fn failure(message: &str) -> Failure {
    Failure {
        name: None,
        message: message.into(),
        stack: None,
        unrecoverable: false,
    }
}
