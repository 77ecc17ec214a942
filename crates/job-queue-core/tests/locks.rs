//! `extend_locks.lua` and `check_stalled.lua` against a real Redis (docs/redis-layout.md).

mod common;

use std::time::Duration;

use job_queue_core::scripts::{check_stalled, extend_locks, finish_and_fetch, Fetch};
use job_queue_core::time::now_ms;
use serde_json::json;

async fn take(t: &common::TestQueue, token: &str, lock: Duration) {
    let fetch = Fetch {
        token,
        lock,
        count: 10,
        worker_name: None,
        limiter: None,
        metric_points: 0,
        metrics: &job_queue_core::metrics::NO_METRICS,
        strict: false,
    };
    finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], fetch)
        .await
        .unwrap();
}

#[tokio::test]
async fn renewal_extends_own_locks_and_reports_foreign_ones() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    take(&t, "tok", Duration::from_millis(1000)).await;
    let _: () = t.cmd(&["SADD", &t.keys.key("stalled"), "1"]).await;
    let jobs = [
        ("1".to_owned(), "tok".to_owned()),
        ("1".to_owned(), "bad".to_owned()),
    ];
    let lost = extend_locks(&mut t.con.clone(), &t.keys, Duration::from_secs(60), &jobs)
        .await
        .unwrap();
    assert_eq!(lost, ["1"], "the wrong token is not renewed");
    let ttl: i64 = t.cmd(&["PTTL", &t.keys.job_sub("1", "lock")]).await;
    assert!(ttl > 50_000);
    let stalled: i64 = t.cmd(&["SCARD", &t.keys.key("stalled")]).await;
    assert_eq!(stalled, 0, "renewal clears the stalled mark");
    t.cleanup().await;
}

#[tokio::test]
async fn a_job_whose_lock_expired_is_recovered_then_failed_past_the_limit() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    let interval = Duration::from_millis(10);
    let check = |max| {
        let t = &t;
        async move {
            let _: () = t.cmd(&["DEL", &t.keys.key("stalled-check")]).await;
            check_stalled(&mut t.con.clone(), &t.keys, max, now_ms(), interval)
                .await
                .unwrap()
        }
    };
    take(&t, "tok", Duration::from_millis(20)).await;
    assert!(
        check(1).await.recovered.is_empty(),
        "first check only marks"
    );
    let lock = t.keys.job_sub("1", "lock");
    let expired = common::wait_for(Duration::from_secs(2), || async {
        t.cmd::<i64>(&["EXISTS", &lock]).await == 0
    })
    .await;
    assert!(expired);
    let first = check(1).await;
    assert_eq!(first.recovered, ["1"]);
    assert!(first.exceeded.is_empty());
    let wait: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(wait, ["1"]);
    take(&t, "tok2", Duration::from_millis(20)).await;
    check(1).await;
    common::wait_for(Duration::from_secs(2), || async {
        t.cmd::<i64>(&["EXISTS", &lock]).await == 0
    })
    .await;
    let second = check(1).await;
    assert_eq!(second.exceeded, ["1"]);
    let defa: String = t.cmd(&["HGET", &t.keys.job("1"), "defa"]).await;
    assert_eq!(defa, "job stalled more than allowable limit");
    let names: Vec<String> = t.events().await.into_iter().map(|e| e.0).collect();
    assert_eq!(names.iter().filter(|n| *n == "stalled").count(), 2);
    t.cleanup().await;
}

#[tokio::test]
async fn the_check_runs_once_per_interval() {
    let t = common::queue().await;
    let interval = Duration::from_secs(60);
    let mut con = t.con.clone();
    check_stalled(&mut con, &t.keys, 1, now_ms(), interval)
        .await
        .unwrap();
    let ttl: i64 = t.cmd(&["PTTL", &t.keys.key("stalled-check")]).await;
    assert!(ttl > 50_000);
    t.cleanup().await;
}
