//! The worker's timers: lock renewal and the stalled check, on tokio so that neither depends on
//! the JavaScript event loop.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

use super::runner::RunningMap;
use super::{Dispatcher, WorkerEvent, WorkerOptions};
use crate::keys::QueueKeys;
use crate::scripts;
use crate::time::now_ms;

/// Renews the locks of running jobs every half lock duration, from Rust, so a blocked JS
/// event loop cannot let them expire.
pub(super) async fn renew_locks(
    mut con: ConnectionManager,
    keys: QueueKeys,
    lock: Duration,
    running: RunningMap,
    dispatcher: Arc<dyn Dispatcher>,
) {
    let mut tick = tokio::time::interval(lock / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let jobs: Vec<(String, String)> = running
            .lock()
            .expect("running lock")
            .values()
            .map(|r| r.lock())
            .collect();
        match scripts::extend_locks(&mut con, &keys, lock, &jobs).await {
            Ok(lost) if lost.is_empty() => {}
            Ok(lost) => dispatcher.events(
                lost.into_iter()
                    .map(|id| WorkerEvent::Error {
                        message: format!("lock of job {id} could not be renewed"),
                    })
                    .collect(),
            ),
            Err(e) => dispatcher.events(vec![WorkerEvent::Error {
                message: format!("lock renewal failed: {e}"),
            }]),
        }
    }
}

/// Runs the queue's stalled check now and every `stalled_interval`.
pub(super) async fn check_stalled(
    mut con: ConnectionManager,
    keys: QueueKeys,
    options: WorkerOptions,
    dispatcher: Arc<dyn Dispatcher>,
) {
    let mut tick = tokio::time::interval(options.stalled_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let result = scripts::check_stalled(
            &mut con,
            &keys,
            options.max_stalled_count,
            now_ms(),
            options.stalled_interval,
        )
        .await;
        match result {
            Ok(check) if check.recovered.is_empty() => {}
            Ok(check) => dispatcher.events(
                check
                    .recovered
                    .into_iter()
                    .map(|id| WorkerEvent::Stalled { id })
                    .collect(),
            ),
            Err(e) => dispatcher.events(vec![WorkerEvent::Error {
                message: format!("stalled check failed: {e}"),
            }]),
        }
    }
}
