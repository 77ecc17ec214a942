//! Wrappers of the scheduler scripts: `upsert_scheduler`, `next_iteration`,
//! `remove_scheduler`.

use redis::aio::ConnectionLike;

use super::{invocation, NEXT_ITERATION, REMOVE_SCHEDULER, UPSERT_SCHEDULER};
use crate::error::{Error, Result};
use crate::keys::QueueKeys;
use crate::schedule::{NextIteration, Repeat, Scheduled};

/// A scheduler to create or replace, validated.
#[derive(Debug, Clone)]
pub struct UpsertRequest<'a> {
    /// The scheduler's id.
    pub id: &'a str,
    /// When it fires.
    pub repeat: &'a Repeat,
    /// First due time for cron schedules ([`Repeat::first_cron`]).
    pub first_cron: Option<u64>,
    /// The name its iterations get.
    pub name: &'a str,
    /// Template data (JSON text) every iteration carries.
    pub data: &'a str,
    /// Template options in stored form (a JSON object).
    pub opts: &'a str,
    /// The priority iterations run with (0 = none).
    pub priority: u64,
    /// The current time in ms since the epoch, from which the first iteration is computed.
    pub now: u64,
}

/// Creates or replaces the scheduler and queues its first iteration in one script call. An
/// upsert that changes nothing leaves the scheduler and its iteration as they are. A cron
/// slot whose iteration job already exists is an [`Error::JobNotInState`].
pub async fn upsert_scheduler<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    req: &UpsertRequest<'_>,
) -> Result<Scheduled> {
    let r = req.repeat;
    let mut inv = invocation(&UPSERT_SCHEDULER, keys);
    inv.arg(req.id)
        .arg(req.now)
        .arg(req.first_cron.map(|t| t.to_string()).unwrap_or_default())
        .arg(r.every().map(|e| e.to_string()).unwrap_or_default())
        .arg(r.offset.map(|o| o.to_string()).unwrap_or_default())
        .arg(r.start_date.map(|s| s.to_string()).unwrap_or_default())
        .arg(req.name)
        .arg(req.data)
        .arg(req.opts)
        .arg(serde_json::Value::Object(r.iteration_fields()).to_string())
        .arg(req.priority);
    for (field, value) in r.hash_fields() {
        inv.arg(field).arg(value);
    }
    let reply: redis::Value = inv.invoke_async(con).await?;
    match reply {
        redis::Value::Int(-10) => Err(Error::JobNotInState {
            id: format!("repeat:{}:{}", req.id, req.first_cron.unwrap_or(0)),
            expected: "absent (an iteration of that time already exists)",
        }),
        other => {
            let (job_id, delay): (String, u64) =
                redis::from_redis_value(other).map_err(redis::RedisError::from)?;
            Ok(Scheduled {
                next: req.now + delay,
                job_id,
            })
        }
    }
}

/// Queues the iteration after `next.producer`; returns its id, or None when the producer is
/// not the current iteration (someone already advanced it) or the schedule is over.
pub async fn next_iteration<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    next: &NextIteration,
    now: u64,
) -> Result<Option<String>> {
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    let id: String = invocation(&NEXT_ITERATION, keys)
        .arg(&next.scheduler)
        .arg(&next.producer)
        .arg(now)
        .arg(opt(next.at))
        .arg(opt(next.every))
        .arg(opt(next.offset))
        .arg(opt(next.end_date))
        .arg(&next.base_opts)
        .arg(&next.repeat_fields)
        .arg(next.count)
        .arg(next.priority)
        .invoke_async(con)
        .await?;
    Ok((!id.is_empty()).then_some(id))
}

/// Deletes a scheduler and its iteration that has not started. Returns whether it existed.
pub async fn remove_scheduler<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    id: &str,
) -> Result<bool> {
    let existed: i64 = invocation(&REMOVE_SCHEDULER, keys)
        .arg(id)
        .invoke_async(con)
        .await?;
    Ok(existed == 1)
}
