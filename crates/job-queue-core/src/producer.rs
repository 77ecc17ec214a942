//! Turning what producers send into validated add requests, before anything touches Redis.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::options::{merge, AddOptions};
use crate::scripts::AddRequest;

/// One job as a producer describes it.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// The job's name, stored as given (BullMQ's `name`).
    pub name: String,
    /// The payload as JSON text; must be an object unless the preparer allows any JSON.
    pub data: &'a str,
    /// The job's own options, over the defaults.
    pub opts: Map<String, Value>,
}

/// Validates jobs against option defaults (coordinator, then queue) and the data size limit.
/// The defaults are merged and checked once per call, so jobs without options of their own
/// (the common case) cost no option parsing at all.
pub struct Preparer {
    defaults: Map<String, Value>,
    default_options: Result<AddOptions>,
    max_data: usize,
    now_ms: u64,
    any_data: bool,
    bullmq: bool,
}

impl Preparer {
    /// A preparer over option default `layers` (lowest first: coordinator, then queue; later
    /// layers win), with `max_data` the largest payload accepted in bytes and `now_ms` the time
    /// stamped on jobs without a `timestamp`. Invalid defaults are reported by each prepare call.
    pub fn new(layers: Vec<Map<String, Value>>, max_data: usize, now_ms: u64) -> Self {
        let defaults = merge(layers);
        let default_options = AddOptions::from_map(defaults.clone());
        Self {
            defaults,
            default_options,
            max_data,
            now_ms,
            any_data: false,
            bullmq: false,
        }
    }

    /// Accepts any JSON value as job data (BullMQ's Queue does), not only objects.
    pub fn allow_any_data(mut self, allow: bool) -> Self {
        self.any_data = allow;
        self
    }

    /// Takes options as BullMQ's Queue does (see [`AddOptions::from_map_with`]): custom
    /// backoff types kept, no default jitter.
    pub fn bullmq_options(mut self, bullmq: bool) -> Self {
        self.bullmq = bullmq;
        self.default_options = AddOptions::from_map_with(self.defaults.clone(), bullmq);
        self
    }

    /// The validated request for `job`, and whether it uses the defaults unchanged.
    pub fn prepare(&self, job: NewJob<'_>) -> Result<(AddRequest, bool)> {
        check_data(job.data, self.max_data, self.any_data)?;
        let plain = job.opts.is_empty();
        let options = if plain {
            match &self.default_options {
                Ok(o) => o.clone(),
                Err(e) => return Err(Error::validation("defaultJobOptions", e.to_string())),
            }
        } else {
            AddOptions::from_map_with(merge([self.defaults.clone(), job.opts]), self.bullmq)?
        };
        if let Some(limit) = options.size_limit {
            // BullMQ's `sizeLimit`, in its words: bytes of the data's JSON
            if job.data.len() as f64 > limit {
                return Err(Error::validation_worded(
                    "data",
                    format!(
                        "The size of job {} exceeds the limit {limit} bytes",
                        job.name
                    ),
                ));
            }
        }
        let request = AddRequest {
            name: job.name,
            data: job.data.to_owned(),
            options,
            now_ms: self.now_ms,
        };
        Ok((request, plain))
    }
}

/// The rules for job data (JSON text), on add and on update alike: a JSON object unless
/// `any_data` (BullMQ's Queue takes any JSON), and at most `max_bytes` bytes (the
/// `maxJobDataSize` setting). JavaScript only turns values into JSON; these are the checks.
pub fn check_data(data: &str, max_bytes: usize, any_data: bool) -> Result<()> {
    if !any_data && !data.trim_start().starts_with('{') {
        return Err(Error::validation("data", "must be a JSON object"));
    }
    if data.len() > max_bytes {
        return Err(Error::validation(
            "data",
            format!(
                "is {} bytes of JSON, over the limit of {max_bytes} (maxJobDataSize)",
                data.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn plain_jobs_take_the_defaults() {
        let p = Preparer::new(vec![layer(json!({"attempts": 3}))], 100, 5);
        let (req, plain) = p
            .prepare(NewJob {
                name: "n".into(),
                data: "{}",
                opts: Map::new(),
            })
            .unwrap();
        assert!(plain);
        assert!(req.options.stored.contains("\"attempts\":3"));
        let (req, plain) = p
            .prepare(NewJob {
                name: "n".into(),
                data: "{}",
                opts: layer(json!({"maxRetries": 5})),
            })
            .unwrap();
        assert!(!plain);
        assert!(req.options.stored.contains("\"attempts\":5"));
    }

    #[test]
    fn size_limit_counts_bytes_of_json_in_bullmq_words() {
        let p = Preparer::new(vec![], 1000, 0).bullmq_options(true);
        let job = |data, limit| NewJob {
            name: "test".into(),
            data,
            opts: layer(json!({ "sizeLimit": limit })),
        };
        // {"foo":"bar"} is 13 bytes; {"foo":"βÅ®"} is 16 bytes in 13 characters
        assert!(p.prepare(job(r#"{"foo":"bar"}"#, 13)).is_ok());
        for (data, limit) in [(r#"{"foo":"bar"}"#, 12), (r#"{"foo":"βÅ®"}"#, 15)] {
            match p.prepare(job(data, limit)).unwrap_err() {
                Error::Validation { field, message } => {
                    assert_eq!(field, "data");
                    assert_eq!(
                        message,
                        format!("The size of job test exceeds the limit {limit} bytes")
                    );
                }
                other => panic!("{data}: {other:?}"),
            }
        }
        // a queue default applies to jobs without options of their own
        let p = Preparer::new(vec![layer(json!({"sizeLimit": 5}))], 1000, 0);
        let plain = NewJob {
            name: "n".into(),
            data: r#"{"a":1}"#,
            opts: Map::new(),
        };
        assert!(p.prepare(plain).is_err());
    }

    #[test]
    fn rejects_non_objects_and_oversized_data() {
        let p = Preparer::new(vec![], 10, 0);
        let job = |data| NewJob {
            name: "n".into(),
            data,
            opts: Map::new(),
        };
        for data in ["[1]", "\"s\"", r#"{"long":"0123456789"}"#] {
            let err = p.prepare(job(data)).unwrap_err();
            assert!(
                matches!(err, Error::Validation { ref field, .. } if field == "data"),
                "{data}"
            );
        }
    }

    #[test]
    fn data_rules_are_the_same_for_any_json() {
        assert!(
            check_data("[1]", 10, true).is_ok(),
            "BullMQ's Queue takes any JSON"
        );
        assert!(check_data("[1]", 10, false).is_err());
        assert!(
            check_data(" {}", 3, false).is_ok(),
            "exactly the limit is accepted"
        );
        let err = check_data(r#""0123456789""#, 10, true).unwrap_err();
        assert!(
            matches!(err, Error::Validation { ref field, ref message } if field == "data" && message.contains("maxJobDataSize")),
            "{err}"
        );
    }
}
