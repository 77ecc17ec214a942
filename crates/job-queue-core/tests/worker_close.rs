//! A worker's life at its two ends: connected before it runs (listed by BullMQ's getWorkers,
//! fetching nothing), and closed without waiting (BullMQ's `close(true)`), which leaves its
//! running jobs to the stalled check.

mod common;

use std::time::{Duration, Instant};

use common::dispatch::{channel, next, start};
use job_queue_core::worker::{Outcome, Prefetch, WorkerEvent, WorkerOptions};
use serde_json::json;

#[tokio::test]
async fn a_connected_worker_is_listed_but_fetches_nothing_until_it_runs() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    let (dispatcher, mut rx) = channel();
    let worker = t
        .engine
        .connect_worker(&t.keys.queue, WorkerOptions::default(), dispatcher)
        .await
        .unwrap();
    assert_eq!(t.queue().worker_count().await.unwrap(), 1, "listed at once");
    // for a while, nothing is fetched and no heartbeat is written
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        let counts = t.queue().counts().await.unwrap();
        assert_eq!((counts.waiting, counts.active), (1, 0));
        assert!(rx.try_recv().is_err());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let registered: bool = t
        .cmd(&[
            "HEXISTS",
            &job_queue_core::keys::PrefixKeys::new(&t.keys.prefix).workers()[0],
            worker.id(),
        ])
        .await;
    assert!(!registered, "no registry entry before it runs");

    worker.run();
    let d = next(&mut rx).await;
    worker.report(d.handle, Outcome::Completed("1".into()));
    assert!(t.counts_until(|c| c.completed == 1).await);
    worker.close(Duration::from_secs(1)).await;
    assert_eq!(
        t.queue().worker_count().await.unwrap(),
        0,
        "its connection is gone once close returns"
    );

    // closed without ever running: gone as well, and nothing fetched
    t.queue()
        .add(&[common::request("b", json!({}))])
        .await
        .unwrap();
    let (idle_channel, mut idle_rx) = channel();
    let idle = t
        .engine
        .connect_worker(&t.keys.queue, WorkerOptions::default(), idle_channel)
        .await
        .unwrap();
    assert_eq!(t.queue().worker_count().await.unwrap(), 1);
    idle.close(Duration::from_secs(1)).await;
    idle.run(); // too late: nothing starts
    assert_eq!(t.queue().worker_count().await.unwrap(), 0);
    assert!(idle_rx.try_recv().is_err());
    assert_eq!(t.queue().counts().await.unwrap().waiting, 1);
    t.cleanup().await;
}

#[tokio::test]
async fn close_abandoning_leaves_running_jobs_to_the_stalled_check() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..2).map(|_| common::request("a", json!({}))).collect();
    t.queue().add(&jobs).await.unwrap();
    let options = WorkerOptions {
        concurrency: 1,
        prefetch: Prefetch::Jobs(1),
        lock_duration: Duration::from_millis(300),
        // the check's interval holds off every worker's check (`stalled-check`), so short
        stalled_interval: Duration::from_millis(50),
        ..Default::default()
    };
    let (worker, _, mut rx) = start(&t, options).await;
    let running = next(&mut rx).await;
    assert!(
        t.counts_until(|c| c.active == 2).await,
        "one job runs, one is held"
    );
    worker.close_abandoning().await;
    let counts = t.queue().counts().await.unwrap();
    assert_eq!(
        (counts.active, counts.waiting),
        (1, 1),
        "the running job stays active; the held one, never started, is given back"
    );
    let lock_key = t.keys.key(&format!("{}:lock", running.job.id));
    let lock: Option<String> = t.cmd(&["GET", &lock_key]).await;
    assert_eq!(
        lock.as_deref(),
        Some(running.token.as_str()),
        "nothing released"
    );
    // a late outcome is ignored
    worker.report(running.handle, Outcome::Completed("late".into()));
    // and the lock lapses: nothing renews it
    let lapsed = common::wait_for(Duration::from_secs(5), || async {
        !t.cmd::<bool>(&["EXISTS", &lock_key]).await
    })
    .await;
    assert!(lapsed, "the abandoned job's lock lapses");
    let job = t.queue().get_job(&running.job.id).await.unwrap().unwrap();
    assert_eq!(
        (job.attempts_made, job.finished_on),
        (0, None),
        "not settled"
    );
    assert_eq!(t.queue().counts().await.unwrap().active, 1);

    // another worker's stalled check gives it back and counts the stall
    let (second, channel, mut rx2) = start(
        &t,
        WorkerOptions {
            concurrency: 2,
            stalled_interval: Duration::from_millis(50),
            ..Default::default()
        },
    )
    .await;
    let mut ids = Vec::new();
    while ids.len() < 2 {
        let d = next(&mut rx2).await;
        if d.job.id == running.job.id {
            assert_eq!(d.job.stalled_counter, 1);
            assert_eq!(d.job.attempts_started, 2);
        }
        ids.push(d.job.id.clone());
        second.report(d.handle, Outcome::Completed("2".into()));
    }
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
    assert!(t.counts_until(|c| c.completed == 2).await);
    let events = channel.events.lock().unwrap().clone();
    assert!(events
        .iter()
        .any(|e| matches!(e, WorkerEvent::Stalled { id } if *id == running.job.id)));
    second.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}

#[tokio::test]
async fn a_job_that_stalled_too_often_fails_unrun_and_its_event_carries_the_job() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({"attempts": 3}))])
        .await
        .unwrap();
    let options = WorkerOptions {
        lock_duration: Duration::from_millis(200),
        stalled_interval: Duration::from_millis(50),
        max_stalled_count: 0,
        ..Default::default()
    };
    let (first, _, mut rx) = start(&t, options.clone()).await;
    let running = next(&mut rx).await;
    first.close_abandoning().await;
    let (second, channel, mut rx2) = start(&t, options).await;
    assert!(t.counts_until(|c| c.failed == 1).await);
    assert!(rx2.try_recv().is_err(), "never dispatched");
    let events = channel.events.lock().unwrap().clone();
    let failed = events.iter().find_map(|e| match e {
        WorkerEvent::Failed {
            handle,
            id,
            reason,
            retrying,
            job,
            ..
        } => Some((*handle, id.clone(), reason.clone(), *retrying, job.clone())),
        _ => None,
    });
    let (handle, id, reason, retrying, job) = failed.expect("a failed event");
    assert_eq!((handle, id.as_str()), (None, running.job.id.as_str()));
    assert_eq!(reason, "job stalled more than allowable limit");
    assert!(!retrying, "failed for good, attempts left or not");
    let job = job.expect("the job as fetched");
    assert_eq!(job.id, running.job.id);
    assert_eq!((job.stalled_counter, job.attempts_started), (1, 2));
    drop(rx);
    second.close(Duration::from_secs(1)).await;
    t.cleanup().await;
}
