//! The BullMQ-style Queue's engine operations against a real Redis: bounded batches of
//! clean, drain, and moving jobs back to wait; lists and counts by state.

mod common;

use job_queue_core::queue_admin::JobState;
use job_queue_core::scripts::{clean_jobs, finish_and_fetch};
use job_queue_core::time::now_ms;
use serde_json::json;

/// Adds `n` plain jobs; returns their ids in order of adding.
async fn add(t: &common::TestQueue, n: usize, opts: serde_json::Value) -> Vec<String> {
    let jobs: Vec<_> = (0..n).map(|_| common::request("a", opts.clone())).collect();
    let added = t.queue().add(&jobs).await.unwrap();
    added.into_iter().map(|(id, _)| id).collect()
}

#[tokio::test]
async fn one_clean_call_looks_at_its_window_of_oldest_jobs_only() {
    let t = common::queue().await;
    let ids = add(&t, 5, json!({})).await;
    let batch = clean_jobs(&mut t.con.clone(), &t.keys, "wait", now_ms(), 2, 0, true)
        .await
        .unwrap();
    let mut removed = batch.removed;
    removed.sort();
    assert_eq!(removed, ids[..2], "the two oldest");
    assert_eq!(batch.looked, 2);
    // stepping over one more leaves the third alone
    let batch = clean_jobs(&mut t.con.clone(), &t.keys, "wait", now_ms(), 10, 1, false)
        .await
        .unwrap();
    let mut removed = batch.removed;
    removed.sort();
    assert_eq!(removed, ids[3..]);
    assert_eq!(batch.looked, 2, "three left, one stepped over");
    let left: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(left, [ids[2].clone()]);
    let gone: bool = t.cmd(&["EXISTS", &t.keys.job(&ids[0])]).await;
    assert!(!gone, "job hash deleted");
    let cleaned: Vec<_> = t
        .events()
        .await
        .into_iter()
        .filter(|(e, _)| e == "cleaned")
        .collect();
    assert_eq!(cleaned.len(), 1, "only the announced call emits");
    t.cleanup().await;
}

#[tokio::test]
async fn clean_spares_young_jobs_and_locked_active_ones() {
    let t = common::queue().await;
    let ids = add(&t, 2, json!({})).await;
    let batch = clean_jobs(
        &mut t.con.clone(),
        &t.keys,
        "wait",
        now_ms() - 60_000,
        10,
        0,
        true,
    )
    .await
    .unwrap();
    assert!(batch.removed.is_empty(), "added just now");
    finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(2))
        .await
        .unwrap();
    // one of the two loses its lock (its worker is gone)
    let _: i64 = t
        .cmd(&["DEL", &format!("{}:lock", t.keys.job(&ids[0]))])
        .await;
    let batch = clean_jobs(
        &mut t.con.clone(),
        &t.keys,
        "active",
        now_ms() + 1,
        10,
        0,
        true,
    )
    .await
    .unwrap();
    assert_eq!(batch.removed, [ids[0].clone()]);
    let active: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("active"), "0", "-1"]).await;
    assert_eq!(active, [ids[1].clone()]);
    t.cleanup().await;
}

#[tokio::test]
async fn drain_keeps_the_pending_iteration_of_a_scheduler() {
    let t = common::queue().await;
    let ids = add(&t, 3, json!({})).await;
    add(&t, 2, json!({"delay": 60_000})).await;
    // a scheduler "s" whose next iteration (due at 123) is waiting
    let iteration = "repeat:s:123";
    let _: i64 = t
        .cmd(&[
            "HSET",
            &t.keys.job(iteration),
            "name",
            "s",
            "data",
            "{}",
            "opts",
            "{}",
            "timestamp",
            "1",
        ])
        .await;
    let _: i64 = t.cmd(&["LPUSH", &t.keys.key("wait"), iteration]).await;
    let _: i64 = t.cmd(&["ZADD", &t.keys.key("repeat"), "123", "s"]).await;
    let q = t.queue();
    assert_eq!(q.drain(false).await.unwrap(), 3);
    let wait: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(wait, [iteration]);
    assert_eq!(q.counts_by_state(&[JobState::Delayed]).await.unwrap(), [2]);
    assert_eq!(q.drain(true).await.unwrap(), 2);
    assert_eq!(
        q.counts_by_state(&[JobState::Wait, JobState::Delayed])
            .await
            .unwrap(),
        [1, 0]
    );
    let gone: bool = t.cmd(&["EXISTS", &t.keys.job(&ids[0])]).await;
    assert!(!gone);
    t.cleanup().await;
}

#[tokio::test]
async fn moving_delayed_jobs_to_wait_is_bounded_by_count() {
    let t = common::queue().await;
    add(&t, 3, json!({"delay": 60_000})).await;
    let q = t.queue();
    assert_eq!(q.move_to_wait(JobState::Delayed, 2, 0).await.unwrap(), 2);
    assert_eq!(
        q.counts_by_state(&[JobState::Delayed, JobState::Wait])
            .await
            .unwrap(),
        [1, 2]
    );
    assert_eq!(q.move_to_wait(JobState::Delayed, 2, 0).await.unwrap(), 1);
    assert_eq!(q.move_to_wait(JobState::Delayed, 2, 0).await.unwrap(), 0);
    assert!(q.move_to_wait(JobState::Active, 2, 0).await.is_err());
    t.cleanup().await;
}

#[tokio::test]
async fn lists_by_state_read_oldest_first_when_ascending() {
    let t = common::queue().await;
    let ids = add(&t, 3, json!({})).await;
    let q = t.queue();
    let asc: Vec<String> = q
        .jobs_by_state(&[JobState::Wait], 0, -1, true)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(asc, ids);
    let newest: Vec<String> = q
        .jobs_by_state(&[JobState::Wait], 0, 0, false)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(newest, [ids[2].clone()]);
    t.cleanup().await;
}

fn owned(ids: &[&String]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_bounded_page_fills_the_places_of_jobs_whose_hash_is_gone() {
    let t = common::queue().await;
    let q = t.queue();
    // each job named after its id, so that a job read with another's hash shows
    let named = |n: usize, opts: serde_json::Value| {
        (1..=n)
            .map(|i| common::request(&format!("job-{i}"), opts.clone()))
            .collect::<Vec<_>>()
    };
    let ids: Vec<String> = q
        .add(&named(12, json!({})))
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut later = named(16, json!({"delay": 60_000}));
    let delayed: Vec<String> = q
        .add(&later.split_off(12))
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let page = |states: Vec<JobState>, start: isize, end: isize, asc: bool| {
        let q = q.clone();
        async move {
            let jobs = q.jobs_by_state(&states, start, end, asc).await.unwrap();
            for j in &jobs {
                assert_eq!(j.name, format!("job-{}", j.id), "the job's own hash");
            }
            jobs.into_iter().map(|j| j.id).collect::<Vec<String>>()
        }
    };
    // hashes gone, ids still listed
    for gone in [&ids[1], &ids[3], &ids[4], &delayed[0]] {
        let _: i64 = t.cmd(&["DEL", &t.keys.job(gone)]).await;
    }
    let wait = JobState::Wait;
    let got = page(vec![wait], 0, 2, true).await;
    assert_eq!(got, owned(&[&ids[0], &ids[2], &ids[5]]));
    let got = page(vec![wait], 1, 3, true).await;
    assert_eq!(got, owned(&[&ids[2], &ids[5], &ids[6]]));
    let got = page(vec![wait], 0, 1, false).await;
    assert_eq!(got, owned(&[&ids[11], &ids[10]]));
    let got = page(vec![JobState::Delayed, wait], 0, 1, true).await;
    let each = owned(&[&delayed[1], &delayed[2], &ids[0], &ids[2]]);
    assert_eq!(got, each, "each state's page filled on its own");
    // past the end: what there is; unbounded ranges are not refilled
    let got = page(vec![wait], 8, 12, true).await;
    assert_eq!(got, owned(&[&ids[8], &ids[9], &ids[10], &ids[11]]));
    assert_eq!(page(vec![wait], 0, -1, true).await.len(), 9);
    // the refill is bounded: with every hash of a long run gone, a page comes back short
    for gone in &ids[5..11] {
        let _: i64 = t.cmd(&["DEL", &t.keys.job(gone)]).await;
    }
    assert_eq!(page(vec![wait], 1, 1, true).await, owned(&[&ids[2]]));
    let got = page(vec![wait], 3, 3, true).await;
    assert!(
        got.is_empty(),
        "five reads of one id each, all gone: {got:?}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn counts_per_priority_read_wait_for_0_and_each_priority_band() {
    let t = common::queue().await;
    let q = t.queue();
    for p in [0, 1, 1, 3, 3, 3, 2_097_151] {
        add(&t, 1, json!({"priority": p})).await;
    }
    assert!(q.pause().await.unwrap(), "a paused queue's jobs count too");
    add(&t, 1, json!({})).await;
    let counts = q
        .counts_per_priority(&[0, 1, 2, 3, 2_097_151])
        .await
        .unwrap();
    assert_eq!(counts, [2, 2, 0, 3, 1]);
    assert!(q.counts_per_priority(&[2_097_152]).await.is_err());
    assert_eq!(q.counts_per_priority(&[]).await.unwrap(), Vec::<u64>::new());
    t.cleanup().await;
}

#[tokio::test]
async fn queue_events_connections_are_listed_by_bullmqs_name() {
    let t = common::queue().await;
    let q = t.queue();
    assert!(q.queue_events_clients().await.unwrap().is_empty());
    let watch = t
        .engine
        .watch_events(&t.keys.queue, None, |_| true)
        .unwrap();
    let listed = common::wait_for(std::time::Duration::from_secs(5), || async {
        q.queue_events_clients().await.unwrap().len() == 1
    })
    .await;
    assert!(listed);
    let client = &q.queue_events_clients().await.unwrap()[0];
    assert_eq!(client["name"], t.keys.queue);
    assert_eq!(client["rawname"], t.keys.queue_events_client_name());
    assert!(client.contains_key("addr") && client.contains_key("age"));
    assert!(
        q.worker_clients().await.unwrap().is_empty(),
        "not a worker's"
    );
    drop(watch);
    let gone = common::wait_for(std::time::Duration::from_secs(5), || async {
        q.queue_events_clients().await.unwrap().is_empty()
    })
    .await;
    assert!(gone);
    t.cleanup().await;
}

#[tokio::test]
async fn orphaned_jobs_go_with_their_sub_keys_and_referenced_ones_stay() {
    let t = common::queue().await;
    let q = t.queue();
    add(&t, 1, json!({})).await; // 1: wait
    add(&t, 1, json!({"delay": 60_000})).await; // 2: delayed
    add(&t, 1, json!({"priority": 4})).await; // 3: prioritized
    add(&t, 1, json!({"deduplication": {"id": "d"}})).await; // 4: wait, owns de:d
                                                             // orphans: hashes no state names, one with sub-keys only, one owning a dedup key
    for id in ["9001", "9002", "orphan-x"] {
        let _: i64 = t
            .cmd(&["HSET", &t.keys.job(id), "name", "o", "data", "{}"])
            .await;
    }
    let _: () = t.cmd(&["SET", &t.keys.job_sub("9003", "logs"), "x"]).await;
    let _: () = t.cmd(&["SET", &t.keys.job_sub("9003", "lock"), "x"]).await;
    let _: () = t.cmd(&["SET", &t.keys.job_sub("9001", "logs"), "x"]).await;
    let _: i64 = t.cmd(&["HSET", &t.keys.job("9004"), "deid", "e"]).await;
    let _: () = t.cmd(&["SET", &t.keys.key("de:e"), "9004"]).await;
    // the queue's own keys that look like no state: never candidates
    let _: () = t.cmd(&["SET", &t.keys.key("repeat:x"), "x"]).await;
    let _: i64 = t.cmd(&["HSET", &t.keys.key("retries"), "total", "1"]).await;
    // an archived dead letter is referenced (our archived set)
    let _: i64 = t.cmd(&["HSET", &t.keys.job("arch"), "name", "a"]).await;
    let _: i64 = t.cmd(&["ZADD", &t.keys.key("archived"), "1", "arch"]).await;

    // a limit stops it early
    assert_eq!(q.remove_orphaned_jobs(1000, 2).await.unwrap(), 2);
    // a small SCAN count still finds every one, over many calls
    assert_eq!(q.remove_orphaned_jobs(3, 0).await.unwrap(), 3);
    assert_eq!(q.remove_orphaned_jobs(1000, 0).await.unwrap(), 0);
    for gone in [
        "9001",
        "9001:logs",
        "9002",
        "orphan-x",
        "9003:logs",
        "9003:lock",
        "9004",
    ] {
        let exists: i64 = t.cmd(&["EXISTS", &format!("{}{gone}", t.keys.base)]).await;
        assert_eq!(exists, 0, "{gone}");
    }
    let dedup: i64 = t.cmd(&["EXISTS", &t.keys.key("de:e")]).await;
    assert_eq!(dedup, 0, "the orphan's deduplication key is released");
    for kept in [
        "1", "2", "3", "4", "de:d", "repeat:x", "retries", "arch", "meta",
    ] {
        let exists: i64 = t.cmd(&["EXISTS", &format!("{}{kept}", t.keys.base)]).await;
        assert_eq!(exists, 1, "{kept}");
    }
    assert_eq!(q.counts().await.unwrap().waiting, 2);
    t.cleanup().await;
}

#[tokio::test]
async fn job_ids_by_state_read_each_state_once_per_id() {
    let t = common::queue().await;
    let ids = add(&t, 3, json!({})).await;
    let delayed = add(&t, 1, json!({"delay": 60_000})).await;
    let q = t.queue();
    let all = q
        .job_ids_by_state(
            &[JobState::Wait, JobState::Delayed, JobState::Wait],
            0,
            -1,
            true,
        )
        .await
        .unwrap();
    assert_eq!(all, [&ids[..], &delayed[..]].concat());
    let newest = q
        .job_ids_by_state(&[JobState::Wait], 0, 1, false)
        .await
        .unwrap();
    assert_eq!(newest, [ids[2].clone(), ids[1].clone()]);
    t.cleanup().await;
}

#[tokio::test]
async fn deduplication_keys_are_read_and_removed_by_id_and_by_owner() {
    let t = common::queue().await;
    let q = t.queue();
    let ids = add(&t, 1, json!({"deduplication": {"id": "d"}})).await;
    assert_eq!(q.dedup_job_id("d").await.unwrap(), Some(ids[0].clone()));
    assert_eq!(q.dedup_job_id("none").await.unwrap(), None);
    // an owner that does not own it removes nothing
    assert!(!q.remove_dedup_key("d", Some("999")).await.unwrap());
    assert!(q.remove_dedup_key("d", Some(&ids[0])).await.unwrap());
    assert_eq!(q.dedup_job_id("d").await.unwrap(), None);
    assert!(!q.remove_dedup_key("d", None).await.unwrap());
    // the window gone, the same deduplication id adds a job again
    let again = add(&t, 1, json!({"deduplication": {"id": "d"}})).await;
    assert_ne!(again, ids);
    assert!(q.remove_dedup_key("d", None).await.unwrap());
    assert!(q.dedup_job_id("").await.is_err());
    t.cleanup().await;
}

#[tokio::test]
async fn the_legacy_priority_key_goes_and_is_maxed_follows_the_global_concurrency() {
    let t = common::queue().await;
    let q = t.queue();
    let _: i64 = t.cmd(&["ZADD", &t.keys.key("priority"), "1", "x"]).await;
    assert!(q.remove_legacy_priority().await.unwrap());
    assert!(!q.remove_legacy_priority().await.unwrap());
    add(&t, 2, json!({})).await;
    assert!(!q.is_maxed().await.unwrap(), "no global concurrency");
    q.set_global_concurrency(Some(1)).await.unwrap();
    assert!(!q.is_maxed().await.unwrap());
    finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(2))
        .await
        .unwrap();
    assert!(q.is_maxed().await.unwrap(), "one active of one allowed");
    t.cleanup().await;
}
