//! Wrapper of `queue_limits.lua`: the queue-wide limits every worker obeys.

use redis::aio::ConnectionLike;

use super::{invocation, QUEUE_LIMITS};
use crate::error::Result;
use crate::keys::QueueKeys;

/// One change of the queue's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitChange {
    /// The global concurrency (`None` clears it).
    Concurrency(Option<u64>),
    /// The global rate limit: `(max jobs, window ms)` (`None` clears it).
    Rate(Option<(u64, u64)>),
    /// No rate-limited worker fetches for this many ms.
    Pause(u64),
    /// Ends a rate-limit pause (or a used-up window) at once.
    Unpause,
}

/// Applies `change` in one script call.
pub async fn queue_limits<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    change: LimitChange,
) -> Result<()> {
    let mut inv = invocation(&QUEUE_LIMITS, keys);
    match change {
        LimitChange::Concurrency(n) => {
            inv.arg("concurrency")
                .arg(n.map(|n| n.to_string()).unwrap_or_default());
        }
        LimitChange::Rate(rate) => {
            let (max, window) = rate
                .map(|(m, w)| (m.to_string(), w.to_string()))
                .unwrap_or_default();
            inv.arg("rate").arg(max).arg(window);
        }
        LimitChange::Pause(ms) => {
            inv.arg("pause").arg(ms);
        }
        LimitChange::Unpause => {
            inv.arg("unpause");
        }
    }
    let _: i64 = inv.invoke_async(con).await?;
    Ok(())
}
