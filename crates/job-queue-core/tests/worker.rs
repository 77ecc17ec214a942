//! The worker loop end to end, with a Rust dispatcher standing in for JavaScript.

mod common;

use std::time::Duration;

use common::dispatch::{channel, start};
use job_queue_core::worker::{Failure, Outcome, Prefetch, WorkerEvent, WorkerOptions};
use serde_json::json;

#[tokio::test]
async fn processes_jobs_with_retries_at_concurrency() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..50)
        .map(|_| common::request("a", json!({"attempts": 2, "backoff": 0})))
        .collect();
    t.queue().add(&jobs).await.unwrap();
    let options = WorkerOptions {
        concurrency: 8,
        ..Default::default()
    };
    let (worker, channel, mut rx) = start(&t, options).await;
    let mut completed = 0;
    while completed < 50 {
        let d = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a job within 10 s")
            .unwrap();
        let outcome = if d.job.attempts_made == 0 {
            Outcome::Failed(Failure {
                name: Some("TypeError".into()),
                message: "first attempt fails".into(),
                stack: Some("Error: first attempt fails".into()),
                unrecoverable: false,
            })
        } else {
            completed += 1;
            Outcome::Completed(format!("{{\"id\":\"{}\"}}", d.job.id))
        };
        worker.report(d.handle, outcome);
    }
    let done = t.counts_until(|c| c.completed == 50).await;
    assert!(done);
    let job = t.queue().get_job("7").await.unwrap().unwrap();
    assert_eq!(job.attempts_made, 2);
    assert_eq!(job.stacktrace, ["Error: first attempt fails"]);
    assert_eq!(job.return_value.unwrap().get(), r#"{"id":"7"}"#);
    worker.close(Duration::from_secs(1)).await;
    let events = channel.events.lock().unwrap().clone();
    let retried = events
        .iter()
        .filter(|e| matches!(e, WorkerEvent::Failed { retrying: true, .. }))
        .count();
    assert_eq!(retried, 50);
    let stats = t.queue().retry_stats().await.unwrap();
    assert_eq!(stats.total_retries, 50);
    assert_eq!(stats.by_attempt.get(&1), Some(&50));
    assert_eq!(stats.by_error_type.get("TypeError"), Some(&50));
    assert_eq!(stats.average_retry_delay, 0.0, "backoff 0 retries at once");
    assert_eq!((stats.retried_succeeded, stats.retried_failed), (50, 0));
    assert_eq!(stats.retry_success_rate, 1.0);
    t.cleanup().await;
}

#[tokio::test]
async fn a_job_past_its_timeout_fails_with_timeout_error_and_follows_its_retries() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request(
            "slow",
            json!({"timeoutMs": 100, "attempts": 2, "backoff": {"type": "fixed", "delay": 50, "jitter": 0}}),
        )])
        .await
        .unwrap();
    let (worker, channel, mut rx) = start(&t, WorkerOptions::default()).await;
    // never report: the processor "hangs" on both attempts
    let first = rx.recv().await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("retried after the timeout")
        .unwrap();
    assert_eq!(second.job.id, first.job.id);
    assert_eq!(second.job.attempts_made, 1);
    assert_eq!(
        second.job.failed_reason.as_deref(),
        Some("job timed out after 100 ms")
    );
    let failed = t.counts_until(|c| c.failed == 1).await;
    assert!(failed, "the second timeout fails it for good");
    let job = t.queue().get_job(&first.job.id).await.unwrap().unwrap();
    assert_eq!(job.error_name.as_deref(), Some("TimeoutError"));
    // a late report for a timed-out attempt changes nothing
    worker.report(second.handle, Outcome::Completed("1".into()));
    let events = channel.events.lock().unwrap().clone();
    let aborted: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            WorkerEvent::TimedOut { handle, .. } => Some(*handle),
            _ => None,
        })
        .collect();
    assert_eq!(aborted, [first.handle, second.handle]);
    worker.close(Duration::from_secs(1)).await;
    assert_eq!(t.queue().counts().await.unwrap().failed, 1);
    let stats = t.queue().retry_stats().await.unwrap();
    assert_eq!(stats.by_error_type.get("TimeoutError"), Some(&1));
    assert_eq!(stats.average_retry_delay, 50.0);
    assert_eq!(stats.retried_failed, 1);
    t.cleanup().await;
}

#[tokio::test]
async fn an_unrecoverable_failure_skips_remaining_attempts() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({"attempts": 5}))])
        .await
        .unwrap();
    let (worker, _, mut rx) = start(&t, WorkerOptions::default()).await;
    let d = rx.recv().await.unwrap();
    worker.report(
        d.handle,
        Outcome::Failed(Failure {
            name: Some("BadInputError".into()),
            message: "bad input".into(),
            stack: None,
            unrecoverable: true,
        }),
    );
    let failed = t.counts_until(|c| c.failed == 1).await;
    assert!(failed);
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_worker_wakes_on_the_marker_when_a_job_arrives() {
    let t = common::queue().await;
    let options = WorkerOptions {
        drain_delay: Duration::from_secs(30),
        ..Default::default()
    };
    let (worker, _, mut rx) = start(&t, options).await;
    // Let the worker find the queue empty and block on the marker.
    let blocked = common::wait_for(Duration::from_secs(5), || async {
        let clients: String = t.cmd(&["CLIENT", "LIST"]).await;
        clients.lines().any(|l| l.contains("cmd=bzpopmin"))
    })
    .await;
    assert!(blocked, "the worker blocks on BZPOPMIN when idle");
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    let d = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("woken well before the 30 s drain delay")
        .unwrap();
    worker.report(d.handle, Outcome::Completed("null".into()));
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn close_gives_unfinished_jobs_back_to_the_queue() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    let (worker, _, mut rx) = start(&t, WorkerOptions::default()).await;
    let _never_reported = rx.recv().await.unwrap();
    worker.close(Duration::from_millis(50)).await;
    let counts = t.queue().counts().await.unwrap();
    assert_eq!((counts.active, counts.waiting), (0, 1));
    let job = t.queue().get_job("1").await.unwrap().unwrap();
    assert_eq!(
        job.attempts_made, 0,
        "a released job has not used an attempt"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn prefetched_jobs_wait_for_a_slot_and_go_back_on_close() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..3).map(|_| common::request("a", json!({}))).collect();
    t.queue().add(&jobs).await.unwrap();
    let options = WorkerOptions {
        concurrency: 1,
        prefetch: Prefetch::Jobs(1),
        ..Default::default()
    };
    let (worker, _, mut rx) = start(&t, options).await;
    let first = rx.recv().await.unwrap();
    let prefetched = t.counts_until(|c| c.active == 2).await;
    assert!(
        prefetched,
        "one job runs and one waits locked in the worker"
    );
    assert!(
        rx.try_recv().is_err(),
        "only one job is handed out at concurrency 1"
    );
    worker.report(first.handle, Outcome::Completed("1".into()));
    let second = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.job.id, "2");
    worker.report(second.handle, Outcome::Completed("2".into()));
    worker.close(Duration::from_secs(1)).await;
    let counts = t.queue().counts().await.unwrap();
    assert_eq!((counts.completed, counts.active, counts.waiting), (2, 0, 1));
    let third = t.queue().get_job("3").await.unwrap().unwrap();
    assert_eq!(
        third.attempts_made, 0,
        "a prefetched job given back used no attempt"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn by_default_no_job_is_held_and_a_later_higher_priority_job_goes_first() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..4)
        .map(|_| common::request("a", json!({"priority": 5})))
        .collect();
    t.queue().add(&jobs).await.unwrap();
    let (worker, _, mut rx) = start(&t, WorkerOptions::default()).await;
    // two short attempts: what made the old default hold a job ahead
    for _ in 0..2 {
        let d = rx.recv().await.unwrap();
        worker.report(d.handle, Outcome::Completed("null".into()));
    }
    let running = rx.recv().await.unwrap();
    assert_eq!(running.job.id, "3");
    let over = common::wait_for(Duration::from_millis(500), || async {
        t.queue().counts().await.unwrap().active > 1
    })
    .await;
    assert!(!over, "active never exceeds the concurrency of 1");
    t.queue()
        .add(&[common::request("urgent", json!({"priority": 1}))])
        .await
        .unwrap();
    worker.report(running.handle, Outcome::Completed("null".into()));
    let next = rx.recv().await.unwrap();
    assert_eq!(
        next.job.name, "urgent",
        "no job held ahead for the urgent one to wait behind"
    );
    worker.report(next.handle, Outcome::Completed("null".into()));
    let last = rx.recv().await.unwrap();
    assert_eq!(last.job.id, "4");
    worker.report(last.handle, Outcome::Completed("null".into()));
    assert!(t.counts_until(|c| c.completed == 5).await);
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn auto_prefetch_holds_one_job_ahead_only_while_jobs_are_short() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..5).map(|_| common::request("a", json!({}))).collect();
    t.queue().add(&jobs).await.unwrap();
    let options = WorkerOptions {
        prefetch: Prefetch::Auto,
        ..Default::default()
    };
    // A first worker shows that nothing is held before an attempt has shown how long jobs
    // take; closing it gives its job back to the front of the queue.
    let (probe, _, mut probe_rx) = start(&t, options.clone()).await;
    probe_rx.recv().await.unwrap();
    assert_eq!(
        t.queue().counts().await.unwrap().active,
        1,
        "nothing is held before an attempt has shown how long jobs take"
    );
    probe.close(Duration::from_secs(1)).await;
    // A second worker's first attempt is reported at once (no Redis read in between, which
    // on a loaded machine could make the attempt look long).
    let (worker, _, mut rx) = start(&t, options).await;
    let first = rx.recv().await.unwrap();
    assert_eq!(first.job.id, "1", "the probe's job went back to the front");
    worker.report(first.handle, Outcome::Completed("1".into()));
    let second = rx.recv().await.unwrap();
    let held = t.counts_until(|c| c.active == 2).await;
    assert!(held, "after a short attempt, one job waits in the worker");
    // the second attempt is long (the processor's work, not a wait for the worker)
    tokio::time::sleep(Duration::from_millis(100)).await;
    worker.report(second.handle, Outcome::Completed("2".into()));
    let third = rx.recv().await.unwrap();
    assert_eq!(third.job.id, "3", "the held job starts next");
    let settled = t.counts_until(|c| c.completed == 2).await;
    assert!(settled);
    // the call that settled job 2 fetched nothing: jobs are long now
    assert_eq!(t.queue().counts().await.unwrap().active, 1);
    worker.report(third.handle, Outcome::Completed("3".into()));
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_job_held_ahead_keeps_its_lock_while_a_long_job_runs() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..3).map(|_| common::request("a", json!({}))).collect();
    t.queue().add(&jobs).await.unwrap();
    let options = WorkerOptions {
        lock_duration: Duration::from_millis(200),
        stalled_interval: Duration::from_millis(100),
        prefetch: Prefetch::Auto,
        ..Default::default()
    };
    let (worker, channel, mut rx) = start(&t, options).await;
    let first = rx.recv().await.unwrap();
    worker.report(first.handle, Outcome::Completed("1".into()));
    let second = rx.recv().await.unwrap();
    let held = t.counts_until(|c| c.active == 2).await;
    assert!(held, "job 3 is held while job 2 runs");
    // job 2 works for three lock lifetimes; stalled checks run every 100 ms meanwhile
    tokio::time::sleep(Duration::from_millis(600)).await;
    let lock: Option<String> = t.cmd(&["GET", &format!("{}:lock", t.keys.job("3"))]).await;
    assert!(lock.is_some(), "the held job's lock was renewed");
    worker.report(second.handle, Outcome::Completed("2".into()));
    let third = rx.recv().await.unwrap();
    assert_eq!(third.job.id, "3");
    assert_eq!(third.job.attempts_made, 0);
    worker.report(third.handle, Outcome::Completed("3".into()));
    let done = t.counts_until(|c| c.completed == 3).await;
    assert!(done);
    worker.close(Duration::from_secs(1)).await;
    let stalled = channel
        .events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, WorkerEvent::Stalled { .. }));
    assert!(!stalled, "no job was taken for stalled");
    t.cleanup().await;
}

#[tokio::test]
async fn metrics_count_outcomes_by_job_type_and_time_them() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..6)
        .map(|i| {
            let name = if i < 4 { "resize" } else { "upload" };
            common::request(name, json!({"attempts": 2, "backoff": 0}))
        })
        .collect();
    t.queue().add(&jobs).await.unwrap();
    let (channel, mut rx) = channel();
    let worker = t
        .engine
        .worker(
            &t.keys.queue,
            WorkerOptions {
                concurrency: 6,
                ..Default::default()
            },
            channel,
        )
        .await
        .unwrap();
    let mut finished = 0;
    while finished < 6 {
        let d = rx.recv().await.unwrap();
        // uploads fail both attempts; resizes complete
        let outcome = if d.job.name == "upload" {
            if d.job.attempts_made == 1 {
                finished += 1;
            }
            Outcome::Failed(Failure {
                name: Some("IoError".into()),
                message: "disk".into(),
                stack: None,
                unrecoverable: false,
            })
        } else {
            finished += 1;
            Outcome::Completed("null".into())
        };
        worker.report(d.handle, outcome);
    }
    let settled = t.counts_until(|c| c.completed == 4 && c.failed == 2).await;
    assert!(settled);
    worker.close(Duration::from_secs(1)).await;
    let m = t.queue().metrics(1).await.unwrap();
    let resize = &m.by_job_type["resize"];
    let upload = &m.by_job_type["upload"];
    assert_eq!((resize.completed, resize.failed), (4, 0));
    assert_eq!(
        (upload.failed, upload.retried, upload.dead_letter),
        (4, 2, 2)
    );
    assert_eq!(m.processing_time.count, 8, "every attempt is timed");
    assert_eq!(m.wait_time.count, 6, "first attempts only");
    let this_and_last = |s: &[u64]| s.iter().take(2).sum::<u64>();
    assert_eq!(this_and_last(&m.completed_per_minute), 4);
    assert_eq!(this_and_last(&m.failed_per_minute), 2);
    assert!((m.error_rate - 2.0 / 6.0).abs() < 1e-9, "{}", m.error_rate);
    let text = job_queue_core::metrics::prometheus_text(&[m]);
    assert!(
        text.contains("jobs_completed_total{queue=\"q\",job_type=\"resize\"} 4"),
        "{text}"
    );
    assert!(
        text.contains("job_processing_duration_seconds_count{queue=\"q\",job_type=\"upload\"} 4")
    );
    assert!(text.contains("queue_jobs_failed{queue=\"q\"} 2"));
    t.cleanup().await;
}

#[tokio::test]
async fn a_rate_limited_worker_promotes_delayed_jobs_when_due_not_when_the_limit_ends() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[
        common::request("now", json!({})),
        common::request("later", json!({"delay": 2500})),
    ])
    .await
    .unwrap();
    let options = WorkerOptions {
        limiter: Some((1, Duration::from_secs(30))),
        ..Default::default()
    };
    let (worker, _channel, mut rx) = start(&t, options).await;
    let first = common::dispatch::next(&mut rx).await;
    worker.report(first.handle, Outcome::Completed("null".into()));
    // the limit (one job per 30 s) now holds. The worker's last call for a while carries the
    // metrics of that job (and, as any call, promotes due jobs): after it, only a fetch made
    // for the delayed job's sake promotes it before the limit ends
    let jq = t.keys.key("metrics:jq");
    let flushed = common::wait_for(Duration::from_secs(5), || async {
        t.cmd::<i64>(&["EXISTS", &jq]).await == 1
    })
    .await;
    assert!(flushed);
    let promoted = common::wait_for(Duration::from_secs(5), || async {
        let c = q.counts().await.unwrap();
        c.delayed == 0 && c.waiting == 1
    })
    .await;
    assert!(
        promoted,
        "the delayed job is promoted while the rate limit holds"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), rx.recv())
            .await
            .is_err(),
        "and not run before the limit ends"
    );
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_job_started_more_often_than_max_started_attempts_fails_without_running() {
    let t = common::queue().await;
    t.queue()
        .add(&[
            common::request("twice", json!({"attempts": 5})),
            common::request("fresh", json!({})),
        ])
        .await
        .unwrap();
    // job 1 started once already (its worker moved it back, say): this start is its second
    let _: i64 = t.cmd(&["HSET", &t.keys.job("1"), "ats", "1"]).await;
    let options = WorkerOptions {
        max_started_attempts: Some(1),
        ..Default::default()
    };
    let (worker, channel, mut rx) = start(&t, options).await;
    let d = common::dispatch::next(&mut rx).await;
    assert_eq!(d.job.id, "2", "job 1 never reached the processor");
    worker.report(d.handle, Outcome::Completed("null".into()));
    assert!(t.counts_until(|c| c.failed == 1 && c.completed == 1).await);
    let job = t.queue().get_job("1").await.unwrap().unwrap();
    assert_eq!(
        job.failed_reason.as_deref(),
        Some("job started more than allowable limit")
    );
    assert_eq!((job.attempts_made, job.attempts_started), (1, 2));
    let events = channel.events.lock().unwrap().clone();
    assert!(events.iter().any(|e| matches!(e,
        WorkerEvent::Failed { id, retrying: false, error_name: Some(n), job: Some(_), .. }
            if id == "1" && n == "UnrecoverableError")));
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}
