//! The script registry: every Lua script, compiled in with `include_str!`, each behind one
//! typed wrapper of the same name. `redis::Script` calls EVALSHA and reloads the script on
//! NOSCRIPT, so a Redis restart or failover costs one extra round trip, not an error.

mod add_jobs;
mod finish_and_fetch;
mod job_control;
mod locks;
mod queue_admin;
mod queue_limits;
mod queue_ops;
mod schedule;
mod security;
mod single_job;

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::LazyLock;

use redis::Script;

pub use add_jobs::{add_jobs, add_jobs_durable, AddRequest};
pub use finish_and_fetch::{
    finish_and_fetch, Action, Fetch, FetchResult, MetricsFlush, Settle, NO_METRICS,
};
pub use job_control::{move_to_delayed, retry_finished, update_data, AttemptCounter};
pub use locks::{check_stalled, extend_locks, StalledCheck};
pub use queue_admin::{
    clean_jobs, move_jobs_to_wait, remove_orphans, set_queue_meta, trim_events, CleanBatch,
};
pub use queue_limits::{queue_limits, LimitChange};
pub use queue_ops::{clean_finished, pause_queue, resume_queue, worker_heartbeat};
pub use schedule::{
    next_iteration, remove_scheduler, upsert_scheduler, NextIteration, Scheduled, UpsertRequest,
};
pub use security::{
    audit_append, client_rate_limit, grant_permission, revoke_permission, RateWindow,
};
pub use single_job::{
    add_log, archive_failed, change_delay, change_priority, clear_logs, promote_job,
    remove_dedup_key, remove_job, remove_legacy_priority, retry_job, update_progress,
};

use crate::error::Error;
use crate::keys::QueueKeys;

/// A themed file of Lua helpers under `lua/include/`. A script declares the includes it
/// calls into; [`Include::needs`] names the includes each one calls in turn, and
/// [`assemble`] prepends them all, each once, every include after the ones it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Include {
    /// The key table `K`, `BASE` and the score constants: every queue script's first lines.
    Keys,
    /// Writing the events stream (`emit`, `emit_hot`, `trim_events`, `max_events`).
    Events,
    /// The worker marker and pushing a runnable job to wait or prioritized.
    Markers,
    /// Moving jobs into the delayed set and due ones out of it.
    Delayed,
    /// Where a job that has not started waits, and taking it out of there.
    Pending,
    /// Deleting jobs with their sub-keys and deduplication keys.
    Removal,
    /// Moving runnable jobs into active (a worker's fetch).
    Fetch,
    /// Computing and storing a job scheduler's iterations.
    Schedulers,
}

impl Include {
    /// Every include, for tests that check them all.
    #[cfg(test)]
    pub(crate) const ALL: [Include; 8] = [
        Include::Keys,
        Include::Events,
        Include::Markers,
        Include::Delayed,
        Include::Pending,
        Include::Removal,
        Include::Fetch,
        Include::Schedulers,
    ];

    /// The Lua source of the include.
    pub(crate) fn source(self) -> &'static str {
        match self {
            Include::Keys => include_str!("../../lua/include/keys.lua"),
            Include::Events => include_str!("../../lua/include/events.lua"),
            Include::Markers => include_str!("../../lua/include/markers.lua"),
            Include::Delayed => include_str!("../../lua/include/delayed.lua"),
            Include::Pending => include_str!("../../lua/include/pending.lua"),
            Include::Removal => include_str!("../../lua/include/removal.lua"),
            Include::Fetch => include_str!("../../lua/include/fetch.lua"),
            Include::Schedulers => include_str!("../../lua/include/schedulers.lua"),
        }
    }

    /// The includes whose helpers this one calls (their own needs are resolved in turn).
    pub(crate) fn needs(self) -> &'static [Include] {
        use Include::*;
        match self {
            Keys => &[],
            Events | Markers | Pending => &[Keys],
            Delayed => &[Keys, Events, Markers],
            Removal => &[Keys, Events, Pending],
            Fetch => &[Keys, Events, Markers, Delayed],
            Schedulers => &[Keys, Events, Markers, Delayed],
        }
    }
}

/// `uses` and everything they need, each once, every include after the ones it needs.
pub(crate) fn resolve(uses: &[Include]) -> Vec<Include> {
    fn visit(include: Include, order: &mut Vec<Include>) {
        if order.contains(&include) {
            return;
        }
        for &need in include.needs() {
            visit(need, order);
        }
        order.push(include);
    }
    let mut order = Vec::new();
    for &include in uses {
        visit(include, &mut order);
    }
    order
}

/// A script's full text: the includes it uses (resolved by [`resolve`]), then its body.
pub(crate) fn assemble(uses: &[Include], body: &str) -> String {
    let mut text = String::new();
    for include in resolve(uses) {
        text.push_str(include.source());
        text.push('\n');
    }
    text.push_str(body);
    text
}

macro_rules! scripts {
    ($($name:ident => $file:literal [$($use:ident),*]),* $(,)?) => {
        $(pub(crate) static $name: LazyLock<Script> = LazyLock::new(|| {
            Script::new(&assemble(&[$(Include::$use),*], include_str!(concat!("../../lua/", $file))))
        });)*

        /// Every script as (file, the includes it declares, body).
        pub(crate) const REGISTRY: &[(&str, &[Include], &str)] = &[
            $(($file, &[$(Include::$use),*], include_str!(concat!("../../lua/", $file)))),*
        ];
    };
}

scripts! {
    ADD_JOBS => "add_jobs.lua" [Events, Markers, Delayed, Removal],
    FINISH_AND_FETCH => "finish_and_fetch.lua" [Events, Markers, Delayed, Removal, Fetch],
    EXTEND_LOCKS => "extend_locks.lua" [Keys],
    CHECK_STALLED => "check_stalled.lua" [Events, Markers],
    RETRY_JOB => "retry_job.lua" [Events, Markers],
    UPDATE_PROGRESS => "update_progress.lua" [Events],
    ADD_LOG => "add_log.lua" [Keys],
    CLEAR_LOGS => "clear_logs.lua" [Keys],
    REMOVE_DEDUP_KEY => "remove_dedup_key.lua" [Keys],
    REMOVE_LEGACY_PRIORITY => "remove_legacy_priority.lua" [Keys],
    CHANGE_PRIORITY => "change_priority.lua" [Markers, Pending],
    PROMOTE_JOB => "promote_job.lua" [Markers, Delayed],
    CHANGE_DELAY => "change_delay.lua" [Markers, Delayed],
    REMOVE_JOB => "remove_job.lua" [Pending, Removal],
    UPSERT_SCHEDULER => "upsert_scheduler.lua" [Removal, Schedulers],
    NEXT_ITERATION => "next_iteration.lua" [Events, Schedulers],
    REMOVE_SCHEDULER => "remove_scheduler.lua" [Removal],
    ARCHIVE_FAILED => "archive_failed.lua" [Keys],
    PAUSE_QUEUE => "pause_queue.lua" [Events, Markers],
    CLEAN_FINISHED => "clean_finished.lua" [Events, Removal],
    CLEAN_JOBS => "clean_jobs.lua" [Events, Removal],
    MOVE_JOBS_TO_WAIT => "move_jobs_to_wait.lua" [Events, Markers, Delayed],
    TRIM_EVENTS => "trim_events.lua" [Keys],
    SET_QUEUE_META => "set_queue_meta.lua" [Keys],
    UPDATE_DATA => "update_data.lua" [Keys],
    MOVE_TO_DELAYED => "move_to_delayed.lua" [Markers, Delayed],
    // outside any queue: its own KEYS, no queue keys, no includes
    WORKER_HEARTBEAT => "worker_heartbeat.lua" [],
    QUEUE_LIMITS => "queue_limits.lua" [Markers],
    REMOVE_ORPHANS => "remove_orphans.lua" [Keys],
    // the security keys of a prefix (crate::security): their own KEYS, no includes
    GRANT_PERMISSION => "grant_permission.lua" [],
    REVOKE_PERMISSION => "revoke_permission.lua" [],
    CLIENT_RATE_LIMIT => "client_rate_limit.lua" [],
    AUDIT_APPEND => "audit_append.lua" [],
}

/// A script of the registry as Redis gets it.
#[derive(Debug, Clone)]
pub struct RegisteredScript {
    /// Its file under `lua/` (`add_jobs.lua`...).
    pub file: &'static str,
    /// Its full text: the includes it uses, then its body.
    pub text: String,
    /// The SHA1 of the text, which EVALSHA names it by.
    pub sha: String,
}

/// Every script of the registry, for tools and tests that check each one (the cluster test
/// runs each on a Redis Cluster and compares what ran with this list).
pub fn registered() -> Vec<RegisteredScript> {
    REGISTRY
        .iter()
        .map(|(file, uses, body)| {
            let text = assemble(uses, body);
            RegisteredScript {
                file,
                sha: Script::new(&text).get_hash().to_owned(),
                text,
            }
        })
        .collect()
}

/// Queue key suffixes in the order every script expects them (lua/include/keys.lua).
/// The last, `slot-guard`, is never written: on a Redis Cluster, a key the call declares and
/// no node holds makes Redis answer ASK/TRYAGAIN (retried) instead of running the script
/// while the queue's slot is half migrated, when a job key the script builds in Lua could
/// already be on the other node (Redis would stop the script there, its earlier writes
/// kept). See docs/redis-layout.md, "Redis Cluster".
pub const QUEUE_KEYS: [&str; 16] = [
    "wait",
    "active",
    "prioritized",
    "delayed",
    "completed",
    "failed",
    "meta",
    "events",
    "marker",
    "pc",
    "id",
    "stalled",
    "stalled-check",
    "limiter",
    "paused",
    "slot-guard",
];

/// Starts an invocation of `script` with the queue's keys and base already in place.
pub(crate) fn invocation<'a>(script: &'a Script, keys: &QueueKeys) -> redis::ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    for suffix in QUEUE_KEYS {
        inv.key(keys.key(suffix));
    }
    inv.arg(&keys.base);
    inv
}

/// Numbers the distinct values of `items` from 1, in order of first appearance: returns them
/// in that order, and each item's number. Scripts take what the items of a call share once
/// ("shapes") and a number per item.
pub(crate) fn number_shapes<S: Eq + Hash>(
    items: impl IntoIterator<Item = S>,
) -> (Vec<S>, Vec<usize>) {
    let mut index: HashMap<S, usize> = HashMap::new();
    let refs = items
        .into_iter()
        .map(|shape| {
            let next = index.len() + 1;
            *index.entry(shape).or_insert(next)
        })
        .collect();
    let mut numbered: Vec<(S, usize)> = index.into_iter().collect();
    numbered.sort_unstable_by_key(|(_, n)| *n);
    (numbered.into_iter().map(|(shape, _)| shape).collect(), refs)
}

/// The negative codes scripts return, in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptCode {
    /// No such job.
    JobMissing = -1,
    /// The job's lock is gone (it expired).
    LockMissing = -2,
    /// The job is not in the state the operation needs (active, delayed, ...).
    NotActive = -3,
    /// The job's lock is held by another token.
    LockMismatch = -6,
    /// The job is the pending iteration of a job scheduler.
    SchedulerJob = -8,
}

impl ScriptCode {
    /// The code a script replied with, or `None` for a reply that is not one of these codes.
    pub fn from_reply(code: i64) -> Option<Self> {
        match code {
            -1 => Some(Self::JobMissing),
            -2 => Some(Self::LockMissing),
            -3 => Some(Self::NotActive),
            -6 => Some(Self::LockMismatch),
            -8 => Some(Self::SchedulerJob),
            _ => None,
        }
    }

    /// The error this code means for job `id` of `keys`' queue in operation `command`
    /// (BullMQ's name for it, which ends the message); `expected` names the state the
    /// operation needed, for `NotActive`.
    pub fn into_error(
        self,
        keys: &QueueKeys,
        id: &str,
        expected: &'static str,
        command: &'static str,
    ) -> Error {
        let id = id.to_owned();
        match self {
            Self::JobMissing => Error::JobNotFound {
                queue: keys.queue.clone(),
                id,
                command,
            },
            Self::LockMissing => Error::LockMissing { id, command },
            Self::NotActive => Error::JobNotInState {
                id,
                expected,
                command,
            },
            Self::LockMismatch => Error::LockMismatch { id, command },
            Self::SchedulerJob => Error::SchedulerJob { id, command },
        }
    }
}

/// Turns a script's status reply into `Ok(())` or the error its code stands for (see
/// [`ScriptCode::into_error`]).
pub(crate) fn check(
    code: i64,
    keys: &QueueKeys,
    id: &str,
    expected: &'static str,
    command: &'static str,
) -> Result<(), Error> {
    match ScriptCode::from_reply(code) {
        None if code >= 0 => Ok(()),
        Some(c) => Err(c.into_error(keys, id, expected, command)),
        None => Err(Error::Corrupt {
            id: id.to_owned(),
            message: format!("unexpected script reply {code}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    /// The identifiers of Lua code outside comments and string literals, in order, with
    /// whether each one is declared there (`local NAME` / `local function NAME`). Field
    /// names (`K.wait`, `t:m`) are left out: they never name a helper.
    fn lua_names(source: &str) -> Vec<(String, bool)> {
        let bytes = source.as_bytes();
        let mut names: Vec<(String, bool)> = Vec::new();
        let mut i = 0;
        let mut after_local = false;
        while i < bytes.len() {
            let rest = &source[i..];
            if rest.starts_with("--[[") {
                i += rest.find("]]").map_or(rest.len(), |end| end + 2);
            } else if rest.starts_with("--") {
                i += rest.find('\n').unwrap_or(rest.len());
            } else if bytes[i] == b'"' || bytes[i] == b'\'' {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            } else if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &source[start..i];
                let field = start > 0 && matches!(bytes[start - 1], b'.' | b':');
                match word {
                    "local" => after_local = true,
                    "function" if after_local => {}
                    _ => {
                        if !field {
                            names.push((word.to_owned(), after_local));
                        }
                        after_local = false;
                    }
                }
            } else {
                if !bytes[i].is_ascii_whitespace() {
                    after_local = false;
                }
                i += 1;
            }
        }
        names
    }

    /// The top-level names an include declares (its helpers and constants).
    fn declared(include: Include) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for line in include.source().lines() {
            let decl = line
                .strip_prefix("local function ")
                .or_else(|| line.strip_prefix("local "));
            if let Some(decl) = decl {
                let name: String = decl
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
        names
    }

    /// Which include declares each helper name, over all includes.
    fn helper_owners() -> HashMap<String, Include> {
        let mut owners = HashMap::new();
        for include in Include::ALL {
            for name in declared(include) {
                let previous = owners.insert(name.clone(), include);
                assert!(previous.is_none(), "{name} is declared by two includes");
            }
        }
        owners
    }

    /// Every helper `text` calls is declared in it before its first use.
    fn check_defined_before_use(what: &str, text: &str, owners: &HashMap<String, Include>) {
        let mut defined: Vec<String> = Vec::new();
        for (name, is_declaration) in lua_names(text) {
            if is_declaration {
                defined.push(name);
            } else if let Some(owner) = owners.get(&name) {
                assert!(
                    defined.contains(&name),
                    "{what} uses {name} (from {owner:?}) before or without declaring it"
                );
            }
        }
    }

    #[test]
    fn every_helper_a_script_calls_is_declared_in_what_it_carries() {
        let owners = helper_owners();
        assert!(owners.contains_key("emit") && owners.contains_key("K"));
        for (file, uses, body) in REGISTRY {
            check_defined_before_use(file, &assemble(uses, body), &owners);
        }
        // each include on its own, with what it declares it needs
        for include in Include::ALL {
            let what = format!("include {include:?}");
            check_defined_before_use(&what, &assemble(&[include], ""), &owners);
        }
    }

    #[test]
    fn every_include_a_script_carries_is_called() {
        for (file, uses, body) in REGISTRY {
            let carried = resolve(uses);
            for &include in &carried {
                let helpers = declared(include);
                // used by the body or by another include the script carries
                let mut elsewhere = lua_names(body);
                for &other in carried.iter().filter(|&&other| other != include) {
                    elsewhere.extend(lua_names(other.source()));
                }
                assert!(
                    elsewhere
                        .iter()
                        .any(|(name, decl)| !decl && helpers.contains(name)),
                    "{file} carries {include:?} but calls none of {helpers:?}"
                );
            }
        }
    }

    #[test]
    fn each_include_header_names_the_needs_the_registry_declares() {
        for include in Include::ALL {
            let header = include.source().split("]]").next().unwrap();
            let listed = header
                .split("Needs:")
                .nth(1)
                .unwrap_or_else(|| panic!("{include:?} has no Needs: line"))
                .split('.')
                .next()
                .unwrap()
                .trim();
            let declared: Vec<String> = include
                .needs()
                .iter()
                .map(|need| format!("{need:?}").to_lowercase())
                .collect();
            let expected = if declared.is_empty() {
                "nothing".to_owned()
            } else {
                declared.join(", ")
            };
            assert_eq!(
                listed.split_whitespace().collect::<Vec<_>>().join(" "),
                expected,
                "{include:?}"
            );
        }
    }

    #[test]
    fn includes_come_after_what_they_need_each_once() {
        let order = resolve(&[Include::Schedulers, Include::Removal, Include::Keys]);
        assert_eq!(
            order,
            [
                Include::Keys,
                Include::Events,
                Include::Markers,
                Include::Delayed,
                Include::Schedulers,
                Include::Pending,
                Include::Removal,
            ]
        );
        assert!(resolve(&[]).is_empty());
    }

    #[test]
    fn the_name_scanner_skips_comments_strings_and_fields() {
        let names = lua_names("-- emit(x)\n--[[ wake_workers() ]]\nlocal a = K.emit\nf('emit', \"x\\\"emit\")\nlocal function g() end");
        let names: Vec<(&str, bool)> = names.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        assert_eq!(
            names,
            [
                ("a", true),
                ("K", false),
                ("f", false),
                ("g", true),
                ("end", false)
            ]
        );
    }

    #[test]
    fn the_registered_list_is_the_registry_with_the_hashes_scripts_are_called_by() {
        let list = registered();
        assert_eq!(list.len(), REGISTRY.len());
        let add = list.iter().find(|s| s.file == "add_jobs.lua").unwrap();
        assert_eq!(add.sha, ADD_JOBS.get_hash());
        let beat = list
            .iter()
            .find(|s| s.file == "worker_heartbeat.lua")
            .unwrap();
        assert_eq!(beat.sha, WORKER_HEARTBEAT.get_hash());
    }

    #[tokio::test]
    async fn every_assembled_script_loads_in_redis() {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let client = redis::Client::open(url).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        for (file, uses, body) in REGISTRY {
            let text = assemble(uses, body);
            let sha: String = redis::cmd("SCRIPT")
                .arg("LOAD")
                .arg(&text)
                .query_async(&mut con)
                .await
                .unwrap_or_else(|e| panic!("{file} does not load: {e}"));
            assert_eq!(sha, Script::new(&text).get_hash(), "{file}");
        }
    }

    #[test]
    fn shapes_are_numbered_from_one_in_order_of_first_appearance() {
        let (shapes, refs) = number_shapes(["b", "a", "b", "c", "a"]);
        assert_eq!(shapes, ["b", "a", "c"]);
        assert_eq!(refs, [1, 2, 1, 3, 2]);
    }

    #[test]
    fn every_script_code_maps_to_its_error() {
        let k = QueueKeys::new("bull", "q").unwrap();
        let cases = [
            (-1, ErrorCode::JobNotFound),
            (-2, ErrorCode::LockMissing),
            (-3, ErrorCode::JobNotInState),
            (-6, ErrorCode::LockMismatch),
            (-8, ErrorCode::JobNotInState),
        ];
        for (code, expected) in cases {
            let err = check(code, &k, "1", "active", "moveToFinished").unwrap_err();
            assert_eq!(err.code(), expected, "code {code}");
        }
        assert!(check(0, &k, "1", "active", "moveToFinished").is_ok());
        assert_eq!(
            check(-99, &k, "1", "active", "moveToFinished")
                .unwrap_err()
                .code(),
            ErrorCode::Corrupt
        );
    }

    #[test]
    fn script_codes_read_as_bullmq_words_them() {
        let k = QueueKeys::new("bull", "q").unwrap();
        let message = |code, expected, command| {
            check(code, &k, "7", expected, command)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            message(-1, "present", "updateData"),
            "Missing key for job 7. updateData"
        );
        assert_eq!(
            message(-2, "active", "moveToFinished"),
            "Missing lock for job 7. moveToFinished"
        );
        assert_eq!(
            message(-3, "delayed", "promote"),
            "Job 7 is not in the delayed state. promote"
        );
        assert_eq!(
            message(-6, "active", "moveToFinished"),
            "Lock mismatch for job 7. Cmd moveToFinished from active"
        );
        assert_eq!(
            message(-8, "removable", "removeJob"),
            "Job 7 belongs to a job scheduler and cannot be removed directly. removeJob"
        );
    }
}
