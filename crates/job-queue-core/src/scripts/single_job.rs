//! Wrappers of the scripts that change one job: `retry_job`, `update_progress`, `add_log`,
//! `clear_logs`, `change_priority`, `promote_job`, `change_delay`, `remove_job`,
//! `archive_failed`; and of two that drop one key of a queue: `remove_dedup_key` (a
//! deduplication window) and `remove_legacy_priority`.

use redis::aio::ConnectionLike;

use super::{
    check, invocation, ScriptCode, ADD_LOG, ARCHIVE_FAILED, CHANGE_DELAY, CHANGE_PRIORITY,
    CLEAR_LOGS, PROMOTE_JOB, REMOVE_DEDUP_KEY, REMOVE_JOB, REMOVE_LEGACY_PRIORITY, RETRY_JOB,
    UPDATE_PROGRESS,
};
use crate::error::{Error, Result};
use crate::keys::QueueKeys;

/// Moves a failed job back to waiting. With `reset_attempts` it gets its full attempts again.
pub async fn retry_job<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    reset_attempts: bool,
) -> Result<()> {
    let mut inv = invocation(&RETRY_JOB, keys);
    inv.arg(id).arg("failed");
    if reset_attempts {
        inv.arg("atm").arg("stc");
    }
    let code: i64 = inv.invoke_async(con).await?;
    check(code, keys, id, "failed", "reprocessJob")
}

/// Stores `progress` (JSON text) on the job and emits a `progress` event.
pub async fn update_progress<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    progress: &str,
) -> Result<()> {
    let code: i64 = invocation(&UPDATE_PROGRESS, keys)
        .arg(id)
        .arg(progress)
        .invoke_async(con)
        .await?;
    check(code, keys, id, "present", "updateProgress")
}

/// Appends a log line, keeping the last `keep` lines (0 keeps all). Returns the line count.
pub async fn add_log<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    line: &str,
    keep: u64,
) -> Result<u64> {
    let count: i64 = invocation(&ADD_LOG, keys)
        .arg(id)
        .arg(line)
        .arg(keep)
        .invoke_async(con)
        .await?;
    check(count, keys, id, "present", "addLog")?;
    Ok(count as u64)
}

/// Empties the job's log, or with `keep` > 0 keeps its newest `keep` lines. Returns the
/// lines left. A job without a log (or no job) is no error.
pub async fn clear_logs<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    keep: u64,
) -> Result<u64> {
    Ok(invocation(&CLEAR_LOGS, keys)
        .arg(id)
        .arg(keep)
        .invoke_async(con)
        .await?)
}

/// Deletes the deduplication key `dedup_id`; with `owner`, only while that job owns it.
/// Returns whether a key was deleted.
pub async fn remove_dedup_key<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    dedup_id: &str,
    owner: Option<&str>,
) -> Result<bool> {
    let n: i64 = invocation(&REMOVE_DEDUP_KEY, keys)
        .arg(dedup_id)
        .arg(owner.unwrap_or(""))
        .invoke_async(con)
        .await?;
    Ok(n > 0)
}

/// Deletes the `priority` key of BullMQ versions before the `prioritized` set. Returns
/// whether there was one.
pub async fn remove_legacy_priority<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
) -> Result<bool> {
    let n: i64 = invocation(&REMOVE_LEGACY_PRIORITY, keys)
        .invoke_async(con)
        .await?;
    Ok(n > 0)
}

/// Gives the job a new priority; a waiting job moves to its new place at once, first among
/// its peers with `lifo`, else last.
pub async fn change_priority<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    priority: u64,
    lifo: bool,
) -> Result<()> {
    let code: i64 = invocation(&CHANGE_PRIORITY, keys)
        .arg(id)
        .arg(priority)
        .arg(if lifo { "1" } else { "0" })
        .invoke_async(con)
        .await?;
    check(code, keys, id, "present", "changePriority")
}

/// Makes a delayed job runnable now.
pub async fn promote_job<C: ConnectionLike>(con: &mut C, keys: &QueueKeys, id: &str) -> Result<()> {
    let code: i64 = invocation(&PROMOTE_JOB, keys)
        .arg(id)
        .invoke_async(con)
        .await?;
    check(code, keys, id, "delayed", "promote")
}

/// Sets a delayed job's due time to `delay_ms` after `now`.
pub async fn change_delay<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    now: u64,
    delay_ms: u64,
) -> Result<()> {
    let code: i64 = invocation(&CHANGE_DELAY, keys)
        .arg(id)
        .arg(now)
        .arg(delay_ms)
        .invoke_async(con)
        .await?;
    check(code, keys, id, "delayed", "changeDelay")
}

/// Deletes a job that is not running.
pub async fn remove_job<C: ConnectionLike>(con: &mut C, keys: &QueueKeys, id: &str) -> Result<()> {
    let code: i64 = invocation(&REMOVE_JOB, keys)
        .arg(id)
        .invoke_async(con)
        .await?;
    // a running job (its worker holds the lock) is refused in BullMQ's words
    if code == ScriptCode::NotActive as i64 {
        return Err(Error::JobLocked { id: id.to_owned() });
    }
    check(code, keys, id, "removable", "removeJob")
}

/// Moves a failed job to the archive: kept, no longer listed as failed.
pub async fn archive_failed<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    now: u64,
) -> Result<()> {
    let code: i64 = invocation(&ARCHIVE_FAILED, keys)
        .arg(id)
        .arg(now)
        .invoke_async(con)
        .await?;
    check(code, keys, id, "failed", "archiveFailedJob")
}
