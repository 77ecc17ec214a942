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

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Result;
use crate::queue::{JobCounts, Queue};
pub use crate::scripts::{MetricsFlush, NO_METRICS};
use crate::time::now_ms;

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

/// A latency histogram as read back: counts per bucket (not cumulative), sum and count.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Histogram {
    /// Jobs per bucket of [`BUCKETS_MS`] (a last entry for longer ones); empty when none.
    pub buckets: Vec<u64>,
    /// The sum of all observations, in ms.
    pub sum_ms: u64,
    /// Observations (the sum of the buckets).
    pub count: u64,
}

impl Histogram {
    fn add_field(&mut self, part: &str, n: u64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; BUCKETS_MS.len() + 1];
        }
        match part {
            "sum" => self.sum_ms += n,
            i => {
                if let Some(slot) = i
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| self.buckets.get_mut(i))
                {
                    *slot += n;
                    self.count += n;
                }
            }
        }
    }

    fn merge(&mut self, other: &Histogram) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; BUCKETS_MS.len() + 1];
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.sum_ms += other.sum_ms;
        self.count += other.count;
    }

    /// The mean observation in ms; 0 when there are none.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ms as f64 / self.count as f64
        }
    }

    /// The `q` quantile (0..1), interpolated linearly inside its bucket, as Prometheus'
    /// `histogram_quantile` does; the unbounded bucket answers with its lower bound.
    pub fn quantile(&self, q: f64) -> f64 {
        let total: u64 = self.buckets.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = q * total as f64;
        let mut seen = 0.0;
        for (i, n) in self.buckets.iter().enumerate() {
            let next = seen + *n as f64;
            if next >= rank && *n > 0 {
                let lower = if i == 0 {
                    0.0
                } else {
                    BUCKETS_MS[i - 1] as f64
                };
                let Some(upper) = BUCKETS_MS.get(i) else {
                    return lower;
                };
                return lower + (*upper as f64 - lower) * ((rank - seen) / *n as f64);
            }
            seen = next;
        }
        0.0
    }
}

/// Counters of one job name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobTypeCounters {
    /// Completions (attempts minus failed attempts, both from the processing histogram).
    pub completed: u64,
    /// Failed attempts, retried or not.
    pub failed: u64,
    /// Attempts that failed for good.
    pub dead_letter: u64,
    /// Failed attempts that were retried.
    pub retried: u64,
}

/// Summary statistics of a latency histogram, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Mean, in ms.
    pub average: f64,
    /// Median, in ms, interpolated within its histogram bucket.
    pub p50: f64,
    /// 95th percentile, in ms (interpolated within its bucket).
    pub p95: f64,
    /// 99th percentile, in ms (interpolated within its bucket).
    pub p99: f64,
    /// Observations the figures come from; 0 means every figure is 0.
    pub count: u64,
}

impl From<&Histogram> for Latency {
    fn from(h: &Histogram) -> Self {
        Self {
            average: h.mean(),
            p50: h.quantile(0.5),
            p95: h.quantile(0.95),
            p99: h.quantile(0.99),
            count: h.count,
        }
    }
}

/// Everything known about a queue's activity, from Redis.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueMetrics {
    /// The queue's name.
    pub name: String,
    /// The queue's `paused` flag is set.
    pub is_paused: bool,
    /// Jobs per state now.
    pub job_counts: JobCounts,
    /// Workers of the queue, as the caller of [`Queue::metrics`] counted them.
    pub workers: usize,
    /// Jobs completed / failed for good per minute, the current (partial) minute first.
    pub completed_per_minute: Vec<u64>,
    /// (See `completed_per_minute`.)
    pub failed_per_minute: Vec<u64>,
    /// Completed jobs per second over the last 5 minutes.
    pub throughput: f64,
    /// Jobs finished (completed or failed for good) per second over the last minute.
    pub processing_rate: f64,
    /// Failed for good / finished over the last 5 minutes (all time when none).
    pub error_rate: f64,
    /// Time attempts ran (every attempt), over all job names.
    pub processing_time: Latency,
    /// Time jobs waited from runnable to their first start, over all job names.
    pub wait_time: Latency,
    /// Stalled jobs recovered since the queue began.
    pub stalled: u64,
    /// How long the oldest waiting job (the next to run, unprioritized) has existed, ms.
    pub oldest_waiting_ms: u64,
    /// Counters per job name.
    pub by_job_type: BTreeMap<String, JobTypeCounters>,
    /// Processing-time histograms per job name (not serialised; for exporters).
    #[serde(skip)]
    pub processing_by_type: BTreeMap<String, Histogram>,
    /// Wait-time histograms per job name (not serialised; for exporters).
    #[serde(skip)]
    pub wait_by_type: BTreeMap<String, Histogram>,
}

type Fields = HashMap<String, u64>;

/// The pipelined read of [`Queue::metrics`]: our hash, BullMQ's two series, the pause flag,
/// the next job to run.
type MetricsReply = (
    Fields,
    Fields,
    Vec<u64>,
    Fields,
    Vec<u64>,
    bool,
    Option<String>,
);

/// A gauge of the exposition: name, help, and how to read it from a queue's metrics.
type Gauge = (&'static str, &'static str, fn(&QueueMetrics) -> u64);

/// Reads a BullMQ per-minute series: the current minute's partial count, then the list.
fn per_minute(state: &HashMap<String, u64>, data: Vec<u64>, now: u64) -> Vec<u64> {
    let count = state.get("count").copied().unwrap_or(0);
    let prev_count = state.get("prevCount").copied().unwrap_or(0);
    let prev_minute = state.get("prevTS").copied().unwrap_or(now) / 60_000;
    let elapsed = (now / 60_000).saturating_sub(prev_minute) as usize;
    // jobs since the last boundary belong to minute prevTS; later minutes had none
    let mut series = vec![0; elapsed];
    series.push(count.saturating_sub(prev_count));
    series.extend(data);
    series
}

impl Queue {
    /// Collects the queue's metrics: counts, per-minute series, rates, latency histograms,
    /// counters by job name, and the age of the next job to run.
    pub async fn metrics(&self, workers: usize) -> Result<QueueMetrics> {
        let k = &self.keys;
        let now = now_ms();
        let (jq, completed_state, completed_data, failed_state, failed_data, paused, next): MetricsReply =
            redis::pipe()
                .hgetall(k.key("metrics:jq"))
                .hgetall(k.key("metrics:completed"))
                .lrange(k.key("metrics:completed:data"), 0, 59)
                .hgetall(k.key("metrics:failed"))
                .lrange(k.key("metrics:failed:data"), 0, 59)
                .hexists(k.key("meta"), "paused")
                .lindex(k.key("wait"), -1)
                .query_async(&mut self.con.clone())
                .await?;
        let oldest_waiting_ms = match next {
            Some(id) => {
                let created: Option<u64> = redis::cmd("HGET")
                    .arg(k.job(&id))
                    .arg("timestamp")
                    .query_async(&mut self.con.clone())
                    .await?;
                created.map_or(0, |t| now.saturating_sub(t))
            }
            None => 0,
        };
        let counts = self.counts().await?;
        let mut m = QueueMetrics {
            name: k.queue.clone(),
            is_paused: paused,
            job_counts: counts,
            workers,
            completed_per_minute: per_minute(&completed_state, completed_data, now),
            failed_per_minute: per_minute(&failed_state, failed_data, now),
            oldest_waiting_ms,
            ..QueueMetrics::default()
        };
        let mut processing = Histogram::default();
        let mut wait = Histogram::default();
        for (field, n) in jq {
            let mut parts = field.splitn(3, '|');
            let (Some(kind), Some(name)) = (parts.next(), parts.next()) else {
                continue;
            };
            let counters = || JobTypeCounters::default();
            match (kind, parts.next()) {
                ("f", None) => {
                    m.by_job_type
                        .entry(name.into())
                        .or_insert_with(counters)
                        .failed += n
                }
                ("d", None) => {
                    m.by_job_type
                        .entry(name.into())
                        .or_insert_with(counters)
                        .dead_letter += n
                }
                ("r", None) => {
                    m.by_job_type
                        .entry(name.into())
                        .or_insert_with(counters)
                        .retried += n
                }
                ("s", None) => m.stalled += n,
                ("p", Some(part)) => m
                    .processing_by_type
                    .entry(name.into())
                    .or_default()
                    .add_field(part, n),
                ("w", Some(part)) => m
                    .wait_by_type
                    .entry(name.into())
                    .or_default()
                    .add_field(part, n),
                _ => {}
            }
        }
        for (name, h) in &m.processing_by_type {
            processing.merge(h);
            // every attempt is timed: the ones that did not fail completed
            let c = m.by_job_type.entry(name.clone()).or_default();
            c.completed = h.count.saturating_sub(c.failed);
        }
        for h in m.wait_by_type.values() {
            wait.merge(h);
        }
        m.processing_time = Latency::from(&processing);
        m.wait_time = Latency::from(&wait);
        let recent = |series: &[u64]| series.iter().take(RECENT_MINUTES).sum::<u64>();
        let (done, dead) = (
            recent(&m.completed_per_minute),
            recent(&m.failed_per_minute),
        );
        m.throughput = done as f64 / (RECENT_MINUTES as f64 * 60.0);
        m.processing_rate = (m.completed_per_minute.first().copied().unwrap_or(0)
            + m.failed_per_minute.first().copied().unwrap_or(0)) as f64
            / 60.0;
        m.error_rate = if done + dead > 0 {
            dead as f64 / (done + dead) as f64
        } else {
            let (c, d) = m
                .by_job_type
                .values()
                .fold((0, 0), |(c, d), t| (c + t.completed, d + t.dead_letter));
            if c + d > 0 {
                d as f64 / (c + d) as f64
            } else {
                0.0
            }
        };
        Ok(m)
    }
}

/// Escapes a Prometheus label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text exposition format (version 0.0.4) of `queues`' metrics: the design's metric
/// names, with durations in seconds as Prometheus' conventions ask.
pub fn prometheus_text(queues: &[QueueMetrics]) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: &mut dyn FnMut(&mut String)| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        samples(&mut out);
    };
    let counter = |field: fn(&JobTypeCounters) -> u64, metric: &'static str| {
        move |o: &mut String| {
            for q in queues {
                for (t, c) in &q.by_job_type {
                    let _ = writeln!(
                        o,
                        "{metric}{{queue=\"{}\",job_type=\"{}\"}} {}",
                        label(&q.name),
                        label(t),
                        field(c)
                    );
                }
            }
        }
    };
    family(
        "jobs_completed_total",
        "counter",
        "Jobs completed.",
        &mut counter(|c| c.completed, "jobs_completed_total"),
    );
    family(
        "jobs_failed_total",
        "counter",
        "Job attempts that failed, retried or not.",
        &mut counter(|c| c.failed, "jobs_failed_total"),
    );
    family(
        "job_retries_total",
        "counter",
        "Failed attempts that were retried.",
        &mut counter(|c| c.retried, "job_retries_total"),
    );
    family(
        "jobs_dead_letter_total",
        "counter",
        "Jobs that failed for good (dead letters).",
        &mut counter(|c| c.dead_letter, "jobs_dead_letter_total"),
    );
    for (metric, help, pick) in [
        (
            "job_processing_duration_seconds",
            "Time a job attempt ran.",
            (|q: &QueueMetrics| &q.processing_by_type)
                as fn(&QueueMetrics) -> &BTreeMap<String, Histogram>,
        ),
        (
            "job_wait_duration_seconds",
            "Time a job waited, runnable, before its first attempt started.",
            |q: &QueueMetrics| &q.wait_by_type,
        ),
    ] {
        family(metric, "histogram", help, &mut |o: &mut String| {
            for q in queues {
                for (t, h) in pick(q) {
                    let labels = format!("queue=\"{}\",job_type=\"{}\"", label(&q.name), label(t));
                    let mut cumulative = 0;
                    for (i, n) in h.buckets.iter().enumerate() {
                        cumulative += n;
                        let le = BUCKETS_MS
                            .get(i)
                            .map_or("+Inf".to_owned(), |ms| format!("{}", *ms as f64 / 1000.0));
                        let _ = writeln!(o, "{metric}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
                    }
                    let _ = writeln!(o, "{metric}_sum{{{labels}}} {}", h.sum_ms as f64 / 1000.0);
                    let _ = writeln!(o, "{metric}_count{{{labels}}} {}", h.count);
                }
            }
        });
    }
    family(
        "jobs_stalled_total",
        "counter",
        "Jobs recovered after their worker stopped renewing the lock.",
        &mut |o: &mut String| {
            for q in queues {
                let _ = writeln!(
                    o,
                    "jobs_stalled_total{{queue=\"{}\"}} {}",
                    label(&q.name),
                    q.stalled
                );
            }
        },
    );
    let gauges: [Gauge; 7] = [
        (
            "queue_jobs_waiting",
            "Jobs waiting to run (prioritized included).",
            |q| q.job_counts.waiting + q.job_counts.prioritized,
        ),
        ("queue_jobs_active", "Jobs running.", |q| {
            q.job_counts.active
        }),
        ("queue_jobs_completed", "Completed jobs kept.", |q| {
            q.job_counts.completed
        }),
        (
            "queue_jobs_failed",
            "Failed jobs kept (dead letters).",
            |q| q.job_counts.failed,
        ),
        ("queue_jobs_delayed", "Delayed jobs.", |q| {
            q.job_counts.delayed
        }),
        ("queue_paused", "1 when the queue is paused.", |q| {
            u64::from(q.is_paused)
        }),
        (
            "queue_active_workers",
            "Workers connected for the queue, in any process.",
            |q| q.workers as u64,
        ),
    ];
    for (metric, help, value) in gauges {
        family(metric, "gauge", help, &mut |o: &mut String| {
            for q in queues {
                let _ = writeln!(o, "{metric}{{queue=\"{}\"}} {}", label(&q.name), value(q));
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
