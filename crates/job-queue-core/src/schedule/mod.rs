//! Job schedulers (docs/redis-layout.md): recurring jobs defined by a cron expression or a fixed
//! interval, kept in Redis in BullMQ's layout so BullMQ lists and runs ours and we run theirs.
//!
//! A scheduler never runs a timer of its own. Each iteration is a delayed job
//! `repeat:<scheduler>:<ms>`; when a worker (ours or BullMQ's) starts it, it queues the next
//! one, and the script that does so accepts only the current iteration as producer. However
//! many workers and coordinators run, each time slot gets exactly one job.

pub mod cron;
mod queue_ops;
mod repeat;

pub use repeat::{Cadence, Repeat};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
pub use crate::scripts::{NextIteration, Scheduled};

/// A scheduler as stored (`repeat:<id>` hash and its score in `repeat`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerInfo {
    /// The scheduler's id (the caller's key; iterations are `repeat:<key>:<due ms>`).
    pub key: String,
    /// The name its iterations get.
    pub name: String,
    /// When the next iteration is due, in ms.
    pub next: Option<u64>,
    /// Iterations created so far (`ic`), when stored.
    pub iteration_count: Option<u64>,
    /// Cron pattern, for a cron scheduler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Interval in ms, for an `every` scheduler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// IANA time zone the cron pattern is read in (UTC when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// Most iterations to create, when limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// No iteration before this time, in ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<u64>,
    /// No iteration after this time, in ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<u64>,
    /// Phase of an `every` scheduler in ms: iterations fall on `k × every + offset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Template data (JSON), `{}` when none was stored.
    pub data: Box<serde_json::value::RawValue>,
    /// Template job options (JSON), `{}` when none were stored.
    pub opts: Box<serde_json::value::RawValue>,
}

impl SchedulerInfo {
    pub(crate) fn from_hash(key: String, next: Option<u64>, fields: Vec<(String, String)>) -> Self {
        let num = |v: &str| v.parse::<f64>().ok().map(|f| f as u64);
        let json = |v: &str| {
            serde_json::value::RawValue::from_string(v.to_owned())
                .unwrap_or_else(|_| empty_object())
        };
        let mut info = Self {
            key,
            name: String::new(),
            next,
            iteration_count: None,
            pattern: None,
            every: None,
            tz: None,
            limit: None,
            start_date: None,
            end_date: None,
            offset: None,
            data: empty_object(),
            opts: empty_object(),
        };
        for (field, value) in fields {
            match field.as_str() {
                "name" => info.name = value,
                "ic" => info.iteration_count = num(&value),
                "pattern" => info.pattern = Some(value),
                "every" => info.every = num(&value),
                "tz" => info.tz = Some(value),
                "limit" => info.limit = num(&value),
                "startDate" => info.start_date = num(&value),
                "endDate" => info.end_date = num(&value),
                "offset" => info.offset = num(&value),
                "data" => info.data = json(&value),
                "opts" => info.opts = json(&value),
                _ => {}
            }
        }
        info
    }
}

fn empty_object() -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string("{}".to_owned()).expect("{} is JSON")
}

/// Option members every iteration sets for itself (as BullMQ's do).
const PER_ITERATION: [&str; 6] = [
    "jobId",
    "delay",
    "timestamp",
    "prevMillis",
    "repeatJobKey",
    "repeat",
];

impl NextIteration {
    /// Works out the iteration after the one `producer` (a job of scheduler `scheduler`, with
    /// stored `opts`) at `now`. `Ok(None)`: the schedule is over (limit reached, end date
    /// passed, or a cron that never fires again).
    pub fn after(scheduler: &str, producer: &str, opts: &str, now: u64) -> Result<Option<Self>> {
        let corrupt = |message: String| Error::Corrupt {
            id: producer.to_owned(),
            message,
        };
        let Ok(Value::Object(mut opts)) = serde_json::from_str::<Value>(opts) else {
            return Err(corrupt("opts is not a JSON object".into()));
        };
        let Some(Value::Object(mut repeat)) = opts.get("repeat").cloned() else {
            return Err(corrupt("a scheduler iteration without opts.repeat".into()));
        };
        let prev = opts
            .get("prevMillis")
            .and_then(Value::as_u64)
            .or_else(|| producer.rsplit(':').next()?.parse().ok())
            .unwrap_or(now);
        let count = repeat.get("count").and_then(Value::as_u64).unwrap_or(1) + 1;
        let offset = repeat.remove("offset").and_then(|v| v.as_u64());
        repeat.remove("count");
        let spec = Repeat::from_map(&repeat).map_err(|e| corrupt(e.to_string()))?;
        if spec.limit.is_some_and(|limit| count > limit) {
            return Ok(None);
        }
        let at = match spec.every() {
            Some(_) => None,
            None => match spec.next_cron(now.max(prev)) {
                Some(at) => Some(at),
                None => return Ok(None),
            },
        };
        if at.zip(spec.end_date).is_some_and(|(at, end)| at > end) {
            return Ok(None);
        }
        let priority = opts.get("priority").and_then(Value::as_u64).unwrap_or(0);
        for field in PER_ITERATION {
            opts.remove(field);
        }
        Ok(Some(Self {
            scheduler: scheduler.to_owned(),
            producer: producer.to_owned(),
            at,
            every: spec.every(),
            offset,
            end_date: spec.end_date,
            base_opts: Value::Object(opts).to_string(),
            repeat_fields: Value::Object(repeat).to_string(),
            count,
            priority,
        }))
    }
}
