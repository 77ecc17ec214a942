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
        match hash_tag(&self.base) {
            HashTag::Tag => Ok(()),
            HashTag::Empty | HashTag::None => Err(Error::validation(
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

/// The keys of a key prefix that belong to no queue (`P::…`, an empty queue segment, which no
/// queue's keys can have): the queue and worker registries and the security state. They all
/// carry one hash tag, so each lands in the same Redis Cluster slot and a script that takes
/// several of them (the worker heartbeat, a rate limit over several clients) stays in one
/// slot: the prefix's own tag when it has one (`{app}::workers`), else the prefix itself as
/// the tag (`bull::{bull}:workers`). The names are the same on one server and on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixKeys {
    /// What every key starts with: `P::` or `P::{P}:`.
    base: String,
    /// The prefix's first `{` is followed by `}` (an empty tag): Redis then hashes whole
    /// keys, so no tag added after it can keep keys together on a cluster.
    empty_tag: bool,
}

impl PrefixKeys {
    /// The keys of `prefix` (normalised as queue keys are: one trailing `:` dropped, `bull`
    /// when empty).
    pub fn new(prefix: &str) -> Self {
        let p = normalize_prefix(prefix);
        let (base, empty_tag) = match hash_tag(&p) {
            HashTag::Tag => (format!("{p}::"), false),
            HashTag::Empty => (format!("{p}::{{{p}}}:"), true),
            HashTag::None => (format!("{p}::{{{p}}}:"), false),
        };
        Self { base, empty_tag }
    }

    /// On Redis Cluster every key of the prefix must hash to one slot: refused for a prefix
    /// whose first `{` is directly followed by `}` (Redis then hashes each whole key; no
    /// queue of such a prefix can keep its keys in one slot either).
    pub fn check_one_slot(&self) -> Result<(), Error> {
        if self.empty_tag {
            return Err(Error::validation(
                "prefix",
                "on Redis Cluster the first '{' of the key prefix must not be directly \
                 followed by '}' (an empty hash tag): Redis would then hash each whole key, \
                 and no queue or registry of the prefix could keep its keys in one slot",
            ));
        }
        Ok(())
    }

    /// The prefix-level key `name` (`workers`, `audit`, `acl:<client>`...).
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.base)
    }

    /// The worker registry: entries, last heartbeats, pause requests
    /// (`worker_heartbeat.lua` takes all three).
    pub fn workers(&self) -> [String; 3] {
        [
            self.key("workers"),
            self.key("workers:seen"),
            self.key("workers:paused"),
        ]
    }

    /// The registry of declared queues (hash: name → configuration JSON).
    pub fn queues(&self) -> String {
        self.key("queues")
    }

    /// Client `client`'s grants (hash).
    pub fn acl(&self, client: &str) -> String {
        self.key(&format!("acl:{client}"))
    }

    /// Client `client`'s rate-limit window under `scope` (a counter with an expiry).
    pub fn rate(&self, scope: &str, client: &str) -> String {
        self.key(&format!("rate:{scope}:{client}"))
    }

    /// The audit stream.
    pub fn audit(&self) -> String {
        self.key("audit")
    }
}

/// What Redis Cluster hashes in a key that starts with a given text, by Redis's rule: the
/// text between the first `{` and the first `}` after it, when that is not empty.
enum HashTag {
    /// A complete, non-empty tag: every key starting with the text hashes by it.
    Tag,
    /// The first `{` is directly followed by `}`: Redis hashes whole keys.
    Empty,
    /// No `{`, or no `}` after the first one: what follows the text decides.
    None,
}

fn hash_tag(text: &str) -> HashTag {
    let Some(open) = text.find('{') else {
        return HashTag::None;
    };
    match text[open + 1..].find('}') {
        Some(0) => HashTag::Empty,
        Some(_) => HashTag::Tag,
        None => HashTag::None,
    }
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

    /// The slot Redis Cluster gives `key` (CRC16/XMODEM of its hash tag, or of the whole key).
    fn slot(key: &str) -> u16 {
        let bytes = key.as_bytes();
        let hashed = match key.find('{') {
            Some(open) => match key[open + 1..].find('}') {
                Some(len) if len > 0 => &bytes[open + 1..open + 1 + len],
                _ => bytes,
            },
            None => bytes,
        };
        let mut crc: u16 = 0;
        for &b in hashed {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc % 16384
    }

    #[test]
    fn the_slot_function_agrees_with_redis() {
        // CLUSTER KEYSLOT answers, from Redis's documentation and a live cluster
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("{user1000}.following"), slot("user1000"));
        // an empty first tag: the whole key
        assert_ne!(slot("{}x"), slot("{}y"));
        assert_eq!(slot("{b}"), 3300);
        assert_eq!(slot("{a}"), 15495);
    }

    #[test]
    fn prefix_keys_share_one_slot_and_keep_the_prefix_tag() {
        let names = |k: &PrefixKeys| {
            let mut all = k.workers().to_vec();
            all.extend([
                k.queues(),
                k.acl("alice"),
                k.acl("bob"),
                k.rate("enqueue", "alice"),
                k.rate("run", "bob{x}"),
                k.audit(),
            ]);
            all
        };
        // a prefix without a tag of its own gets itself as the tag
        let k = PrefixKeys::new("bull:");
        assert_eq!(k.workers()[1], "bull::{bull}:workers:seen");
        assert_eq!(k.acl("c"), "bull::{bull}:acl:c");
        assert_eq!(k.rate("enqueue", "c"), "bull::{bull}:rate:enqueue:c");
        assert_eq!(k.audit(), "bull::{bull}:audit");
        assert_eq!(k.queues(), "bull::{bull}:queues");
        // a prefix with one keeps its names: the tag already holds them together
        let k = PrefixKeys::new("{app}");
        assert_eq!(k.workers()[0], "{app}::workers");
        assert_eq!(k.acl("c"), "{app}::acl:c");
        // every key of a prefix in one slot, whatever braces the prefix holds
        for prefix in [
            "bull", "{app}", "my{app}x", "a{b", "a}b", "x{y}{z}", "jq-1-2",
        ] {
            let k = PrefixKeys::new(prefix);
            assert!(k.check_one_slot().is_ok(), "{prefix}");
            let all = names(&k);
            let first = slot(&all[0]);
            for key in &all {
                assert!(key.starts_with(&format!("{prefix}::")), "{key}");
                assert_eq!(slot(key), first, "{prefix}: {key}");
            }
        }
        // the prefix's own tag is the queues' tag too: one slot for queues and registries
        let k = PrefixKeys::new("{app}");
        let q = QueueKeys::new("{app}", "mail").unwrap();
        assert_eq!(slot(&k.audit()), slot(&q.key("wait")));
    }

    #[test]
    fn an_empty_leading_tag_cannot_hold_keys_together_on_a_cluster() {
        let k = PrefixKeys::new("{}p");
        let e = k.check_one_slot().unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::Validation);
        assert!(e.to_string().contains("empty hash tag"), "{e}");
        // the names still work on one server
        assert_eq!(k.audit(), "{}p::{{}p}:audit");
    }

    #[test]
    fn rejects_colons_in_queue_names() {
        assert!(QueueKeys::new("bull", "a:b").is_err());
        assert!(QueueKeys::new("bull", "").is_err());
    }
}
