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
//! - stored jobs (encoded), for the job lists that carry user data;
//! - what fetching and settling by hand did (encoded): `{job, rateLimitMs, nextDelayedMs,
//!   drained, scheduleError}` and `{finishedOn, attemptsMade, retrying, retryDelayMs,
//!   stacktrace, next}`.

use job_queue_core::events::StreamEvent;
use job_queue_core::job::Job;
use job_queue_core::worker::{Dispatched, ManualSettled, NextJob, WorkerEvent};
use serde::{Deserialize, Serialize};
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
                job,
            } => json!({"type": "failed", "handle": handle, "id": id, "name": name, "errorName": error_name,
                        "reason": reason, "retrying": retrying,
                        "retryDelayMs": retry_delay.map(|d| d.as_millis() as u64),
                        "attempt": attempt, "traceId": trace_id, "job": job}),
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

/// A fetch by hand, the job embedded as its stored JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NextJobOut<'a> {
    job: Option<&'a Job>,
    rate_limit_ms: u64,
    next_delayed_ms: u64,
    drained: bool,
    schedule_error: Option<String>,
}

impl<'a> From<&'a NextJob> for NextJobOut<'a> {
    fn from(n: &'a NextJob) -> Self {
        Self {
            job: n.job.as_ref(),
            rate_limit_ms: n.rate_limited.map_or(0, |d| d.as_millis() as u64),
            next_delayed_ms: n.next_delayed_ms.unwrap_or(0),
            drained: n.drained,
            schedule_error: n.schedule_error.as_ref().map(ToString::to_string),
        }
    }
}

/// What a fetch by hand found: `{job: {...} | null, rateLimitMs, nextDelayedMs, drained,
/// scheduleError}` (0 for no rate limit / no delayed job).
pub(crate) fn encode_next_job(next: &NextJob) -> String {
    serde_json::to_string(&NextJobOut::from(next)).expect("a fetch serialises")
}

/// What settling by hand did: `{finishedOn, attemptsMade, retrying, retryDelayMs,
/// stacktrace (JSON text), next}`, `next` as [`encode_next_job`] or null.
pub(crate) fn encode_manual_settled(s: &ManualSettled) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out<'a> {
        finished_on: Option<u64>,
        attempts_made: u32,
        retrying: bool,
        retry_delay_ms: Option<u64>,
        stacktrace: Option<&'a str>,
        next: Option<NextJobOut<'a>>,
    }
    let out = Out {
        finished_on: s.finished_on,
        attempts_made: s.attempts_made,
        retrying: s.retrying,
        retry_delay_ms: s.retry_delay.map(|d| d.as_millis() as u64),
        stacktrace: s.stacktrace.as_deref(),
        next: s.next.as_ref().map(NextJobOut::from),
    };
    serde_json::to_string(&out).expect("a settle serialises")
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
    fn manual_answers_embed_the_job_as_stored_and_zero_for_no_limit() {
        let fields = vec![
            ("name".to_owned(), "n".to_owned()),
            (
                "data".to_owned(),
                r#"{"big":12345678901234567890}"#.to_owned(),
            ),
            ("timestamp".to_owned(), "5".to_owned()),
        ];
        let job = Job::from_hash("7".into(), fields).unwrap();
        let next = NextJob {
            job: Some(job),
            drained: false,
            ..NextJob::default()
        };
        let text = encode_next_job(&next);
        // the data crosses as the text stored, not re-read as a float
        assert!(
            text.contains(r#""data":{"big":12345678901234567890}"#),
            "{text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["job"]["id"], "7");
        assert_eq!(
            (v["rateLimitMs"].clone(), v["nextDelayedMs"].clone()),
            (json!(0), json!(0))
        );

        let settled = ManualSettled {
            finished_on: None,
            attempts_made: 2,
            retrying: true,
            retry_delay: Some(std::time::Duration::from_millis(250)),
            stacktrace: Some(r#"["a"]"#.into()),
            next: Some(NextJob {
                rate_limited: Some(std::time::Duration::from_millis(900)),
                drained: true,
                ..NextJob::default()
            }),
        };
        let v: Value = serde_json::from_str(&encode_manual_settled(&settled)).unwrap();
        assert_eq!(
            v,
            json!({"finishedOn": null, "attemptsMade": 2, "retrying": true, "retryDelayMs": 250,
                   "stacktrace": "[\"a\"]",
                   "next": {"job": null, "rateLimitMs": 900, "nextDelayedMs": 0, "drained": true,
                            "scheduleError": null}})
        );
    }

    #[test]
    fn a_failed_event_carries_the_job_fetched_to_be_failed() {
        let fields = [
            ("name", "s"),
            ("data", r#"{"n":1}"#),
            ("stc", "2"),
            ("ats", "1"),
        ];
        let job = Job::from_hash(
            "9".into(),
            fields.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec(),
        )
        .unwrap();
        let failed = |job: Option<Box<Job>>| WorkerEvent::Failed {
            handle: None,
            id: "9".into(),
            name: "s".into(),
            error_name: None,
            reason: "job stalled more than allowable limit".into(),
            retrying: false,
            retry_delay: None,
            attempt: 1,
            trace_id: None,
            job,
        };
        let text = encode_worker_events(vec![failed(Some(Box::new(job))), failed(None)]);
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        let carried = &v[0]["job"];
        assert_eq!(carried["id"], "9");
        assert_eq!(
            carried["data"],
            json!({"n": 1}),
            "the payload as JSON, as in job batches"
        );
        assert_eq!(
            (&carried["stalledCounter"], &carried["attemptsStarted"]),
            (&json!(2), &json!(1))
        );
        assert_eq!(v[0]["handle"], Value::Null);
        assert_eq!(v[1]["job"], Value::Null, "none for a dispatched job");
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
