//! The engine on a real Redis Cluster (3 masters, 1 replica each; tests/common/cluster.rs):
//! every script of the registry through its typed wrapper, each checked by Redis to touch
//! one slot only; the worker, its timers, schedulers, metrics, events, the registries and
//! the security keys on queues spread over the masters; a queue's slot moved to another
//! master while jobs flow.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cluster::{self, slot, Cluster, Strict};
use common::dispatch;
use common::TestQueue;
use job_queue_core::connection::SharedConnection;
use job_queue_core::error::ErrorCode;
use job_queue_core::keys::{PrefixKeys, QueueKeys};
use job_queue_core::options::KeepPolicy;
use job_queue_core::schedule::{NextIteration, Repeat};
use job_queue_core::scripts::{
    self, Action, AttemptCounter, Fetch, LimitChange, Settle, UpsertRequest,
};
use job_queue_core::security::{AuditEntry, AuditFilter};
use job_queue_core::time::now_ms;
use job_queue_core::worker::{Outcome, WorkerEvent, WorkerOptions};
use job_queue_core::{Engine, RedisConfig, Topology};
use serde_json::json;

fn unique(stem: &str) -> String {
    format!("{stem}-{}-{}", std::process::id(), rand::random::<u32>())
}

async fn raw<T: redis::FromRedisValue>(con: &SharedConnection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query_async(&mut con.clone())
        .await
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn fetch(token: &str, count: usize) -> Fetch<'_> {
    Fetch {
        token,
        lock: Duration::from_secs(30),
        count,
        worker_name: Some("w"),
        limiter: None,
        metric_points: 10,
        metrics: &job_queue_core::metrics::NO_METRICS,
        strict: false,
    }
}

fn settle(id: &str, token: &str, action: Action) -> Settle {
    Settle {
        id: id.into(),
        token: token.into(),
        action,
        stacktrace: Some(r#"["Error: boom"]"#.into()),
        attempts_made: 1,
        dedup_id: None,
        error_name: Some("Error".into()),
    }
}

fn completed() -> Action {
    Action::Completed {
        return_value: "1".into(),
        keep: KeepPolicy::KEEP_ALL,
        attempts: 1,
    }
}

fn failed() -> Action {
    Action::Failed {
        reason: "boom".into(),
        keep: KeepPolicy::KEEP_ALL,
        attempts: 1,
    }
}

/// Runs every queue script once or more through its wrapper on `keys`' queue, checking
/// what each did.
async fn exercise_queue_scripts(con: &mut Strict, raw_con: &SharedConnection, keys: &QueueKeys) {
    let now = now_ms();
    let ids: Vec<String> = scripts::add_jobs(
        con,
        keys,
        &[
            common::request("a", json!({})),
            common::request("b", json!({})),
            common::request("c", json!({})),
            common::request("p", json!({"priority": 3})),
            common::request("d", json!({"delay": 60_000})),
            common::request("dd", json!({"deduplication": {"id": "dd1"}})),
            common::request("x", json!({"jobId": "custom"})),
        ],
        None,
    )
    .await
    .unwrap()
    .into_iter()
    .map(|(id, _)| id)
    .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6", "custom"]);
    assert_eq!(
        scripts::set_queue_meta(con, keys, &[("opts.maxLenEvents", "500".into())])
            .await
            .unwrap(),
        1
    );
    let max_len: String = raw(raw_con, &["HGET", &keys.key("meta"), "opts.maxLenEvents"]).await;
    assert_eq!(max_len, "500");

    scripts::change_priority(con, keys, "4", 1, false)
        .await
        .unwrap();
    scripts::change_delay(con, keys, "5", now, 120_000)
        .await
        .unwrap();
    scripts::promote_job(con, keys, "5").await.unwrap();
    assert!(scripts::remove_dedup_key(con, keys, "dd1", Some("6"))
        .await
        .unwrap());
    scripts::remove_job(con, keys, "custom").await.unwrap();
    assert!(!raw::<bool>(raw_con, &["EXISTS", &keys.job("custom")]).await);

    // fetch everything: the worker's round trip
    let got = scripts::finish_and_fetch(con, keys, now_ms(), &[], fetch("tok", 10))
        .await
        .unwrap();
    let mut fetched: Vec<String> = got.jobs.iter().map(|j| j.id.clone()).collect();
    fetched.sort();
    assert_eq!(fetched, ["1", "2", "3", "4", "5", "6"]);
    let lock: String = raw(raw_con, &["GET", &keys.job_sub("1", "lock")]).await;
    assert_eq!(lock, "tok");

    let owned: Vec<(String, String)> = fetched
        .iter()
        .map(|id| (id.clone(), "tok".to_owned()))
        .chain([("1".to_owned(), "other".to_owned())])
        .collect();
    let lost = scripts::extend_locks(con, keys, Duration::from_secs(60), &owned)
        .await
        .unwrap();
    assert_eq!(lost, ["1"], "only the foreign token is refused");

    scripts::update_progress(con, keys, "1", "50")
        .await
        .unwrap();
    assert_eq!(
        scripts::add_log(con, keys, "1", "one", 10).await.unwrap(),
        1
    );
    assert_eq!(
        scripts::add_log(con, keys, "1", "two", 10).await.unwrap(),
        2
    );
    assert_eq!(scripts::clear_logs(con, keys, "1", 1).await.unwrap(), 1);
    scripts::update_data(con, keys, "1", r#"{"y":2}"#)
        .await
        .unwrap();
    scripts::move_to_delayed(con, keys, "6", now_ms() + 60_000, 60_000, Some("tok"))
        .await
        .unwrap();

    // settle five outcomes in one trip
    let r = scripts::finish_and_fetch(
        con,
        keys,
        now_ms(),
        &[
            settle("1", "tok", completed()),
            settle("2", "tok", failed()),
            settle(
                "3",
                "tok",
                Action::RetryLater {
                    reason: "later".into(),
                    delay: Duration::from_secs(60),
                },
            ),
            settle(
                "4",
                "tok",
                Action::RetryNow {
                    reason: "now".into(),
                    lifo: false,
                    priority: 0,
                },
            ),
            settle("5", "tok", Action::Release),
        ],
        fetch("tok", 0),
    )
    .await
    .unwrap();
    assert!(r.settled.iter().all(Result::is_ok), "{:?}", r.settled);
    let card = |set: &str| {
        let key = keys.key(set);
        async move { raw::<u64>(raw_con, &["ZCARD", &key]).await }
    };
    assert_eq!((card("completed").await, card("failed").await), (1, 1));
    assert_eq!(card("delayed").await, 2, "3 retries later, 6 was moved");
    let wait: u64 = raw(raw_con, &["LLEN", &keys.key("wait")]).await;
    assert_eq!(wait, 2, "4 retried now, 5 given back");

    scripts::retry_finished(con, keys, "1", "completed", &[AttemptCounter::Made])
        .await
        .unwrap();
    scripts::retry_job(con, keys, "2", true).await.unwrap();
    let r = scripts::finish_and_fetch(con, keys, now_ms(), &[], fetch("tok2", 10))
        .await
        .unwrap();
    let settles: Vec<Settle> = r
        .jobs
        .iter()
        .map(|j| {
            let action = if j.id == "2" { failed() } else { completed() };
            settle(&j.id, "tok2", action)
        })
        .collect();
    assert_eq!(settles.len(), 4, "1, 2, 4 and 5 ran again");
    scripts::finish_and_fetch(con, keys, now_ms(), &settles, fetch("tok2", 0))
        .await
        .unwrap();
    scripts::archive_failed(con, keys, "2", now_ms())
        .await
        .unwrap();
    assert_eq!(
        raw::<u64>(raw_con, &["ZCARD", &keys.key("archived")]).await,
        1
    );

    // the stalled check: a job whose lock is gone is found on the second pass
    scripts::add_jobs(con, keys, &[common::request("s", json!({}))], None)
        .await
        .unwrap();
    let r = scripts::finish_and_fetch(con, keys, now_ms(), &[], fetch("tok3", 1))
        .await
        .unwrap();
    let stalled = r.jobs[0].id.clone();
    let _: () = raw(raw_con, &["DEL", &keys.job_sub(&stalled, "lock")]).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let check = scripts::check_stalled(con, keys, 1, now_ms(), Duration::from_millis(1))
            .await
            .unwrap();
        if check.recovered == [stalled.clone()] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled job was not recovered"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    assert_eq!(
        scripts::move_jobs_to_wait(con, keys, "delayed", 10, now_ms() + 1_000_000)
            .await
            .unwrap(),
        2,
        "3 and 6 promoted"
    );
    assert_eq!(
        scripts::clean_finished(con, keys, "completed", Some(now_ms() + 1000), None, 100)
            .await
            .unwrap(),
        3,
        "1, 4 and 5"
    );
    let batch = scripts::clean_jobs(con, keys, "wait", now_ms() + 1000, 1000, 0, true)
        .await
        .unwrap();
    assert!(batch.removed.contains(&"3".to_owned()), "{batch:?}");
    // `MAXLEN ~` trims whole stream nodes only: to 0 it takes them all
    let events: u64 = raw(raw_con, &["XLEN", &keys.key("events")]).await;
    assert_eq!(scripts::trim_events(con, keys, 0).await.unwrap(), events);

    assert!(scripts::pause_queue(con, keys).await.unwrap());
    assert_eq!(
        scripts::resume_queue(con, keys, true).await.unwrap(),
        (true, 0)
    );
    scripts::queue_limits(con, keys, LimitChange::Concurrency(Some(5)))
        .await
        .unwrap();
    scripts::queue_limits(con, keys, LimitChange::Rate(Some((10, 1000))))
        .await
        .unwrap();
    let meta: BTreeMap<String, String> = raw(raw_con, &["HGETALL", &keys.key("meta")]).await;
    assert_eq!(meta.get("concurrency").map(String::as_str), Some("5"));
    assert_eq!(meta.get("max").map(String::as_str), Some("10"));
    scripts::queue_limits(con, keys, LimitChange::Pause(60_000))
        .await
        .unwrap();
    assert!(raw::<i64>(raw_con, &["PTTL", &keys.key("limiter")]).await > 0);
    scripts::queue_limits(con, keys, LimitChange::Unpause)
        .await
        .unwrap();
    assert!(!raw::<bool>(raw_con, &["EXISTS", &keys.key("limiter")]).await);

    let _: () = raw(raw_con, &["ZADD", &keys.key("priority"), "1", "x"]).await;
    assert!(scripts::remove_legacy_priority(con, keys).await.unwrap());

    // a scheduler: created with its first run, the next run queued, then removed
    let repeat = Repeat::from_map(json!({"every": 60_000}).as_object().unwrap()).unwrap();
    let template = common::request("tick", json!({}));
    let now = now_ms();
    let scheduled = scripts::upsert_scheduler(
        con,
        keys,
        &UpsertRequest {
            id: "s1",
            first_cron: repeat.first_cron(now).unwrap(),
            every: repeat.every(),
            offset: repeat.offset,
            start_date: repeat.start_date,
            iteration_fields: serde_json::Value::Object(repeat.iteration_fields()).to_string(),
            hash_fields: repeat.hash_fields(),
            name: "tick",
            data: &template.data,
            opts: &template.options.stored,
            priority: 0,
            now,
        },
    )
    .await
    .unwrap();
    let opts: String = raw(raw_con, &["HGET", &keys.job(&scheduled.job_id), "opts"]).await;
    let next = NextIteration::after("s1", &scheduled.job_id, &opts, now_ms())
        .unwrap()
        .unwrap();
    let made = scripts::next_iteration(con, keys, &next, now_ms())
        .await
        .unwrap()
        .expect("the next run");
    assert!(made.starts_with("repeat:s1:"));
    assert!(scripts::remove_scheduler(con, keys, "s1").await.unwrap());

    // an orphan job hash: removed; a job in a state (2, archived): kept
    let _: () = raw(raw_con, &["HSET", &keys.job("orphan"), "name", "x"]).await;
    let _: () = raw(raw_con, &["RPUSH", &keys.job_sub("orphan", "logs"), "x"]).await;
    let removed = scripts::remove_orphans(con, keys, 0, &["orphan", "2"])
        .await
        .unwrap();
    assert_eq!(removed, ["orphan"]);
    assert!(!raw::<bool>(raw_con, &["EXISTS", &keys.job_sub("orphan", "logs")]).await);
}

/// Runs every script of the prefix-level keys through its wrapper.
async fn exercise_prefix_scripts(con: &mut Strict, raw_con: &SharedConnection, prefix: &str) {
    let pk = PrefixKeys::new(prefix);
    let forget = Duration::from_secs(3600);
    let entry = r#"{"id":"w1"}"#;
    assert!(
        !scripts::worker_heartbeat(con, prefix, "w1", now_ms(), Some(entry), forget)
            .await
            .unwrap()
    );
    let _: () = raw(raw_con, &["SADD", &pk.workers()[2], "w1"]).await;
    assert!(
        scripts::worker_heartbeat(con, prefix, "w1", now_ms(), Some(entry), forget)
            .await
            .unwrap(),
        "asked to pause"
    );
    scripts::worker_heartbeat(con, prefix, "w1", now_ms(), None, forget)
        .await
        .unwrap();
    assert!(!raw::<bool>(raw_con, &["HEXISTS", &pk.workers()[0], "w1"]).await);

    let acl = pk.acl("alice");
    let fields = vec!["q\nenqueue\n[]".to_owned(), "q\nread\n[]".to_owned()];
    assert_eq!(
        scripts::grant_permission(con, &acl, &fields, 1000, now_ms())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        scripts::revoke_permission(con, &acl, "q", &["read".to_owned()])
            .await
            .unwrap(),
        1
    );
    let windows = [
        (pk.rate("enqueue", "alice"), 1),
        (pk.rate("enqueue", "bob"), 2),
    ];
    let ok = scripts::client_rate_limit(con, &windows, 3, 60_000)
        .await
        .unwrap();
    assert!(ok.allowed);
    let refused = scripts::client_rate_limit(con, &windows, 3, 60_000)
        .await
        .unwrap();
    assert_eq!((refused.allowed, refused.refused), (false, Some(1)));
    let ids = scripts::audit_append(
        con,
        &pk.audit(),
        100,
        &["actor", "action"],
        &[
            (now_ms(), vec!["alice".into(), "enqueue".into()]),
            (now_ms(), vec!["bob".into(), "pause".into()]),
        ],
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
}

/// Every key of `prefix` on every master is in the slot its name says: the queue's (its tag)
/// or the prefix keys'.
fn assert_keys_in_their_slots(c: &Cluster, prefix: &str, queues: &[QueueKeys]) -> usize {
    let pk = PrefixKeys::new(prefix);
    let prefix_slot = slot(pk.audit().as_bytes());
    let mut seen = 0;
    for m in c.masters() {
        for key in c.keys_on(m.port) {
            if !key.starts_with(&format!("{prefix}:")) {
                continue;
            }
            seen += 1;
            let expected = if key.starts_with(&pk.key("")) {
                prefix_slot
            } else {
                let q = queues
                    .iter()
                    .find(|q| key.starts_with(&q.base))
                    .unwrap_or_else(|| panic!("{key} belongs to no queue of the test"));
                slot(q.key("wait").as_bytes())
            };
            assert_eq!(slot(key.as_bytes()), expected, "{key}");
            assert!(
                m.slots.iter().any(|&(a, b)| a <= expected && expected <= b),
                "{key} is on a master that does not serve its slot"
            );
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_script_runs_on_the_cluster_touching_one_slot() {
    let c = cluster::shared();
    let prefix = unique("jqc");
    let engine = c.engine(&prefix).await;
    let raw_con = engine.connection();
    let mut strict = Strict::new(engine.connection());
    let mut queues = Vec::new();
    let mut masters = BTreeSet::new();
    for i in 0..cluster::MASTERS {
        let keys = engine.keys(&c.tag_on("q", i)).unwrap();
        masters.insert(c.master_of(&keys.key("wait")).port);
        exercise_queue_scripts(&mut strict, &raw_con, &keys).await;
        queues.push(keys);
    }
    assert_eq!(masters.len(), cluster::MASTERS, "one queue per master");
    exercise_prefix_scripts(&mut strict, &raw_con, &prefix).await;
    // a prefix with a tag of its own: its keys live in that tag's slot
    let tagged = format!("{{{}}}", unique("jqt"));
    exercise_prefix_scripts(&mut strict, &raw_con, &tagged).await;

    let ran = strict.ran();
    let all: BTreeSet<&str> = scripts::registered().iter().map(|s| s.file).collect();
    let missing: Vec<&&str> = all.iter().filter(|f| !ran.contains_key(**f)).collect();
    assert!(
        missing.is_empty(),
        "scripts of the registry this test never ran on the cluster: {missing:?}"
    );
    let queue_slots: BTreeSet<u16> = queues
        .iter()
        .map(|q| slot(q.key("wait").as_bytes()))
        .collect();
    for (file, slots) in &ran {
        if slots.iter().any(|s| queue_slots.contains(s)) {
            assert_eq!(slots, &queue_slots, "{file} ran on each master's queue");
        }
    }
    assert_eq!(
        ran["worker_heartbeat.lua"],
        BTreeSet::from([
            slot(PrefixKeys::new(&prefix).audit().as_bytes()),
            slot(tagged.as_bytes()),
        ])
    );
    let keys = assert_keys_in_their_slots(&c, &prefix, &queues);
    assert!(keys > 30, "the test wrote keys ({keys})");
}

#[tokio::test]
async fn a_script_touching_another_slot_is_refused_and_keeps_its_earlier_writes() {
    // what Redis 7 does with keys a script builds itself, which the engine's rules avoid
    let c = cluster::shared();
    let engine = c.engine(&unique("jqr")).await;
    let con = engine.connection();
    let here = c.tag_on("here", 0);
    let same_node = (0..)
        .map(|i| format!("{{same-{i}}}"))
        .find(|t| {
            c.master_of(t).port == c.master_of(&here).port
                && slot(t.as_bytes()) != slot(here.as_bytes())
        })
        .unwrap();
    let elsewhere = c.tag_on("there", 1);
    let body = "redis.call('SET', KEYS[1], 'written'); return redis.call('SET', ARGV[1], 1)";
    let run = |text: String, key: String, other: String| {
        let con = con.clone();
        async move {
            redis::cmd("EVAL")
                .arg(text)
                .arg(1)
                .arg(key)
                .arg(other)
                .query_async::<redis::Value>(&mut con.clone())
                .await
        }
    };
    // another node: refused mid-script, the first SET stays
    let e = run(body.into(), format!("{here}a"), format!("{elsewhere}b"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("non local key"), "{e}");
    let kept: String = raw(&con, &["GET", &format!("{here}a")]).await;
    assert_eq!(kept, "written", "Redis does not roll a script back");
    // the same node, another slot: let through without a shebang, refused with one
    run(body.into(), format!("{here}b"), format!("{same_node}c"))
        .await
        .unwrap();
    let e = run(
        format!("#!lua\n{body}"),
        format!("{here}d"),
        format!("{same_node}e"),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("same slot"), "{e}");
}

#[tokio::test]
async fn a_prefix_opening_with_an_empty_tag_is_refused_on_a_cluster() {
    let c = cluster::shared();
    let config = RedisConfig {
        topology: Topology::Cluster { nodes: c.seeds() },
        ..Default::default()
    };
    let e = Engine::connect(&config, "{}jq").await.err().unwrap();
    assert_eq!(e.code(), ErrorCode::Validation, "{e}");
    // an untagged queue name is refused too, before anything is written
    let engine = c.engine(&unique("jqv")).await;
    assert_eq!(
        engine.queue("plain").err().unwrap().code(),
        ErrorCode::Validation
    );
}

fn cluster_queue(engine: &Engine, name: &str) -> TestQueue {
    TestQueue {
        engine: engine.clone(),
        keys: engine.keys(name).unwrap(),
        con: engine.connection(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_run_retry_delay_renew_and_recover_jobs_on_every_master() {
    let c = cluster::shared();
    let engine = c.engine(&unique("jqw")).await;
    for i in 0..cluster::MASTERS {
        let t = cluster_queue(&engine, &c.tag_on("w", i));
        let q = t.queue();
        // events, read with XREAD BLOCK on the queue's node
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = seen.clone();
        let _watch = engine
            .watch_events(&t.keys.queue, Some("0".into()), move |batch| {
                let mut s = sink.lock().unwrap();
                for (_, fields) in batch {
                    s.push(fields[0].1.clone());
                }
                true
            })
            .unwrap();
        q.add(&[
            common::request("ok", json!({})),
            common::request(
                "retry",
                json!({"attempts": 2, "backoff": {"type": "fixed", "delay": 50}}),
            ),
            common::request("later", json!({"delay": 200})),
            common::request("long", json!({})),
        ])
        .await
        .unwrap();
        let options = WorkerOptions {
            concurrency: 4,
            lock_duration: Duration::from_millis(300),
            stalled_interval: Duration::from_millis(100),
            ..Default::default()
        };
        let (worker, channel, mut rx) = dispatch::start(&t, options).await;
        let mut long = None;
        let mut done = 0;
        while done < 3 {
            let d = dispatch::next(&mut rx).await;
            match (d.job.name.as_str(), d.job.attempts_made) {
                ("long", _) => long = Some(d),
                ("retry", 0) => worker.report(d.handle, Outcome::Failed(dispatch::failure("once"))),
                _ => {
                    done += 1;
                    worker.report(d.handle, Outcome::Completed("1".into()));
                }
            }
        }
        // the long job outlives its lock three times over: renewed, never taken for stalled
        let long = long.expect("the long job started");
        let lock_key = t.keys.job_sub(&long.job.id, "lock");
        let until = Instant::now() + Duration::from_millis(900);
        while Instant::now() < until {
            let lock: Option<String> = t.cmd(&["GET", &lock_key]).await;
            assert_eq!(lock.as_deref(), Some(long.token.as_str()), "lock renewed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        worker.report(long.handle, Outcome::Completed("1".into()));
        assert!(t.counts_until(|c| c.completed == 4).await);
        // a job left by a worker closed with close(true) is recovered by another's check
        q.add(&[common::request("abandoned", json!({}))])
            .await
            .unwrap();
        let abandoned = dispatch::next(&mut rx).await;
        worker.close_abandoning().await;
        let (second, channel2, mut rx2) = dispatch::start(
            &t,
            WorkerOptions {
                stalled_interval: Duration::from_millis(50),
                ..Default::default()
            },
        )
        .await;
        let again = tokio::time::timeout(Duration::from_secs(10), rx2.recv())
            .await
            .expect("recovered within 10 s")
            .unwrap();
        assert_eq!(again.job.id, abandoned.job.id);
        assert_eq!(again.job.stalled_counter, 1);
        second.report(again.handle, Outcome::Completed("1".into()));
        assert!(t.counts_until(|c| c.completed == 5).await);
        second.close(Duration::from_secs(1)).await;
        let events = channel.events.lock().unwrap().clone();
        assert!(!events
            .iter()
            .any(|e| matches!(e, WorkerEvent::Stalled { .. })));
        assert!(channel2
            .events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, WorkerEvent::Stalled { id } if *id == abandoned.job.id)));
        let job = q.get_job("2").await.unwrap().unwrap();
        assert_eq!(job.attempts_made, 2, "retried once");
        // metrics: the per-minute series and our histograms
        let m = q.metrics(1).await.unwrap();
        assert_eq!(m.job_counts.completed, 5);
        let this_and_last = |s: &[u64]| s.iter().take(2).sum::<u64>();
        assert_eq!(this_and_last(&m.completed_per_minute), 5, "{m:?}");
        assert_eq!(m.by_job_type["retry"].retried, 1);
        assert_eq!(m.by_job_type["ok"].completed, 1);
        assert_eq!(m.stalled, 1, "the recovery counted");
        let stats = q.retry_stats().await.unwrap();
        assert_eq!(stats.total_retries, 1);
        // events: the watch saw every job complete
        let all = common::wait_for(Duration::from_secs(5), || async {
            seen.lock()
                .unwrap()
                .iter()
                .filter(|e| *e == "completed")
                .count()
                == 5
        })
        .await;
        assert!(all, "events seen: {:?}", seen.lock().unwrap());
        for name in ["added", "active", "delayed", "stalled"] {
            assert!(seen.lock().unwrap().iter().any(|e| e == name), "{name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedulers_run_on_the_cluster() {
    let c = cluster::shared();
    let engine = c.engine(&unique("jqs")).await;
    for i in 0..cluster::MASTERS {
        let t = cluster_queue(&engine, &c.tag_on("s", i));
        let q = t.queue();
        let every = json!({"every": 100});
        q.upsert_scheduler(
            "tick",
            every.as_object().unwrap(),
            &common::request("tick", json!({})),
        )
        .await
        .unwrap();
        let cron = json!({"pattern": "* * * * * *"});
        q.upsert_scheduler(
            "cron",
            cron.as_object().unwrap(),
            &common::request("cron", json!({})),
        )
        .await
        .unwrap();
        let (worker, _, mut rx) = dispatch::start(&t, WorkerOptions::default()).await;
        let mut runs: BTreeMap<String, usize> = BTreeMap::new();
        while runs.get("tick").copied().unwrap_or(0) < 3
            || runs.get("cron").copied().unwrap_or(0) < 2
        {
            let d = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("a scheduled run within 5 s")
                .unwrap();
            assert!(d.job.id.starts_with(&format!("repeat:{}:", d.job.name)));
            *runs.entry(d.job.name.clone()).or_default() += 1;
            worker.report(d.handle, Outcome::Completed("1".into()));
        }
        worker.close(Duration::from_secs(1)).await;
        assert_eq!(q.schedulers().await.unwrap().len(), 2);
        assert!(q.remove_scheduler("tick").await.unwrap());
        assert!(q.remove_scheduler("cron").await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registries_and_security_keys_work_across_masters() {
    let c = cluster::shared();
    let prefix = unique("jqg");
    let engine = c.engine(&prefix).await;
    let mut names = Vec::new();
    let mut workers = Vec::new();
    for i in 0..cluster::MASTERS {
        let declared = c.tag_on("declared", i);
        engine
            .register_queue(&declared, r#"{"x":1}"#)
            .await
            .unwrap();
        // a queue nobody declared, found by its meta key on its master
        let used = c.tag_on("used", i);
        let t = cluster_queue(&engine, &used);
        t.queue().set_meta(Some(100), None).await.unwrap();
        let (w, _, _) = dispatch::start(&t, WorkerOptions::default()).await;
        workers.push(w);
        names.push((declared, true));
        names.push((used, false));
    }
    let listed = engine.queues().await.unwrap();
    for (name, declared) in &names {
        let found = listed.iter().find(|(n, _)| n == name);
        assert!(found.is_some(), "{name} listed: {listed:?}");
        assert_eq!(found.unwrap().1.is_some(), *declared, "{name}");
    }
    // the worker registry: each worker's heartbeat, a pause asked from elsewhere
    let all = common::wait_for(Duration::from_secs(5), || async {
        engine.workers().await.unwrap().len() == workers.len()
    })
    .await;
    assert!(all);
    assert!(engine
        .request_worker_pause(workers[1].id(), true)
        .await
        .unwrap());
    let paused =
        common::wait_for(Duration::from_secs(6), || async { workers[1].is_paused() }).await;
    assert!(paused, "the worker saw the pause at its heartbeat");
    for w in &workers {
        w.close(Duration::from_secs(1)).await;
    }
    assert!(
        engine.workers().await.unwrap().is_empty(),
        "closed workers leave"
    );
    engine.forget_queue(&names[0].0).await.unwrap();

    // security: grants, per-client rate windows, the audit log
    let actions = vec!["enqueue".to_owned(), "read".to_owned()];
    assert_eq!(
        engine
            .grant_permission("alice", "orders", &actions, &json!([]))
            .await
            .unwrap(),
        2
    );
    let perms = engine.client_permissions("alice").await.unwrap();
    assert_eq!(perms[0].actions, actions);
    assert_eq!(
        engine
            .revoke_permission("alice", "orders", &[])
            .await
            .unwrap(),
        2
    );
    let clients = [
        ("alice".to_owned(), 2),
        ("bob".to_owned(), 1),
        ("carol".to_owned(), 1),
    ];
    assert!(
        engine
            .client_rate_limit("enqueue", &clients, 2, 60_000)
            .await
            .unwrap()
            .allowed
    );
    let refused = engine
        .client_rate_limit("enqueue", &clients, 2, 60_000)
        .await
        .unwrap();
    assert_eq!(refused.refused, Some(0));
    let entry = AuditEntry {
        timestamp_ms: now_ms(),
        actor: "alice".into(),
        action: "enqueue".into(),
        queue: Some(names[0].0.clone()),
        outcome: "success".into(),
        origin: "test".into(),
        ..Default::default()
    };
    engine.audit(&[entry.clone(), entry], 1000).await.unwrap();
    let log = engine
        .audit_log(&AuditFilter {
            actor: Some("alice".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    // every prefix key in the one slot of the prefix's tag
    let pk = PrefixKeys::new(&prefix);
    let home = c.master_of(&pk.audit()).port;
    let on_home: Vec<String> = c
        .keys_on(home)
        .into_iter()
        .filter(|k| k.starts_with(&pk.key("")))
        .collect();
    for name in ["rate:enqueue:bob", "rate:enqueue:carol", "audit", "queues"] {
        let key = pk.key(name);
        assert!(on_home.contains(&key), "{key} on {home}: {on_home:?}");
        assert_eq!(slot(key.as_bytes()), slot(pk.audit().as_bytes()));
    }
    assert!(!on_home.contains(&pk.acl("alice")), "every grant revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_and_obliterate_work_on_the_queues_node() {
    let c = cluster::shared();
    let engine = c.engine(&unique("jqo")).await;
    let keep = cluster_queue(&engine, &c.tag_on("keep", 0));
    keep.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    for i in 0..cluster::MASTERS {
        let t = cluster_queue(&engine, &c.tag_on("o", i));
        let q = t.queue();
        let jobs: Vec<_> = (0..5).map(|_| common::request("a", json!({}))).collect();
        q.add(&jobs).await.unwrap();
        let _: () = t.cmd(&["HSET", &t.keys.job("lost-1"), "name", "x"]).await;
        let _: () = t
            .cmd(&["SET", &t.keys.job_sub("lost-2", "lock"), "t"])
            .await;
        assert_eq!(q.remove_orphaned_jobs(100, 0).await.unwrap(), 2);
        assert_eq!(q.counts().await.unwrap().waiting, 5, "jobs in a state stay");
        assert!(q.obliterate(false).await.unwrap() > 0);
        let home = c.master_of(&t.keys.key("wait")).port;
        let left: Vec<String> = c
            .keys_on(home)
            .into_iter()
            .filter(|k| k.starts_with(&t.keys.base))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    assert_eq!(keep.queue().counts().await.unwrap().waiting, 1);
}

/// A plain connection to one node that sends ASKING before each command, as a cluster
/// client does after an ASK redirection.
struct Asking(redis::aio::MultiplexedConnection);

impl redis::aio::ConnectionLike for Asking {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            pipe.cmd("ASKING").ignore().add_command(cmd.clone());
            let mut replies: Vec<redis::Value> = pipe.query_async(&mut self.0).await?;
            Ok(replies.pop().unwrap_or(redis::Value::Nil))
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        self.0.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        0
    }
}

async fn plain(port: u16) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// What Redis does with a queue script while the queue's slot is half migrated (its job 1
/// already on the new master), with the `slot-guard` key every call declares and with
/// every declared key present (what the guard rules out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_script_never_runs_while_its_slot_is_half_migrated() {
    let c = cluster::shared();
    let engine = c.engine(&unique("jqh")).await;
    let tag = c.tag_on("h", 1);
    let guarded = cluster_queue(&engine, &format!("{tag}g"));
    let exposed = cluster_queue(&engine, &format!("{tag}x"));
    for t in [&guarded, &exposed] {
        t.queue()
            .add(&[
                common::request("a", json!({})),
                common::request("b", json!({})),
            ])
            .await
            .unwrap();
    }
    // `exposed`: every key a script declares exists, the guard included
    for suffix in scripts::QUEUE_KEYS {
        let key = exposed.keys.key(suffix);
        if t_exists(&exposed, &key).await {
            continue;
        }
        let make: Vec<&str> = match suffix {
            "active" | "paused" => vec!["RPUSH", &key, "zz"],
            "prioritized" | "delayed" | "completed" | "failed" => {
                vec!["ZADD", &key, "9007199254740991", "zz"]
            }
            "stalled" => vec!["SADD", &key, "zz"],
            _ => vec!["SET", &key, "0"],
        };
        let _: () = exposed.cmd(&make).await;
    }
    assert!(!t_exists(&guarded, &guarded.keys.key("slot-guard")).await);

    let m = c.begin_move(&guarded.keys.key("wait"));
    m.migrate(&[guarded.keys.job("1"), exposed.keys.job("1")]);
    let one = || Fetch {
        metric_points: 0,
        ..fetch("tok", 1)
    };
    let mut src = plain(m.from.port).await;
    let mut dst = Asking(plain(m.to.port).await);
    // with the guard: the source and the target (after ASKING) both answer TRYAGAIN
    for (node, e) in [
        (
            "source",
            scripts::finish_and_fetch(&mut src, &guarded.keys, now_ms(), &[], one()).await,
        ),
        (
            "target",
            scripts::finish_and_fetch(&mut dst, &guarded.keys, now_ms(), &[], one()).await,
        ),
    ] {
        let e = e
            .err()
            .unwrap_or_else(|| panic!("the {node} ran the script"));
        assert!(
            e.to_string().to_lowercase().contains("tryagain"),
            "{node}: {e}"
        );
    }
    let wait: Vec<String> = redis::cmd("LRANGE")
        .arg(guarded.keys.key("wait"))
        .arg(0)
        .arg(-1)
        .query_async(&mut src)
        .await
        .unwrap();
    assert_eq!(wait, ["2", "1"], "nothing changed");
    // with every declared key on the source, Redis runs the script there, and stops it at
    // the job hash that moved, after it took the job out of wait: what the guard prevents
    let e = scripts::finish_and_fetch(&mut src, &exposed.keys, now_ms(), &[], one())
        .await
        .expect_err("stopped mid-script");
    assert!(e.to_string().contains("non local key"), "{e}");
    let active: Vec<String> = redis::cmd("LRANGE")
        .arg(exposed.keys.key("active"))
        .arg(0)
        .arg(-1)
        .query_async(&mut src)
        .await
        .unwrap();
    assert_eq!(
        active,
        ["1", "zz"],
        "job 1 left in active, unlocked, its hash untouched"
    );

    // the engine's cluster connection rides the migration out: an add sent now is retried
    // (TRYAGAIN, with backoff) until the slot has its new owner
    let q = guarded.queue();
    let add = tokio::spawn(async move {
        let sent = Instant::now();
        let ids = q.add(&[common::request("c", json!({}))]).await;
        (ids, sent.elapsed())
    });
    // and a transaction (the counts' consistent read) is turned away (ASK inside EXECABORT)
    // and tried again until then
    let q = guarded.queue();
    let counts = tokio::spawn(async move { q.counts().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!add.is_finished(), "the add waits for the migration");
    assert!(!counts.is_finished(), "the counts wait for the migration");
    tokio::task::spawn_blocking({
        let c = c.clone();
        move || {
            while m.migrate_batch(100) > 0 {}
            c.finish_move(&m);
        }
    })
    .await
    .unwrap();
    let (ids, took) = add.await.unwrap();
    assert_eq!(ids.unwrap()[0].0, "3");
    let counts = counts.await.unwrap().unwrap();
    assert!(counts.waiting >= 2, "{counts:?}");
    assert!(took >= Duration::from_millis(300));
    let r = scripts::finish_and_fetch(
        &mut engine.connection(),
        &guarded.keys,
        now_ms(),
        &[],
        fetch("tok", 3),
    )
    .await
    .unwrap();
    let ids: Vec<&str> = r.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"], "the queue runs on its new master");
}

async fn t_exists(t: &TestQueue, key: &str) -> bool {
    t.cmd::<bool>(&["EXISTS", key]).await
}

/// The connections blocked on `port` (CLIENT LIST): (name, command) pairs.
fn blocked_on(port: u16) -> Vec<(String, String)> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(&mut cluster::node(port))
        .unwrap();
    list.lines()
        .filter(|l| l.contains("flags=b"))
        .map(|l| {
            let field = |f: &str| {
                l.split_whitespace()
                    .find_map(|kv| kv.strip_prefix(f))
                    .unwrap_or_default()
                    .to_owned()
            };
            (field("name="), field("cmd="))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_workers_wait_and_an_events_watch_follow_a_moved_slot() {
    let c = cluster::shared();
    let engine = c.engine(&unique("jqi")).await;
    let t = cluster_queue(&engine, &c.tag_on("i", 0));
    let q = t.queue();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = seen.clone();
    let _watch = engine
        .watch_events(&t.keys.queue, Some("0".into()), move |batch| {
            let mut s = sink.lock().unwrap();
            s.extend(batch.into_iter().map(|(_, f)| f[0].1.clone()));
            true
        })
        .unwrap();
    // a long drain delay: a worker that lost its wait would not fetch again for 60 s
    let (worker, _, mut rx) = dispatch::start(
        &t,
        WorkerOptions {
            drain_delay: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await;
    let waiter = t.keys.worker_client_name(None);
    let reader = t.keys.queue_events_client_name();
    let blocked_both = |port: u16| {
        let b = blocked_on(port);
        b.contains(&(waiter.clone(), "bzpopmin".into()))
            && b.contains(&(reader.clone(), "xread".into()))
    };
    let home = c.master_of(&t.keys.key("wait")).port;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !blocked_both(home) {
        assert!(
            Instant::now() < deadline,
            "blocked on {home}: {:?}",
            blocked_on(home)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    q.add(&[common::request("before", json!({}))])
        .await
        .unwrap();
    let d = dispatch::next(&mut rx).await;
    worker.report(d.handle, Outcome::Completed("1".into()));
    assert!(t.counts_until(|c| c.completed == 1).await);

    let key = t.keys.key("wait");
    let (_, from, to) = tokio::task::spawn_blocking({
        let c = c.clone();
        move || c.move_slot(&key, 10, || {})
    })
    .await
    .unwrap();
    assert_eq!(from, home);
    // the first command on the shared connection since the move: a transaction (MULTI/EXEC),
    // answered EXECABORT with MOVED inside, which the engine follows
    assert_eq!(q.counts().await.unwrap().completed, 1);
    // Redis answers the blocked reads MOVED; they block again on the new owner
    let deadline = Instant::now() + Duration::from_secs(10);
    while !blocked_both(to) {
        assert!(
            Instant::now() < deadline,
            "blocked on {to}: {:?}",
            blocked_on(to)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = Instant::now();
    q.add(&[common::request("after", json!({}))]).await.unwrap();
    let d = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("the waiting worker woke on the new owner's marker")
        .unwrap();
    assert_eq!(d.job.name, "after");
    let woke = sent.elapsed();
    worker.report(d.handle, Outcome::Completed("1".into()));
    assert!(t.counts_until(|c| c.completed == 2).await);
    let both = common::wait_for(Duration::from_secs(5), || async {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|e| *e == "completed")
            .count()
            == 2
    })
    .await;
    assert!(
        both,
        "the events watch reads the new owner: {:?}",
        seen.lock().unwrap()
    );
    // BullMQ's getWorkers asks the new owner, where the worker's connection is named too
    assert_eq!(q.worker_count().await.unwrap(), 1);
    println!("woke {woke:?} after the add on the new owner");
    worker.close(Duration::from_secs(1)).await;
}

/// After a resharding, the shared connection's slot map is stale until a command on a key of
/// the moved slot meets a MOVED; keyless commands about a queue (`CLIENT LIST` for
/// getWorkers, `SCAN` for orphans) must still reach the slot's new owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_commands_about_a_queue_reach_its_new_owner_after_a_move() {
    let c = cluster::shared();
    let engine = c.engine(&unique("jqk")).await;
    let t = cluster_queue(&engine, &c.tag_on("k", 1));
    let q = t.queue();
    q.add(&[common::request("a", json!({}))]).await.unwrap();
    let _: () = t.cmd(&["HSET", &t.keys.job("lost"), "name", "x"]).await;
    let (worker, _, _rx) = dispatch::start(&t, WorkerOptions::default()).await;
    worker.pause();
    assert_eq!(q.worker_count().await.unwrap(), 1);
    let key = t.keys.key("wait");
    tokio::task::spawn_blocking({
        let c = c.clone();
        move || c.move_slot(&key, 10, || {})
    })
    .await
    .unwrap();
    // nothing has touched the queue's keys through the shared connection since the move
    assert_eq!(
        q.worker_count().await.unwrap(),
        1,
        "getWorkers on the new owner"
    );
    assert_eq!(
        q.remove_orphaned_jobs(100, 0).await.unwrap(),
        1,
        "SCAN on the new owner"
    );
    worker.close(Duration::from_secs(1)).await;
}

/// Moves a busy queue's slot to another master in small batches while a producer adds jobs,
/// a worker runs them, a scheduler queues a run every 100 ms and one long job holds its lock;
/// then checks nothing acknowledged was lost and every part carried on on the new owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queues_slot_moves_to_another_master_while_jobs_flow() {
    let c = cluster::shared();
    let engine = c.engine(&unique("jqm")).await;
    let t = cluster_queue(&engine, &c.tag_on("m", 2));
    let q = t.queue();
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let sink = seen.clone();
    let _watch = engine
        .watch_events(&t.keys.queue, Some("0".into()), move |batch| {
            let mut s = sink.lock().unwrap();
            for (_, fields) in batch {
                let id = fields
                    .iter()
                    .find(|(k, _)| k == "jobId")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                s.push((fields[0].1.clone(), id));
            }
            true
        })
        .unwrap();
    let (worker, channel, mut rx) = dispatch::start(
        &t,
        WorkerOptions {
            concurrency: 4,
            // renewed every 2.5 s; the stalled check every second
            lock_duration: Duration::from_secs(5),
            stalled_interval: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .await;
    let worker = Arc::new(worker);
    let ran: Arc<Mutex<Vec<(String, String, Instant)>>> = Arc::default();
    let (long_tx, long_rx) = tokio::sync::oneshot::channel();
    let runner = {
        let (ran, w) = (ran.clone(), worker.clone());
        tokio::spawn(async move {
            let mut long_tx = Some(long_tx);
            while let Some(d) = rx.recv().await {
                ran.lock()
                    .unwrap()
                    .push((d.job.id.clone(), d.job.name.clone(), Instant::now()));
                if d.job.name == "long" {
                    // held: the test completes it after the move
                    if let Some(tx) = long_tx.take() {
                        let _ = tx.send(d);
                    }
                } else {
                    w.report(d.handle, Outcome::Completed("1".into()));
                }
            }
        })
    };
    // some history to migrate: about 1000 keys
    const PRE: u64 = 1000;
    let jobs: Vec<_> = (0..PRE)
        .map(|_| common::request("pre", json!({})))
        .collect();
    q.add(&jobs).await.unwrap();
    let pre_done = common::wait_for(Duration::from_secs(20), || async {
        q.counts().await.unwrap().completed == PRE
    })
    .await;
    assert!(pre_done);
    q.add(&[common::request("long", json!({}))]).await.unwrap();
    let long = tokio::time::timeout(Duration::from_secs(5), long_rx)
        .await
        .expect("the long job started")
        .unwrap();
    let every = json!({"every": 100});
    q.upsert_scheduler(
        "tick",
        every.as_object().unwrap(),
        &common::request("tick", json!({})),
    )
    .await
    .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let slowest: Arc<Mutex<Duration>> = Arc::default();
    let producer = {
        let (q, stop, acked, failures, slowest) = (
            q.clone(),
            stop.clone(),
            acked.clone(),
            failures.clone(),
            slowest.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let sent = Instant::now();
                match q.add(&[common::request("flow", json!({}))]).await {
                    Ok(ids) => acked.lock().unwrap().push(ids[0].0.clone()),
                    Err(e) => failures.lock().unwrap().push(e.to_string()),
                }
                let took = sent.elapsed();
                {
                    let mut s = slowest.lock().unwrap();
                    *s = (*s).max(took);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let before = acked.lock().unwrap().len();
    let key = t.keys.key("wait");
    let started = Instant::now();
    let (slot_no, from, to) = tokio::task::spawn_blocking({
        let c = c.clone();
        move || c.move_slot(&key, 10, || std::thread::sleep(Duration::from_millis(10)))
    })
    .await
    .unwrap();
    let moved_at = Instant::now();
    let took = started.elapsed();
    let during = acked.lock().unwrap().len() - before;
    assert_ne!(from, to);
    assert_eq!(
        c.master_of(&t.keys.key("wait")).port,
        to,
        "slot {slot_no} moved"
    );

    // the producer, the scheduler and the lock renewal carry on on the new owner
    let after_move = acked.lock().unwrap().len();
    let lock_key = t.keys.job_sub(&long.job.id, "lock");
    let mut ttl_seen: i64 = t.cmd(&["PTTL", &lock_key]).await;
    let mut renewed = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let ttl: i64 = t.cmd(&["PTTL", &lock_key]).await;
        assert!(ttl > 0, "the long job's lock lapsed");
        if ttl > ttl_seen {
            renewed = true;
        }
        ttl_seen = ttl;
        let ticks_after = ran
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, name, at)| name == "tick" && *at > moved_at)
            .count();
        if renewed && ticks_after >= 3 && acked.lock().unwrap().len() >= after_move + 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(renewed, "the long job's lock renewed on the new owner");
    stop.store(true, Ordering::SeqCst);
    producer.await.unwrap();
    assert!(q.remove_scheduler("tick").await.unwrap());
    worker.report(long.handle, Outcome::Completed("1".into()));
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= after_move + 20, "adds go on after the move");

    let settled = common::wait_for(Duration::from_secs(20), || async {
        let c = q.counts().await.unwrap();
        c.waiting + c.active + c.prioritized == 0
    })
    .await;
    let counts = q.counts().await.unwrap();
    assert!(settled, "everything ran: {counts:?}");
    let ran = ran.lock().unwrap().clone();
    let ids: BTreeSet<&String> = ran.iter().map(|(id, _, _)| id).collect();
    for id in &acked {
        assert!(ids.contains(id), "job {id} never ran");
    }
    let ticks_after = ran
        .iter()
        .filter(|(_, name, at)| name == "tick" && *at > moved_at)
        .count();
    assert!(ticks_after >= 3, "the scheduler carried on: {ticks_after}");
    let duplicates = ran.len() - ids.len();
    assert_eq!(duplicates, 0, "no job ran twice");
    let stalled = channel
        .events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, WorkerEvent::Stalled { .. }));
    assert!(!stalled, "no job was taken for stalled");
    let completed_seen = common::wait_for(Duration::from_secs(10), || async {
        let s = seen.lock().unwrap();
        acked
            .iter()
            .all(|id| s.iter().any(|(e, j)| e == "completed" && j == id))
    })
    .await;
    assert!(
        completed_seen,
        "the events watch saw every job complete after the move"
    );
    assert!(
        failures.lock().unwrap().is_empty(),
        "adds failed: {:?}",
        failures.lock().unwrap()
    );
    println!(
        "moved slot {slot_no} ({PRE} finished jobs) from {from} to {to} in {took:?}; {during} \
         adds acknowledged during the move, {} after; slowest add {:?}; {} add errors; \
         {duplicates} jobs ran twice; {ticks_after} scheduler runs after the move",
        acked.len() - before - during,
        *slowest.lock().unwrap(),
        failures.lock().unwrap().len()
    );
    worker.close(Duration::from_secs(1)).await;
    runner.abort();
}
