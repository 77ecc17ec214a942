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
pub use keep::{KeepPolicy, DEFAULT_AGE_LIMIT};
pub use stored::StoredOptions;

/// Highest priority BullMQ accepts: 2^21 − 1 keeps every prioritized score below 2^53.
pub const MAX_PRIORITY: u64 = 2_097_151;

/// Options of which BullMQ accepts at most one on a job (its `validateOptions`), in the order
/// its error lists them.
const EXCLUSIVE: [&str; 4] = [
    "removeDependencyOnFailure",
    "failParentOnFailure",
    "continueParentOnFailure",
    "ignoreDependencyOnFailure",
];

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
    /// BullMQ's `sizeLimit`: the most bytes of JSON the job's data may have (none: no limit
    /// but the producer's own).
    pub size_limit: Option<f64>,
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
    /// (the worker's backoff strategy works out its delays) instead of refused, a backoff
    /// without jitter gets none (the design's default jitter is for the design's API), an
    /// empty `jobId` is ignored (the job gets a generated id), and the checks BullMQ also
    /// makes fail with BullMQ's messages (`Priority should not be float`...), which its users
    /// match on. BullMQ's own rules ([`bullmq_rules`]) apply either way.
    pub fn from_map_with(mut opts: Map<String, Value>, bullmq: bool) -> Result<Self> {
        bullmq_rules(&opts)?;
        // the same check in BullMQ's words for its classes, in ours for the design's API
        let bad = |field: &str, ours: String, theirs: &str| {
            if bullmq {
                Error::validation_worded(field, theirs)
            } else {
                Error::validation(field, ours)
            }
        };
        let delay_ms = match opts.get("delay") {
            None => 0,
            Some(v) => non_negative_ms(v, "delay")?,
        };
        if delay_ms == 0 {
            opts.remove("delay");
        }
        let priority = match opts.get("priority").map(Value::as_f64) {
            None => 0,
            Some(Some(p)) if p.is_finite() && p.fract() == 0.0 => {
                if !(0.0..=MAX_PRIORITY as f64).contains(&p) {
                    let ours = if p < 0.0 {
                        "must be a non-negative integer".to_owned()
                    } else {
                        format!("must be between 0 and {MAX_PRIORITY}, got {p}")
                    };
                    return Err(bad("priority", ours, PRIORITY_RANGE));
                }
                p as u64
            }
            Some(_) => {
                return Err(bad(
                    "priority",
                    "must be a non-negative integer".into(),
                    "Priority should not be float",
                ))
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
        if let Some(jitter) = opts
            .get("backoff")
            .and_then(|b| b.get("jitter"))
            .and_then(Value::as_f64)
        {
            if !(0.0..=1.0).contains(&jitter) {
                return Err(bad(
                    "backoff.jitter",
                    "must be a number between 0 and 1".into(),
                    "Jitter should be between 0 and 1",
                ));
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
            // BullMQ takes an empty id for none: the job gets a generated one
            Some(Value::String(s)) if s.is_empty() && bullmq => None,
            Some(Value::String(s)) => Some(validate_job_id(s, bullmq)?),
            Some(Value::Number(n)) => Some(validate_job_id(&n.to_string(), bullmq)?),
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
        if bullmq && opts.get("de").is_some_and(truthy) && !opts["de"].get("id").is_some_and(truthy)
        {
            return Err(Error::validation_worded(
                "deduplication.id",
                "Deduplication id must be provided",
            ));
        }
        let dedup = opts.get("de").map(Dedup::parse).transpose()?;
        let size_limit = match opts.get("sizeLimit") {
            None | Some(Value::Bool(false)) => None,
            Some(v) => match v.as_f64() {
                Some(n) if n.is_finite() && n >= 0.0 => Some(n).filter(|n| *n > 0.0),
                _ => {
                    return Err(Error::validation(
                        "sizeLimit",
                        "must be a non-negative number of bytes",
                    ))
                }
            },
        };
        Ok(Self {
            job_id,
            delay_ms,
            priority,
            lifo,
            timestamp,
            dedup,
            size_limit,
            stored: Value::Object(opts).to_string(),
        })
    }
}

/// BullMQ's message for a priority out of range.
const PRIORITY_RANGE: &str = "Priority should be between 0 and 2097151";

/// The rules of BullMQ's `Job.validateOptions` that only BullMQ's own options meet, in its
/// words: the removed `debounce` option, more than one of the parent-failure options, and
/// deduplication with a parent. They hold for every add, from either API.
fn bullmq_rules(opts: &Map<String, Value>) -> Result<()> {
    if opts.contains_key("debounce") {
        return Err(Error::validation_worded(
            "debounce",
            "Debounce option has been removed. Use deduplication option instead",
        ));
    }
    let enabled: Vec<&str> = EXCLUSIVE
        .into_iter()
        .filter(|o| opts.get(*o).is_some_and(truthy))
        .collect();
    if enabled.len() > 1 {
        return Err(Error::validation_worded(
            enabled[0],
            format!(
                "The following options cannot be used together: {}",
                enabled.join(", ")
            ),
        ));
    }
    if opts.get("de").is_some_and(truthy) && opts.get("parent").is_some_and(truthy) {
        return Err(Error::validation_worded(
            "deduplication",
            "Deduplication and parent options cannot be used together",
        ));
    }
    Ok(())
}

/// Whether JavaScript would take `v` for true (BullMQ tests its options so).
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Whether a custom id reads as an integer, as BullMQ tells (`${parseInt(id)}` === id): the
/// canonical form of one, so the ids the queue generates can never meet it.
fn is_integer_id(id: &str) -> bool {
    let digits = id.strip_prefix('-').unwrap_or(id);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && id != "-0"
}

fn validate_job_id(id: &str, bullmq: bool) -> Result<String> {
    if id.is_empty() {
        return Err(Error::validation("jobId", "must not be empty"));
    }
    if is_integer_id(id) {
        return Err(if bullmq {
            Error::validation_worded("jobId", "Custom Id cannot be integers")
        } else {
            Error::validation(
                "jobId",
                "Custom Id cannot be integers (integers are reserved for generated ids)",
            )
        });
    }
    if id.contains(':') && id.split(':').count() != 3 {
        return Err(if bullmq {
            Error::validation_worded("jobId", "Custom Id cannot contain :")
        } else {
            Error::validation("jobId", "Custom Id cannot contain :")
        });
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

    /// The message of the validation error `opts` fail with (BullMQ's face with `bullmq`),
    /// and its field.
    fn refusal(opts: Value, bullmq: bool) -> (String, String) {
        match AddOptions::from_map_with(merge([obj(opts.clone())]), bullmq) {
            Err(Error::Validation { field, message }) => (field, message),
            other => panic!("{opts}: expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn bullmq_face_fails_in_bullmq_words_and_ours_names_the_field() {
        let cases = [
            (
                json!({"priority": 1.1}),
                "priority",
                "Priority should not be float",
            ),
            (
                json!({"priority": "2"}),
                "priority",
                "Priority should not be float",
            ),
            (
                json!({"priority": 2_097_152}),
                "priority",
                "Priority should be between 0 and 2097151",
            ),
            (
                json!({"priority": -1}),
                "priority",
                "Priority should be between 0 and 2097151",
            ),
            (
                json!({"jobId": "2"}),
                "jobId",
                "Custom Id cannot be integers",
            ),
            (
                json!({"jobId": "-2"}),
                "jobId",
                "Custom Id cannot be integers",
            ),
            (json!({"jobId": 3}), "jobId", "Custom Id cannot be integers"),
            (
                json!({"jobId": "1:0"}),
                "jobId",
                "Custom Id cannot contain :",
            ),
            (
                json!({"deduplication": {"id": ""}}),
                "deduplication.id",
                "Deduplication id must be provided",
            ),
            (
                json!({"deduplication": {"ttl": 5}}),
                "deduplication.id",
                "Deduplication id must be provided",
            ),
            (
                json!({"backoff": {"type": "fixed", "jitter": -1}}),
                "backoff.jitter",
                "Jitter should be between 0 and 1",
            ),
            (
                json!({"backoff": {"type": "custom", "jitter": 5}}),
                "backoff.jitter",
                "Jitter should be between 0 and 1",
            ),
        ];
        for (opts, field, message) in cases {
            assert_eq!(
                refusal(opts.clone(), true),
                (field.to_owned(), message.to_owned()),
                "{opts}"
            );
            if opts["backoff"]["type"] == "custom" {
                continue; // the design's API refuses the type first
            }
            let (f, m) = refusal(opts.clone(), false);
            assert_eq!(f, field, "{opts}");
            assert!(m.starts_with(&format!("invalid {field}: ")), "{opts}: {m}");
        }
    }

    #[test]
    fn bullmq_rules_hold_for_both_faces_in_its_words() {
        let cases = [
            (
                json!({"debounce": {"id": "legacy"}}),
                "Debounce option has been removed. Use deduplication option instead",
            ),
            (
                json!({"removeDependencyOnFailure": true, "failParentOnFailure": true}),
                "The following options cannot be used together: removeDependencyOnFailure, failParentOnFailure",
            ),
            (
                json!({"ignoreDependencyOnFailure": 1, "failParentOnFailure": "yes"}),
                "The following options cannot be used together: failParentOnFailure, ignoreDependencyOnFailure",
            ),
            (
                json!({"deduplication": {"id": "d"}, "parent": {"id": "1", "queue": "bull:q"}}),
                "Deduplication and parent options cannot be used together",
            ),
        ];
        for (opts, message) in cases {
            for bullmq in [true, false] {
                assert_eq!(refusal(opts.clone(), bullmq).1, message, "{opts}");
            }
        }
        // one of them, or several that are off, is fine
        for bullmq in [true, false] {
            let ok = json!({"failParentOnFailure": true, "removeDependencyOnFailure": false,
                "ignoreDependencyOnFailure": 0, "continueParentOnFailure": ""});
            assert!(AddOptions::from_map_with(merge([obj(ok)]), bullmq).is_ok());
        }
    }

    #[test]
    fn an_empty_job_id_is_ignored_by_bullmq_and_refused_by_the_design() {
        let o = AddOptions::from_map_with(merge([obj(json!({"jobId": ""}))]), true).unwrap();
        assert_eq!(o.job_id, None, "a generated id, as BullMQ");
        assert_eq!(refusal(json!({"jobId": ""}), false).0, "jobId");
    }

    #[test]
    fn only_the_canonical_form_of_an_integer_is_refused_as_an_id() {
        for id in ["007", "-0", "1e3", "12a", "+5"] {
            let o = AddOptions::from_map_with(merge([obj(json!({ "jobId": id }))]), true);
            assert_eq!(o.unwrap().job_id.as_deref(), Some(id), "{id}");
        }
    }

    #[test]
    fn size_limit_is_kept_and_checked() {
        let o = AddOptions::from_map(merge([obj(json!({"sizeLimit": 20}))])).unwrap();
        assert_eq!(o.size_limit, Some(20.0));
        assert!(o.stored.contains("\"sizeLimit\":20"), "stored as given");
        let none = AddOptions::from_map(merge([obj(json!({"sizeLimit": 0}))])).unwrap();
        assert_eq!(none.size_limit, None, "0 is no limit, as BullMQ");
        assert_eq!(refusal(json!({"sizeLimit": "big"}), true).0, "sizeLimit");
        assert_eq!(refusal(json!({"sizeLimit": -1}), false).0, "sizeLimit");
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
        assert_eq!(p.limit, None, "BullMQ's default limit applies");
        let p = KeepPolicy::parse(&json!({"age": 10, "limit": 2}), "r").unwrap();
        assert_eq!((p.count, p.limit), (None, Some(2)));
        assert!(KeepPolicy::parse(&json!({"age": 10, "limit": -1}), "r").is_err());
    }
}
