//! Worker settings as numbers and JSON text from a caller without Rust's types (the Node
//! binding's `WorkerConfig`, field for field), turned into [`WorkerOptions`]: the one place
//! a worker's settings are judged. Each error names the option as users write it
//! (`lockDuration`, `retry.jitter`), and nothing is started on one.

use crate::error::Result;
use crate::input;
use crate::options::{KeepPolicy, RetryDefaults};

use super::{Prefetch, WorkerOptions};

/// A worker's settings as the caller gave them; absent fields take [`WorkerOptions`]'
/// defaults. Times are in ms.
#[derive(Debug, Clone, Default)]
pub struct WorkerSettings {
    /// The worker's id; a new UUID when absent.
    pub id: Option<String>,
    /// Shown by BullMQ's `getWorkers` and stored as the job's `processedBy`.
    pub name: Option<String>,
    /// `concurrency`: a positive integer.
    pub concurrency: Option<f64>,
    /// `lockDuration`: a positive integer of ms, at least 10.
    pub lock_duration_ms: Option<f64>,
    /// `stalledInterval`: a positive integer of ms, at least 10.
    pub stalled_interval_ms: Option<f64>,
    /// `maxStalledCount`: a non-negative integer.
    pub max_stalled_count: Option<f64>,
    /// `limiter.max`: a positive integer; the limiter applies when both it and
    /// `limiter.duration` are given.
    pub limiter_max: Option<f64>,
    /// `limiter.duration`: a positive integer of ms.
    pub limiter_duration_ms: Option<f64>,
    /// `drainDelay`: a positive number of ms.
    pub drain_delay_ms: Option<f64>,
    /// `removeOnComplete` as JSON text: `true`, `false`, a count or `{age, count}`.
    pub remove_on_complete: Option<String>,
    /// `removeOnFail` as JSON text, likewise.
    pub remove_on_fail: Option<String>,
    /// `prefetch`: a non-negative integer of jobs held ahead.
    pub prefetch: Option<f64>,
    /// `prefetch: 'auto'`; wins over `prefetch`.
    pub prefetch_auto: Option<bool>,
    /// `retryProcessDelay`: a non-negative number of ms.
    pub retry_process_delay_ms: Option<f64>,
    /// `retry.maxDelay`: a non-negative number of ms.
    pub retry_max_delay_ms: Option<f64>,
    /// `retry.jitter`: a number between 0 and 1.
    pub retry_jitter: Option<f64>,
    /// `timeoutMs`: a non-negative number of ms; 0 is no limit.
    pub timeout_ms: Option<f64>,
    /// `metricPoints`: a non-negative integer.
    pub metric_points: Option<f64>,
}

impl WorkerSettings {
    /// The options these settings describe, checked: the first setting that is not valid is
    /// a validation error naming it (then [`WorkerOptions::validate`]'s rules apply).
    pub fn into_options(self) -> Result<WorkerOptions> {
        let d = WorkerOptions::default();
        let limiter_max = self
            .limiter_max
            .map(|n| input::positive_int(n, "limiter.max"))
            .transpose()?;
        let limiter_duration = self
            .limiter_duration_ms
            .map(|n| input::positive_int(n, "limiter.duration"))
            .transpose()?;
        let prefetch = self
            .prefetch
            .map(|n| input::non_negative_u32(n, "prefetch"))
            .transpose()?;
        let options = WorkerOptions {
            concurrency: match self.concurrency {
                Some(n) => {
                    bullmq_rule(n >= 1.0 && n.is_finite(), "concurrency", CONCURRENCY)?;
                    input::positive_u32(n, "concurrency")? as usize
                }
                None => d.concurrency,
            },
            lock_duration: match self.lock_duration_ms {
                Some(n) => whole_ms(n, "lockDuration")?,
                None => d.lock_duration,
            },
            stalled_interval: match self.stalled_interval_ms {
                Some(n) => {
                    bullmq_rule(n > 0.0, "stalledInterval", STALLED_INTERVAL)?;
                    whole_ms(n, "stalledInterval")?
                }
                None => d.stalled_interval,
            },
            max_stalled_count: match self.max_stalled_count {
                Some(n) => {
                    bullmq_rule(n >= 0.0, "maxStalledCount", MAX_STALLED_COUNT)?;
                    input::non_negative_u32(n, "maxStalledCount")?
                }
                None => d.max_stalled_count,
            },
            // BullMQ's maxStartedAttempts: set on the worker (Worker::set_max_started_attempts)
            max_started_attempts: d.max_started_attempts,
            name: self.name,
            id: self.id,
            limiter: match (limiter_max, limiter_duration) {
                (Some(max), Some(ms)) => Some((max, std::time::Duration::from_millis(ms))),
                _ => None,
            },
            remove_on_complete: keep(self.remove_on_complete.as_deref(), "removeOnComplete")?,
            remove_on_fail: keep(self.remove_on_fail.as_deref(), "removeOnFail")?,
            drain_delay: match self.drain_delay_ms {
                Some(n) => {
                    bullmq_rule(n > 0.0, "drainDelay", DRAIN_DELAY)?;
                    input::positive_ms(n, "drainDelay")?
                }
                None => d.drain_delay,
            },
            prefetch: match (self.prefetch_auto, prefetch) {
                (Some(true), _) => Prefetch::Auto,
                (_, Some(n)) => Prefetch::Jobs(n as usize),
                _ => d.prefetch,
            },
            retry: RetryDefaults {
                max_delay: match self.retry_max_delay_ms {
                    Some(n) => input::non_negative_ms(n, "retry.maxDelay")?,
                    None => d.retry.max_delay,
                },
                jitter: match self.retry_jitter {
                    Some(j) => input::fraction(j, "retry.jitter")?,
                    None => d.retry.jitter,
                },
            },
            timeout: match self.timeout_ms {
                Some(n) => Some(input::non_negative_ms(n, "timeoutMs")?).filter(|t| !t.is_zero()),
                None => d.timeout,
            },
            metric_points: match self.metric_points {
                Some(n) => input::non_negative_u32(n, "metricPoints")?,
                None => d.metric_points,
            },
            retry_process_delay: match self.retry_process_delay_ms {
                Some(n) => input::non_negative_ms(n, "retryProcessDelay")?,
                None => d.retry_process_delay,
            },
        };
        options.validate()?;
        Ok(options)
    }
}

/// BullMQ's messages for the worker options its Worker refuses (users match on them); what
/// BullMQ takes but the engine cannot (a fractional concurrency) is refused after, in ours.
const CONCURRENCY: &str = "concurrency must be a finite number greater than 0";
const STALLED_INTERVAL: &str = "stalledInterval must be greater than 0";
const MAX_STALLED_COUNT: &str = "maxStalledCount must be greater or equal than 0";
const DRAIN_DELAY: &str = "drainDelay must be greater than 0";

/// Refuses in BullMQ's words (`message`) when `ok` does not hold (NaN fails every rule).
fn bullmq_rule(ok: bool, field: &str, message: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(crate::error::Error::validation_worded(field, message))
    }
}

/// A lock duration or check interval: a positive integer of ms.
fn whole_ms(v: f64, field: &str) -> Result<std::time::Duration> {
    input::positive_u32(v, field).map(|ms| std::time::Duration::from_millis(ms.into()))
}

fn keep(json: Option<&str>, field: &str) -> Result<KeepPolicy> {
    json.map_or(Ok(KeepPolicy::KEEP_ALL), |text| {
        KeepPolicy::parse_text(text, field)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::error::Error;

    fn refused(settings: WorkerSettings) -> (String, String) {
        match settings.into_options() {
            Err(Error::Validation { field, message }) => (field, message),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn absent_settings_are_the_defaults() {
        let o = WorkerSettings::default().into_options().unwrap();
        let d = WorkerOptions::default();
        assert_eq!(o.concurrency, d.concurrency);
        assert_eq!(o.lock_duration, d.lock_duration);
        assert_eq!(o.retry, d.retry);
        assert_eq!(o.prefetch, d.prefetch);
        assert_eq!(o.timeout, None);
        assert_eq!(o.limiter, None);
    }

    #[test]
    fn given_settings_are_converted() {
        let o = WorkerSettings {
            concurrency: Some(8.0),
            lock_duration_ms: Some(500.0),
            limiter_max: Some(10.0),
            limiter_duration_ms: Some(1000.0),
            drain_delay_ms: Some(1.5),
            remove_on_complete: Some(r#"{"count":5}"#.into()),
            prefetch: Some(2.0),
            retry_jitter: Some(0.25),
            timeout_ms: Some(0.0),
            ..WorkerSettings::default()
        }
        .into_options()
        .unwrap();
        assert_eq!(o.concurrency, 8);
        assert_eq!(o.lock_duration, Duration::from_millis(500));
        assert_eq!(o.limiter, Some((10, Duration::from_secs(1))));
        assert_eq!(o.drain_delay, Duration::from_millis(2));
        assert_eq!(o.remove_on_complete.count, Some(5));
        assert_eq!(o.prefetch, Prefetch::Jobs(2));
        assert_eq!(o.retry.jitter, 0.25);
        assert_eq!(o.timeout, None, "a timeout of 0 is none");
    }

    #[test]
    fn each_bad_setting_is_refused_by_its_name() {
        let s = WorkerSettings::default;
        let cases: Vec<(WorkerSettings, &str)> = vec![
            (
                WorkerSettings {
                    concurrency: Some(0.0),
                    ..s()
                },
                "concurrency",
            ),
            (
                WorkerSettings {
                    concurrency: Some(1.5),
                    ..s()
                },
                "concurrency",
            ),
            (
                WorkerSettings {
                    concurrency: Some(f64::NAN),
                    ..s()
                },
                "concurrency",
            ),
            (
                WorkerSettings {
                    lock_duration_ms: Some(-1.0),
                    ..s()
                },
                "lockDuration",
            ),
            (
                WorkerSettings {
                    lock_duration_ms: Some(5.0),
                    ..s()
                },
                "lockDuration",
            ),
            (
                WorkerSettings {
                    stalled_interval_ms: Some(f64::NAN),
                    ..s()
                },
                "stalledInterval",
            ),
            (
                WorkerSettings {
                    max_stalled_count: Some(-1.0),
                    ..s()
                },
                "maxStalledCount",
            ),
            (
                WorkerSettings {
                    limiter_max: Some(0.0),
                    ..s()
                },
                "limiter.max",
            ),
            (
                WorkerSettings {
                    limiter_duration_ms: Some(2.5),
                    ..s()
                },
                "limiter.duration",
            ),
            (
                WorkerSettings {
                    drain_delay_ms: Some(0.0),
                    ..s()
                },
                "drainDelay",
            ),
            (
                WorkerSettings {
                    remove_on_fail: Some(r#""yes""#.into()),
                    ..s()
                },
                "removeOnFail",
            ),
            (
                WorkerSettings {
                    remove_on_complete: Some("{".into()),
                    ..s()
                },
                "removeOnComplete",
            ),
            (
                WorkerSettings {
                    prefetch: Some(-2.0),
                    ..s()
                },
                "prefetch",
            ),
            (
                WorkerSettings {
                    retry_process_delay_ms: Some(-1.0),
                    ..s()
                },
                "retryProcessDelay",
            ),
            (
                WorkerSettings {
                    retry_max_delay_ms: Some(f64::INFINITY),
                    ..s()
                },
                "retry.maxDelay",
            ),
            (
                WorkerSettings {
                    retry_jitter: Some(1.5),
                    ..s()
                },
                "retry.jitter",
            ),
            (
                WorkerSettings {
                    timeout_ms: Some(-5.0),
                    ..s()
                },
                "timeoutMs",
            ),
            (
                WorkerSettings {
                    metric_points: Some(0.5),
                    ..s()
                },
                "metricPoints",
            ),
            (
                WorkerSettings {
                    id: Some(String::new()),
                    ..s()
                },
                "id",
            ),
        ];
        for (settings, field) in cases {
            assert_eq!(refused(settings).0, field);
        }
        // what BullMQ refuses is refused in its words; what it takes but the engine cannot
        // (a fractional concurrency), in ours
        assert_eq!(
            refused(WorkerSettings {
                concurrency: Some(0.0),
                ..s()
            })
            .1,
            CONCURRENCY
        );
        assert_eq!(
            refused(WorkerSettings {
                concurrency: Some(1.5),
                ..s()
            })
            .1,
            "invalid concurrency: must be a positive integer"
        );
        assert_eq!(
            refused(WorkerSettings {
                retry_jitter: Some(-0.5),
                ..s()
            })
            .1,
            "invalid retry.jitter: must be a number between 0 and 1"
        );
    }
}
