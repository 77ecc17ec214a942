//! Wrapper of `lua/finish_and_fetch.lua`: the worker's single round trip.

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::{FromRedisValue, Value};

use super::{invocation, number_shapes, FINISH_AND_FETCH};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::keys::QueueKeys;
use crate::options::{KeepPolicy, DEFAULT_AGE_LIMIT};

/// How a job that ran is settled.
#[derive(Debug, Clone)]
pub enum Action {
    /// The processor returned: the job goes to the completed set (or is deleted, per `keep`).
    Completed {
        /// The return value as JSON text.
        return_value: String,
        /// What to keep of the completed set (`removeOnComplete`), applied in the same call.
        keep: KeepPolicy,
        /// Attempts the job allows in all.
        attempts: u32,
    },
    /// The attempt failed and no retry follows: the job goes to the failed set (or is deleted).
    Failed {
        /// The error message, stored as `failedReason`.
        reason: String,
        /// What to keep of the failed set (`removeOnFail`), applied in the same call.
        keep: KeepPolicy,
        /// Attempts the job allows in all; `retries-exhausted` is announced when they are used up.
        attempts: u32,
    },
    /// The attempt failed; the job waits in delayed for `delay`, then runs again.
    RetryLater {
        /// The error message, stored as `failedReason`.
        reason: String,
        /// The backoff delay before the next attempt.
        delay: Duration,
    },
    /// The attempt failed; the job is runnable again at once.
    RetryNow {
        /// The error message, stored as `failedReason`.
        reason: String,
        /// Requeue at the right of wait (runs next) instead of the left.
        lifo: bool,
        /// Requeue into prioritized with this priority (0 = wait).
        priority: u64,
    },
    /// Give the job back unfinished (shutdown, a rate-limited job), no attempt counted: to the
    /// front of wait, or for a job with a priority ahead of the other jobs of its priority
    /// (as BullMQ gives jobs back).
    Release,
    /// Back to waiting by hand (BullMQ's `job.moveToWait`): into prioritized with this
    /// priority, or the front of wait when it is 0; no attempt counted.
    BackToWait {
        /// The job's priority (0 = none).
        priority: u64,
    },
}

/// One job to settle: its id, the lock token it was fetched with, and the outcome.
#[derive(Debug, Clone)]
pub struct Settle {
    /// The job's id.
    pub id: String,
    /// The lock token the job was fetched with; a different holder means the job is no longer
    /// this worker's (the entry is refused with a lock error).
    pub token: String,
    /// How the attempt ended.
    pub action: Action,
    /// The job's whole stacktrace array as JSON, when this outcome changes it.
    pub stacktrace: Option<String>,
    /// `atm` after this attempt (the worker read `atm` at fetch time; the lock keeps it so).
    pub attempts_made: u32,
    /// The job's deduplication id, released when it finishes.
    pub dedup_id: Option<String>,
    /// The error's name (`TypeError`, `TimeoutError`) for failures: retries are counted by
    /// it and a final failure stores it as `errorName`.
    pub error_name: Option<String>,
}

/// What to fetch in the same call.
#[derive(Debug, Clone, Copy)]
pub struct Fetch<'a> {
    /// The lock token fetched jobs are held with (one per worker).
    pub token: &'a str,
    /// How long a fetched job's lock lasts before it must be renewed.
    pub lock: Duration,
    /// Jobs to move into active at most (0 = settle only); fewer when the queue is paused, at
    /// its global concurrency, rate limited or short of jobs.
    pub count: usize,
    /// Stored as `processedBy` (`pb`) on fetched jobs.
    pub worker_name: Option<&'a str>,
    /// Worker rate limit: at most `.0` jobs per `.1`, across every worker of the queue.
    pub limiter: Option<(u64, Duration)>,
    /// Per-minute metrics points kept in BullMQ's metrics keys (0: none are written).
    pub metric_points: u32,
    /// Metric increments to apply (the metrics module names the fields); [`NO_METRICS`]
    /// when this call carries none.
    pub metrics: &'a MetricsFlush,
    /// Check every entry first, and write and fetch nothing when one would be refused (the
    /// caller's token does not hold its lock, or it is not active): settling by hand. A
    /// worker's loop settles each entry on its own (false).
    pub strict: bool,
}

/// The answer of [`finish_and_fetch`].
#[derive(Debug)]
pub struct FetchResult {
    /// One entry per settled job, in order (for a refused [`Fetch::strict`] call, each
    /// entry's check, and none was applied).
    pub settled: Vec<Result<()>>,
    /// Jobs moved into active under the fetch's lock, in the order they were taken.
    pub jobs: Vec<Job>,
    /// Fetched jobs whose hash could not be read; they are active and must be failed.
    pub unreadable: Vec<(String, Error)>,
    /// Set when the rate limit stopped the fetch: try again after this long.
    pub rate_limited: Option<Duration>,
    /// Due time (ms) of the earliest delayed job, when nothing was fetched.
    pub next_delayed_ms: Option<u64>,
}

/// What settled jobs of one call tend to share: the lock token, the action and its
/// parameters. Each distinct shape is sent once and jobs refer to it by number, so settling a
/// batch costs Redis 4 arguments per job instead of 12.
#[derive(PartialEq, Eq, Hash)]
struct Shape<'a> {
    token: &'a str,
    code: &'static str,
    attempts_made: u32,
    x: String,
    y: String,
    z: String,
    dedup: &'a str,
    error_name: &'a str,
    /// Most jobs a keep policy's age removes in this call ('' for other actions).
    w: String,
}

impl<'a> Shape<'a> {
    /// The shape of `s`, and its value (return value JSON or failure reason).
    fn of(s: &'a Settle) -> (Self, &'a str) {
        let w = match &s.action {
            Action::Completed { keep, .. } | Action::Failed { keep, .. } => keep_limit(keep),
            _ => String::new(),
        };
        let (code, value, x, y, z) = match &s.action {
            Action::Completed {
                return_value: v,
                keep,
                attempts,
            } => (
                "c",
                v.as_str(),
                keep_count(keep),
                keep_age(keep),
                attempts.to_string(),
            ),
            Action::Failed {
                reason: v,
                keep,
                attempts,
            } => (
                "f",
                v.as_str(),
                keep_count(keep),
                keep_age(keep),
                attempts.to_string(),
            ),
            Action::RetryLater { reason, delay } => (
                "d",
                reason.as_str(),
                delay.as_millis().to_string(),
                String::new(),
                String::new(),
            ),
            Action::RetryNow {
                reason,
                lifo,
                priority,
            } => (
                "w",
                reason.as_str(),
                if *lifo { "1" } else { "0" }.to_owned(),
                priority.to_string(),
                String::new(),
            ),
            Action::Release => ("r", "", String::new(), String::new(), String::new()),
            Action::BackToWait { priority } => {
                ("b", "", priority.to_string(), String::new(), String::new())
            }
        };
        let shape = Shape {
            token: &s.token,
            code,
            attempts_made: s.attempts_made,
            x,
            y,
            z,
            dedup: s.dedup_id.as_deref().unwrap_or(""),
            error_name: s.error_name.as_deref().unwrap_or(""),
            w,
        };
        (shape, value)
    }
}

/// Finished jobs of this kind to keep (-1: all).
fn keep_count(keep: &KeepPolicy) -> String {
    keep.count.map_or(-1, |c| c as i64).to_string()
}

/// Age in seconds after which finished jobs of this kind go (0: never).
fn keep_age(keep: &KeepPolicy) -> String {
    keep.age.map_or(0, |a| a.as_secs()).to_string()
}

/// BullMQ's name of the command that settles as `action` does, which its error messages end
/// with: jobs given back go through `moveJobFromActiveToWait`, the rest `moveToFinished`.
fn command_of(action: &Action) -> &'static str {
    match action {
        Action::Release | Action::BackToWait { .. } => "moveJobFromActiveToWait",
        _ => "moveToFinished",
    }
}

/// Most jobs removed by age per call: the policy's `limit`, else BullMQ's default.
fn keep_limit(keep: &KeepPolicy) -> String {
    keep.limit.unwrap_or(DEFAULT_AGE_LIMIT).to_string()
}

/// One script call: settles `settle` (each entry checked against its lock, the answer per
/// entry in [`FetchResult::settled`]) and then fetches as `fetch` says, promoting due delayed
/// jobs first. Fails as a whole only when Redis does (nothing is half-applied).
pub async fn finish_and_fetch<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    now_ms: u64,
    settle: &[Settle],
    fetch: Fetch<'_>,
) -> Result<FetchResult> {
    let mut inv = invocation(&FINISH_AND_FETCH, keys);
    inv.arg(now_ms)
        .arg(fetch.token)
        .arg(fetch.lock.as_millis() as u64)
        .arg(fetch.count)
        .arg(fetch.worker_name.unwrap_or(""));
    match fetch.limiter {
        Some((max, window)) => inv.arg(max).arg(window.as_millis() as u64),
        None => inv.arg("").arg(""),
    };
    let (parts, values): (Vec<Shape>, Vec<&str>) = settle.iter().map(Shape::of).unzip();
    let (shapes, refs) = number_shapes(parts);
    inv.arg(settle.len())
        .arg(shapes.len())
        .arg(if fetch.strict { "1" } else { "0" });
    for shape in &shapes {
        inv.arg(shape.token)
            .arg(shape.code)
            .arg(shape.attempts_made)
            .arg(&shape.x)
            .arg(&shape.y)
            .arg(&shape.z)
            .arg(shape.dedup)
            .arg(shape.error_name)
            .arg(&shape.w);
    }
    for ((s, value), shape) in settle.iter().zip(values).zip(refs) {
        inv.arg(&s.id)
            .arg(value)
            .arg(s.stacktrace.as_deref().unwrap_or(""))
            .arg(shape);
    }
    let m = fetch.metrics;
    inv.arg(fetch.metric_points)
        .arg(m.completed)
        .arg(m.failed)
        .arg(m.fields.len());
    for (field, n) in &m.fields {
        inv.arg(field).arg(n);
    }
    let (statuses, flat, rate_ms, next_ms): (Vec<i64>, Vec<Value>, i64, i64) =
        inv.invoke_async(con).await?;
    let settled = statuses
        .into_iter()
        .zip(settle)
        .map(|(code, s)| super::check(code, keys, &s.id, "active", command_of(&s.action)))
        .collect();
    let mut jobs = Vec::with_capacity(flat.len() / 2);
    let mut unreadable = Vec::new();
    let mut it = flat.into_iter();
    while let (Some(id), Some(fields)) = (it.next(), it.next()) {
        let id = String::from_redis_value(id).map_err(redis::RedisError::from)?;
        let fields: Vec<(String, String)> =
            FromRedisValue::from_redis_value(fields).map_err(redis::RedisError::from)?;
        match Job::from_hash(id.clone(), fields) {
            Ok(job) => jobs.push(job),
            Err(e) => unreadable.push((id, e)),
        }
    }
    Ok(FetchResult {
        settled,
        jobs,
        unreadable,
        rate_limited: (rate_ms > 0).then(|| Duration::from_millis(rate_ms as u64)),
        next_delayed_ms: (next_ms > 0).then_some(next_ms as u64),
    })
}

/// Increments sent with one script call: jobs completed and failed for good (for BullMQ's
/// per-minute lists) and `metrics:jq` fields.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MetricsFlush {
    /// Jobs completed, for BullMQ's per-minute `metrics:completed` list.
    pub completed: u64,
    /// Jobs failed for good, for BullMQ's per-minute `metrics:failed` list.
    pub failed: u64,
    /// Increments of `metrics:jq` fields (the metrics module documents the field names).
    pub fields: BTreeMap<String, i64>,
}

/// A flush with nothing in it, for calls that carry no metrics.
pub static NO_METRICS: MetricsFlush = MetricsFlush {
    completed: 0,
    failed: 0,
    fields: BTreeMap::new(),
};
