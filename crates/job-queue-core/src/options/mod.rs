//! Job options: what a producer asks for, checked and turned into the `opts` JSON that BullMQ
//! stores on the job hash (docs/redis-layout.md), and read back by workers.
//!
//! Producers may use the design's spelling (`delayMs`, `maxRetries`, `backoffStrategy`) or
//! BullMQ's (`delay`, `attempts`, `backoff`). Both are mapped to BullMQ's names before defaults
//! are merged, so a queue default of `maxRetries` and a per-job `attempts` meet as one field.
//! Keys we do not know are kept verbatim, as BullMQ does.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

mod backoff;
mod dedup;
mod keep;
mod stored;

pub use backoff::{Backoff, BackoffKind, RetryDefaults, DEFAULT_JITTER};
pub use dedup::Dedup;
pub use keep::KeepPolicy;
pub use stored::StoredOptions;

/// Highest priority BullMQ accepts: 2^21 − 1 keeps every prioritized score below 2^53.
pub const MAX_PRIORITY: u64 = 2_097_151;

/// Design spelling → BullMQ spelling.
const ALIASES: &[(&str, &str)] = &[
    ("delayMs", "delay"),
    ("maxRetries", "attempts"),
    ("backoffStrategy", "backoff"),
    ("keepLogs", "kl"),
    ("deduplication", "de"),
];

/// Renames the design's option names to BullMQ's. When both spellings are present the BullMQ
/// one wins, as it is the more specific.
pub fn canonicalize(mut opts: Map<String, Value>) -> Map<String, Value> {
    for (alias, name) in ALIASES {
        if let Some(v) = opts.remove(*alias) {
            opts.entry(name.to_string()).or_insert(v);
        }
    }
    opts
}

/// Merges option layers (coordinator defaults, queue defaults, the call's own options), later
/// layers winning, after canonicalizing each.
pub fn merge(layers: impl IntoIterator<Item = Map<String, Value>>) -> Map<String, Value> {
    let mut merged = Map::new();
    for layer in layers {
        for (k, v) in canonicalize(layer) {
            if !v.is_null() {
                merged.insert(k, v);
            }
        }
    }
    merged
}

/// A validated add request's placement facts, plus the `opts` JSON to store.
#[derive(Debug, Clone, PartialEq)]
pub struct AddOptions {
    /// The caller's job id (`jobId`); none takes the next number of the queue's id counter.
    pub job_id: Option<String>,
    /// How long the job waits in delayed before it may run, in ms (0 = runnable at once).
    pub delay_ms: u64,
    /// 0 = none; otherwise lower runs first (at most 2^21 − 1, as BullMQ).
    pub priority: u64,
    /// Runs before the jobs already waiting (the right of wait) instead of after them.
    pub lifo: bool,
    /// The job's creation time in ms since the epoch, when the caller set one; else the add's time.
    pub timestamp: Option<u64>,
    /// The `deduplication` option, when given.
    pub dedup: Option<Dedup>,
    /// The `opts` field of the job hash.
    pub stored: String,
}

impl AddOptions {
    /// Validates canonical options (see [`merge`]) and normalises them to BullMQ's stored form.
    pub fn from_map(opts: Map<String, Value>) -> Result<Self> {
        Self::from_map_with(opts, false)
    }

    /// As [`from_map`](Self::from_map); with `bullmq` (BullMQ's Queue adds the job), as
    /// BullMQ takes options: a backoff of a type other than the built-in ones is kept as given
    /// (the worker's backoff strategy works out its delays) instead of refused, and a backoff
    /// without jitter gets none (the design's default jitter is for the design's API).
    pub fn from_map_with(mut opts: Map<String, Value>, bullmq: bool) -> Result<Self> {
        let delay_ms = match opts.get("delay") {
            None => 0,
            Some(v) => non_negative_ms(v, "delay")?,
        };
        if delay_ms == 0 {
            opts.remove("delay");
        }
        let priority = match opts.get("priority") {
            None => 0,
            Some(v) => {
                let p = whole_number(v, "priority")?;
                if p > MAX_PRIORITY {
                    return Err(Error::validation(
                        "priority",
                        format!("must be between 0 and {MAX_PRIORITY}, got {p}"),
                    ));
                }
                p
            }
        };
        if priority == 0 {
            opts.remove("priority");
        }
        match opts.get("attempts") {
            None => {
                opts.insert("attempts".into(), Value::from(1));
            }
            Some(v) => {
                let a = whole_number(v, "attempts")?;
                if a < 1 {
                    return Err(Error::validation("attempts", "must be at least 1"));
                }
            }
        }
        if let Some(b) = opts.remove("backoff") {
            // With one attempt there is no retry to delay: storing it would only cost memory.
            let retries = opts.get("attempts").and_then(Value::as_u64) != Some(1);
            let custom = if bullmq { custom_backoff_of(&b)? } else { None };
            if let Some(custom) = custom {
                // a type only the worker's `settings.backoffStrategy` knows: stored as given
                if retries {
                    opts.insert("backoff".into(), custom);
                }
            } else {
                let mut backoff = Backoff::parse(&b)?;
                if !bullmq {
                    backoff.jitter.get_or_insert(DEFAULT_JITTER);
                }
                if retries {
                    opts.insert("backoff".into(), backoff.to_stored());
                }
            }
        }
        let lifo = match opts.get("lifo") {
            None | Some(Value::Bool(false)) => false,
            Some(Value::Bool(true)) => true,
            Some(_) => return Err(Error::validation("lifo", "must be a boolean")),
        };
        for field in ["removeOnComplete", "removeOnFail"] {
            if let Some(v) = opts.get(field) {
                KeepPolicy::parse(v, field)?;
            }
        }
        let job_id = match opts.get("jobId") {
            None => None,
            Some(Value::String(s)) => Some(validate_job_id(s)?),
            Some(Value::Number(n)) => Some(validate_job_id(&n.to_string())?),
            Some(_) => return Err(Error::validation("jobId", "must be a string")),
        };
        let timestamp = match opts.get("timestamp") {
            None => None,
            Some(v) => Some(non_negative_ms(v, "timestamp")?),
        };
        if let Some(t) = opts.get("traceId") {
            if !t.is_string() {
                return Err(Error::validation("traceId", "must be a string"));
            }
        }
        if let Some(t) = opts.get("timeoutMs") {
            non_negative_ms(t, "timeoutMs")?;
        }
        let dedup = opts.get("de").map(Dedup::parse).transpose()?;
        Ok(Self {
            job_id,
            delay_ms,
            priority,
            lifo,
            timestamp,
            dedup,
            stored: Value::Object(opts).to_string(),
        })
    }
}

fn validate_job_id(id: &str) -> Result<String> {
    if id.is_empty() {
        return Err(Error::validation("jobId", "must not be empty"));
    }
    if id.parse::<u64>().is_ok() {
        return Err(Error::validation(
            "jobId",
            "Custom Id cannot be integers (integers are reserved for generated ids)",
        ));
    }
    if id.contains(':') && id.split(':').count() != 3 {
        return Err(Error::validation("jobId", "Custom Id cannot contain :"));
    }
    Ok(id.to_owned())
}

fn non_negative_ms(v: &Value, field: &str) -> Result<u64> {
    match v.as_f64() {
        Some(f) if f.is_finite() && f >= 0.0 => Ok(f.round() as u64),
        Some(_) => Err(Error::validation(
            field,
            "must be a non-negative number of milliseconds",
        )),
        None => Err(Error::validation(
            field,
            "must be a number of milliseconds (NaN and non-numbers are rejected)",
        )),
    }
}

fn whole_number(v: &Value, field: &str) -> Result<u64> {
    match v.as_f64() {
        Some(f) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 => Ok(f as u64),
        _ => Err(Error::validation(field, "must be a non-negative integer")),
    }
}

/// A backoff of a type other than the built-in ones (`{type: 'custom', delay?}`), as BullMQ
/// allows: the worker's `settings.backoffStrategy` works out its delays. Returns it to store
/// as given, or None for a built-in type (or no object).
fn custom_backoff_of(v: &Value) -> Result<Option<Value>> {
    let Some(obj) = v.as_object() else {
        return Ok(None);
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("fixed") | Some("exponential") | None => Ok(None),
        Some("") => Err(Error::validation("backoff.type", "must not be empty")),
        Some(_) => {
            if let Some(d) = obj.get("delay") {
                non_negative_ms(d, "backoff.delay")?;
            }
            Ok(Some(v.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn design_spelling_maps_to_bullmq_names() {
        let o = AddOptions::from_map(merge([obj(json!({
            "delayMs": 500, "maxRetries": 3,
            "backoffStrategy": {"type": "exponential", "delay": 100, "maxDelay": 1000}
        }))]))
        .unwrap();
        assert_eq!(o.delay_ms, 500);
        let stored: Value = serde_json::from_str(&o.stored).unwrap();
        assert_eq!(stored["attempts"], 3);
        assert_eq!(stored["delay"], 500);
        assert_eq!(stored["backoff"]["type"], "exponential");
        assert_eq!(stored["backoff"]["maxDelay"], 1000);
    }

    #[test]
    fn later_layers_win_across_spellings() {
        let m = merge([obj(json!({"maxRetries": 5})), obj(json!({"attempts": 2}))]);
        assert_eq!(m["attempts"], 2);
    }

    #[test]
    fn rejects_bad_values_naming_the_field() {
        let cases = [
            (json!({"delay": -1}), "delay"),
            (json!({"priority": 2_097_152}), "priority"),
            (json!({"attempts": 0}), "attempts"),
            (
                json!({"backoff": {"type": "linear", "delay": 1}}),
                "backoff.type",
            ),
            (json!({"jobId": "42"}), "jobId"),
            (json!({"delay": "soon"}), "delay"),
        ];
        for (input, field) in cases {
            match AddOptions::from_map(merge([obj(input.clone())])) {
                Err(Error::Validation { field: f, .. }) => assert_eq!(f, field, "{input}"),
                other => panic!("{input}: expected a validation error, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_single_attempt_stores_no_backoff() {
        let o = AddOptions::from_map(merge([obj(json!({"attempts": 1, "backoff": 5}))])).unwrap();
        assert_eq!(o.stored, r#"{"attempts":1}"#);
        let err = AddOptions::from_map(merge([obj(
            json!({"attempts": 1, "backoff": {"type": "x"}}),
        )]));
        assert!(err.is_err(), "a bad backoff is still rejected");
    }

    #[test]
    fn bare_number_backoff_is_stored_as_fixed() {
        let o = AddOptions::from_map(merge([obj(json!({"attempts": 2, "backoff": 250}))])).unwrap();
        let stored: Value = serde_json::from_str(&o.stored).unwrap();
        assert_eq!(
            stored["backoff"],
            json!({"type": "fixed", "delay": 250, "jitter": DEFAULT_JITTER})
        );
    }

    #[test]
    fn exponential_backoff_doubles_and_caps() {
        let b =
            Backoff::parse(&json!({"type": "exponential", "delay": 100, "maxDelay": 350})).unwrap();
        let d = RetryDefaults::default();
        let ms: Vec<u64> = (1..=4)
            .map(|n| b.delay_after(n, &d, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(ms, [100, 200, 350, 350]);
    }

    #[test]
    fn fixed_backoff_repeats_its_delay() {
        let b = Backoff::parse(&json!({"type": "fixed", "delay": 250, "jitter": 0})).unwrap();
        let d = RetryDefaults::default();
        let ms: Vec<u128> = (1..=3)
            .map(|n| b.delay_after(n, &d, 0.9).as_millis())
            .collect();
        assert_eq!(ms, [250, 250, 250], "jitter 0 is none, whatever the draw");
    }

    #[test]
    fn without_a_cap_or_jitter_the_defaults_apply() {
        let b = Backoff::parse(&json!({"type": "exponential", "delay": 60_000})).unwrap();
        let d = RetryDefaults::default();
        // 60 s, 120 s, 240 s, then the 5-minute cap; no jitter, as BullMQ
        let ms: Vec<u128> = (1..=5)
            .map(|n| b.delay_after(n, &d, 1.0).as_millis())
            .collect();
        assert_eq!(ms, [60_000, 120_000, 240_000, 300_000, 300_000]);
        let spread = RetryDefaults {
            max_delay: Duration::from_secs(1),
            jitter: 0.5,
        };
        assert_eq!(b.delay_after(3, &spread, 1.0).as_millis(), 500);
    }

    #[test]
    fn a_backoff_added_without_jitter_is_stored_with_ten_percent() {
        let o = AddOptions::from_map(merge([obj(
            json!({"attempts": 2, "backoff": {"type": "fixed", "delay": 5}}),
        )]))
        .unwrap();
        let stored: Value = serde_json::from_str(&o.stored).unwrap();
        assert_eq!(stored["backoff"]["jitter"], json!(DEFAULT_JITTER));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let b = Backoff::parse(&json!({"type": "fixed", "delay": 1000, "jitter": 0.5})).unwrap();
        let d = RetryDefaults::default();
        assert_eq!(b.delay_after(1, &d, 0.0).as_millis(), 1000);
        assert_eq!(b.delay_after(1, &d, 1.0).as_millis(), 500);
        for _ in 0..1000 {
            let ms = b.delay_after(1, &d, rand::random::<f64>()).as_millis();
            assert!((500..=1000).contains(&ms), "{ms}");
        }
    }

    #[test]
    fn an_explicit_zero_jitter_is_stored() {
        let o = AddOptions::from_map(merge([obj(
            json!({"attempts": 2, "backoff": {"type": "fixed", "delay": 5, "jitter": 0}}),
        )]))
        .unwrap();
        let stored: Value = serde_json::from_str(&o.stored).unwrap();
        assert_eq!(stored["backoff"]["jitter"], json!(0.0));
    }

    #[test]
    fn keep_policies_follow_bullmq() {
        assert_eq!(KeepPolicy::parse(&json!(true), "r").unwrap().count, Some(0));
        assert_eq!(
            KeepPolicy::parse(&json!(false), "r").unwrap(),
            KeepPolicy::KEEP_ALL
        );
        let p = KeepPolicy::parse(&json!({"age": 60, "count": 5}), "r").unwrap();
        assert_eq!(p.count, Some(5));
        assert_eq!(p.age, Some(Duration::from_secs(60)));
    }
}
