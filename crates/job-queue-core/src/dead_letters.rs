//! Dead letters (jobs failed for good, in BullMQ's `failed` set) and what a queue's failures
//! add up to: archive, purge, and statistics of failures and retries.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::job::Job;
use crate::queue::Queue;
use crate::scripts;
use crate::time::now_ms;

/// Members of a sorted set with their scores.
type Scored = Vec<(String, f64)>;

/// How many of the newest dead letters the failure statistics read.
const STATS_SCAN: isize = 10_000;

/// The window of "recent" failures.
const RECENT_MS: u64 = 15 * 60_000;

/// `getFailedJobStatistics`: what the dead letters are.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedStats {
    /// Jobs in the failed set now (dead letters), all of them.
    pub total: u64,
    /// How many of the newest (at most 10,000) were read for the breakdowns.
    pub sampled: u64,
    /// The sampled dead letters by job name.
    pub by_job_name: BTreeMap<String, u64>,
    /// By the error's class name (`Error` when it had none).
    pub by_error_type: BTreeMap<String, u64>,
    /// When the oldest and newest dead letters failed, in ms.
    pub oldest_failure: Option<u64>,
    /// When the newest dead letter failed, in ms since the epoch (none when there are none).
    pub newest_failure: Option<u64>,
    /// Jobs failed for good in the last 15 minutes, and per minute over them.
    pub recent_failures: u64,
    /// `recent_failures` per minute over those 15 minutes.
    pub recent_failure_rate: f64,
}

/// `getRetryStatistics`: counted by the worker script as retries happen.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryStats {
    /// Retries scheduled since the queue began (each failed attempt that was retried).
    pub total_retries: u64,
    /// Retries by the attempt number that failed (1 = the first attempt).
    pub by_attempt: BTreeMap<u32, u64>,
    /// Retries by the failing error's class name (`Error` when it had none).
    pub by_error_type: BTreeMap<String, u64>,
    /// Mean delay before a retry, in ms.
    pub average_retry_delay: f64,
    /// Jobs that needed a retry and then completed, or failed for good.
    pub retried_succeeded: u64,
    /// Jobs that needed a retry and then failed for good.
    pub retried_failed: u64,
    /// retried_succeeded / (retried_succeeded + retried_failed); 0 when none finished.
    pub retry_success_rate: f64,
}

impl RetryStats {
    fn from_hash(fields: Vec<(String, u64)>) -> Self {
        let mut s = Self::default();
        let mut delay_sum = 0;
        for (field, n) in fields {
            if let Some(attempt) = field.strip_prefix("attempt:") {
                if let Ok(a) = attempt.parse() {
                    s.by_attempt.insert(a, n);
                }
            } else if let Some(name) = field.strip_prefix("error:") {
                s.by_error_type.insert(name.to_owned(), n);
            } else {
                match field.as_str() {
                    "total" => s.total_retries = n,
                    "delaySum" => delay_sum = n,
                    "retriedSucceeded" => s.retried_succeeded = n,
                    "retriedFailed" => s.retried_failed = n,
                    _ => {}
                }
            }
        }
        if s.total_retries > 0 {
            s.average_retry_delay = delay_sum as f64 / s.total_retries as f64;
        }
        let finished = s.retried_succeeded + s.retried_failed;
        if finished > 0 {
            s.retry_success_rate = s.retried_succeeded as f64 / finished as f64;
        }
        s
    }
}

impl Queue {
    /// Takes a failed job out of the failed set into the archive; the job is kept.
    pub async fn archive_failed(&self, id: &str) -> Result<()> {
        scripts::archive_failed(&mut self.con.clone(), &self.keys, id, now_ms()).await
    }

    /// Archived jobs, most recently archived first, ranks `start..=end`.
    pub async fn archived_jobs(&self, start: isize, end: isize) -> Result<Vec<Job>> {
        self.jobs_in("archived", "ZREVRANGE", start, end).await
    }

    /// Deletes failed jobs that failed at or before `until_ms` (all when `None`); returns
    /// how many.
    pub async fn purge_failed(&self, until_ms: Option<u64>) -> Result<u64> {
        self.clean_before("failed", Some(until_ms.unwrap_or(u64::MAX)), None)
            .await
    }

    /// Counts of the dead letters by job name and error type, their age, and the recent rate.
    pub async fn failed_stats(&self) -> Result<FailedStats> {
        let mut con = self.con.clone();
        let failed = self.keys.key("failed");
        let now = now_ms();
        let (total, recent, newest, oldest): (u64, u64, Scored, Scored) = redis::pipe()
            .zcard(&failed)
            .zcount(&failed, now.saturating_sub(RECENT_MS), "+inf")
            .cmd("ZREVRANGE")
            .arg(&failed)
            .arg(0)
            .arg(STATS_SCAN - 1)
            .arg("WITHSCORES")
            .cmd("ZRANGE")
            .arg(&failed)
            .arg(0)
            .arg(0)
            .arg("WITHSCORES")
            .query_async(&mut con)
            .await?;
        let mut stats = FailedStats {
            total,
            sampled: newest.len() as u64,
            oldest_failure: oldest.first().map(|(_, t)| *t as u64),
            newest_failure: newest.first().map(|(_, t)| *t as u64),
            recent_failures: recent,
            recent_failure_rate: recent as f64 / (RECENT_MS as f64 / 60_000.0),
            ..FailedStats::default()
        };
        if newest.is_empty() {
            return Ok(stats);
        }
        let mut pipe = redis::pipe();
        for (id, _) in &newest {
            pipe.cmd("HMGET")
                .arg(self.keys.job(id))
                .arg("name")
                .arg("errorName");
        }
        let fields: Vec<(Option<String>, Option<String>)> = pipe.query_async(&mut con).await?;
        for (name, error) in fields {
            let Some(name) = name else { continue }; // deleted meanwhile
            *stats.by_job_name.entry(name).or_default() += 1;
            let error = error.unwrap_or_else(|| "Error".to_owned());
            *stats.by_error_type.entry(error).or_default() += 1;
        }
        Ok(stats)
    }

    /// Retries by attempt and error type, their mean delay, and how retried jobs ended.
    pub async fn retry_stats(&self) -> Result<RetryStats> {
        let fields: Vec<(String, u64)> = redis::cmd("HGETALL")
            .arg(self.keys.key("retries"))
            .query_async(&mut self.con.clone())
            .await?;
        Ok(RetryStats::from_hash(fields))
    }
}
