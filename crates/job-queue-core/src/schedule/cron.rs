//! Cron evaluation in an IANA time zone, with cron-parser's daylight-saving rules (BullMQ
//! computes its schedulers' fire times with cron-parser, so ours must agree with it).
//!
//! croner parses the expression and walks the *wall clock*; this module maps each wall-clock
//! match to instants:
//! * a time skipped by a spring-forward gap fires shifted by the gap (02:30 → 03:30), so a
//!   daily job still runs that day; duplicates this creates collapse into one;
//! * a time repeated by a fall-back fires once (its first occurrence), unless the hour field
//!   matches every hour, in which case both occurrences fire, as wall-clock-blind repetition
//!   would.

use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;

use crate::error::{Error, Result};

/// A parsed cron expression bound to a time zone.
#[derive(Debug, Clone)]
pub struct CronRule {
    cron: Cron,
    tz: Tz,
    every_hour: bool,
}

/// How far around the start a daylight-saving change is looked for (see `next_after`).
const LOOKBACK_WINDOW: i64 = 3;

impl CronRule {
    /// Parses a 5-field expression (or 6 with seconds first; `@daily`-style nicknames too) for
    /// time zone `tz`. `field` names the option in errors.
    pub fn parse(expression: &str, tz: &str, field: &str) -> Result<Self> {
        let tz = parse_tz(tz)?;
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(expression.trim())
            .map_err(|e| {
                Error::validation(
                    field,
                    format!("{expression:?} is not a valid cron expression: {e}"),
                )
            })?;
        let every_hour = (0..24).all(|h| cron.pattern.hour_match(h).unwrap_or(false));
        let rule = Self {
            cron,
            tz,
            every_hour,
        };
        Ok(rule)
    }

    /// The first fire time strictly after `after_ms` (ms since the epoch), or None if the
    /// expression never fires again (for example 30 February).
    pub fn next_after(&self, after_ms: u64) -> Option<u64> {
        let start = Utc.timestamp_millis_opt(after_ms as i64).single()?;
        let local = start.with_timezone(&self.tz);
        // Wall-clock matches before the start can fire after it: the second occurrence of a
        // repeated hour ahead, or a time a recent gap shifted forward. Search from before
        // them when the offset changes nearby.
        let offset_at =
            |t: DateTime<Utc>| t.with_timezone(&self.tz).offset().fix().local_minus_utc();
        let window = Duration::hours(LOOKBACK_WINDOW);
        let here = offset_at(start);
        let lookback = (here - offset_at(start + window))
            .max(here - offset_at(start - window))
            .max(0);
        let mut cursor = wall(local.naive_local() - Duration::seconds(i64::from(lookback)));
        let mut best: Option<DateTime<Utc>> = None;
        // Bounded: croner itself gives up after a few years without a match.
        for _ in 0..10_000 {
            let found = self.cron.find_next_occurrence(&cursor, false).ok()?;
            cursor = found;
            let instants = self.instants(found.naive_utc());
            if best.is_some_and(|b| instants[0] > b) {
                break;
            }
            for t in instants {
                if t > start && best.is_none_or(|b| t < b) {
                    best = Some(t);
                }
            }
        }
        best.map(|t| t.timestamp_millis() as u64)
    }

    /// The instants a wall-clock match fires at, earliest first (see the module docs).
    fn instants(&self, naive: NaiveDateTime) -> Vec<DateTime<Utc>> {
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
            LocalResult::Ambiguous(first, second) if self.every_hour => {
                vec![first.with_timezone(&Utc), second.with_timezone(&Utc)]
            }
            LocalResult::Ambiguous(first, _) => vec![first.with_timezone(&Utc)],
            LocalResult::None => {
                // Read the skipped time with the offset in force before the gap.
                let before = self
                    .tz
                    .from_local_datetime(&(naive - Duration::hours(LOOKBACK_WINDOW)))
                    .earliest()
                    .map(|t| t.offset().fix())
                    .unwrap_or_else(|| Utc.fix());
                vec![Utc.from_utc_datetime(&(naive - before))]
            }
        }
    }
}

/// A naive wall-clock time, carried as a UTC date so croner walks it without any zone rules.
fn wall(naive: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&naive)
}

/// Parses an IANA time zone name (`Europe/Berlin`, `UTC`).
pub fn parse_tz(tz: &str) -> Result<Tz> {
    Tz::from_str(tz)
        .map_err(|_| Error::validation("timezone", format!("{tz:?} is not an IANA time zone name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(iso: &str) -> u64 {
        DateTime::parse_from_rfc3339(iso)
            .unwrap()
            .timestamp_millis() as u64
    }

    #[test]
    fn rejects_what_is_not_cron_with_the_reason() {
        for bad in [
            "",
            "* * *",
            "61 * * * *",
            "* 24 * * *",
            "* * * 13 *",
            "* * * * MOO",
        ] {
            let err = CronRule::parse(bad, "UTC", "cronExpression").unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::Validation, "{bad:?}");
            assert!(err.to_string().contains("cronExpression"), "{err}");
        }
        let err = CronRule::parse("* * * * *", "Mars/Olympus", "cronExpression").unwrap_err();
        assert!(err.to_string().contains("timezone"), "{err}");
    }

    #[test]
    fn an_impossible_date_never_fires() {
        let rule = CronRule::parse("0 0 30 2 *", "UTC", "cron").unwrap();
        assert_eq!(rule.next_after(ms("2026-01-01T00:00:00Z")), None);
    }

    #[test]
    fn next_is_strictly_after_the_start() {
        let rule = CronRule::parse("0 * * * *", "UTC", "cron").unwrap();
        let t = ms("2026-01-01T10:00:00Z");
        assert_eq!(rule.next_after(t), Some(t + 3_600_000));
        assert_eq!(rule.next_after(t - 1), Some(t));
    }
}
