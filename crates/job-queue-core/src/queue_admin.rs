//! What the BullMQ-style Queue needs beyond the producer and admin operations of
//! [`crate::queue`]: jobs and counts by state, draining, cleaning by age with a limit, moving
//! finished or delayed jobs back to wait in batches, metrics lists, events trimming, counts
//! per priority, the connections of the queue's workers and event readers, job ids by state
//! (BullMQ's getRanges), deduplication keys, and the `priority` key of older BullMQ versions.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::job::Job;
use crate::options::MAX_PRIORITY;
use crate::queue::Queue;
use crate::scripts;
use crate::time::now_ms;

/// Jobs a `clean_jobs` or `move_jobs_to_wait` call handles at most: one call never blocks
/// Redis for long.
pub const BATCH: u64 = 1000;
/// Most passes `drain` makes over one state.
const DRAIN_PASSES: usize = 8;
/// Most reads of one state's ids a bounded `jobs_by_state` page makes, the first included,
/// to fill the places of jobs whose hash is gone (BullMQ's bound).
pub const BACKFILL_ROUNDS: usize = 5;

/// What one window of [`Queue::jobs_in_windows`] held.
struct WindowJobs {
    /// The jobs found, in the window's order.
    jobs: Vec<Job>,
    /// How many ids the window held.
    read: usize,
    /// How many ids it asked for (`usize::MAX`: unbounded).
    asked: usize,
    /// Ids read since the page's start, over every window of the state.
    cursor: usize,
}

/// A job state as BullMQ names it, with where its ids live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// The `wait` list (BullMQ's `waiting`).
    Wait,
    /// The legacy `paused` list of BullMQ 5 (empty in BullMQ 6's layout).
    Paused,
    /// The `active` list.
    Active,
    /// The `prioritized` set.
    Prioritized,
    /// The `delayed` set.
    Delayed,
    /// The `completed` set.
    Completed,
    /// The `failed` set.
    Failed,
    /// The `waiting-children` set (BullMQ flows).
    WaitingChildren,
}

impl JobState {
    /// The state of a BullMQ type name (`waiting` is `wait`).
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "wait" | "waiting" => Self::Wait,
            "paused" => Self::Paused,
            "active" => Self::Active,
            "prioritized" => Self::Prioritized,
            "delayed" => Self::Delayed,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "waiting-children" => Self::WaitingChildren,
            other => {
                return Err(Error::validation(
                    "type",
                    format!(
                        "unknown job state {other:?} (known: waiting, paused, active, \
                         prioritized, delayed, completed, failed, waiting-children)"
                    ),
                ))
            }
        })
    }

    /// The key suffix of the list or set holding the state's ids.
    pub fn key(self) -> &'static str {
        match self {
            Self::Wait => "wait",
            Self::Paused => "paused",
            Self::Active => "active",
            Self::Prioritized => "prioritized",
            Self::Delayed => "delayed",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::WaitingChildren => "waiting-children",
        }
    }

    fn is_list(self) -> bool {
        matches!(self, Self::Wait | Self::Paused | Self::Active)
    }
}

/// A metrics series as BullMQ's `getMetrics` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// The series' counters.
    pub meta: MetricsMeta,
    /// Jobs finished per minute, newest minute first.
    pub data: Vec<u64>,
    /// How many points the series holds.
    pub count: u64,
}

/// The counters kept beside a metrics series (BullMQ's `metrics:<completed|failed>` hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsMeta {
    /// Jobs counted into the series since it began.
    pub count: u64,
    /// When the last point was closed, in ms since the epoch.
    #[serde(rename = "prevTS")]
    pub prev_ts: u64,
    /// `count` at that time: the jobs of the minute in progress are `count − prev_count`.
    pub prev_count: u64,
}

/// HMGET of the series' meta fields, its points, and how many points it has.
type MetricsReply = (
    (Option<String>, Option<String>, Option<String>),
    Vec<String>,
    u64,
);

fn number(v: Option<String>) -> u64 {
    v.and_then(|s| s.parse::<f64>().ok())
        .map(|f| f as u64)
        .unwrap_or(0)
}

impl Queue {
    /// Jobs in `states`, each state's ranks `start..=end` (negative counts from the end),
    /// newest first or with `asc` oldest first; ids in several states appear once. Jobs whose
    /// hash is gone are skipped; for a bounded range (`0 <= start <= end`) the next ids of the
    /// state fill their places, as BullMQ's getJobs does (at most [`BACKFILL_ROUNDS`] reads in
    /// all), so a page keeps its size while the state has jobs enough.
    pub async fn jobs_by_state(
        &self,
        states: &[JobState],
        start: isize,
        end: isize,
        asc: bool,
    ) -> Result<Vec<Job>> {
        let windows: Vec<(JobState, isize, isize)> =
            states.iter().map(|s| (*s, start, end)).collect();
        let mut found = self.jobs_in_windows(&windows, asc).await?;
        if start >= 0 && end >= start {
            // saturating: callers may pass ranks near isize::MAX (Redis clamps them)
            let needed = end.saturating_sub(start).saturating_add(1) as usize;
            for _ in 1..BACKFILL_ROUNDS {
                // states whose window was full but lost jobs: read on after it
                let short: Vec<usize> = (0..states.len())
                    .filter(|&i| found[i].read == found[i].asked && found[i].jobs.len() < needed)
                    .collect();
                if short.is_empty() {
                    break;
                }
                let windows: Vec<(JobState, isize, isize)> = short
                    .iter()
                    .map(|&i| {
                        let from = start.saturating_add(found[i].cursor as isize);
                        (
                            states[i],
                            from,
                            from.saturating_add((needed - found[i].jobs.len()) as isize)
                                .saturating_sub(1),
                        )
                    })
                    .collect();
                for (&i, more) in short.iter().zip(self.jobs_in_windows(&windows, asc).await?) {
                    let f = &mut found[i];
                    f.cursor += more.read;
                    f.read = more.read;
                    f.asked = more.asked;
                    f.jobs.extend(more.jobs);
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        Ok(found
            .into_iter()
            .flat_map(|f| f.jobs)
            .filter(|job| seen.insert(job.id.clone()))
            .collect())
    }

    /// The jobs of each `(state, start, end)` window, read in two pipelines (the ids at one
    /// instant, then the hashes), with how many ids each window asked for and held.
    async fn jobs_in_windows(
        &self,
        windows: &[(JobState, isize, isize)],
        asc: bool,
    ) -> Result<Vec<WindowJobs>> {
        let lists = self.ids_in_windows(windows, asc).await?;
        let mut con = self.con.clone();
        let mut pipe = redis::pipe();
        for id in lists.iter().flatten() {
            pipe.hgetall(self.keys.job(id));
        }
        let mut hashes: std::vec::IntoIter<Vec<(String, String)>> = if pipe.is_empty() {
            Vec::new().into_iter()
        } else {
            pipe.query_async::<Vec<_>>(&mut con).await?.into_iter()
        };
        let mut out = Vec::with_capacity(windows.len());
        for (&(_, start, end), ids) in windows.iter().zip(lists) {
            let read = ids.len();
            let mut jobs = Vec::with_capacity(read);
            for id in ids {
                let hash = hashes.next().unwrap_or_default();
                if !hash.is_empty() {
                    jobs.push(Job::from_hash(id, hash)?);
                }
            }
            let asked = if start >= 0 && end >= start {
                end.saturating_sub(start).saturating_add(1) as usize
            } else {
                usize::MAX
            };
            out.push(WindowJobs {
                jobs,
                read,
                asked,
                cursor: read,
            });
        }
        Ok(out)
    }

    /// The ids of each `(state, start, end)` window, read at one instant, each window in
    /// the order asked (`asc`: oldest first).
    async fn ids_in_windows(
        &self,
        windows: &[(JobState, isize, isize)],
        asc: bool,
    ) -> Result<Vec<Vec<String>>> {
        let mut con = self.con.clone();
        let mut pipe = redis::pipe();
        pipe.atomic();
        for &(state, start, end) in windows {
            let key = self.keys.key(state.key());
            if state.is_list() {
                // lists take new jobs at the left: oldest first reads from the right
                if asc {
                    let from = if end == -1 {
                        0
                    } else {
                        end.saturating_add(1).saturating_neg()
                    };
                    let to = if start == -1 {
                        -1
                    } else {
                        start.saturating_add(1).saturating_neg()
                    };
                    pipe.lrange(key, from, to);
                } else {
                    pipe.lrange(key, start, end);
                }
            } else if asc {
                pipe.zrange(key, start, end);
            } else {
                pipe.zrevrange(key, start, end);
            }
        }
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let mut lists: Vec<Vec<String>> = pipe.query_async(&mut con).await?;
        for (&(state, ..), ids) in windows.iter().zip(&mut lists) {
            if asc && state.is_list() {
                ids.reverse();
            }
        }
        Ok(lists)
    }

    /// How many jobs each of `states` holds, read at one instant.
    pub async fn counts_by_state(&self, states: &[JobState]) -> Result<Vec<u64>> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for state in states {
            let key = self.keys.key(state.key());
            if state.is_list() {
                pipe.llen(key);
            } else {
                pipe.zcard(key);
            }
        }
        Ok(pipe.query_async(&mut self.con.clone()).await?)
    }

    /// Removes every job that has not started (wait, the legacy paused list, prioritized,
    /// and with `delayed` the delayed set), except each job scheduler's pending iteration.
    /// Runs in batches of [`BATCH`]; returns how many jobs went.
    pub async fn drain(&self, delayed: bool) -> Result<u64> {
        let mut states = vec!["wait", "paused", "prioritized"];
        if delayed {
            states.push("delayed");
        }
        let mut con = self.con.clone();
        let mut total = 0;
        for state in states {
            // A pass steps over the jobs it keeps (a scheduler's next run) by offset from the
            // oldest end; workers taking jobs from that end between two batches shift the
            // list, so a pass can step over jobs it should remove. Another pass from the
            // start finds them; passes go on until one removes nothing (bounded, so that
            // producers adding all the while cannot keep drain running).
            for _ in 0..DRAIN_PASSES {
                let mut offset = 0;
                let mut removed = 0;
                loop {
                    let batch = scripts::clean_jobs(
                        &mut con,
                        &self.keys,
                        state,
                        u64::MAX >> 11,
                        BATCH,
                        offset,
                        false,
                    )
                    .await?;
                    removed += batch.removed.len() as u64;
                    offset += batch.looked - batch.removed.len() as u64;
                    if batch.looked < BATCH {
                        break;
                    }
                }
                total += removed;
                // nothing kept: every batch started at the oldest end, nothing was stepped over
                if removed == 0 || offset == 0 {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// One batch of BullMQ's `clean`: removes up to `limit` (at most [`BATCH`]) jobs of
    /// `state` whose time is `grace_ms` or more ago, among that many oldest ones, and emits
    /// `cleaned` with the count. Returns the ids removed.
    pub async fn clean_batch(
        &self,
        state: JobState,
        grace_ms: u64,
        limit: u64,
    ) -> Result<Vec<String>> {
        if state == JobState::WaitingChildren {
            return Err(Error::validation(
                "type",
                "waiting-children jobs cannot be cleaned",
            ));
        }
        let limit = limit.clamp(1, BATCH);
        let cutoff = now_ms().saturating_sub(grace_ms);
        let batch = scripts::clean_jobs(
            &mut self.con.clone(),
            &self.keys,
            state.key(),
            cutoff,
            limit,
            0,
            true,
        )
        .await?;
        Ok(batch.removed)
    }

    /// One batch of `retryJobs` (state failed or completed, finished at or before
    /// `before_ms`) or `promoteJobs` (state delayed): up to `count` (at most [`BATCH`]) jobs
    /// become runnable. Returns how many moved.
    pub async fn move_to_wait(&self, state: JobState, count: u64, before_ms: u64) -> Result<u64> {
        if !matches!(
            state,
            JobState::Failed | JobState::Completed | JobState::Delayed
        ) {
            return Err(Error::validation(
                "state",
                "must be failed, completed or delayed",
            ));
        }
        scripts::move_jobs_to_wait(
            &mut self.con.clone(),
            &self.keys,
            state.key(),
            count.clamp(1, BATCH),
            before_ms,
        )
        .await
    }

    /// Trims the events stream to about `max_len` entries; returns how many went.
    pub async fn trim_events(&self, max_len: u64) -> Result<u64> {
        scripts::trim_events(&mut self.con.clone(), &self.keys, max_len).await
    }

    /// Declares the events stream cap (and a version label) in the queue's meta.
    pub async fn set_meta(&self, max_len_events: Option<u64>, version: Option<&str>) -> Result<()> {
        let mut fields = Vec::new();
        if let Some(n) = max_len_events {
            fields.push(("opts.maxLenEvents", n.to_string()));
        }
        if let Some(v) = version {
            fields.push(("version", v.to_owned()));
        }
        if !fields.is_empty() {
            scripts::set_queue_meta(&mut self.con.clone(), &self.keys, &fields).await?;
        }
        Ok(())
    }

    /// The `completed` or `failed` metrics series (written by workers with metrics on),
    /// points `start..=end`.
    pub async fn metrics_series(&self, kind: &str, start: isize, end: isize) -> Result<Metrics> {
        if kind != "completed" && kind != "failed" {
            return Err(Error::validation("type", "must be completed or failed"));
        }
        let key = self.keys.key(&format!("metrics:{kind}"));
        let data_key = format!("{key}:data");
        let ((count, prev_ts, prev_count), data, points): MetricsReply = redis::pipe()
            .atomic()
            .cmd("HMGET")
            .arg(&key)
            .arg("count")
            .arg("prevTS")
            .arg("prevCount")
            .lrange(&data_key, start, end)
            .llen(&data_key)
            .query_async(&mut self.con.clone())
            .await?;
        Ok(Metrics {
            meta: MetricsMeta {
                count: number(count),
                prev_ts: number(prev_ts),
                prev_count: number(prev_count),
            },
            data: data.into_iter().map(|p| number(Some(p))).collect(),
            count: points,
        })
    }

    /// The job ids of `states`, each state's ranks `start..=end`, newest first or with `asc`
    /// oldest first, each id once (BullMQ's getRanges), read at one instant.
    pub async fn job_ids_by_state(
        &self,
        states: &[JobState],
        start: isize,
        end: isize,
        asc: bool,
    ) -> Result<Vec<String>> {
        let windows: Vec<(JobState, isize, isize)> =
            states.iter().map(|s| (*s, start, end)).collect();
        let lists = self.ids_in_windows(&windows, asc).await?;
        let mut seen = std::collections::HashSet::new();
        Ok(lists
            .into_iter()
            .flatten()
            .filter(|id| seen.insert(id.clone()))
            .collect())
    }

    /// The id of the job that owns deduplication id `dedup_id` now, if any.
    pub async fn dedup_job_id(&self, dedup_id: &str) -> Result<Option<String>> {
        if dedup_id.is_empty() {
            return Err(Error::validation("id", "must be a non-empty string"));
        }
        Ok(redis::cmd("GET")
            .arg(self.keys.key(&format!("de:{dedup_id}")))
            .query_async(&mut self.con.clone())
            .await?)
    }

    /// Ends the deduplication window of `dedup_id` now, so the next add with that id adds a
    /// job; with `owner`, only while that job owns it. Returns whether there was a window.
    pub async fn remove_dedup_key(&self, dedup_id: &str, owner: Option<&str>) -> Result<bool> {
        if dedup_id.is_empty() {
            return Err(Error::validation("id", "must be a non-empty string"));
        }
        scripts::remove_dedup_key(&mut self.con.clone(), &self.keys, dedup_id, owner).await
    }

    /// Deletes the `priority` key older BullMQ versions kept (before the `prioritized` set).
    /// Returns whether there was one.
    pub async fn remove_legacy_priority(&self) -> Result<bool> {
        scripts::remove_legacy_priority(&mut self.con.clone(), &self.keys).await
    }

    /// The Redis connections of this queue's workers (ours and BullMQ's, found by their
    /// connection names), each as CLIENT LIST's fields with `name` set to the queue's name
    /// and the connection's own name in `rawname`, as BullMQ's getWorkers returns them.
    pub async fn worker_clients(&self) -> Result<Vec<BTreeMap<String, String>>> {
        let connections = self.worker_connections().await?;
        Ok(self.client_fields(connections))
    }

    /// The Redis connections following this queue's events stream (our `QueueEvents` and the
    /// coordinator's `events()`, BullMQ's QueueEvents), as [`Queue::worker_clients`] gives
    /// workers' (BullMQ's getQueueEvents).
    pub async fn queue_events_clients(&self) -> Result<Vec<BTreeMap<String, String>>> {
        let own = self.keys.queue_events_client_name();
        let connections = self.connections_named(|name| name == own).await?;
        Ok(self.client_fields(connections))
    }

    /// CLIENT LIST lines as maps of their fields, `name` the queue's, `rawname` the
    /// connection's.
    fn client_fields(&self, connections: Vec<(String, String)>) -> Vec<BTreeMap<String, String>> {
        connections
            .into_iter()
            .map(|(line, name)| {
                let mut client: BTreeMap<String, String> = line
                    .split(' ')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                client.insert("name".to_owned(), self.keys.queue.clone());
                client.insert("rawname".to_owned(), name);
                client
            })
            .collect()
    }

    /// How many runnable jobs each of `priorities` has, read at one instant (BullMQ's
    /// getCountsPerPriority): priority 0 counts the wait list (where a paused queue's jobs
    /// stay too), any other the prioritized jobs of that priority.
    pub async fn counts_per_priority(&self, priorities: &[u64]) -> Result<Vec<u64>> {
        if let Some(p) = priorities.iter().find(|p| **p > MAX_PRIORITY) {
            return Err(Error::validation(
                "priorities",
                format!("must be between 0 and {MAX_PRIORITY}, got {p}"),
            ));
        }
        if priorities.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for &p in priorities {
            if p == 0 {
                pipe.llen(self.keys.key("wait"));
            } else {
                // scores are priority × 2³² + a counter below 2³²
                pipe.zcount(self.keys.key("prioritized"), p << 32, ((p + 1) << 32) - 1);
            }
        }
        Ok(pipe.query_async(&mut self.con.clone()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_by_bullmq_names() {
        assert_eq!(JobState::parse("waiting").unwrap(), JobState::Wait);
        assert_eq!(JobState::parse("wait").unwrap().key(), "wait");
        assert_eq!(
            JobState::parse("waiting-children").unwrap().key(),
            "waiting-children"
        );
        assert!(JobState::parse("meta").is_err());
    }
}
