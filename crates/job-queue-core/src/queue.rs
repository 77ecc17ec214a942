//! Producer and admin operations on one queue.

use crate::connection::SharedConnection;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::job::Job;
use crate::keys::QueueKeys;
use crate::scripts::{self, AddRequest};
use crate::time::now_ms;

/// Jobs per state (BullMQ's getJobCounts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobCounts {
    /// In the `wait` list (prioritized jobs are counted apart).
    pub waiting: u64,
    /// Held by workers.
    pub active: u64,
    /// In the completed set.
    pub completed: u64,
    /// In the failed set.
    pub failed: u64,
    /// In the delayed set.
    pub delayed: u64,
    /// In the prioritized set (runnable, ordered by priority).
    pub prioritized: u64,
    /// Parents waiting for children (BullMQ flows).
    pub waiting_children: u64,
}

/// Throughput measured from the finished sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingStats {
    /// Jobs finished (completed or failed) per second over the last minute.
    pub processing_rate: f64,
    /// Mean of `finishedOn − processedOn` over the most recent finished jobs, in ms.
    pub average_processing_time: f64,
}

/// How many recent jobs [`Queue::processing_stats`] averages over.
const STATS_SAMPLE: isize = 100;

/// One queue's handle: its keys and the shared connection. Cheap to clone; holds no state of
/// its own, so any number of handles (in any process) see the same queue.
#[derive(Clone)]
pub struct Queue {
    pub(crate) keys: QueueKeys,
    pub(crate) con: SharedConnection,
    /// Replication to wait for after adds (`RedisConfig::wait`), and their connection.
    pub(crate) durable: Option<crate::connection::DurableAdds>,
}

impl Queue {
    /// A handle on the queue `keys` names, calling through `con`. No Redis call.
    pub fn new(con: SharedConnection, keys: QueueKeys) -> Self {
        Self {
            keys,
            con,
            durable: None,
        }
    }

    /// This handle, its adds confirmed by `durable`'s replicas (see
    /// [`scripts::add_jobs_durable`]).
    pub fn with_wait(mut self, durable: Option<crate::connection::DurableAdds>) -> Self {
        self.durable = durable;
        self
    }

    /// The queue's key names.
    pub fn keys(&self) -> &QueueKeys {
        &self.keys
    }

    /// Adds jobs in one atomic call; see [`scripts::add_jobs`].
    pub async fn add(&self, jobs: &[AddRequest]) -> Result<Vec<(String, bool)>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        match &self.durable {
            Some(d) => scripts::add_jobs_durable(d, &self.keys, jobs).await,
            None => scripts::add_jobs(&mut self.con.clone(), &self.keys, jobs, None).await,
        }
    }

    /// Jobs per state, read in one atomic pipeline (a consistent snapshot).
    pub async fn counts(&self) -> Result<JobCounts> {
        let k = &self.keys;
        let (waiting, active, completed, failed, delayed, prioritized, waiting_children) =
            redis::pipe()
                .atomic()
                .llen(k.key("wait"))
                .llen(k.key("active"))
                .zcard(k.key("completed"))
                .zcard(k.key("failed"))
                .zcard(k.key("delayed"))
                .zcard(k.key("prioritized"))
                .zcard(k.key("waiting-children"))
                .query_async(&mut self.con.clone())
                .await?;
        Ok(JobCounts {
            waiting,
            active,
            completed,
            failed,
            delayed,
            prioritized,
            waiting_children,
        })
    }

    /// Whether the queue's `paused` flag is set (by us or by BullMQ).
    pub async fn is_paused(&self) -> Result<bool> {
        Ok(redis::cmd("HEXISTS")
            .arg(self.keys.key("meta"))
            .arg("paused")
            .query_async(&mut self.con.clone())
            .await?)
    }

    /// The job with this id, or `None`; a hash the engine cannot read is an
    /// [`Error::Corrupt`].
    pub async fn get_job(&self, id: &str) -> Result<Option<Job>> {
        let fields: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(self.keys.job(id))
            .query_async(&mut self.con.clone())
            .await?;
        if fields.is_empty() {
            return Ok(None);
        }
        Job::from_hash(id.to_owned(), fields).map(Some)
    }

    /// Failed jobs, newest failure first, ranks `start..=end`. Jobs whose hash vanished
    /// meanwhile are skipped.
    pub async fn failed_jobs(&self, start: isize, end: isize) -> Result<Vec<Job>> {
        self.jobs_in("failed", "ZREVRANGE", start, end).await
    }

    /// Delayed jobs, soonest due first, ranks `start..=end`.
    pub async fn delayed_jobs(&self, start: isize, end: isize) -> Result<Vec<Job>> {
        self.jobs_in("delayed", "ZRANGE", start, end).await
    }

    /// The jobs of sorted set `set` at ranks `start..=end` in the order `range` reads them.
    pub(crate) async fn jobs_in(
        &self,
        set: &str,
        range: &str,
        start: isize,
        end: isize,
    ) -> Result<Vec<Job>> {
        let mut con = self.con.clone();
        let ids: Vec<String> = redis::cmd(range)
            .arg(self.keys.key(set))
            .arg(start)
            .arg(end)
            .query_async(&mut con)
            .await?;
        self.read_jobs(ids).await
    }

    /// The jobs with these ids, in this order, read in one pipeline. Jobs whose hash
    /// vanished meanwhile are skipped.
    pub(crate) async fn read_jobs(&self, ids: Vec<String>) -> Result<Vec<Job>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut con = self.con.clone();
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(self.keys.job(id));
        }
        let hashes: Vec<Vec<(String, String)>> = pipe.query_async(&mut con).await?;
        ids.into_iter()
            .zip(hashes)
            .filter(|(_, h)| !h.is_empty())
            .map(|(id, h)| Job::from_hash(id, h))
            .collect()
    }

    /// Moves a failed job back to waiting with its attempts reset.
    pub async fn retry_job(&self, id: &str) -> Result<()> {
        scripts::retry_job(&mut self.con.clone(), &self.keys, id, true).await
    }

    /// Gives a job a new priority (0 = none); a waiting job moves to its new place at once.
    pub async fn change_priority(&self, id: &str, priority: u64) -> Result<()> {
        if priority > crate::options::MAX_PRIORITY {
            return Err(Error::validation(
                "priority",
                format!("must be between 0 and {}", crate::options::MAX_PRIORITY),
            ));
        }
        scripts::change_priority(&mut self.con.clone(), &self.keys, id, priority, false).await
    }

    /// Makes a delayed job runnable now.
    pub async fn promote(&self, id: &str) -> Result<()> {
        scripts::promote_job(&mut self.con.clone(), &self.keys, id).await
    }

    /// Makes a delayed job due `delay_ms` from now.
    pub async fn change_delay(&self, id: &str, delay_ms: u64) -> Result<()> {
        scripts::change_delay(&mut self.con.clone(), &self.keys, id, now_ms(), delay_ms).await
    }

    /// Deletes a job that is not running (waiting, delayed or finished).
    pub async fn remove_job(&self, id: &str) -> Result<()> {
        scripts::remove_job(&mut self.con.clone(), &self.keys, id).await
    }

    /// Stores progress (JSON text) on a job and emits a `progress` event.
    pub async fn update_progress(&self, id: &str, progress: &str) -> Result<()> {
        if serde_json::from_str::<serde::de::IgnoredAny>(progress).is_err() {
            return Err(Error::validation("progress", "must be JSON"));
        }
        scripts::update_progress(&mut self.con.clone(), &self.keys, id, progress).await
    }

    /// Appends a line to a job's log; `keep` > 0 keeps only the newest `keep` lines.
    pub async fn add_log(&self, id: &str, line: &str, keep: u64) -> Result<u64> {
        scripts::add_log(&mut self.con.clone(), &self.keys, id, line, keep).await
    }

    /// The job's log lines, oldest first (empty for a job without logs or a missing job).
    pub async fn logs(&self, id: &str) -> Result<Vec<String>> {
        Ok(redis::cmd("LRANGE")
            .arg(self.keys.job_sub(id, "logs"))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.con.clone())
            .await?)
    }

    /// Rate and mean duration, computed from the finished sets: the number of jobs finished
    /// in the last minute, and `finishedOn − processedOn` of the most recent ones.
    pub async fn processing_stats(&self) -> Result<ProcessingStats> {
        let mut con = self.con.clone();
        let now = now_ms();
        let since = now.saturating_sub(60_000);
        let k = &self.keys;
        let (done, failed, recent_done, recent_failed): (u64, u64, Vec<String>, Vec<String>) =
            redis::pipe()
                .zcount(k.key("completed"), since, "+inf")
                .zcount(k.key("failed"), since, "+inf")
                .zrevrange(k.key("completed"), 0, STATS_SAMPLE - 1)
                .zrevrange(k.key("failed"), 0, STATS_SAMPLE - 1)
                .query_async(&mut con)
                .await?;
        let mut pipe = redis::pipe();
        for id in recent_done.iter().chain(&recent_failed) {
            pipe.cmd("HMGET")
                .arg(k.job(id))
                .arg("processedOn")
                .arg("finishedOn");
        }
        // redis-rs refuses an empty pipeline; a queue with nothing finished has no times.
        let times: Vec<(Option<u64>, Option<u64>)> = if pipe.is_empty() {
            Vec::new()
        } else {
            pipe.query_async(&mut con).await?
        };
        let durations: Vec<u64> = times
            .into_iter()
            .filter_map(|(start, end)| Some(end?.saturating_sub(start?)))
            .collect();
        let average = if durations.is_empty() {
            0.0
        } else {
            durations.iter().sum::<u64>() as f64 / durations.len() as f64
        };
        Ok(ProcessingStats {
            processing_rate: (done + failed) as f64 / 60.0,
            average_processing_time: average,
        })
    }

    /// Workers of this queue connected to Redis right now, ours and BullMQ's alike, found by
    /// their connection names (docs/redis-layout.md).
    pub async fn worker_count(&self) -> Result<usize> {
        Ok(self.worker_connections().await?.len())
    }

    /// The CLIENT LIST lines of this queue's worker connections, each with its connection
    /// name: the queue's own worker name, or that name followed by `:w:` and the worker's.
    pub(crate) async fn worker_connections(&self) -> Result<Vec<(String, String)>> {
        let exact = self.keys.worker_client_name(None);
        let named = format!("{exact}:w:");
        self.connections_named(|name| name == exact || name.starts_with(&named))
            .await
    }

    /// The CLIENT LIST lines of the connections whose name `matches`, each with that name.
    pub(crate) async fn connections_named(
        &self,
        matches: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, String)>> {
        // on a cluster, the node holding the queue (worker connections are named on every node)
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut self.con.at_key(&self.keys.key("marker")))
            .await?;
        Ok(list
            .lines()
            .filter_map(|line| {
                let name = line.split(' ').find_map(|f| f.strip_prefix("name="))?;
                matches(name).then(|| (line.to_owned(), name.to_owned()))
            })
            .collect())
    }
}
