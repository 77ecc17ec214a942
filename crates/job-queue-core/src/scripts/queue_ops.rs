//! Wrappers of the scripts that act on a whole queue (`pause_queue` for pause and resume,
//! `clean_finished`) and of
//! the worker registry's `worker_heartbeat`.

use std::time::Duration;

use redis::aio::ConnectionLike;

use super::{invocation, CLEAN_FINISHED, PAUSE_QUEUE, WORKER_HEARTBEAT};
use crate::error::Result;
use crate::keys::QueueKeys;

/// Pauses the queue for every worker; returns whether it was not paused before.
pub async fn pause_queue<C: ConnectionLike>(con: &mut C, keys: &QueueKeys) -> Result<bool> {
    let (changed, _): (i64, u64) = invocation(&PAUSE_QUEUE, keys)
        .arg("1")
        .invoke_async(con)
        .await?;
    Ok(changed == 1)
}

/// One call of a resume: `first` clears the paused flag and announces `resumed`; every call
/// moves a batch of BullMQ 5's legacy `paused` list into wait. Returns whether the call
/// changed anything, and how many legacy jobs are left to move (call again, not first).
pub async fn resume_queue<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    first: bool,
) -> Result<(bool, u64)> {
    let (changed, left): (i64, u64) = invocation(&PAUSE_QUEUE, keys)
        .arg("0")
        .arg(if first { "1" } else { "0" })
        .invoke_async(con)
        .await?;
    Ok((changed == 1, left))
}

/// Deletes up to `limit` jobs of `set` ("completed" or "failed") that finished at or before
/// `before_ms`, then beyond the newest `keep`. Returns how many.
pub async fn clean_finished<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    set: &str,
    before_ms: Option<u64>,
    keep: Option<u64>,
    limit: u64,
) -> Result<u64> {
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    Ok(invocation(&CLEAN_FINISHED, keys)
        .arg(set)
        .arg(opt(before_ms))
        .arg(opt(keep))
        .arg(limit)
        .invoke_async(con)
        .await?)
}

/// Writes worker `id`'s registry entry (`None`: removes it) under key prefix `prefix`, and
/// forgets entries silent for `forget_after`. Returns whether the worker is asked to pause.
pub async fn worker_heartbeat<C: ConnectionLike>(
    con: &mut C,
    prefix: &str,
    id: &str,
    now: u64,
    entry: Option<&str>,
    forget_after: Duration,
) -> Result<bool> {
    let keys = crate::keys::PrefixKeys::new(prefix).workers();
    let paused: i64 = WORKER_HEARTBEAT
        .key(&keys[0])
        .key(&keys[1])
        .key(&keys[2])
        .arg(id)
        .arg(now)
        .arg(entry.unwrap_or(""))
        .arg(forget_after.as_millis() as u64)
        .invoke_async(con)
        .await?;
    Ok(paused == 1)
}
