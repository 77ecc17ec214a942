//! What a running worker is told besides outcomes: its lock token travels with each job,
//! concurrency changes while it runs, rate limits asked for by the processor, jobs given back
//! unprocessed, and retry delays worked out by the processor's side.

mod common;

use std::time::{Duration, Instant};

use common::dispatch::{failure, next, start};
use job_queue_core::worker::{Outcome, WorkerEvent, WorkerOptions};
use serde_json::json;

#[tokio::test]
async fn a_dispatched_job_carries_the_token_its_lock_holds() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({"attempts": 1}))])
        .await
        .unwrap();
    let (worker, channel, mut rx) = start(&t, WorkerOptions::default()).await;
    let d = next(&mut rx).await;
    let lock: String = t
        .cmd(&["GET", &t.keys.key(&format!("{}:lock", d.job.id))])
        .await;
    assert_eq!(d.token, lock);
    worker.report(d.handle, Outcome::Completed("1".into()));
    assert!(t.counts_until(|c| c.completed == 1).await);
    let events = channel.events.lock().unwrap().clone();
    assert!(events
        .iter()
        .any(|e| matches!(e, WorkerEvent::Completed { handle: Some(h), .. } if *h == d.handle)));
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn released_jobs_go_back_unprocessed_and_a_given_delay_replaces_the_backoff() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request(
            "a",
            json!({"attempts": 3, "backoff": {"type": "fixed", "delay": 1}}),
        )])
        .await
        .unwrap();
    let (worker, channel, mut rx) = start(&t, WorkerOptions::default()).await;
    let first = next(&mut rx).await;
    worker.report(first.handle, Outcome::Release);
    let again = next(&mut rx).await;
    assert_eq!(again.job.id, first.job.id);
    assert_eq!(again.job.attempts_made, 0, "a release uses no attempt");
    assert!(channel.events.lock().unwrap().is_empty(), "and no event");

    worker.report(
        again.handle,
        Outcome::FailedWithDelay(failure("later"), Duration::from_secs(60)),
    );
    assert!(t.counts_until(|c| c.delayed == 1).await);
    let score: f64 = t
        .cmd(&["ZSCORE", &t.keys.key("delayed"), &again.job.id])
        .await;
    let due = (score as u64) >> 12;
    let now = job_queue_core::time::now_ms();
    assert!(
        due > now + 55_000 && due <= now + 60_000,
        "due in about 60 s, not the job's 1 ms backoff ({} ms)",
        due.saturating_sub(now)
    );
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn concurrency_raised_while_running_fetches_more_at_once() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..4)
        .map(|_| common::request("a", json!({"attempts": 1})))
        .collect();
    t.queue().add(&jobs).await.unwrap();
    let options = WorkerOptions {
        prefetch: job_queue_core::worker::Prefetch::Jobs(0),
        ..Default::default()
    };
    let (worker, _channel, mut rx) = start(&t, options).await;
    let first = next(&mut rx).await;
    assert!(worker.set_concurrency(0).is_err());
    worker.set_concurrency(3).unwrap();
    let second = next(&mut rx).await;
    let third = next(&mut rx).await;
    assert!(rx.try_recv().is_err(), "three at once, not four");
    for d in [first, second, third] {
        worker.report(d.handle, Outcome::Completed("1".into()));
    }
    let fourth = next(&mut rx).await;
    worker.report(fourth.handle, Outcome::Completed("1".into()));
    assert!(t.counts_until(|c| c.completed == 4).await);
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_rate_limit_stops_fetching_for_its_duration() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({"attempts": 1}))])
        .await
        .unwrap();
    let (worker, _channel, mut rx) = start(&t, WorkerOptions::default()).await;
    let first = next(&mut rx).await;
    let limited_at = Instant::now();
    worker.rate_limit(Duration::from_millis(300));
    worker.report(first.handle, Outcome::Release);
    let again = next(&mut rx).await;
    assert_eq!(again.job.id, first.job.id);
    assert!(
        limited_at.elapsed() >= Duration::from_millis(290),
        "fetched again after {:?}",
        limited_at.elapsed()
    );
    worker.report(again.handle, Outcome::Completed("1".into()));
    assert!(t.counts_until(|c| c.completed == 1).await);
    worker.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}
