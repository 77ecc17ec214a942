//! Queue metrics kept in Redis, so every process's workers add to the same numbers and any
//! process reads them: BullMQ's per-minute completed/failed counts (`metrics:completed`,
//! `metrics:failed`) and our `metrics:jq` hash of counters and histograms by job
//! name. Workers work out the increments and send them with a settling script call at most
//! once per [`FLUSH_EVERY`] (and when they close), so at low concurrency, where each call
//! settles one job, metrics do not add commands to every job.
//!
//! Fields of `metrics:jq` (bounded by the number of job names × buckets):
//! `f|<name>` failed attempts, `d|<name>` failed for good, `r|<name>` retried, `s|` stalled
//! recoveries, and per histogram `p` (processing time, every attempt) and `w` (wait:
//! runnable → started, first attempts): `<h>|<name>|<bucket index>` and `<h>|<name>|sum` (ms).
//! What can be derived is not written (every field costs a command per batch): a
//! histogram's count is the sum of its buckets, and completions are attempts − failures.

pub use crate::scripts::{MetricsFlush, NO_METRICS};

mod batch;
mod histogram;
mod prometheus;
mod reads;

pub use batch::{AttemptEnd, MetricsBatch, FLUSH_EVERY};
pub use histogram::{Histogram, Latency};
pub use prometheus::prometheus_text;
pub use reads::{JobTypeCounters, QueueMetrics};

/// Upper bounds (ms) of the histogram buckets; a last, unbounded bucket follows.
pub const BUCKETS_MS: [u64; 14] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000,
];

/// Default per-minute points kept in BullMQ's metrics lists: one day.
pub const DEFAULT_POINTS: u32 = 1_440;

/// How many minutes "recent" rates (throughput, error rate) look back.
const RECENT_MINUTES: usize = 5;

fn bucket_of(ms: u64) -> usize {
    BUCKETS_MS
        .iter()
        .position(|b| ms <= *b)
        .unwrap_or(BUCKETS_MS.len())
}

#[cfg(test)]
mod tests {
    use super::reads::per_minute;
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn quantiles_interpolate_within_buckets() {
        let mut h = Histogram::default();
        for _ in 0..100 {
            h.add_field(&bucket_of(40).to_string(), 1); // (25, 50]
        }
        h.add_field("sum", 4000);
        assert_eq!(h.quantile(0.5), 37.5);
        assert_eq!(h.quantile(1.0), 50.0);
        assert_eq!(h.mean(), 40.0);
    }

    #[test]
    fn the_current_minute_comes_first_and_idle_minutes_are_zero() {
        let state: HashMap<String, u64> = [
            ("count".into(), 10),
            ("prevCount".into(), 7),
            ("prevTS".into(), 120_000),
        ]
        .into();
        // two minutes after prevTS: the three jobs since the boundary were in minute 2
        assert_eq!(per_minute(&state, vec![4, 3], 245_000), [0, 0, 3, 4, 3]);
    }
}
