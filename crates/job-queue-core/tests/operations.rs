//! Queue-wide operations and the registries against a real Redis: pause/resume in BullMQ's
//! layout, cleanup by age and count, destroying a queue, queue and worker registries.

mod common;

use std::sync::Arc;
use std::time::Duration;

use job_queue_core::options::KeepPolicy;
use job_queue_core::scripts::{finish_and_fetch, Action, Settle};
use job_queue_core::time::now_ms;
use job_queue_core::worker::{Dispatched, Dispatcher, WorkerEvent, WorkerOptions};
use serde_json::json;

/// Completes `n` jobs, finishing them at `at` ms.
async fn completed(t: &common::TestQueue, n: usize, at: u64) {
    let jobs: Vec<_> = (0..n).map(|_| common::request("a", json!({}))).collect();
    let ids = t.queue().add(&jobs).await.unwrap();
    finish_and_fetch(&mut t.con.clone(), &t.keys, at, &[], common::fetch(n))
        .await
        .unwrap();
    let settle: Vec<Settle> = ids
        .into_iter()
        .map(|(id, _)| Settle {
            id,
            token: "tok".into(),
            action: Action::Completed {
                return_value: "1".into(),
                keep: KeepPolicy::KEEP_ALL,
                attempts: 1,
            },
            stacktrace: None,
            attempts_made: 1,
            dedup_id: None,
            error_name: None,
        })
        .collect();
    finish_and_fetch(&mut t.con.clone(), &t.keys, at, &settle, common::fetch(0))
        .await
        .unwrap();
}

#[tokio::test]
async fn pausing_sets_the_meta_flag_and_stops_fetching_until_resumed() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[common::request("a", json!({}))]).await.unwrap();
    assert!(q.pause().await.unwrap());
    assert!(!q.pause().await.unwrap(), "already paused");
    let paused: Option<String> = t.cmd(&["HGET", &t.keys.key("meta"), "paused"]).await;
    assert_eq!(paused.as_deref(), Some("1"));
    let got = finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(1))
        .await
        .unwrap();
    assert!(got.jobs.is_empty(), "a paused queue gives no jobs");
    assert!(q.resume().await.unwrap());
    let got = finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(1))
        .await
        .unwrap();
    assert_eq!(got.jobs.len(), 1);
    let names: Vec<String> = t.events().await.into_iter().map(|(e, _)| e).collect();
    assert!(
        names.contains(&"paused".to_owned()) && names.contains(&"resumed".to_owned()),
        "{names:?}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn cleanup_removes_old_finished_jobs_and_keeps_the_newest_count() {
    let t = common::queue().await;
    let q = t.queue();
    completed(&t, 3, now_ms() - 7_200_000).await; // two hours ago
    completed(&t, 4, now_ms()).await;
    let removed = q
        .clean("completed", Some(Duration::from_secs(3600)), None)
        .await
        .unwrap();
    assert_eq!(removed, 3);
    assert_eq!(q.counts().await.unwrap().completed, 4);
    let removed = q.clean("completed", None, Some(1)).await.unwrap();
    assert_eq!(removed, 3);
    let left: Vec<String> = t
        .cmd(&["ZRANGE", &t.keys.key("completed"), "0", "-1"])
        .await;
    assert_eq!(left, ["7"], "the newest stays");
    assert!(
        q.get_job("1").await.unwrap().is_none(),
        "job hashes are deleted too"
    );

    // the periodic form does the same on its own
    completed(&t, 2, now_ms() - 7_200_000).await;
    let _cleanup = q.start_cleanup(job_queue_core::cleanup::CleanupPolicy {
        interval: Duration::from_millis(50),
        completed_age: Some(Duration::from_secs(3600)),
        keep_completed: None,
        failed_age: None,
        keep_failed: None,
    });
    let cleaned = common::wait_for(Duration::from_secs(5), || async {
        q.counts().await.unwrap().completed == 1
    })
    .await;
    assert!(cleaned);
    t.cleanup().await;
}

#[tokio::test]
async fn obliterate_deletes_every_key_of_the_queue_and_only_those() {
    let t = common::queue().await;
    let q = t.queue();
    let other = t.engine.queue("q2").unwrap();
    q.add(&[
        common::request("a", json!({"delay": 5000})),
        common::request("b", json!({})),
    ])
    .await
    .unwrap();
    other.add(&[common::request("c", json!({}))]).await.unwrap();
    finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(1))
        .await
        .unwrap();
    let err = q.obliterate(false).await.unwrap_err();
    assert_eq!(err.to_string(), "Cannot obliterate queue with active jobs");
    assert_eq!(err.code(), job_queue_core::ErrorCode::Validation);
    assert!(q.obliterate(true).await.unwrap() > 5);
    let left: Vec<String> = t.cmd(&["KEYS", &format!("{}*", t.keys.base)]).await;
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        other.counts().await.unwrap().waiting,
        1,
        "another queue is untouched"
    );
    t.cleanup().await;
}

struct Idle;
impl Dispatcher for Idle {
    fn dispatch(&self, _: Vec<Dispatched>) {}
    fn events(&self, _: Vec<WorkerEvent>) {}
}

#[tokio::test]
async fn queues_and_workers_are_visible_to_every_process() {
    let t = common::queue().await;
    t.engine
        .register_queue("declared", r#"{"concurrency":2}"#)
        .await
        .unwrap();
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap(); // "q" has meta
    let queues = t.engine.queues().await.unwrap();
    assert_eq!(
        queues,
        [
            (
                "declared".to_owned(),
                Some(r#"{"concurrency":2}"#.to_owned())
            ),
            ("q".to_owned(), None)
        ]
    );

    let worker = t
        .engine
        .worker("q2", WorkerOptions::default(), Arc::new(Idle))
        .await
        .unwrap();
    let listed = common::wait_for(Duration::from_secs(5), || async {
        t.engine
            .workers()
            .await
            .unwrap()
            .iter()
            .any(|w| w.entry.id == worker.id())
    })
    .await;
    assert!(listed);
    let info = t.engine.workers().await.unwrap().remove(0);
    assert_eq!((info.entry.queue.as_str(), info.status), ("q2", "active"));
    assert_eq!(info.entry.pid, std::process::id());

    // another process asks it to pause: it does at its next heartbeat
    assert!(t
        .engine
        .request_worker_pause(worker.id(), true)
        .await
        .unwrap());
    let paused = common::wait_for(Duration::from_secs(5), || async { worker.is_paused() }).await;
    assert!(paused);
    let shown = common::wait_for(Duration::from_secs(5), || async {
        t.engine.workers().await.unwrap()[0].status == "paused"
    })
    .await;
    assert!(shown);
    assert!(!t.engine.request_worker_pause("nobody", true).await.unwrap());
    worker.close(Duration::from_secs(1)).await;
    assert!(
        t.engine.workers().await.unwrap().is_empty(),
        "a closed worker leaves the registry"
    );
    t.cleanup().await; // the registries are under the test's prefix too
}

#[tokio::test]
async fn resume_renames_a_legacy_paused_list_into_an_empty_wait() {
    let t = common::queue().await;
    let q = t.queue();
    // BullMQ 5 kept a paused queue's jobs in `paused`, oldest at the right
    let _: i64 = t
        .cmd(&["LPUSH", &t.keys.key("paused"), "old-1", "old-2", "old-3"])
        .await;
    assert!(
        q.resume().await.unwrap(),
        "moving the legacy list is a change"
    );
    let exists: i64 = t.cmd(&["EXISTS", &t.keys.key("paused")]).await;
    assert_eq!(exists, 0);
    let wait: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(
        wait,
        ["old-3", "old-2", "old-1"],
        "the same order, oldest next"
    );
    let marker: Option<String> = t.cmd(&["ZSCORE", &t.keys.key("marker"), "0"]).await;
    assert!(marker.is_some(), "workers are woken");
    assert!(!q.resume().await.unwrap(), "nothing left to resume");
    let resumed = t
        .events()
        .await
        .iter()
        .filter(|(e, _)| e == "resumed")
        .count();
    assert_eq!(resumed, 1);
    t.cleanup().await;
}

#[tokio::test]
async fn resume_moves_a_long_legacy_list_in_batches_keeping_its_order() {
    let t = common::queue().await;
    let q = t.queue();
    assert!(q.pause().await.unwrap());
    let _: i64 = t.cmd(&["LPUSH", &t.keys.key("wait"), "waiting-1"]).await;
    // 12 001 legacy jobs, legacy-0 the oldest (at the right): three script calls' worth
    let n = 12_001;
    let ids: Vec<String> = (0..n).rev().map(|i| format!("legacy-{i}")).collect();
    for chunk in ids.chunks(1000) {
        let mut c = redis::cmd("RPUSH");
        c.arg(t.keys.key("paused")).arg(chunk);
        let _: i64 = c.query_async(&mut t.con.clone()).await.unwrap();
    }
    assert!(q.resume().await.unwrap());
    assert!(!q.is_paused().await.unwrap());
    let exists: i64 = t.cmd(&["EXISTS", &t.keys.key("paused")]).await;
    assert_eq!(exists, 0);
    let wait: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(wait.len(), n + 1);
    // workers take from the right: the legacy jobs oldest first, then the waiting one
    let mut expected = vec!["waiting-1".to_owned()];
    expected.extend(ids);
    assert_eq!(wait, expected);
    let resumed = t
        .events()
        .await
        .iter()
        .filter(|(e, _)| e == "resumed")
        .count();
    assert_eq!(resumed, 1, "one resume, one event, however many calls");
    t.cleanup().await;
}

#[tokio::test]
async fn a_job_left_in_the_legacy_paused_list_can_be_removed() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[common::request("a", json!({}))]).await.unwrap();
    // as BullMQ 5 left it: the job in `paused` instead of wait
    let _: () = t
        .cmd(&["RENAME", &t.keys.key("wait"), &t.keys.key("paused")])
        .await;
    q.remove_job("1").await.unwrap();
    let left: i64 = t.cmd(&["LLEN", &t.keys.key("paused")]).await;
    assert_eq!(left, 0, "the id goes with the job");
    let removed = t.events().await.into_iter().find(|(e, _)| e == "removed");
    assert_eq!(
        removed.unwrap().1,
        [
            ("jobId".to_owned(), "1".to_owned()),
            ("prev".to_owned(), "paused".to_owned())
        ]
    );
    t.cleanup().await;
}
