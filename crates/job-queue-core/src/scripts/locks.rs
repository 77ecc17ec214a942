//! Wrappers of `lua/extend_locks.lua` and `lua/check_stalled.lua`.

use std::time::Duration;

use redis::aio::ConnectionLike;

use super::{invocation, CHECK_STALLED, EXTEND_LOCKS};
use crate::error::Result;
use crate::keys::QueueKeys;

/// Renews the locks of `(id, token)` pairs for `lock`. Returns the ids not renewed because
/// their lock was gone or held by another token.
pub async fn extend_locks<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    lock: Duration,
    jobs: &[(String, String)],
) -> Result<Vec<String>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut inv = invocation(&EXTEND_LOCKS, keys);
    inv.arg(lock.as_millis() as u64);
    for (id, token) in jobs {
        inv.arg(id).arg(token);
    }
    Ok(inv.invoke_async(con).await?)
}

/// What one stalled check did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StalledCheck {
    /// Jobs moved back to wait because their worker stopped renewing their lock.
    pub recovered: Vec<String>,
    /// Of those, the ones that stalled more than `max_stalled_count` times and will fail.
    pub exceeded: Vec<String>,
}

/// Runs the two-phase stalled check (recover the jobs marked last time whose lock lapsed, then
/// mark every active job) unless any worker of any process ran it within `interval`; then
/// both lists are empty.
pub async fn check_stalled<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    max_stalled_count: u32,
    now_ms: u64,
    interval: Duration,
) -> Result<StalledCheck> {
    let (recovered, exceeded): (Vec<String>, Vec<String>) = invocation(&CHECK_STALLED, keys)
        .arg(max_stalled_count)
        .arg(now_ms)
        .arg(interval.as_millis().max(1) as u64)
        .invoke_async(con)
        .await?;
    Ok(StalledCheck {
        recovered,
        exceeded,
    })
}
