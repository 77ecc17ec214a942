//! Wrappers of the scheduler scripts: `upsert_scheduler`, `next_iteration`,
//! `remove_scheduler`.

use redis::aio::ConnectionLike;

use super::{invocation, NEXT_ITERATION, REMOVE_SCHEDULER, UPSERT_SCHEDULER};
use crate::error::{Error, Result};
use crate::keys::QueueKeys;
use serde::Serialize;

/// A scheduler to create or replace, validated.
#[derive(Debug, Clone)]
pub struct UpsertRequest<'a> {
    /// The scheduler's id.
    pub id: &'a str,
    /// Interval in ms, for an `every` schedule; none for cron.
    pub every: Option<u64>,
    /// Phase within `every`, in ms; none derives it from the first iteration.
    pub offset: Option<u64>,
    /// No iteration before this time, in ms since the epoch.
    pub start_date: Option<u64>,
    /// The `repeat` member every iteration's options carry (a JSON object).
    pub iteration_fields: String,
    /// The fields of the scheduler's hash that describe its cadence (`pattern`, `every`,
    /// `tz`, `endDate`, `limit`...), as stored.
    pub hash_fields: Vec<(&'static str, String)>,
    /// First due time for cron schedules (none for `every`).
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
/// slot whose iteration job already exists is an [`Error::IterationExists`].
pub async fn upsert_scheduler<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    req: &UpsertRequest<'_>,
) -> Result<Scheduled> {
    let mut inv = invocation(&UPSERT_SCHEDULER, keys);
    inv.arg(req.id)
        .arg(req.now)
        .arg(req.first_cron.map(|t| t.to_string()).unwrap_or_default())
        .arg(req.every.map(|e| e.to_string()).unwrap_or_default())
        .arg(req.offset.map(|o| o.to_string()).unwrap_or_default())
        .arg(req.start_date.map(|s| s.to_string()).unwrap_or_default())
        .arg(req.name)
        .arg(req.data)
        .arg(req.opts)
        .arg(&req.iteration_fields)
        .arg(req.priority);
    for (field, value) in &req.hash_fields {
        inv.arg(field).arg(value);
    }
    let reply: redis::Value = inv.invoke_async(con).await?;
    match reply {
        redis::Value::Int(-10) => Err(Error::IterationExists {
            id: format!("repeat:{}:{}", req.id, req.first_cron.unwrap_or(0)),
            command: "addJobScheduler",
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

/// The first iteration a new scheduler queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scheduled {
    /// The iteration's job id, `repeat:<scheduler>:<due ms>`.
    pub job_id: String,
    /// When it is due, in ms.
    pub next: u64,
}

/// What the next-iteration script needs from a running iteration's stored `opts`: BullMQ's
/// worker reads the same fields, so iterations either side created are advanced alike.
#[derive(Debug, Clone, PartialEq)]
pub struct NextIteration {
    /// The scheduler's id.
    pub scheduler: String,
    /// The id of the iteration that is starting: only the scheduler's current one may produce
    /// the next.
    pub producer: String,
    /// Due time for cron; `None` for `every`, which the script works out from Redis.
    pub at: Option<u64>,
    /// Interval in ms, for `every` (the stored scheduler's wins when it has one).
    pub every: Option<u64>,
    /// Phase in ms, for `every` (the stored one wins); `None` derives it.
    pub offset: Option<u64>,
    /// No iteration after this time, in ms since the epoch.
    pub end_date: Option<u64>,
    /// The opts without the fields each iteration sets itself.
    pub base_opts: String,
    /// The `repeat` member without `offset` and `count`.
    pub repeat_fields: String,
    /// The number the next iteration carries in `repeat.count`.
    pub count: u64,
    /// The priority iterations run with (0 = none).
    pub priority: u64,
}
