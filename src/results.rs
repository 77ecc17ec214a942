//! Results off the hot path as typed JavaScript objects: counts, statistics, metrics, the
//! queue and worker registries, schedulers. Each struct here is a `#[napi(object)]` so the
//! generated `binding.d.ts` carries its shape, and converts from the engine's own type (the
//! engine crate knows nothing of napi). Counts and times cross as JS numbers (`f64`): every
//! value fits exactly below 2^53.

use std::collections::BTreeMap;

use job_queue_core::dead_letters::{FailedStats, RetryStats};
use job_queue_core::job_control::Finished;
use job_queue_core::metrics::{JobTypeCounters, Latency, QueueMetrics};
use job_queue_core::queue::{JobCounts, ProcessingStats};
use job_queue_core::queue_admin::{Metrics, MetricsMeta};
use job_queue_core::registry::WorkerInfo;
use job_queue_core::schedule::{Scheduled, SchedulerInfo};
use napi_derive::napi;

/// A count or a time in ms as a JS number.
fn num(n: u64) -> f64 {
    n as f64
}

fn counts_map<K: ToString>(map: BTreeMap<K, u64>) -> BTreeMap<String, f64> {
    map.into_iter()
        .map(|(k, v)| (k.to_string(), num(v)))
        .collect()
}

/// Jobs per state now (BullMQ's `getJobCounts`, list by list).
#[napi(object)]
pub struct JobCountsResult {
    /// Jobs in the wait list (prioritized jobs are counted apart, in `prioritized`).
    pub waiting: f64,
    /// Jobs held by workers.
    pub active: f64,
    /// Jobs in the completed set.
    pub completed: f64,
    /// Jobs in the failed set.
    pub failed: f64,
    /// Jobs in the delayed set.
    pub delayed: f64,
    /// Runnable jobs ordered by priority.
    pub prioritized: f64,
    /// Parents waiting for their children (BullMQ flows).
    pub waiting_children: f64,
}

impl From<JobCounts> for JobCountsResult {
    fn from(c: JobCounts) -> Self {
        Self {
            waiting: num(c.waiting),
            active: num(c.active),
            completed: num(c.completed),
            failed: num(c.failed),
            delayed: num(c.delayed),
            prioritized: num(c.prioritized),
            waiting_children: num(c.waiting_children),
        }
    }
}

/// Throughput measured from the finished sets.
#[napi(object)]
pub struct ProcessingStatsResult {
    /// Jobs finished (completed or failed) per second over the last minute.
    pub processing_rate: f64,
    /// Mean of `finishedOn − processedOn` over the most recent finished jobs, in ms.
    pub average_processing_time: f64,
}

impl From<ProcessingStats> for ProcessingStatsResult {
    fn from(s: ProcessingStats) -> Self {
        Self {
            processing_rate: s.processing_rate,
            average_processing_time: s.average_processing_time,
        }
    }
}

/// What the dead letters (jobs failed for good) are.
#[napi(object)]
pub struct FailedStatsResult {
    /// Jobs in the failed set now, all of them.
    pub total: f64,
    /// How many of the newest (at most 10,000) were read for the breakdowns.
    pub sampled: f64,
    /// The sampled dead letters by job name.
    pub by_job_name: BTreeMap<String, f64>,
    /// The sampled dead letters by the error's class name (`Error` when it had none).
    pub by_error_type: BTreeMap<String, f64>,
    /// When the oldest sampled dead letter failed, in ms since the epoch; absent when none.
    pub oldest_failure: Option<f64>,
    /// When the newest dead letter failed, in ms since the epoch; absent when none.
    pub newest_failure: Option<f64>,
    /// Jobs failed for good in the last 15 minutes.
    pub recent_failures: f64,
    /// `recentFailures` per minute over those 15 minutes.
    pub recent_failure_rate: f64,
}

impl From<FailedStats> for FailedStatsResult {
    fn from(s: FailedStats) -> Self {
        Self {
            total: num(s.total),
            sampled: num(s.sampled),
            by_job_name: counts_map(s.by_job_name),
            by_error_type: counts_map(s.by_error_type),
            oldest_failure: s.oldest_failure.map(num),
            newest_failure: s.newest_failure.map(num),
            recent_failures: num(s.recent_failures),
            recent_failure_rate: s.recent_failure_rate,
        }
    }
}

/// Retries as the workers counted them while they happened.
#[napi(object)]
pub struct RetryStatsResult {
    /// Retries scheduled since the queue began (each failed attempt that was retried).
    pub total_retries: f64,
    /// Retries by the attempt number that failed, as a decimal string key ("1" = the first
    /// attempt).
    pub by_attempt: BTreeMap<String, f64>,
    /// Retries by the failing error's class name (`Error` when it had none).
    pub by_error_type: BTreeMap<String, f64>,
    /// Mean delay before a retry, in ms.
    pub average_retry_delay: f64,
    /// Jobs that needed a retry and then completed.
    pub retried_succeeded: f64,
    /// Jobs that needed a retry and then failed for good.
    pub retried_failed: f64,
    /// `retriedSucceeded / (retriedSucceeded + retriedFailed)`, in [0, 1]; 0 when none
    /// finished.
    pub retry_success_rate: f64,
}

impl From<RetryStats> for RetryStatsResult {
    fn from(s: RetryStats) -> Self {
        Self {
            total_retries: num(s.total_retries),
            by_attempt: counts_map(s.by_attempt),
            by_error_type: counts_map(s.by_error_type),
            average_retry_delay: s.average_retry_delay,
            retried_succeeded: num(s.retried_succeeded),
            retried_failed: num(s.retried_failed),
            retry_success_rate: s.retry_success_rate,
        }
    }
}

/// Summary statistics of a latency histogram.
#[napi(object)]
pub struct LatencyResult {
    /// Mean, in ms.
    pub average: f64,
    /// Median, in ms, interpolated within its histogram bucket.
    pub p50: f64,
    /// 95th percentile, in ms, interpolated within its bucket.
    pub p95: f64,
    /// 99th percentile, in ms, interpolated within its bucket.
    pub p99: f64,
    /// Observations the figures come from; 0 means every figure is 0.
    pub count: f64,
}

impl From<Latency> for LatencyResult {
    fn from(l: Latency) -> Self {
        Self {
            average: l.average,
            p50: l.p50,
            p95: l.p95,
            p99: l.p99,
            count: num(l.count),
        }
    }
}

/// Counters of one job name.
#[napi(object)]
pub struct JobTypeCountersResult {
    /// Completed attempts.
    pub completed: f64,
    /// Failed attempts, retried or not.
    pub failed: f64,
    /// Attempts that failed for good.
    pub dead_letter: f64,
    /// Failed attempts that were retried.
    pub retried: f64,
}

impl From<JobTypeCounters> for JobTypeCountersResult {
    fn from(c: JobTypeCounters) -> Self {
        Self {
            completed: num(c.completed),
            failed: num(c.failed),
            dead_letter: num(c.dead_letter),
            retried: num(c.retried),
        }
    }
}

/// Everything known about a queue's activity, read from Redis.
#[napi(object)]
pub struct QueueMetricsResult {
    /// The queue's name.
    pub name: String,
    /// The queue's paused flag is set.
    pub is_paused: bool,
    /// Jobs per state now.
    pub job_counts: JobCountsResult,
    /// Workers of the queue connected to Redis (any process, ours or BullMQ's).
    pub workers: f64,
    /// Jobs completed per minute, the current (partial) minute first.
    pub completed_per_minute: Vec<f64>,
    /// Jobs failed for good per minute, the current (partial) minute first.
    pub failed_per_minute: Vec<f64>,
    /// Completed jobs per second over the last 5 minutes.
    pub throughput: f64,
    /// Jobs finished (completed or failed for good) per second over the last minute.
    pub processing_rate: f64,
    /// Failed for good / finished over the last 5 minutes (all time when none), in [0, 1].
    pub error_rate: f64,
    /// Time attempts ran (every attempt), over all job names, in ms.
    pub processing_time: LatencyResult,
    /// Time jobs waited from runnable to their first start, over all job names, in ms.
    pub wait_time: LatencyResult,
    /// Stalled jobs recovered since the queue began.
    pub stalled: f64,
    /// Age of the oldest waiting job (the next to run, unprioritized), in ms; 0 when none.
    pub oldest_waiting_ms: f64,
    /// Counters per job name.
    pub by_job_type: BTreeMap<String, JobTypeCountersResult>,
}

impl From<QueueMetrics> for QueueMetricsResult {
    fn from(m: QueueMetrics) -> Self {
        Self {
            name: m.name,
            is_paused: m.is_paused,
            job_counts: m.job_counts.into(),
            workers: m.workers as f64,
            completed_per_minute: m.completed_per_minute.into_iter().map(num).collect(),
            failed_per_minute: m.failed_per_minute.into_iter().map(num).collect(),
            throughput: m.throughput,
            processing_rate: m.processing_rate,
            error_rate: m.error_rate,
            processing_time: m.processing_time.into(),
            wait_time: m.wait_time.into(),
            stalled: num(m.stalled),
            oldest_waiting_ms: num(m.oldest_waiting_ms),
            by_job_type: m
                .by_job_type
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect(),
        }
    }
}

/// A queue of the key prefix: declared through `registerQueue`, or merely in use.
#[napi(object)]
pub struct QueueEntry {
    /// The queue's name.
    pub name: String,
    /// The configuration recorded for it, as the JSON text `registerQueue` was given; absent
    /// for a queue in use but never declared.
    pub config: Option<String>,
}

/// A worker of any process, as its last heartbeat in the registry describes it.
#[napi(object)]
pub struct WorkerRecord {
    /// The worker's id, unique across processes.
    pub id: String,
    /// The queue it works on.
    pub queue: String,
    /// The worker's `name` option, when it has one.
    pub name: Option<String>,
    /// The operating-system process id of its process.
    pub pid: u32,
    /// The host name of its machine.
    pub host: String,
    /// Jobs it runs at once, at most.
    pub concurrency: f64,
    /// When it started, in ms since the epoch.
    pub started_at: f64,
    /// When it last started or finished a job, in ms since the epoch.
    pub last_activity: f64,
    /// Jobs it completed.
    pub processed_jobs: f64,
    /// Attempts of its that failed (retried or not).
    pub failed_jobs: f64,
    /// It was paused and fetches nothing.
    pub paused: bool,
    /// Its last round trip to Redis failed.
    pub errored: bool,
    /// When its last heartbeat was written, in ms since the epoch.
    pub last_heartbeat: f64,
    /// `active`, `paused`, `error`, or `stale` (no heartbeat for a while).
    pub status: String,
}

impl From<WorkerInfo> for WorkerRecord {
    fn from(w: WorkerInfo) -> Self {
        let e = w.entry;
        Self {
            id: e.id,
            queue: e.queue,
            name: e.name,
            pid: e.pid,
            host: e.host,
            concurrency: e.concurrency as f64,
            started_at: num(e.started_at),
            last_activity: num(e.last_activity),
            processed_jobs: num(e.processed_jobs),
            failed_jobs: num(e.failed_jobs),
            paused: e.paused,
            errored: e.errored,
            last_heartbeat: num(w.last_heartbeat),
            status: w.status.to_owned(),
        }
    }
}

/// A job scheduler as stored.
#[napi(object)]
pub struct SchedulerRecord {
    /// The scheduler's id (its iterations are `repeat:<key>:<due ms>`).
    pub key: String,
    /// The name its iterations get.
    pub name: String,
    /// When the next iteration is due, in ms since the epoch; absent while it is being
    /// removed.
    pub next: Option<f64>,
    /// Iterations created so far, when stored.
    pub iteration_count: Option<f64>,
    /// Cron pattern, for a cron scheduler.
    pub pattern: Option<String>,
    /// Interval in ms, for an `every` scheduler.
    pub every: Option<f64>,
    /// IANA time zone the cron pattern is read in (UTC when absent).
    pub tz: Option<String>,
    /// Most iterations to create, when limited.
    pub limit: Option<f64>,
    /// No iteration before this time, in ms since the epoch.
    pub start_date: Option<f64>,
    /// No iteration after this time, in ms since the epoch.
    pub end_date: Option<f64>,
    /// Phase of an `every` scheduler in ms: iterations fall on `k × every + offset`.
    pub offset: Option<f64>,
    /// Template data of the iterations, as JSON text (`{}` when none was stored).
    pub data: String,
    /// Template job options of the iterations, as JSON text (`{}` when none were stored).
    pub opts: String,
}

impl From<SchedulerInfo> for SchedulerRecord {
    fn from(s: SchedulerInfo) -> Self {
        Self {
            key: s.key,
            name: s.name,
            next: s.next.map(num),
            iteration_count: s.iteration_count.map(num),
            pattern: s.pattern,
            every: s.every.map(num),
            tz: s.tz,
            limit: s.limit.map(num),
            start_date: s.start_date.map(num),
            end_date: s.end_date.map(num),
            offset: s.offset.map(num),
            data: s.data.get().to_owned(),
            opts: s.opts.get().to_owned(),
        }
    }
}

/// The first iteration a new or replaced scheduler queued.
#[napi(object)]
pub struct ScheduledIteration {
    /// The iteration's job id, `repeat:<scheduler>:<due ms>`.
    pub job_id: String,
    /// When it is due, in ms since the epoch.
    pub next: f64,
}

impl From<Scheduled> for ScheduledIteration {
    fn from(s: Scheduled) -> Self {
        Self {
            job_id: s.job_id,
            next: num(s.next),
        }
    }
}

/// The counters kept beside a metrics series (BullMQ's `metrics:<completed|failed>` hash).
#[napi(object)]
pub struct MetricsMetaResult {
    /// Jobs counted into the series since it began.
    pub count: f64,
    /// When the last point was closed, in ms since the epoch.
    #[napi(js_name = "prevTS")]
    pub prev_ts: f64,
    /// `count` at that time: the jobs of the minute in progress are `count − prevCount`.
    pub prev_count: f64,
}

/// A metrics series as BullMQ's `getMetrics` returns it.
#[napi(object)]
pub struct MetricsSeriesResult {
    /// The series' counters.
    pub meta: MetricsMetaResult,
    /// Jobs finished per minute, newest minute first, one point per minute.
    pub data: Vec<f64>,
    /// How many points the series holds.
    pub count: f64,
}

impl From<Metrics> for MetricsSeriesResult {
    fn from(m: Metrics) -> Self {
        let MetricsMeta {
            count,
            prev_ts,
            prev_count,
        } = m.meta;
        Self {
            meta: MetricsMetaResult {
                count: num(count),
                prev_ts: num(prev_ts),
                prev_count: num(prev_count),
            },
            data: m.data.into_iter().map(num).collect(),
            count: num(m.count),
        }
    }
}

/// Whether a job finished, and how.
#[napi(object)]
pub struct JobFinishedResult {
    /// -1 no such job, 0 not finished, 1 completed, 2 failed.
    pub status: i32,
    /// For a completed job the stored return value's JSON text, for a failed one the failure
    /// reason; absent otherwise or when none was stored.
    pub result: Option<String>,
}

impl From<Finished> for JobFinishedResult {
    fn from(f: Finished) -> Self {
        let (status, result) = match f {
            Finished::Missing => (-1, None),
            Finished::No => (0, None),
            Finished::Completed(v) => (1, v),
            Finished::Failed(r) => (2, r),
        };
        Self { status, result }
    }
}
