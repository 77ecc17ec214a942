//! The one place the binding encodes and decodes the hot paths' compact JSON text (lib/wire.js
//! is its JavaScript counterpart). Job data never becomes a JS object in Rust nor a Rust value
//! in JS: it crosses as the JSON text it is stored as, and a whole batch crosses in one call.
//!
//! - add payloads (decoded here): `{"defaults":[opts...],"anyData"?:bool,"jobs":[{name,data,
//!   opts}...]}`, `data` kept as the raw text it arrived as;
//! - add results (encoded): `{"opts":[stored opts text...],"jobs":[entry...]}`, an entry being
//!   `[id, created, timestamp ms, opts index]` or a refusal `{code, message, field}`;
//! - job batches to a worker's processor (encoded): `[{handle, token, job}]`;
//! - worker events (encoded): `[{type, ...}]`;
//! - a queue's events stream entries (encoded): `[[id, {field: value}]]`;
//! - stored jobs (encoded), for the job lists that carry user data.

use job_queue_core::events::StreamEvent;
use job_queue_core::job::Job;
use job_queue_core::worker::{Dispatched, WorkerEvent};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

/// An add payload as JS built it, borrowing the jobs' data from the payload text.
#[derive(Deserialize)]
pub(crate) struct AddPayload<'a> {
    /// Option layers merged under each job's own options: coordinator, then queue defaults.
    #[serde(default)]
    pub defaults: Vec<Map<String, Value>>,
    /// The jobs, in order.
    #[serde(borrow)]
    pub jobs: Vec<JobInput<'a>>,
    /// Accept any JSON as data, as BullMQ's Queue does (the coordinator sends objects only).
    #[serde(default, rename = "anyData")]
    pub any_data: bool,
    /// Options as BullMQ's Queue takes them: custom backoff types (the worker's strategy
    /// computes them), no default jitter.
    #[serde(default)]
    pub bullmq: bool,
}

/// One job of an add payload.
#[derive(Deserialize)]
pub(crate) struct JobInput<'a> {
    pub name: String,
    /// The job's data, as the JSON text it will be stored as.
    #[serde(borrow)]
    pub data: &'a RawValue,
    #[serde(default)]
    pub opts: Map<String, Value>,
}

/// Reads an add payload; the error names what is malformed.
pub(crate) fn decode_add_payload(text: &str) -> serde_json::Result<AddPayload<'_>> {
    serde_json::from_str(text)
}

/// One job's outcome in an add result.
pub(crate) enum AddEntry<'a> {
    /// Added (`created`), or already there under its custom id (not `created`).
    Added {
        id: &'a str,
        created: bool,
        /// The job's timestamp, in ms since the epoch.
        timestamp: u64,
        /// Index of its stored options text in the result's `opts`.
        opts: usize,
    },
    /// Refused, with its reason `{code, message, field}`.
    Refused(Value),
}

/// The answer to an add payload: the distinct stored options texts and one entry per job.
pub(crate) fn encode_add_result(opts: &[&str], jobs: Vec<AddEntry<'_>>) -> String {
    let jobs: Vec<Value> = jobs
        .into_iter()
        .map(|e| match e {
            AddEntry::Added {
                id,
                created,
                timestamp,
                opts,
            } => json!([id, created, timestamp, opts]),
            AddEntry::Refused(reason) => reason,
        })
        .collect();
    json!({ "opts": opts, "jobs": jobs }).to_string()
}

/// A batch of jobs for the processor: `[{handle, token, job}]`.
pub(crate) fn encode_job_batch(jobs: &[Dispatched]) -> String {
    serde_json::to_string(jobs).expect("jobs serialise")
}

/// A batch of worker events: `[{type, ...}]`.
pub(crate) fn encode_worker_events(events: Vec<WorkerEvent>) -> String {
    let list: Vec<Value> = events
        .into_iter()
        .map(|e| match e {
            WorkerEvent::Completed {
                handle,
                id,
                return_value,
            } => {
                json!({"type": "completed", "handle": handle, "id": id, "result": return_value})
            }
            WorkerEvent::Failed {
                handle,
                id,
                name,
                error_name,
                reason,
                retrying,
                retry_delay,
                attempt,
                trace_id,
            } => json!({"type": "failed", "handle": handle, "id": id, "name": name, "errorName": error_name,
                        "reason": reason, "retrying": retrying,
                        "retryDelayMs": retry_delay.map(|d| d.as_millis() as u64),
                        "attempt": attempt, "traceId": trace_id}),
            WorkerEvent::TimedOut { handle, id } => {
                json!({"type": "timedOut", "handle": handle, "id": id})
            }
            WorkerEvent::Stalled { id } => json!({"type": "stalled", "id": id}),
            WorkerEvent::Drained => json!({"type": "drained"}),
            WorkerEvent::Error { message } => json!({"type": "error", "message": message}),
            WorkerEvent::JobError {
                handle,
                id,
                message,
            } => json!({"type": "error", "handle": handle, "id": id, "message": message}),
        })
        .collect();
    Value::Array(list).to_string()
}

/// Entries of a queue's events stream: `[[id, {field: value}]]`.
pub(crate) fn encode_stream_events(entries: Vec<StreamEvent>) -> String {
    let batch: Vec<Value> = entries
        .into_iter()
        .map(|(id, fields)| {
            let obj: Map<String, Value> = fields.into_iter().map(|(k, v)| (k, v.into())).collect();
            json!([id, obj])
        })
        .collect();
    Value::Array(batch).to_string()
}

/// A stored job: `{id, name, data, opts, ...}` with BullMQ's field names.
pub(crate) fn encode_job(job: &Job) -> String {
    job.to_json()
}

/// A list of stored jobs: `[job...]`.
pub(crate) fn encode_jobs(jobs: &[Job]) -> String {
    serde_json::to_string(jobs).expect("jobs serialise")
}

/// A list of jobs read by the engine as the JSON array the JS side parses, or its error.
pub(crate) fn jobs_json(jobs: job_queue_core::Result<Vec<Job>>) -> napi::Result<String> {
    Ok(encode_jobs(&jobs.map_err(crate::errors::to_js)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The add payload as lib/wire.js builds it (string concatenation of JSON texts).
    fn payload(defaults: &str, jobs: &[(&str, &str, &str)], any: bool) -> String {
        let jobs: Vec<String> = jobs
            .iter()
            .map(|(name, data, opts)| {
                format!(
                    r#"{{"name":{},"data":{data},"opts":{opts}}}"#,
                    Value::from(*name)
                )
            })
            .collect();
        let any = if any { r#""anyData":true,"# } else { "" };
        format!(
            r#"{{"defaults":{defaults},{any}"jobs":[{}]}}"#,
            jobs.join(",")
        )
    }

    #[test]
    fn add_payload_round_trips_with_data_text_untouched() {
        let data = r#"{"b": 1,  "a":[1.50, "\u00e9"]}"#;
        let text = payload(
            r#"[{"attempts":3}]"#,
            &[("say \"hi\"", data, r#"{"delay":5}"#), ("two", "7", "{}")],
            true,
        );
        let p = decode_add_payload(&text).expect("decodes");
        assert!(p.any_data);
        assert_eq!(p.defaults.len(), 1);
        assert_eq!(p.defaults[0]["attempts"], 3);
        assert_eq!(p.jobs.len(), 2);
        assert_eq!(p.jobs[0].name, "say \"hi\"");
        // the data crosses as the exact text it was given, spacing and number forms included
        assert_eq!(p.jobs[0].data.get(), data);
        assert_eq!(p.jobs[0].opts["delay"], 5);
        assert_eq!(p.jobs[1].data.get(), "7");
        assert!(p.jobs[1].opts.is_empty());
    }

    #[test]
    fn add_payload_defaults_and_any_data_are_optional() {
        let p = decode_add_payload(r#"{"jobs":[{"name":"n","data":{}}]}"#).expect("decodes");
        assert!(!p.any_data);
        assert!(p.defaults.is_empty());
        assert!(p.jobs[0].opts.is_empty());
        assert!(decode_add_payload(r#"{"jobs":[{"data":{}}]}"#).is_err());
        assert!(decode_add_payload("not json").is_err());
    }

    #[test]
    fn add_result_encodes_entries_in_order() {
        let refusal = json!({"code": "VALIDATION_ERROR", "message": "bad", "field": "opts.delay"});
        let text = encode_add_result(
            &[r#"{"attempts":1}"#],
            vec![
                AddEntry::Added {
                    id: "1",
                    created: true,
                    timestamp: 1_700_000_000_123,
                    opts: 0,
                },
                AddEntry::Refused(refusal.clone()),
                AddEntry::Added {
                    id: "custom",
                    created: false,
                    timestamp: 5,
                    opts: 0,
                },
            ],
        );
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v["opts"], json!([r#"{"attempts":1}"#]));
        assert_eq!(v["jobs"][0], json!(["1", true, 1_700_000_000_123u64, 0]));
        assert_eq!(v["jobs"][1], refusal);
        assert_eq!(v["jobs"][2], json!(["custom", false, 5, 0]));
    }

    #[test]
    fn worker_events_encode_each_kind() {
        let text = encode_worker_events(vec![
            WorkerEvent::Completed {
                handle: Some(3),
                id: "7".into(),
                return_value: "{\"ok\":true}".into(),
            },
            WorkerEvent::Stalled { id: "8".into() },
            WorkerEvent::Drained,
            WorkerEvent::Error {
                message: "down".into(),
            },
        ]);
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(
            v,
            json!([
                {"type": "completed", "handle": 3, "id": "7", "result": "{\"ok\":true}"},
                {"type": "stalled", "id": "8"},
                {"type": "drained"},
                {"type": "error", "message": "down"},
            ])
        );
    }

    #[test]
    fn stream_events_encode_as_id_and_field_map() {
        let text = encode_stream_events(vec![(
            "1-0".into(),
            vec![
                ("event".into(), "added".into()),
                ("jobId".into(), "4".into()),
            ],
        )]);
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v, json!([["1-0", {"event": "added", "jobId": "4"}]]));
    }
}
