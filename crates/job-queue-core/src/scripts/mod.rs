//! The script registry: every Lua script, compiled in with `include_str!`, each behind one
//! typed wrapper of the same name. `redis::Script` calls EVALSHA and reloads the script on
//! NOSCRIPT, so a Redis restart or failover costs one extra round trip, not an error.

mod add_jobs;
mod finish_and_fetch;
mod job_control;
mod locks;
mod queue_admin;
mod queue_limits;
mod queue_ops;
mod schedule;
mod single_job;

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::LazyLock;

use redis::Script;

pub use add_jobs::{add_jobs, AddRequest};
pub use finish_and_fetch::{finish_and_fetch, Action, Fetch, FetchResult, Settle};
pub use job_control::{move_to_delayed, retry_finished, update_data, AttemptCounter};
pub use locks::{check_stalled, extend_locks, StalledCheck};
pub use queue_admin::{clean_jobs, move_jobs_to_wait, set_queue_meta, trim_events, CleanBatch};
pub use queue_limits::{queue_limits, LimitChange};
pub use queue_ops::{clean_finished, pause_queue, worker_heartbeat};
pub use schedule::{next_iteration, remove_scheduler, upsert_scheduler, UpsertRequest};
pub use single_job::{
    add_log, archive_failed, change_delay, change_priority, promote_job, remove_job, retry_job,
    update_progress,
};

use crate::error::Error;
use crate::keys::QueueKeys;

const COMMON: &str = include_str!("../../lua/include/common.lua");

fn load(body: &str) -> Script {
    Script::new(&format!("{COMMON}\n{body}"))
}

macro_rules! scripts {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(pub(crate) static $name: LazyLock<Script> =
            LazyLock::new(|| load(include_str!(concat!("../../lua/", $file))));)*
    };
}

scripts! {
    ADD_JOBS => "add_jobs.lua",
    FINISH_AND_FETCH => "finish_and_fetch.lua",
    EXTEND_LOCKS => "extend_locks.lua",
    CHECK_STALLED => "check_stalled.lua",
    RETRY_JOB => "retry_job.lua",
    UPDATE_PROGRESS => "update_progress.lua",
    ADD_LOG => "add_log.lua",
    CHANGE_PRIORITY => "change_priority.lua",
    PROMOTE_JOB => "promote_job.lua",
    CHANGE_DELAY => "change_delay.lua",
    REMOVE_JOB => "remove_job.lua",
    UPSERT_SCHEDULER => "upsert_scheduler.lua",
    NEXT_ITERATION => "next_iteration.lua",
    REMOVE_SCHEDULER => "remove_scheduler.lua",
    ARCHIVE_FAILED => "archive_failed.lua",
    PAUSE_QUEUE => "pause_queue.lua",
    CLEAN_FINISHED => "clean_finished.lua",
    CLEAN_JOBS => "clean_jobs.lua",
    MOVE_JOBS_TO_WAIT => "move_jobs_to_wait.lua",
    TRIM_EVENTS => "trim_events.lua",
    SET_QUEUE_META => "set_queue_meta.lua",
    UPDATE_DATA => "update_data.lua",
    MOVE_TO_DELAYED => "move_to_delayed.lua",
    QUEUE_LIMITS => "queue_limits.lua",
}

/// Scripts outside any queue (no queue keys, no shared prelude).
pub(crate) static WORKER_HEARTBEAT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../../lua/worker_heartbeat.lua")));

/// Queue key suffixes in the order every script expects them (lua/include/common.lua).
const QUEUE_KEYS: [&str; 15] = [
    "wait",
    "active",
    "prioritized",
    "delayed",
    "completed",
    "failed",
    "meta",
    "events",
    "marker",
    "pc",
    "id",
    "stalled",
    "stalled-check",
    "limiter",
    "paused",
];

/// Starts an invocation of `script` with the queue's keys and base already in place.
pub(crate) fn invocation<'a>(script: &'a Script, keys: &QueueKeys) -> redis::ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    for suffix in QUEUE_KEYS {
        inv.key(keys.key(suffix));
    }
    inv.arg(&keys.base);
    inv
}

/// Numbers the distinct values of `items` from 1, in order of first appearance: returns them
/// in that order, and each item's number. Scripts take what the items of a call share once
/// ("shapes") and a number per item.
pub(crate) fn number_shapes<S: Eq + Hash>(
    items: impl IntoIterator<Item = S>,
) -> (Vec<S>, Vec<usize>) {
    let mut index: HashMap<S, usize> = HashMap::new();
    let refs = items
        .into_iter()
        .map(|shape| {
            let next = index.len() + 1;
            *index.entry(shape).or_insert(next)
        })
        .collect();
    let mut numbered: Vec<(S, usize)> = index.into_iter().collect();
    numbered.sort_unstable_by_key(|(_, n)| *n);
    (numbered.into_iter().map(|(shape, _)| shape).collect(), refs)
}

/// The negative codes scripts return, in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptCode {
    JobMissing = -1,
    LockMissing = -2,
    NotActive = -3,
    LockMismatch = -6,
    /// The job is the pending iteration of a job scheduler.
    SchedulerJob = -8,
}

impl ScriptCode {
    pub fn from_reply(code: i64) -> Option<Self> {
        match code {
            -1 => Some(Self::JobMissing),
            -2 => Some(Self::LockMissing),
            -3 => Some(Self::NotActive),
            -6 => Some(Self::LockMismatch),
            -8 => Some(Self::SchedulerJob),
            _ => None,
        }
    }

    /// The error this code means for job `id` of `keys`' queue; `expected` names the state
    /// the operation needed, for `NotActive`.
    pub fn into_error(self, keys: &QueueKeys, id: &str, expected: &'static str) -> Error {
        let id = id.to_owned();
        match self {
            Self::JobMissing => Error::JobNotFound {
                queue: keys.queue.clone(),
                id,
            },
            Self::LockMissing => Error::LockMissing { id },
            Self::NotActive => Error::JobNotInState { id, expected },
            Self::LockMismatch => Error::LockMismatch { id },
            Self::SchedulerJob => Error::JobNotInState {
                id,
                expected: "removable: it is a job scheduler's next run (remove the scheduler)",
            },
        }
    }
}

/// Turns a script's status reply into `Ok(())` or the error its code stands for.
pub(crate) fn check(
    code: i64,
    keys: &QueueKeys,
    id: &str,
    expected: &'static str,
) -> Result<(), Error> {
    match ScriptCode::from_reply(code) {
        None if code >= 0 => Ok(()),
        Some(c) => Err(c.into_error(keys, id, expected)),
        None => Err(Error::Corrupt {
            id: id.to_owned(),
            message: format!("unexpected script reply {code}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn shapes_are_numbered_from_one_in_order_of_first_appearance() {
        let (shapes, refs) = number_shapes(["b", "a", "b", "c", "a"]);
        assert_eq!(shapes, ["b", "a", "c"]);
        assert_eq!(refs, [1, 2, 1, 3, 2]);
    }

    #[test]
    fn every_script_code_maps_to_its_error() {
        let k = QueueKeys::new("bull", "q").unwrap();
        let cases = [
            (-1, ErrorCode::JobNotFound),
            (-2, ErrorCode::LockMissing),
            (-3, ErrorCode::JobNotInState),
            (-6, ErrorCode::LockMismatch),
            (-8, ErrorCode::JobNotInState),
        ];
        for (code, expected) in cases {
            let err = check(code, &k, "1", "active").unwrap_err();
            assert_eq!(err.code(), expected, "code {code}");
        }
        assert!(check(0, &k, "1", "active").is_ok());
        assert_eq!(
            check(-99, &k, "1", "active").unwrap_err().code(),
            ErrorCode::Corrupt
        );
    }
}
