//! The worker's timers: lock renewal and the stalled check, on tokio so that neither depends on
//! the JavaScript event loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::connection::SharedConnection;
use tokio::sync::mpsc::UnboundedSender;

use super::runner::Msg;
use super::running::RunningMap;
use super::{Dispatcher, WorkerEvent, WorkerOptions, WorkerStats};
use crate::keys::QueueKeys;
use crate::registry::{self, WorkerEntry};
use crate::scripts;
use crate::time::now_ms;

/// Renews the locks of running jobs every half lock duration, from Rust, so a blocked JS
/// event loop cannot let them expire.
pub(super) async fn renew_locks(
    mut con: SharedConnection,
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
            Ok(lost) => {
                tracing::warn!(queue = %keys.queue, jobs = ?lost, "locks lost: the jobs will be taken over");
                dispatcher.events(
                    lost.into_iter()
                        .map(|id| WorkerEvent::Error {
                            message: format!("lock of job {id} could not be renewed"),
                        })
                        .collect(),
                )
            }
            Err(e) => {
                tracing::warn!(queue = %keys.queue, error = %e, "lock renewal failed");
                dispatcher.events(vec![WorkerEvent::Error {
                    message: format!("lock renewal failed: {e}"),
                }])
            }
        }
    }
}

/// Runs the queue's stalled check now and every `stalled_interval`.
pub(super) async fn check_stalled(
    mut con: SharedConnection,
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
            Ok(check) => {
                tracing::warn!(queue = %keys.queue, jobs = ?check.recovered,
                    "stalled jobs recovered (their worker stopped renewing locks)");
                dispatcher.events(
                    check
                        .recovered
                        .into_iter()
                        .map(|id| WorkerEvent::Stalled { id })
                        .collect(),
                )
            }
            Err(e) => {
                tracing::warn!(queue = %keys.queue, error = %e, "stalled check failed");
                dispatcher.events(vec![WorkerEvent::Error {
                    message: format!("stalled check failed: {e}"),
                }])
            }
        }
    }
}

/// Writes the worker's entry in the worker registry every [`registry::HEARTBEAT`], and
/// applies a pause or resume another process asked for. Only a change of the request is
/// applied, so a local pause or resume stands until someone asks otherwise.
pub(super) async fn heartbeat(
    mut con: SharedConnection,
    keys: QueueKeys,
    id: String,
    options: WorkerOptions,
    stats: Arc<WorkerStats>,
    paused: Arc<AtomicBool>,
    tx: UnboundedSender<Msg>,
) {
    let started_at = now_ms();
    let host = registry::host_name();
    let mut tick = tokio::time::interval(registry::HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut requested = false;
    loop {
        tick.tick().await;
        let entry = WorkerEntry {
            id: id.clone(),
            queue: keys.queue.clone(),
            name: options.name.clone(),
            pid: std::process::id(),
            host: host.clone(),
            concurrency: options.concurrency,
            started_at,
            last_activity: stats.last_activity_ms.load(Ordering::Relaxed),
            processed_jobs: stats.completed.load(Ordering::Relaxed),
            failed_jobs: stats.failed.load(Ordering::Relaxed),
            paused: paused.load(Ordering::SeqCst),
            errored: stats.errored.load(Ordering::Relaxed),
        };
        let json = serde_json::to_string(&entry).expect("an entry serialises");
        let now = now_ms();
        let forget = registry::FORGET_AFTER;
        match scripts::worker_heartbeat(&mut con, &keys.prefix, &id, now, Some(&json), forget).await
        {
            Ok(asked) if asked != requested => {
                requested = asked;
                paused.store(asked, Ordering::SeqCst);
                let _ = tx.send(Msg::Poke);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(queue = %keys.queue, worker_id = %id, error = %e, "worker heartbeat failed");
                stats.errored.store(true, Ordering::Relaxed);
            }
        }
    }
}
