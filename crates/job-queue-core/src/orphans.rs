//! Orphaned jobs (BullMQ's `removeOrphanedJobs`): job hashes, or sub-keys of a job, that no
//! state of the queue references any more. Our scripts delete a job's keys in the same call
//! that takes it out of its state; orphans come from elsewhere (a BullMQ 5.66 regression left
//! job hashes behind when it removed old jobs by age) or from keys written by hand.

use crate::error::Result;
use crate::queue::Queue;
use crate::scan::Scan;
use crate::scripts;

/// The names of the queue's own keys, ours and BullMQ's: a key whose suffix is one of these,
/// or starts with one followed by `:` (`repeat:<id>`, `de:<id>`, `metrics:completed`...), is
/// never a job's.
const QUEUE_KEY_NAMES: &[&str] = &[
    "wait",
    "active",
    "waiting-children",
    "paused",
    "id",
    "delayed",
    "prioritized",
    "stalled-check",
    "completed",
    "failed",
    "stalled",
    "repeat",
    "limiter",
    "meta",
    "events",
    "pc",
    "marker",
    "de",
    "dn",
    "metrics",
    "retries",
    "archived",
    "slot-guard",
];

/// The sub-keys a job may have (`<job>:<sub-key>`).
const JOB_SUB_KEYS: &[&str] = &[
    "logs",
    "lock",
    "dependencies",
    "processed",
    "failed",
    "unsuccessful",
];

/// Candidates checked per script call: each may cost a scan of the wait and active lists,
/// so a call stays short however long those are.
const BATCH: usize = 200;

/// The id of the job `key` belongs to (its hash or one of its sub-keys), when `key` is a key
/// of the queue whose keys start with `base` and is not one of the queue's own keys.
pub(crate) fn job_of_key<'a>(base: &str, key: &'a str) -> Option<&'a str> {
    let suffix = key.strip_prefix(base)?;
    let (id, sub) = match suffix.split_once(':') {
        Some((id, sub)) => (id, Some(sub)),
        None => (suffix, None),
    };
    if id.is_empty() || QUEUE_KEY_NAMES.contains(&id) {
        return None;
    }
    match sub {
        None => Some(id),
        Some(sub) if JOB_SUB_KEYS.contains(&sub) => Some(id),
        Some(_) => None,
    }
}

impl Queue {
    /// Deletes orphaned jobs: walks the queue's keys with SCAN (about `scan_count` keys per
    /// call), takes the jobs they belong to as candidates, and deletes those no state
    /// references (in wait, the legacy paused list, active, prioritized, delayed, completed,
    /// failed, stalled, waiting-children or our archived set), in script calls of at most
    /// 200 candidates, each checked and deleted in one call. Stops after `limit` jobs (0: no
    /// limit). Returns how many went.
    pub async fn remove_orphaned_jobs(&self, scan_count: u64, limit: u64) -> Result<u64> {
        let mut con = self.con.clone();
        let mut scan = Scan::with_count(&self.keys.base, "*", scan_count);
        let mut removed = 0;
        // on a cluster, SCAN the node holding the queue's slot
        let mut on_queue_node = self.con.at_key(&self.keys.key("meta"));
        while let Some(keys) = scan.next_batch(&mut on_queue_node).await? {
            let mut ids: Vec<&str> = keys
                .iter()
                .filter_map(|k| job_of_key(&self.keys.base, k))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            for chunk in ids.chunks(BATCH) {
                let max = if limit > 0 { limit - removed } else { 0 };
                let gone = scripts::remove_orphans(&mut con, &self.keys, max, chunk).await?;
                removed += gone.len() as u64;
                if limit > 0 && removed >= limit {
                    return Ok(removed);
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_keys_and_their_sub_keys_are_candidates_queue_keys_are_not() {
        let base = "bull:q:";
        assert_eq!(job_of_key(base, "bull:q:17"), Some("17"));
        assert_eq!(job_of_key(base, "bull:q:my-id"), Some("my-id"));
        assert_eq!(job_of_key(base, "bull:q:17:logs"), Some("17"));
        assert_eq!(job_of_key(base, "bull:q:17:lock"), Some("17"));
        assert_eq!(job_of_key(base, "bull:q:17:dependencies"), Some("17"));
        // the queue's own keys, BullMQ's and ours, and their sub-keys
        for own in [
            "wait",
            "meta",
            "events",
            "marker",
            "stalled-check",
            "repeat:daily",
            "de:some-id",
            "metrics:completed",
            "metrics:failed:data",
            "metrics:jq",
            "retries",
            "archived",
        ] {
            assert_eq!(job_of_key(base, &format!("{base}{own}")), None, "{own}");
        }
        // a scheduler's runs (`repeat:<id>:<ms>`) and unknown sub-keys are left alone
        assert_eq!(job_of_key(base, "bull:q:repeat:daily:1700000000000"), None);
        assert_eq!(job_of_key(base, "bull:q:17:other"), None);
        // another queue's keys, and the base itself
        assert_eq!(job_of_key(base, "bull:q2:17"), None);
        assert_eq!(job_of_key(base, "bull:q:"), None);
    }
}
