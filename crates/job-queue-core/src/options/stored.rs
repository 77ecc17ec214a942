//! What a worker reads back from a fetched job's stored `opts`.

use std::time::Duration;

use serde_json::Value;

use super::{Backoff, KeepPolicy};

/// What a worker needs from a fetched job's stored `opts`.
#[derive(Debug, Clone, Default)]
pub struct StoredOptions {
    /// Attempts allowed in all (0 and 1 both mean one attempt, no retry).
    pub attempts: u32,
    /// The job's `backoff`, when it has a readable one (none: retries run at once).
    pub backoff: Option<Backoff>,
    /// `removeOnComplete`, when readable; none = the worker's default applies.
    pub remove_on_complete: Option<KeepPolicy>,
    /// `removeOnFail`, when readable; none = the worker's default applies.
    pub remove_on_fail: Option<KeepPolicy>,
    /// A retry goes to the right of wait (runs next) instead of the left.
    pub lifo: bool,
    /// Stack traces kept on the job (the newest); none = all.
    pub stack_trace_limit: Option<usize>,
    /// `timeoutMs`: an attempt running longer fails with a timeout.
    pub timeout: Option<Duration>,
    /// `traceId`, when it is a string: carried on the worker's events for logging.
    pub trace_id: Option<String>,
}

impl StoredOptions {
    /// Reads `opts` as BullMQ workers do: unknown or malformed optional fields fall back to
    /// their defaults rather than making the job unprocessable.
    pub fn parse(opts: &str) -> Self {
        let Ok(Value::Object(o)) = serde_json::from_str::<Value>(opts) else {
            return Self::default();
        };
        Self {
            attempts: o.get("attempts").and_then(Value::as_u64).unwrap_or(0) as u32,
            backoff: o.get("backoff").and_then(|b| Backoff::parse(b).ok()),
            remove_on_complete: o
                .get("removeOnComplete")
                .and_then(|v| KeepPolicy::parse(v, "removeOnComplete").ok()),
            remove_on_fail: o
                .get("removeOnFail")
                .and_then(|v| KeepPolicy::parse(v, "removeOnFail").ok()),
            lifo: o.get("lifo").and_then(Value::as_bool).unwrap_or(false),
            stack_trace_limit: o
                .get("stackTraceLimit")
                .and_then(Value::as_u64)
                .map(|n| n as usize),
            timeout: o
                .get("timeoutMs")
                .and_then(Value::as_f64)
                .filter(|t| *t > 0.0)
                .map(|t| Duration::from_millis(t as u64)),
            trace_id: o.get("traceId").and_then(Value::as_str).map(str::to_owned),
        }
    }
}
