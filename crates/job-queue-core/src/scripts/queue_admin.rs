//! Wrappers of the scripts behind the BullMQ-style Queue's bulk operations: `clean_jobs`
//! (clean and drain), `move_jobs_to_wait` (retryJobs, promoteJobs), `trim_events` and
//! `set_queue_meta`, `remove_orphans` (removeOrphanedJobs). Each call does bounded work;
//! callers loop.

use redis::aio::ConnectionLike;

use super::{
    invocation, CLEAN_JOBS, MOVE_JOBS_TO_WAIT, REMOVE_ORPHANS, SET_QUEUE_META, TRIM_EVENTS,
};
use crate::error::Result;
use crate::keys::QueueKeys;

/// What one `clean_jobs` call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanBatch {
    /// Ids of the jobs removed.
    pub removed: Vec<String>,
    /// How many jobs of the state the call looked at (fewer than the window: none left).
    pub looked: u64,
}

/// Removes jobs of `state` whose time is at or before `cutoff_ms`, among the `window` oldest
/// after skipping `offset`; with `announce` emits one `cleaned` event.
pub async fn clean_jobs<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    state: &str,
    cutoff_ms: u64,
    window: u64,
    offset: u64,
    announce: bool,
) -> Result<CleanBatch> {
    let (removed, looked): (Vec<String>, u64) = invocation(&CLEAN_JOBS, keys)
        .arg(state)
        .arg(cutoff_ms)
        .arg(window)
        .arg(offset)
        .arg(if announce { "1" } else { "0" })
        .invoke_async(con)
        .await?;
    Ok(CleanBatch { removed, looked })
}

/// Makes up to `count` jobs of `state` ("failed", "completed" finished at or before
/// `before_ms`, or "delayed") runnable. Returns how many moved.
pub async fn move_jobs_to_wait<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    state: &str,
    count: u64,
    before_ms: u64,
) -> Result<u64> {
    Ok(invocation(&MOVE_JOBS_TO_WAIT, keys)
        .arg(state)
        .arg(count)
        .arg(before_ms)
        .invoke_async(con)
        .await?)
}

/// Trims the events stream to about `max_len` entries; returns how many went.
pub async fn trim_events<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    max_len: u64,
) -> Result<u64> {
    Ok(invocation(&TRIM_EVENTS, keys)
        .arg(max_len)
        .invoke_async(con)
        .await?)
}

/// Writes declared meta fields (`opts.maxLenEvents`, `version`).
pub async fn set_queue_meta<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    fields: &[(&str, String)],
) -> Result<u64> {
    let mut inv = invocation(&SET_QUEUE_META, keys);
    for (field, value) in fields {
        inv.arg(*field).arg(value);
    }
    Ok(inv.invoke_async(con).await?)
}

/// Deletes those of `candidates` (job ids) that no state of the queue references, at most
/// `max` of them (0: no limit), each with its sub-keys. Returns the ids deleted.
pub async fn remove_orphans<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    max: u64,
    candidates: &[&str],
) -> Result<Vec<String>> {
    let mut inv = invocation(&REMOVE_ORPHANS, keys);
    inv.arg(max);
    for id in candidates {
        inv.arg(*id);
    }
    Ok(inv.invoke_async(con).await?)
}
