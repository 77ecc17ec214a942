//! Every Redis key name the engine uses, in one place.
//!
//! The layout is BullMQ 6's (see `docs/redis-layout.md`): a queue's keys are
//! `<prefix>:<queue>:<suffix>` and a job's hash is `<prefix>:<queue>:<id>`. Nothing is escaped
//! and no hash tag is added; for Redis Cluster the user puts a `{tag}` in the prefix or the
//! queue name so that every key of a queue lands in one slot.

use crate::error::Error;

/// The keys of one queue, built once and reused for every script call.
#[derive(Debug, Clone)]
pub struct QueueKeys {
    /// The queue name (`Q`).
    pub queue: String,
    /// The key prefix (`P`), without a trailing colon.
    pub prefix: String,
    /// `P:Q:`: every queue key and job key starts with this.
    pub base: String,
}

impl QueueKeys {
    /// Builds the keys for `queue` under `prefix`, rejecting names BullMQ would reject.
    pub fn new(prefix: &str, queue: &str) -> Result<Self, Error> {
        if queue.is_empty() {
            return Err(Error::validation("queueName", "must not be empty"));
        }
        if queue.contains(':') {
            return Err(Error::validation(
                "queueName",
                "Queue name cannot contain :",
            ));
        }
        let prefix = normalize_prefix(prefix);
        Ok(Self {
            base: format!("{prefix}:{queue}:"),
            queue: queue.to_owned(),
            prefix,
        })
    }

    /// Checks that every key of this queue (`P:Q:` followed by anything, job ids included)
    /// hashes to one Redis Cluster slot: `P:Q:` must hold a complete, non-empty hash tag
    /// (`{...}`), the first `{` of the key and the first `}` after it. Redis hashes only
    /// that tag, so the queue's keys, and the job keys scripts build from it, share a slot.
    pub fn check_one_slot(&self) -> Result<(), Error> {
        let tag = self.base.find('{').and_then(|open| {
            let close = self.base[open + 1..].find('}')? + open + 1;
            Some(&self.base[open + 1..close])
        });
        match tag {
            Some(tag) if !tag.is_empty() => Ok(()),
            _ => Err(Error::validation(
                "queueName",
                format!(
                    "on Redis Cluster every key of a queue must hash to one slot, and the keys of \
                     queue '{}' under prefix '{}' would not: put a hash tag in the queue name \
                     (e.g. '{{{}}}') or in the prefix (e.g. '{{{}}}'), as BullMQ requires",
                    self.queue, self.prefix, self.queue, self.prefix
                ),
            )),
        }
    }

    /// A queue-level key such as `wait` or `meta`.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{}", self.base, suffix)
    }

    /// The hash of job `id`.
    pub fn job(&self, id: &str) -> String {
        format!("{}{}", self.base, id)
    }

    /// A per-job sub-key such as `<job>:lock` or `<job>:logs`.
    pub fn job_sub(&self, id: &str, suffix: &str) -> String {
        format!("{}{}:{}", self.base, id, suffix)
    }

    /// The name a worker's blocking connection carries so BullMQ's `getWorkers` and dashboards
    /// list it: `P:` + base64(Q), plus `:w:<name>` for a named worker.
    pub fn worker_client_name(&self, worker_name: Option<&str>) -> String {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(self.queue.as_bytes());
        match worker_name {
            Some(name) => format!("{}:{}:w:{}", self.prefix, encoded, name),
            None => format!("{}:{}", self.prefix, encoded),
        }
    }

    /// The name of a connection following the queue's events stream (a `QueueEvents`):
    /// [`QueueKeys::worker_client_name`] + `:qe`, as BullMQ names its QueueEvents'
    /// connections, so its `getQueueEvents` lists them.
    pub fn queue_events_client_name(&self) -> String {
        format!("{}:qe", self.worker_client_name(None))
    }
}

/// The design's environment examples spell the prefix with a trailing colon
/// (`REDIS_KEY_PREFIX=photo-queue:`); BullMQ adds the colon itself, so one is dropped here.
pub(crate) fn normalize_prefix(prefix: &str) -> String {
    let trimmed = prefix.strip_suffix(':').unwrap_or(prefix);
    if trimmed.is_empty() {
        "bull".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The worker registry's keys: entries, last heartbeats, pause requests.
pub(crate) fn worker_keys(prefix: &str) -> [String; 3] {
    let p = normalize_prefix(prefix);
    [
        format!("{p}::workers"),
        format!("{p}::workers:seen"),
        format!("{p}::workers:paused"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_bullmq_key_names() {
        let k = QueueKeys::new("bull", "q1").unwrap();
        assert_eq!(k.key("wait"), "bull:q1:wait");
        assert_eq!(k.job("7"), "bull:q1:7");
        assert_eq!(k.job_sub("7", "lock"), "bull:q1:7:lock");
    }

    #[test]
    fn drops_one_trailing_colon_from_the_prefix() {
        let k = QueueKeys::new("photo-queue:", "q").unwrap();
        assert_eq!(k.base, "photo-queue:q:");
    }

    #[test]
    fn names_worker_connections_like_bullmq() {
        let k = QueueKeys::new("bull", "q2").unwrap();
        assert_eq!(
            k.worker_client_name(Some("my-worker")),
            "bull:cTI=:w:my-worker"
        );
        let k = QueueKeys::new("{app}", "Mail Q").unwrap();
        assert_eq!(k.worker_client_name(None), "{app}:TWFpbCBR");
        assert_eq!(k.queue_events_client_name(), "{app}:TWFpbCBR:qe");
    }

    #[test]
    fn one_slot_needs_a_complete_non_empty_hash_tag_in_prefix_or_name() {
        for (prefix, queue) in [
            ("bull", "{q}"),
            ("{app}", "q"),
            ("bull", "a{b}c"),
            ("{a}{b}", "q"),
        ] {
            assert!(
                QueueKeys::new(prefix, queue)
                    .unwrap()
                    .check_one_slot()
                    .is_ok(),
                "{prefix} {queue}"
            );
        }
        for (prefix, queue) in [
            ("bull", "q"),
            ("bull", "{}q"),
            ("bu{ll", "q"),
            ("bull", "q{"),
            ("{}{a}", "q"),
        ] {
            let e = QueueKeys::new(prefix, queue)
                .unwrap()
                .check_one_slot()
                .unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Validation, "{prefix} {queue}");
            assert!(e.to_string().contains("hash tag"), "{e}");
        }
    }

    #[test]
    fn rejects_colons_in_queue_names() {
        assert!(QueueKeys::new("bull", "a:b").is_err());
        assert!(QueueKeys::new("bull", "").is_err());
    }
}
