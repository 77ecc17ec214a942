//! Metric increments a worker gathers between two flushes.

use std::time::{Duration, Instant};

use super::{bucket_of, MetricsFlush};

/// How long a worker gathers metric increments before sending them. A crash loses at most
/// this much of metrics (never a job).
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Increments gathered by a worker between two flushes.
#[derive(Debug, Default)]
pub struct MetricsBatch {
    pending: MetricsFlush,
    /// When the oldest unsent increment was recorded.
    since: Option<Instant>,
}

/// What happened to one attempt, for [`MetricsBatch::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// The attempt completed the job.
    Completed,
    /// The attempt failed and the job will run again.
    Retried,
    /// Failed for good.
    Failed,
}

impl MetricsBatch {
    fn add(&mut self, field: String, n: i64) {
        *self.pending.fields.entry(field).or_default() += n;
    }

    fn observe(&mut self, histogram: char, name: &str, ms: u64) {
        self.add(format!("{histogram}|{name}|{}", bucket_of(ms)), 1);
        self.add(format!("{histogram}|{name}|sum"), ms as i64);
    }

    /// Records an attempt of a `name` job that ran `ran_ms` and, on its first attempt, had
    /// waited `waited_ms` to start.
    pub fn record(&mut self, name: &str, end: AttemptEnd, ran_ms: u64, waited_ms: Option<u64>) {
        self.since.get_or_insert_with(Instant::now);
        match end {
            AttemptEnd::Completed => self.pending.completed += 1,
            AttemptEnd::Retried => {
                self.add(format!("f|{name}"), 1);
                self.add(format!("r|{name}"), 1);
            }
            AttemptEnd::Failed => {
                self.pending.failed += 1;
                self.add(format!("f|{name}"), 1);
                self.add(format!("d|{name}"), 1);
            }
        }
        self.observe('p', name, ran_ms);
        if let Some(w) = waited_ms {
            self.observe('w', name, w);
        }
    }

    /// No increment has been recorded since the last flush.
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
    }

    /// When the gathered increments are due to be sent, if there are any.
    pub fn due_at(&self) -> Option<Instant> {
        self.since.map(|t| t + FLUSH_EVERY)
    }

    /// Takes the increments for a script call.
    pub fn take(&mut self) -> MetricsFlush {
        self.since = None;
        std::mem::take(&mut self.pending)
    }

    /// Puts back the increments of a call that failed, to send them with the next one.
    pub fn restore(&mut self, flush: MetricsFlush) {
        if flush == MetricsFlush::default() {
            return;
        }
        self.since.get_or_insert_with(Instant::now);
        self.pending.completed += flush.completed;
        self.pending.failed += flush.failed;
        for (f, n) in flush.fields {
            self.add(f, n);
        }
    }
}
