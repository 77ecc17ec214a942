//! A schedule's repeat options, in the shape BullMQ stores them (`pattern` or `every`, `tz`,
//! `startDate`, `endDate`, `limit`, `immediately`).

use serde_json::{Map, Value};

use super::cron::CronRule;
use crate::error::{Error, Result};

/// When a scheduler fires.
#[derive(Debug, Clone)]
pub enum Cadence {
    /// A cron pattern: 5 fields, or 6 with seconds first, or an `@daily`-style nickname.
    Cron {
        /// The pattern as given (stored as the scheduler's `pattern`).
        pattern: String,
        /// The parsed pattern.
        rule: Box<CronRule>,
    },
    /// Every this many ms.
    Every(u64),
}

/// A scheduler's repeat options, validated.
#[derive(Debug, Clone)]
pub struct Repeat {
    /// When it fires.
    pub cadence: Cadence,
    /// IANA time zone cron patterns are read in (UTC when none).
    pub tz: Option<String>,
    /// No iteration before this time, in ms since the epoch.
    pub start_date: Option<u64>,
    /// No iteration after this time, in ms since the epoch.
    pub end_date: Option<u64>,
    /// Stop after this many iterations.
    pub limit: Option<u64>,
    /// Phase within `every` (ms); derived from the first iteration when absent.
    pub offset: Option<u64>,
    /// The first cron iteration runs now instead of at the first fire time.
    pub immediately: bool,
}

/// The time zone cron is evaluated in when none is given.
pub const DEFAULT_TZ: &str = "UTC";

impl Repeat {
    /// Validates repeat options. `pattern` (also accepted as `cron`) and `every` exclude each
    /// other; dates are ms since the epoch or date strings JavaScript's `Date` would print.
    /// The rules BullMQ also has fail with its messages.
    pub fn from_map(m: &Map<String, Value>) -> Result<Self> {
        let tz = match m.get("tz") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(Error::validation("timezone", "must be a string")),
        };
        let pattern = m.get("pattern").or_else(|| m.get("cron"));
        let cadence = match (pattern, m.get("every")) {
            (Some(_), Some(_)) => {
                return Err(Error::validation_worded(
                    "every",
                    "Both .pattern and .every options are defined for this repeatable job",
                ))
            }
            (Some(Value::String(p)), None) => Cadence::Cron {
                rule: Box::new(CronRule::parse(
                    p,
                    tz.as_deref().unwrap_or(DEFAULT_TZ),
                    "cronExpression",
                )?),
                pattern: p.clone(),
            },
            (Some(_), None) => return Err(Error::validation("cronExpression", "must be a string")),
            (None, Some(e)) => match e.as_f64() {
                Some(f) if f >= 1.0 && f.fract() == 0.0 && f < 9.0e15 => Cadence::Every(f as u64),
                _ => {
                    return Err(Error::validation(
                        "every",
                        "must be a positive whole number of milliseconds",
                    ))
                }
            },
            (None, None) => {
                return Err(Error::validation_worded(
                    "cronExpression",
                    "Either .pattern or .every options must be defined for this repeatable job",
                ))
            }
        };
        if let Some(tz) = &tz {
            super::cron::parse_tz(tz)?;
        }
        let start_date = date(m.get("startDate"), "startDate")?;
        let end_date = date(m.get("endDate"), "endDate")?;
        if let (Some(s), Some(e)) = (start_date, end_date) {
            if e <= s {
                return Err(Error::validation("endDate", "must be after startDate"));
            }
        }
        let limit = match m.get("limit") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => Some(n),
                _ => return Err(Error::validation("maxRuns", "must be a positive integer")),
            },
        };
        let offset = match m.get("offset") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| Error::validation("offset", "must be a non-negative integer"))?,
            ),
        };
        let immediately = matches!(m.get("immediately"), Some(Value::Bool(true)));
        if immediately && start_date.is_some() {
            return Err(Error::validation_worded(
                "immediately",
                "Both .immediately and .startDate options are defined for this repeatable job",
            ));
        }
        Ok(Self {
            cadence,
            tz,
            start_date,
            end_date,
            limit,
            offset,
            immediately,
        })
    }

    /// The interval in ms of an `every` cadence; `None` for cron.
    pub fn every(&self) -> Option<u64> {
        match self.cadence {
            Cadence::Every(ms) => Some(ms),
            Cadence::Cron { .. } => None,
        }
    }

    /// The first cron fire time strictly after `from` and not before the start date, as
    /// cron-parser (and so BullMQ) computes it. `None` for `every` schedules.
    pub fn next_cron(&self, from: u64) -> Option<u64> {
        let Cadence::Cron { rule, .. } = &self.cadence else {
            return None;
        };
        rule.next_after(self.start_date.map_or(from, |s| s.max(from)))
    }

    /// When a new scheduler's first iteration is due, for cron (`every` is worked out by the
    /// script, which sees the previous iteration). Errors when it would never run.
    pub fn first_cron(&self, now: u64) -> Result<Option<u64>> {
        if self.every().is_some() {
            return Ok(None);
        }
        if self.end_date.is_some_and(|end| end < now) {
            return Err(Error::validation("endDate", "is in the past"));
        }
        let at = if self.immediately {
            Some(now)
        } else {
            self.next_cron(now)
        };
        match at {
            Some(at) if self.end_date.is_none_or(|end| at <= end) => Ok(Some(at)),
            _ => Err(Error::validation(
                "cronExpression",
                "never fires within the schedule's dates",
            )),
        }
    }

    /// The `repeat` member of each iteration's opts, without `offset` and `count`.
    pub fn iteration_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match &self.cadence {
            Cadence::Cron { pattern, .. } => m.insert("pattern".into(), pattern.clone().into()),
            Cadence::Every(ms) => m.insert("every".into(), (*ms).into()),
        };
        if let Some(tz) = &self.tz {
            m.insert("tz".into(), tz.clone().into());
        }
        if let Some(limit) = self.limit {
            m.insert("limit".into(), limit.into());
        }
        if let Some(s) = self.start_date {
            m.insert("startDate".into(), s.into());
        }
        if let Some(e) = self.end_date {
            m.insert("endDate".into(), e.into());
        }
        m
    }

    /// Scheduler hash fields besides name, ic, every, offset, data and opts.
    pub fn hash_fields(&self) -> Vec<(&'static str, String)> {
        let mut f = Vec::new();
        if let Cadence::Cron { pattern, .. } = &self.cadence {
            f.push(("pattern", pattern.clone()));
        }
        if let Some(tz) = &self.tz {
            f.push(("tz", tz.clone()));
        }
        if let Some(limit) = self.limit {
            f.push(("limit", limit.to_string()));
        }
        if let Some(s) = self.start_date {
            f.push(("startDate", s.to_string()));
        }
        if let Some(e) = self.end_date {
            f.push(("endDate", e.to_string()));
        }
        f
    }
}

/// A date given as ms since the epoch (what BullMQ stores) or as an RFC 3339 string (what
/// `JSON.stringify(new Date())` writes).
fn date(v: Option<&Value>, field: &str) -> Result<Option<u64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f >= 0.0 && f.is_finite() => Ok(Some(f as u64)),
            _ => Err(Error::validation(field, "must be a date")),
        },
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| Some(d.timestamp_millis().max(0) as u64))
            .map_err(|_| Error::validation(field, format!("{s:?} is not a date"))),
        Some(_) => Err(Error::validation(field, "must be a date")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn repeat(v: Value) -> Repeat {
        Repeat::from_map(v.as_object().unwrap()).unwrap()
    }

    const HOUR: u64 = 3_600_000;

    #[test]
    fn cron_starts_no_earlier_than_the_start_date_and_stops_at_the_end_date() {
        let now = 1_800_000_000_000 - 1_800_000_000_000 % HOUR; // on an hour boundary
        let r = repeat(json!({"pattern": "0 * * * *", "startDate": now + 5 * HOUR}));
        assert_eq!(
            r.first_cron(now).unwrap(),
            Some(now + 6 * HOUR),
            "strictly after the start, as cron-parser"
        );
        let r = repeat(json!({"pattern": "0 * * * *", "endDate": now + HOUR / 2}));
        assert!(
            r.first_cron(now).is_err(),
            "no fire time before the end date"
        );
        let r = repeat(json!({"pattern": "0 * * * *", "immediately": true}));
        assert_eq!(r.first_cron(now + 5).unwrap(), Some(now + 5));
    }

    #[test]
    fn dates_may_be_ms_or_iso_text() {
        let r = repeat(
            json!({"every": 10, "startDate": "2027-01-01T00:00:00.000Z", "endDate": 1_900_000_000_000u64}),
        );
        assert_eq!(r.start_date, Some(1_798_761_600_000));
        assert_eq!(r.end_date, Some(1_900_000_000_000));
        let err = Repeat::from_map(
            json!({"every": 10, "immediately": true, "startDate": 5})
                .as_object()
                .unwrap(),
        );
        assert!(err.unwrap_err().to_string().contains("immediately"));
    }
}
