//! Wrappers of the scripts behind BullMQ's `Job` methods that the queue-level operations do
//! not need: `update_data`, `move_to_delayed`, and `retry_job` for either finished set.

use redis::aio::ConnectionLike;

use super::{check, invocation, MOVE_TO_DELAYED, RETRY_JOB, UPDATE_DATA};
use crate::error::Result;
use crate::keys::QueueKeys;

/// Replaces a job's `data` with `data` (JSON text, checked by the caller).
pub async fn update_data<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    data: &str,
) -> Result<()> {
    let code: i64 = invocation(&UPDATE_DATA, keys)
        .arg(id)
        .arg(data)
        .invoke_async(con)
        .await?;
    check(code, keys, id, "present", "updateData")
}

/// Moves an active job to delayed, due at `due_ms` (its `delay` field set to `delay_ms`),
/// releasing its lock. With `token`, the lock must be held by it; without, it is not checked.
pub async fn move_to_delayed<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    due_ms: u64,
    delay_ms: u64,
    token: Option<&str>,
) -> Result<()> {
    let code: i64 = invocation(&MOVE_TO_DELAYED, keys)
        .arg(id)
        .arg(due_ms)
        .arg(delay_ms)
        .arg(token.unwrap_or("0"))
        .invoke_async(con)
        .await?;
    check(code, keys, id, "active", "moveToDelayed")
}

/// An attempt counter a retry can reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptCounter {
    /// `atm`, attempts made.
    Made,
    /// `ats`, attempts started.
    Started,
    /// `stc`, times recovered as stalled.
    Stalled,
}

impl AttemptCounter {
    fn field(self) -> &'static str {
        match self {
            Self::Made => "atm",
            Self::Started => "ats",
            Self::Stalled => "stc",
        }
    }
}

/// Moves a job of the finished set `from` (`"completed"` or `"failed"`) back to waiting,
/// resetting the counters in `reset`.
pub async fn retry_finished<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
    from: &'static str,
    reset: &[AttemptCounter],
) -> Result<()> {
    debug_assert!(from == "completed" || from == "failed");
    let mut inv = invocation(&RETRY_JOB, keys);
    inv.arg(id).arg(from);
    for counter in reset {
        inv.arg(counter.field());
    }
    let code: i64 = inv.invoke_async(con).await?;
    check(code, keys, id, from, "reprocessJob")
}
