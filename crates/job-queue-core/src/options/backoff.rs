//! Backoff: how long a failed job waits before its next attempt, as stored on the job and
//! as a worker works it out.

use std::time::Duration;

use serde_json::{Map, Value};

use super::non_negative_ms;
use crate::error::{Error, Result};

/// How long to wait before the next attempt (BullMQ's backoff formulas).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// How the delay grows with attempts.
    pub kind: BackoffKind,
    /// The base delay: the whole delay (fixed) or the first retry's (exponential).
    pub delay: Duration,
    /// Cap on the computed delay; our extension, stored as `maxDelay` (BullMQ ignores it).
    /// When absent the worker's [`RetryDefaults`] apply.
    pub max_delay: Option<Duration>,
    /// Fraction in [0, 1]: the delay is drawn uniformly from `[d × (1 − jitter), d]`. When
    /// absent the worker's [`RetryDefaults`] apply; an explicit 0 is stored and means none.
    pub jitter: Option<f64>,
}

/// Jitter stored with a backoff that sets none, when the job is added: the design's retry
/// policy spreads retries by 10% so many jobs failing at once do not come back at once.
/// Stored (not applied by our workers alone) so BullMQ's workers, which honour `jitter`,
/// retry our jobs the same way.
pub const DEFAULT_JITTER: f64 = 0.1;

/// What a worker applies to a stored backoff that does not say: a 5-minute cap (BullMQ has
/// none and ignores `maxDelay`), and no jitter, as BullMQ, so a BullMQ-added job retries on
/// our workers as it would on BullMQ's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryDefaults {
    /// Cap on a computed retry delay.
    pub max_delay: Duration,
    /// Fraction in [0, 1] of the delay drawn at random (0 = exact delays).
    pub jitter: f64,
}

impl Default for RetryDefaults {
    fn default() -> Self {
        Self {
            max_delay: Duration::from_secs(300),
            jitter: 0.0,
        }
    }
}

/// BullMQ's backoff `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffKind {
    /// Every retry waits `delay`.
    Fixed,
    /// Retry n waits `delay` × 2^(n − 1).
    Exponential,
}

impl Backoff {
    /// Parses a bare number (fixed delay) or `{type, delay, maxDelay?, jitter?}`.
    pub fn parse(v: &Value) -> Result<Self> {
        if v.is_number() {
            return Ok(Self {
                kind: BackoffKind::Fixed,
                delay: Duration::from_millis(non_negative_ms(v, "backoff")?),
                max_delay: None,
                jitter: None,
            });
        }
        let obj = v.as_object().ok_or_else(|| {
            Error::validation("backoff", "must be a number or {type, delay} object")
        })?;
        let kind = match obj.get("type").and_then(Value::as_str) {
            Some("fixed") => BackoffKind::Fixed,
            Some("exponential") => BackoffKind::Exponential,
            Some(other) => {
                return Err(Error::validation(
                    "backoff.type",
                    format!("must be 'fixed' or 'exponential', got '{other}'"),
                ))
            }
            None => {
                return Err(Error::validation(
                    "backoff.type",
                    "must be 'fixed' or 'exponential'",
                ))
            }
        };
        let delay = match obj.get("delay") {
            Some(d) => non_negative_ms(d, "backoff.delay")?,
            None => 0,
        };
        let max_delay = match obj.get("maxDelay") {
            Some(d) => Some(Duration::from_millis(non_negative_ms(
                d,
                "backoff.maxDelay",
            )?)),
            None => None,
        };
        let jitter = match obj.get("jitter") {
            None => None,
            Some(j) => match j.as_f64() {
                Some(f) if (0.0..=1.0).contains(&f) => Some(f),
                _ => {
                    return Err(Error::validation(
                        "backoff.jitter",
                        "must be a number between 0 and 1",
                    ))
                }
            },
        };
        Ok(Self {
            kind,
            delay: Duration::from_millis(delay),
            max_delay,
            jitter,
        })
    }

    pub(super) fn to_stored(self) -> Value {
        let mut m = Map::new();
        let kind = match self.kind {
            BackoffKind::Fixed => "fixed",
            BackoffKind::Exponential => "exponential",
        };
        m.insert("type".into(), kind.into());
        m.insert("delay".into(), (self.delay.as_millis() as u64).into());
        if let Some(max) = self.max_delay {
            m.insert("maxDelay".into(), (max.as_millis() as u64).into());
        }
        if let Some(jitter) = self.jitter {
            m.insert("jitter".into(), jitter.into());
        }
        Value::Object(m)
    }

    /// The delay before retrying after attempt `attempt` (1-based) failed, with `defaults`
    /// for what the backoff does not say. `unit` in [0, 1) is the random draw for jitter,
    /// passed in so tests can pin it.
    pub fn delay_after(&self, attempt: u32, defaults: &RetryDefaults, unit: f64) -> Duration {
        let base = match self.kind {
            BackoffKind::Fixed => self.delay.as_millis() as f64,
            BackoffKind::Exponential => (2f64.powi(attempt.saturating_sub(1) as i32)
                * self.delay.as_millis() as f64)
                .round(),
        };
        let max = self.max_delay.unwrap_or(defaults.max_delay);
        let capped = base.min(max.as_millis() as f64);
        let jitter = self.jitter.unwrap_or(defaults.jitter);
        let jittered = capped * (1.0 - jitter * unit.clamp(0.0, 1.0));
        Duration::from_millis(jittered.round() as u64)
    }
}
