//! Reading a queue's metrics back from Redis.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{Histogram, Latency, RECENT_MINUTES};
use crate::error::Result;
use crate::queue::{JobCounts, Queue};
use crate::time::now_ms;

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

/// Reads a BullMQ per-minute series: the current minute's partial count, then the list.
pub(super) fn per_minute(state: &HashMap<String, u64>, data: Vec<u64>, now: u64) -> Vec<u64> {
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
