//! Registries of a key prefix, kept outside every queue in keys `P::…` (no queue's keys can
//! start so, as queue names are not empty; see [`PrefixKeys`] for their names and hash tag):
//! the queues declared with their configuration, and the workers of every process with their
//! heartbeat, counters and status. BullMQ ignores both; its own view of workers (connection
//! names) is kept as well.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::keys::{normalize_prefix, PrefixKeys};
use crate::scan::Scan;
use crate::time::now_ms;
use crate::Engine;

/// How often a worker writes its entry.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A worker silent for this long is reported `stale` (its process is gone or cut off).
pub const STALE_AFTER: Duration = Duration::from_secs(6);
/// Entries silent for this long are deleted.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);

fn queues_key(prefix: &str) -> String {
    PrefixKeys::new(prefix).queues()
}

/// What a worker says about itself in each heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerEntry {
    /// The worker's id, unique across processes (the registry's hash field).
    pub id: String,
    /// The queue it works on.
    pub queue: String,
    /// The worker's `name` option, when it has one (BullMQ's `processedBy` on its jobs).
    pub name: Option<String>,
    /// The operating-system process id of its process.
    pub pid: u32,
    /// The host name of its machine.
    pub host: String,
    /// Jobs it runs at once, at most.
    pub concurrency: usize,
    /// When it started, in ms since the epoch.
    pub started_at: u64,
    /// When it last started or finished a job, in ms since the epoch.
    pub last_activity: u64,
    /// Jobs it completed.
    pub processed_jobs: u64,
    /// Attempts of its that failed (retried or not).
    pub failed_jobs: u64,
    /// It was paused (locally or through the registry) and fetches nothing.
    pub paused: bool,
    /// Its last round trip to Redis failed.
    pub errored: bool,
}

/// A registry entry as read back, with what the reader can tell from its age.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerInfo {
    /// What the worker last wrote.
    #[serde(flatten)]
    pub entry: WorkerEntry,
    /// When that was written, in ms since the epoch.
    pub last_heartbeat: u64,
    /// `active`, `paused`, `error`, or `stale` (no heartbeat for [`STALE_AFTER`]).
    pub status: &'static str,
}

impl WorkerInfo {
    fn new(entry: WorkerEntry, last_heartbeat: u64, now: u64) -> Self {
        let status = if now.saturating_sub(last_heartbeat) > STALE_AFTER.as_millis() as u64 {
            "stale"
        } else if entry.errored {
            "error"
        } else if entry.paused {
            "paused"
        } else {
            "active"
        };
        Self {
            entry,
            last_heartbeat,
            status,
        }
    }
}

/// The host name, for telling workers of several machines apart.
pub(crate) fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

impl Engine {
    /// Records a queue's configuration (JSON) for every process to see.
    pub async fn register_queue(&self, name: &str, config: &str) -> Result<()> {
        self.keys(name)?;
        redis::cmd("HSET")
            .arg(queues_key(&self.prefix))
            .arg(name)
            .arg(config)
            .query_async::<()>(&mut self.connection())
            .await?;
        Ok(())
    }

    /// Every queue of the prefix: declared ones (with their configuration JSON) and those
    /// found by their `meta` key (queues used by BullMQ or without a declaration), by name.
    pub async fn queues(&self) -> Result<Vec<(String, Option<String>)>> {
        let mut con = self.connection();
        let declared: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(queues_key(&self.prefix))
            .query_async(&mut con)
            .await?;
        let p = normalize_prefix(&self.prefix);
        let mut found: Vec<String> = Vec::new();
        // every master of a cluster holds some of the queues
        for mut node in con.masters().await? {
            let mut scan = Scan::new(&format!("{p}:"), "*:meta");
            while let Some(keys) = scan.next_batch(&mut node).await? {
                for key in keys {
                    let name = &key[p.len() + 1..key.len() - ":meta".len()];
                    if !name.is_empty() && !name.contains(':') && !found.iter().any(|f| f == name) {
                        found.push(name.to_owned());
                    }
                }
            }
        }
        let mut all: Vec<(String, Option<String>)> =
            declared.into_iter().map(|(n, c)| (n, Some(c))).collect();
        for name in found {
            if !all.iter().any(|(n, _)| *n == name) {
                all.push((name, None));
            }
        }
        all.sort();
        Ok(all)
    }

    /// Forgets a queue's declaration.
    pub async fn forget_queue(&self, name: &str) -> Result<()> {
        redis::cmd("HDEL")
            .arg(queues_key(&self.prefix))
            .arg(name)
            .query_async::<()>(&mut self.connection())
            .await?;
        Ok(())
    }

    /// Every worker of every process that wrote a heartbeat in the last hour.
    pub async fn workers(&self) -> Result<Vec<WorkerInfo>> {
        let [entries, seen, _] = PrefixKeys::new(&self.prefix).workers();
        let (raw, beats): (HashMap<String, String>, Vec<(String, f64)>) = redis::pipe()
            .hgetall(&entries)
            .cmd("ZRANGE")
            .arg(&seen)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut self.connection())
            .await?;
        let now = now_ms();
        let mut list: Vec<WorkerInfo> = beats
            .into_iter()
            .filter_map(|(id, beat)| {
                let entry: WorkerEntry = serde_json::from_str(raw.get(&id)?).ok()?;
                Some(WorkerInfo::new(entry, beat as u64, now))
            })
            .collect();
        list.sort_by_key(|w| w.entry.started_at);
        Ok(list)
    }

    /// Asks worker `id`, in whatever process, to pause (or resume); it does so at its next
    /// heartbeat. Returns false when no such worker is registered.
    pub async fn request_worker_pause(&self, id: &str, paused: bool) -> Result<bool> {
        let [entries, _, requests] = PrefixKeys::new(&self.prefix).workers();
        let mut con = self.connection();
        let exists: bool = redis::cmd("HEXISTS")
            .arg(&entries)
            .arg(id)
            .query_async(&mut con)
            .await?;
        if exists {
            let cmd = if paused { "SADD" } else { "SREM" };
            redis::cmd(cmd)
                .arg(&requests)
                .arg(id)
                .query_async::<()>(&mut con)
                .await?;
        }
        Ok(exists)
    }
}
