//! A job as stored in its hash (docs/redis-layout.md), read strictly where BullMQ is strict.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// A job read from Redis. `data`, `opts`, `progress` and `returnvalue` stay JSON text, so
/// handing a job to JavaScript never parses and re-serialises the payload.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// The job's id: the queue's counter for jobs added without one, else the caller's own.
    pub id: String,
    /// The job's name (BullMQ's `name`; workers may route on it).
    pub name: String,
    /// The payload, as the JSON text stored.
    pub data: Box<RawValue>,
    /// The job's options as stored (BullMQ's JSON `opts`: attempts, backoff, removeOn*, ...).
    pub opts: Box<RawValue>,
    /// When the job was added, in ms since the Unix epoch.
    pub timestamp: u64,
    /// The delay it was added with, in ms (0 = none); a job that left delayed has 0 again.
    pub delay: u64,
    /// 0 = none; otherwise lower runs first (1 is the most urgent).
    pub priority: u64,
    /// Attempts that ended (completed, failed or retried): BullMQ's `atm`.
    pub attempts_made: u32,
    /// Times a worker started the job, stalled runs included: BullMQ's `ats`.
    pub attempts_started: u32,
    /// Times the job was found stalled (its lock lapsed while active): BullMQ's `stc`.
    pub stalled_counter: u32,
    /// When the current or last attempt started, in ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_on: Option<u64>,
    /// When the job finished (completed or failed for good), in ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<u64>,
    /// The name of the worker that last took the job (BullMQ's `pb`), when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_by: Option<String>,
    /// The last progress reported, as JSON text (`0` until the job reports one).
    pub progress: Box<RawValue>,
    /// The processor's return value as JSON text, once the job completed.
    #[serde(rename = "returnvalue", skip_serializing_if = "Option::is_none")]
    pub return_value: Option<Box<RawValue>>,
    /// Why the last attempt failed (the error message), once one has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_reason: Option<String>,
    /// The class name of the error that failed the job for good (our field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_name: Option<String>,
    /// When the job was archived out of the failed set (our field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_on: Option<u64>,
    /// Stack traces of failed attempts, oldest first, capped by the job's `stackTraceLimit`.
    pub stacktrace: Vec<String>,
    /// The scheduler this job is an iteration of (`rjk`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_job_key: Option<String>,
    /// A failure decided while the job was not running (stalled too often): the worker fails
    /// the job with this reason instead of running it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_failure: Option<String>,
    /// The deduplication id (`deid`) the job owns, if any.
    #[serde(rename = "deduplicationId", skip_serializing_if = "Option::is_none")]
    pub dedup_id: Option<String>,
}

fn raw(id: &str, field: &str, text: &str) -> Result<Box<RawValue>> {
    RawValue::from_string(text.to_owned()).map_err(|e| Error::Corrupt {
        id: id.to_owned(),
        message: format!("field {field} is not JSON: {e}"),
    })
}

fn zero() -> Box<RawValue> {
    RawValue::from_string("0".to_owned()).expect("0 is JSON")
}

impl Job {
    /// Builds a job from HGETALL's field/value pairs. Missing optional fields take BullMQ's
    /// defaults; `data` and `opts` must be JSON, as BullMQ requires.
    pub fn from_hash(id: String, fields: Vec<(String, String)>) -> Result<Self> {
        let mut job = Job {
            name: String::new(),
            data: raw(&id, "data", "{}")?,
            opts: raw(&id, "opts", "{}")?,
            timestamp: 0,
            delay: 0,
            priority: 0,
            attempts_made: 0,
            attempts_started: 0,
            stalled_counter: 0,
            processed_on: None,
            finished_on: None,
            processed_by: None,
            progress: zero(),
            return_value: None,
            failed_reason: None,
            error_name: None,
            archived_on: None,
            stacktrace: Vec::new(),
            repeat_job_key: None,
            deferred_failure: None,
            dedup_id: None,
            id,
        };
        let int = |v: &str| v.parse::<f64>().map(|f| f as u64).unwrap_or(0);
        for (field, value) in fields {
            match field.as_str() {
                "name" => job.name = value,
                "data" => job.data = raw(&job.id, "data", &value)?,
                "opts" => job.opts = raw(&job.id, "opts", &value)?,
                "timestamp" => job.timestamp = int(&value),
                "delay" => job.delay = int(&value),
                "priority" => job.priority = int(&value),
                "atm" => job.attempts_made = int(&value) as u32,
                "attemptsMade" if job.attempts_made == 0 => job.attempts_made = int(&value) as u32,
                "ats" => job.attempts_started = int(&value) as u32,
                "stc" => job.stalled_counter = int(&value) as u32,
                "processedOn" => job.processed_on = Some(int(&value)),
                "finishedOn" => job.finished_on = Some(int(&value)),
                "pb" => job.processed_by = Some(value),
                "progress" => {
                    job.progress = raw(&job.id, "progress", &value).unwrap_or_else(|_| zero())
                }
                "returnvalue" => job.return_value = RawValue::from_string(value).ok(),
                "failedReason" => job.failed_reason = Some(value),
                "errorName" => job.error_name = Some(value),
                "archivedOn" => job.archived_on = Some(int(&value)),
                "stacktrace" => job.stacktrace = serde_json::from_str(&value).unwrap_or_default(),
                "defa" => job.deferred_failure = Some(value),
                "deid" => job.dedup_id = Some(value),
                "rjk" => job.repeat_job_key = Some(value),
                _ => {}
            }
        }
        Ok(job)
    }

    /// The job's state-independent JSON, for JavaScript.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a job serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn reads_a_minimal_foreign_hash_with_defaults() {
        let job = Job::from_hash(
            "7".into(),
            pairs(&[
                ("name", "n"),
                ("data", "{\"a\":1}"),
                ("opts", "{}"),
                ("timestamp", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(job.attempts_made, 0);
        assert_eq!(job.progress.get(), "0");
        assert_eq!(job.data.get(), "{\"a\":1}");
    }

    #[test]
    fn opts_that_are_not_json_make_the_job_corrupt() {
        let err = Job::from_hash("1".into(), pairs(&[("opts", "not-json")])).unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::Corrupt);
    }
}
