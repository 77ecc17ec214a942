//! How many jobs a worker fetches ahead of its free processing slots.
//!
//! With no job held ahead, a worker at concurrency 1 idles for a whole round trip (settle the
//! finished job, fetch the next) between jobs: for short jobs that round trip, not the job,
//! sets the pace. One job held ahead lets the next start at once while Redis settles the last.
//! Holding a job has a cost too: it shows as `active` beyond the worker's concurrency, a later
//! higher-priority job cannot overtake it, and while it waits for a slot another idle worker
//! cannot take it. BullMQ never holds jobs, so by default neither do we; [`Prefetch::Auto`]
//! holds one job ahead only while jobs are short, where that wait is shorter than the round
//! trips it saves.

use std::time::Duration;

/// Attempts shorter than this on average make [`Prefetch::Auto`] hold one job ahead. A few
/// round trips: at this length the round trip saved is still a few percent of a job, and a
/// held job waits no longer than a network hiccup would delay it.
pub(super) const AUTO_BELOW: Duration = Duration::from_millis(5);

/// Weight of the newest attempt in the running mean of attempt times.
const NEWEST_WEIGHT: f64 = 0.125;

/// The worker option. The default is [`Prefetch::NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefetch {
    /// One job ahead while attempts average under 5 ms and the worker has no rate
    /// limiter (a held job would spend a limiter slot before it starts); none otherwise.
    Auto,
    /// Exactly this many jobs ahead (0: none).
    Jobs(usize),
}

impl Prefetch {
    /// No job held ahead: the worker fetches only for free processing slots, as BullMQ does.
    pub const NONE: Prefetch = Prefetch::Jobs(0);
}

impl Default for Prefetch {
    fn default() -> Self {
        Self::NONE
    }
}

/// The option and what the worker has seen of its attempts' lengths.
#[derive(Debug)]
pub(super) struct PrefetchPolicy {
    option: Prefetch,
    rate_limited: bool,
    /// Running mean of attempt times, in seconds; none until an attempt has ended.
    mean_s: Option<f64>,
}

impl PrefetchPolicy {
    pub(super) fn new(option: Prefetch, rate_limited: bool) -> Self {
        Self {
            option,
            rate_limited,
            mean_s: None,
        }
    }

    /// Takes in how long an attempt ran, from dispatch to report.
    pub(super) fn record(&mut self, ran: Duration) {
        let s = ran.as_secs_f64();
        self.mean_s = Some(match self.mean_s {
            Some(mean) => mean + NEWEST_WEIGHT * (s - mean),
            None => s,
        });
    }

    /// Jobs to hold ahead of the free slots now.
    pub(super) fn ahead(&self) -> usize {
        match self.option {
            Prefetch::Jobs(n) => n,
            Prefetch::Auto if self.rate_limited => 0,
            Prefetch::Auto => match self.mean_s {
                Some(mean) if mean < AUTO_BELOW.as_secs_f64() => 1,
                _ => 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_micros(200);
    const LONG: Duration = Duration::from_millis(50);

    #[test]
    fn auto_waits_for_a_first_attempt_then_follows_the_mean() {
        let mut p = PrefetchPolicy::new(Prefetch::Auto, false);
        assert_eq!(p.ahead(), 0, "nothing known yet");
        p.record(SHORT);
        assert_eq!(p.ahead(), 1);
        p.record(LONG);
        assert_eq!(p.ahead(), 0, "one 50 ms attempt lifts the mean above 5 ms");
    }

    #[test]
    fn auto_stops_when_attempts_grow_long_and_resumes_when_short() {
        let mut p = PrefetchPolicy::new(Prefetch::Auto, false);
        for _ in 0..3 {
            p.record(LONG);
        }
        assert_eq!(p.ahead(), 0);
        for _ in 0..40 {
            p.record(SHORT);
        }
        assert_eq!(p.ahead(), 1);
    }

    #[test]
    fn auto_never_holds_a_job_under_a_rate_limiter() {
        let mut p = PrefetchPolicy::new(Prefetch::Auto, true);
        p.record(SHORT);
        assert_eq!(p.ahead(), 0);
    }

    #[test]
    fn the_default_holds_nothing_whatever_the_attempts() {
        let mut p = PrefetchPolicy::new(Prefetch::default(), false);
        for _ in 0..10 {
            p.record(SHORT);
        }
        assert_eq!(p.ahead(), 0);
    }

    #[test]
    fn a_fixed_count_is_kept_whatever_the_attempts() {
        let mut p = PrefetchPolicy::new(Prefetch::Jobs(3), true);
        assert_eq!(p.ahead(), 3);
        p.record(LONG);
        assert_eq!(p.ahead(), 3);
        let none = PrefetchPolicy::new(Prefetch::Jobs(0), false);
        assert_eq!(none.ahead(), 0);
    }
}
