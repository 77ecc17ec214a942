//! Processing by hand (`ManualWorker`, BullMQ's `getNextJob` / `moveToCompleted` /
//! `moveToFailed` / `moveToWait`) against a real Redis: the caller's token locks what it takes,
//! settling goes through the worker loop's script and decisions, and a refused settle writes
//! nothing at all.

mod common;

use std::time::{Duration, Instant};

use job_queue_core::error::ErrorCode;
use job_queue_core::worker::{Failure, ManualWorker, WorkerOptions};
use serde_json::json;

fn manual(t: &common::TestQueue, options: WorkerOptions) -> ManualWorker {
    t.engine.manual_worker(&t.keys.queue, options).unwrap()
}

fn boom(unrecoverable: bool) -> Failure {
    Failure {
        name: Some("Error".into()),
        message: "boom".into(),
        stack: Some("Error: boom\n    at test".into()),
        unrecoverable,
    }
}

/// Every key of the test's prefix with its type and whole content, sorted: two equal
/// snapshots mean nothing was written in between.
async fn snapshot(t: &common::TestQueue) -> Vec<String> {
    let mut keys: Vec<String> = t.cmd(&["KEYS", &format!("{}:*", t.keys.prefix)]).await;
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        let kind: String = t.cmd(&["TYPE", &key]).await;
        let content = match kind.as_str() {
            "string" => format!("{:?}", t.cmd::<Option<String>>(&["GET", &key]).await),
            "hash" => {
                let mut fields: Vec<(String, String)> = t.cmd(&["HGETALL", &key]).await;
                fields.sort();
                format!("{fields:?}")
            }
            "list" => format!(
                "{:?}",
                t.cmd::<Vec<String>>(&["LRANGE", &key, "0", "-1"]).await
            ),
            "set" => {
                let mut members: Vec<String> = t.cmd(&["SMEMBERS", &key]).await;
                members.sort();
                format!("{members:?}")
            }
            "zset" => format!(
                "{:?}",
                t.cmd::<Vec<String>>(&["ZRANGE", &key, "0", "-1", "WITHSCORES"])
                    .await
            ),
            "stream" => format!("{:?}", t.events().await),
            other => other.to_owned(),
        };
        let ttl: i64 = t.cmd(&["PTTL", &key]).await;
        out.push(format!("{key} {kind} {content} ttl:{}", ttl > 0));
    }
    out
}

async fn add(t: &common::TestQueue, name: &str, opts: serde_json::Value) -> String {
    let added = t.queue().add(&[common::request(name, opts)]).await.unwrap();
    added[0].0.clone()
}

async fn lock_of(t: &common::TestQueue, id: &str) -> Option<String> {
    t.cmd(&["GET", &t.keys.key(&format!("{id}:lock"))]).await
}

#[tokio::test]
async fn next_job_locks_with_the_callers_token_and_reports_an_empty_queue_once() {
    let t = common::queue().await;
    let w = manual(&t, WorkerOptions::default());
    let first = w.next_job("tok-a", false).await.unwrap();
    assert!(first.job.is_none());
    assert!(first.drained, "the first empty fetch drains");
    assert!(
        !w.next_job("tok-a", false).await.unwrap().drained,
        "only once"
    );

    let id = add(&t, "a", json!({})).await;
    let got = w.next_job("tok-a", false).await.unwrap();
    let job = got.job.expect("a job");
    assert_eq!(job.id, id);
    assert_eq!(job.attempts_started, 1);
    assert_eq!(lock_of(&t, &id).await.as_deref(), Some("tok-a"));
    let lock_ttl: i64 = t.cmd(&["PTTL", &t.keys.key(&format!("{id}:lock"))]).await;
    assert!(lock_ttl > 25_000, "the worker's lock duration (30 s)");
    assert!(t.counts_until(|c| c.active == 1 && c.waiting == 0).await);
    w.close().await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_wrong_token_or_an_inactive_job_is_refused_and_nothing_is_written() {
    let t = common::queue().await;
    let w = manual(&t, WorkerOptions::default());
    let id = add(&t, "a", json!({"attempts": 2})).await;
    let waiting = add(&t, "b", json!({})).await;
    w.next_job("tok", false).await.unwrap().job.expect("a job");

    let before = snapshot(&t).await;
    let e = w
        .complete(&id, "other", "1".into(), true)
        .await
        .expect_err("another token");
    assert_eq!(e.code(), ErrorCode::LockMismatch);
    let e = w
        .fail(&id, "other", boom(false), None, true)
        .await
        .expect_err("another token");
    assert_eq!(e.code(), ErrorCode::LockMismatch);
    let e = w
        .move_to_wait(&id, Some("other"))
        .await
        .expect_err("another token");
    assert_eq!(e.code(), ErrorCode::LockMismatch);
    // a waiting job has no lock; with BullMQ's lockless token "0" it is still not active
    let e = w
        .complete(&waiting, "tok", "1".into(), true)
        .await
        .expect_err("not held");
    assert_eq!(e.code(), ErrorCode::LockMissing);
    let e = w
        .fail(&waiting, "0", boom(false), None, true)
        .await
        .expect_err("not active");
    assert_eq!(e.code(), ErrorCode::JobNotInState);
    let e = w
        .complete("nope", "tok", "1".into(), false)
        .await
        .expect_err("no such job");
    assert_eq!(e.code(), ErrorCode::JobNotFound);
    let e = w
        .complete(&id, "", "1".into(), false)
        .await
        .expect_err("empty token");
    assert_eq!(e.code(), ErrorCode::Validation);
    assert_eq!(
        snapshot(&t).await,
        before,
        "refusals write nothing, fetch nothing"
    );
    w.close().await;
    t.cleanup().await;
}

#[tokio::test]
async fn completing_settles_as_the_worker_does_and_fetches_the_next_job_with_the_same_token() {
    let t = common::queue().await;
    let w = manual(&t, WorkerOptions::default());
    let id = add(&t, "a", json!({"removeOnComplete": 1})).await;
    let second = add(&t, "b", json!({"removeOnComplete": 1})).await;
    w.next_job("tok", false).await.unwrap().job.expect("a job");

    let settled = w
        .complete(&id, "tok", r#""done""#.into(), true)
        .await
        .unwrap();
    assert_eq!(settled.attempts_made, 1);
    assert!(settled.finished_on.is_some() && !settled.retrying);
    let next = settled.next.expect("asked for the next job");
    assert_eq!(next.job.expect("the next job").id, second);
    assert_eq!(lock_of(&t, &second).await.as_deref(), Some("tok"));
    assert_eq!(lock_of(&t, &id).await, None);
    let stored = t.queue().get_job(&id).await.unwrap().expect("kept");
    assert_eq!(stored.return_value.unwrap().get(), r#""done""#);
    assert_eq!(stored.attempts_made, 1);
    let events: Vec<String> = t.events().await.into_iter().map(|(e, _)| e).collect();
    assert!(events.contains(&"completed".to_owned()), "{events:?}");

    // the job's own removeOnComplete (keep 1) applies in the same call: the first goes
    let settled = w.complete(&second, "tok", "2".into(), false).await.unwrap();
    assert!(settled.next.is_none());
    assert!(t.queue().get_job(&id).await.unwrap().is_none(), "trimmed");
    assert!(t.counts_until(|c| c.completed == 1 && c.active == 0).await);
    // the attempt reached the worker metrics
    let done: Option<String> = t
        .cmd(&["HGET", &t.keys.key("metrics:completed"), "count"])
        .await;
    assert_eq!(done.as_deref(), Some("2"));
    w.close().await;
    t.cleanup().await;
}

#[tokio::test]
async fn failing_follows_attempts_and_backoff() {
    let t = common::queue().await;
    let w = manual(&t, WorkerOptions::default());
    let id = add(
        &t,
        "a",
        json!({"attempts": 3, "backoff": {"type": "fixed", "delay": 60_000}}),
    )
    .await;
    let other = add(&t, "b", json!({"attempts": 2})).await;
    w.next_job("tok", false).await.unwrap();

    // attempts left and a backoff: delayed, and the next job is fetched
    let s = w.fail(&id, "tok", boom(false), None, true).await.unwrap();
    assert!(s.retrying);
    let delay = s.retry_delay.unwrap();
    assert!(
        delay <= Duration::from_secs(60) && delay >= Duration::from_secs(54),
        "{delay:?}"
    );
    assert_eq!(s.finished_on, None);
    assert_eq!(s.next.unwrap().job.unwrap().id, other);
    let stacks: Vec<String> = serde_json::from_str(s.stacktrace.as_deref().unwrap()).unwrap();
    assert_eq!(stacks, ["Error: boom\n    at test"]);
    assert_eq!(t.queue().job_state(&id).await.unwrap().as_str(), "delayed");

    // attempts left, no backoff: back to wait at once, and no fetch (it would take it again)
    let s = w
        .fail(&other, "tok", boom(false), None, true)
        .await
        .unwrap();
    assert!(s.retrying && s.next.is_none());
    assert_eq!(
        t.queue().job_state(&other).await.unwrap().as_str(),
        "waiting"
    );

    // unrecoverable: failed for good whatever attempts remain
    let again = w.next_job("tok", false).await.unwrap().job.unwrap();
    assert_eq!(again.id, other);
    let s = w
        .fail(&other, "tok", boom(true), None, false)
        .await
        .unwrap();
    assert!(!s.retrying && s.finished_on.is_some());
    assert_eq!(s.attempts_made, 2);
    assert_eq!(
        t.queue().job_state(&other).await.unwrap().as_str(),
        "failed"
    );
    let events: Vec<String> = t.events().await.into_iter().map(|(e, _)| e).collect();
    assert!(events.contains(&"failed".to_owned()), "{events:?}");
    assert!(
        events.contains(&"retries-exhausted".to_owned()),
        "{events:?}"
    );
    w.close().await;
    t.cleanup().await;
}

#[tokio::test]
async fn move_to_wait_puts_the_job_back_by_priority_without_an_attempt() {
    let t = common::queue().await;
    let w = manual(&t, WorkerOptions::default());
    let plain = add(&t, "a", json!({})).await;
    w.next_job("tok", false).await.unwrap();
    let urgent = add(&t, "b", json!({"priority": 1})).await;
    let held = w.next_job("tok", false).await.unwrap().job.unwrap();
    assert_eq!(held.id, urgent);

    assert_eq!(w.move_to_wait(&urgent, Some("tok")).await.unwrap(), 0);
    assert_eq!(
        t.queue().job_state(&urgent).await.unwrap().as_str(),
        "prioritized"
    );
    // without a token: whoever holds it
    w.move_to_wait(&plain, None).await.unwrap();
    assert_eq!(
        t.queue().job_state(&plain).await.unwrap().as_str(),
        "waiting"
    );
    assert_eq!(lock_of(&t, &plain).await, None);
    let job = t.queue().get_job(&plain).await.unwrap().unwrap();
    assert_eq!(job.attempts_made, 0, "no attempt counted");
    w.close().await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_blocking_fetch_waits_for_a_job_and_close_ends_the_wait() {
    let t = common::queue().await;
    let options = WorkerOptions {
        drain_delay: Duration::from_secs(20),
        name: Some("manual-w".into()),
        ..WorkerOptions::default()
    };
    let w = std::sync::Arc::new(manual(&t, options));
    assert!(
        w.next_job("tok", true).await.unwrap().job.is_none(),
        "not drained yet: no wait"
    );

    let client_name = t.keys.worker_client_name(Some("manual-w"));
    let blocked = || async {
        let list: String = t.cmd(&["CLIENT", "LIST"]).await;
        list.lines()
            .any(|l| l.contains(&format!("name={client_name} ")) && l.contains("cmd=bzpopmin"))
    };
    let waiting = tokio::spawn({
        let w = w.clone();
        async move { w.next_job("tok", true).await }
    });
    assert!(common::wait_for(Duration::from_secs(5), blocked).await);
    let id = add(&t, "a", json!({})).await;
    let got = waiting.await.unwrap().unwrap();
    assert_eq!(got.job.expect("the job added during the wait").id, id);

    // drained again: the next call waits, until close ends it
    assert!(w.next_job("tok", false).await.unwrap().job.is_none());
    let waiting = tokio::spawn({
        let w = w.clone();
        async move { w.next_job("tok", true).await }
    });
    assert!(common::wait_for(Duration::from_secs(5), blocked).await);
    let started = Instant::now();
    w.close().await;
    let got = waiting.await.unwrap().unwrap();
    assert!(got.job.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not the 20 s drain delay"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn the_stalled_check_takes_back_jobs_whose_lock_lapsed() {
    let t = common::queue().await;
    let options = WorkerOptions {
        lock_duration: Duration::from_millis(50),
        stalled_interval: Duration::from_millis(10),
        ..WorkerOptions::default()
    };
    let w = manual(&t, options);
    let id = add(&t, "a", json!({})).await;
    w.next_job("tok", false).await.unwrap().job.unwrap();
    // first check marks; once the lock lapsed (not renewed by hand), the next takes it back
    assert!(w.check_stalled().await.unwrap().recovered.is_empty());
    let lapsed = common::wait_for(Duration::from_secs(5), || async {
        lock_of(&t, &id).await.is_none()
    })
    .await;
    assert!(lapsed);
    let recovered = common::wait_for(Duration::from_secs(5), || async {
        w.check_stalled().await.unwrap().recovered == [id.clone()]
    })
    .await;
    assert!(recovered);
    assert_eq!(t.queue().job_state(&id).await.unwrap().as_str(), "waiting");
    w.close().await;
    t.cleanup().await;
}
