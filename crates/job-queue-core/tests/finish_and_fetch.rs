//! `finish_and_fetch.lua` against a real Redis (docs/redis-layout.md).

mod common;

use std::time::Duration;

use job_queue_core::error::ErrorCode;
use job_queue_core::options::KeepPolicy;
use job_queue_core::scripts::{finish_and_fetch, Action, Fetch, FetchResult, Settle};
use job_queue_core::time::now_ms;
use serde_json::json;

const LOCK: Duration = Duration::from_secs(30);

fn fetch(token: &str, count: usize) -> Fetch<'_> {
    Fetch {
        token,
        lock: LOCK,
        count,
        worker_name: Some("w1"),
        limiter: None,
        metric_points: 0,
        metrics: &job_queue_core::metrics::NO_METRICS,
        strict: false,
    }
}

async fn run(t: &common::TestQueue, settle: &[Settle], token: &str, count: usize) -> FetchResult {
    finish_and_fetch(
        &mut t.con.clone(),
        &t.keys,
        now_ms(),
        settle,
        fetch(token, count),
    )
    .await
    .unwrap()
}

fn settle(id: &str, token: &str, action: Action) -> Settle {
    attempt(id, token, action, 1)
}

/// Settles attempt number `n` of the job.
fn attempt(id: &str, token: &str, action: Action, n: u32) -> Settle {
    Settle {
        id: id.into(),
        token: token.into(),
        action,
        stacktrace: Some(r#"["Error: boom"]"#.into()),
        attempts_made: n,
        dedup_id: None,
        error_name: None,
    }
}

fn completed(keep: KeepPolicy) -> Action {
    Action::Completed {
        return_value: r#"{"ok":true}"#.into(),
        keep,
        attempts: 1,
    }
}

#[tokio::test]
async fn fetch_takes_jobs_in_order_under_lock() {
    let t = common::queue().await;
    t.queue()
        .add(&[
            common::request("a", json!({})),
            common::request("b", json!({})),
            common::request("p", json!({"priority": 1})),
        ])
        .await
        .unwrap();
    let r = run(&t, &[], "tok", 3).await;
    let ids: Vec<&str> = r.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(
        ids,
        ["1", "2", "3"],
        "wait before prioritized, FIFO within wait"
    );
    assert_eq!(r.jobs[0].attempts_started, 1);
    assert_eq!(r.jobs[0].processed_by.as_deref(), Some("w1"));
    let lock: String = t.cmd(&["GET", &t.keys.job_sub("1", "lock")]).await;
    assert_eq!(lock, "tok");
    let active: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("active"), "0", "-1"]).await;
    assert_eq!(active, ["3", "2", "1"]);
    let empty = run(&t, &[], "tok", 1).await;
    assert!(empty.jobs.is_empty());
    t.cleanup().await;
}

#[tokio::test]
async fn completing_releases_the_lock_and_records_the_result() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    run(&t, &[], "tok", 1).await;
    let r = run(
        &t,
        &[settle("1", "tok", completed(KeepPolicy::KEEP_ALL))],
        "tok2",
        1,
    )
    .await;
    assert!(r.settled[0].is_ok());
    let job = t.queue().get_job("1").await.unwrap().unwrap();
    assert_eq!(job.return_value.unwrap().get(), r#"{"ok":true}"#);
    assert_eq!(job.attempts_made, 1);
    assert!(job.finished_on.is_some());
    let score: Option<f64> = t.cmd(&["ZSCORE", &t.keys.key("completed"), "1"]).await;
    assert!(score.is_some());
    let lock: i64 = t.cmd(&["EXISTS", &t.keys.job_sub("1", "lock")]).await;
    assert_eq!(lock, 0);
    let names: Vec<String> = t.events().await.into_iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        ["added", "waiting", "active", "completed", "drained"]
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_foreign_lock_token_is_refused() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    run(&t, &[], "tok", 1).await;
    let r = run(
        &t,
        &[settle("1", "other", completed(KeepPolicy::KEEP_ALL))],
        "x",
        0,
    )
    .await;
    assert_eq!(
        r.settled[0].as_ref().unwrap_err().code(),
        ErrorCode::LockMismatch
    );
    let active: i64 = t.cmd(&["LLEN", &t.keys.key("active")]).await;
    assert_eq!(active, 1, "the job stays with its owner");
    t.cleanup().await;
}

#[tokio::test]
async fn retry_later_goes_to_delayed_without_a_failed_event() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({"attempts": 3}))])
        .await
        .unwrap();
    run(&t, &[], "tok", 1).await;
    let before = now_ms();
    let action = Action::RetryLater {
        reason: "boom".into(),
        delay: Duration::from_millis(60_000),
    };
    run(&t, &[settle("1", "tok", action)], "tok", 0).await;
    let score: f64 = t.cmd(&["ZSCORE", &t.keys.key("delayed"), "1"]).await;
    let due = (score / 4096.0).floor() as u64;
    assert!(due >= before + 60_000 && due <= now_ms() + 60_000);
    let job = t.queue().get_job("1").await.unwrap().unwrap();
    assert_eq!(job.attempts_made, 1);
    assert_eq!(job.failed_reason.as_deref(), Some("boom"));
    assert_eq!(job.delay, 60_000);
    let names: Vec<String> = t.events().await.into_iter().map(|e| e.0).collect();
    assert!(!names.contains(&"failed".to_owned()));
    assert_eq!(names.last().unwrap(), "delayed");
    t.cleanup().await;
}

#[tokio::test]
async fn retry_now_requeues_and_final_failure_is_exhausted() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({"attempts": 2}))])
        .await
        .unwrap();
    run(&t, &[], "t1", 1).await;
    let retry = Action::RetryNow {
        reason: "first".into(),
        lifo: false,
        priority: 0,
    };
    let r = run(&t, &[settle("1", "t1", retry)], "t2", 1).await;
    assert_eq!(
        r.jobs.len(),
        1,
        "the retried job is fetched again in the same call"
    );
    assert_eq!(r.jobs[0].attempts_made, 1);
    let fail = Action::Failed {
        reason: "second".into(),
        keep: KeepPolicy::KEEP_ALL,
        attempts: 2,
    };
    run(&t, &[attempt("1", "t2", fail, 2)], "t3", 0).await;
    let failed: Vec<String> = t.cmd(&["ZRANGE", &t.keys.key("failed"), "0", "-1"]).await;
    assert_eq!(failed, ["1"]);
    let events = t.events().await;
    let exhausted = events.iter().find(|e| e.0 == "retries-exhausted").unwrap();
    assert_eq!(
        exhausted.1,
        [
            ("jobId".into(), "1".into()),
            ("attemptsMade".into(), "2".into())
        ]
    );
    t.cleanup().await;
}

#[tokio::test]
async fn keep_policies_delete_and_trim_finished_jobs() {
    let t = common::queue().await;
    let q = t.queue();
    let jobs: Vec<_> = (0..4).map(|_| common::request("a", json!({}))).collect();
    q.add(&jobs).await.unwrap();
    run(&t, &[], "tok", 4).await;
    let keep_two = KeepPolicy::newest(2);
    let remove = KeepPolicy::newest(0);
    let settles = vec![
        settle("1", "tok", completed(keep_two)),
        settle("2", "tok", completed(keep_two)),
        settle("3", "tok", completed(keep_two)),
        settle("4", "tok", completed(remove)),
    ];
    run(&t, &settles, "tok", 0).await;
    let kept: Vec<String> = t
        .cmd(&["ZRANGE", &t.keys.key("completed"), "0", "-1"])
        .await;
    assert_eq!(kept, ["2", "3"]);
    for gone in ["1", "4"] {
        let exists: i64 = t.cmd(&["EXISTS", &t.keys.job(gone)]).await;
        assert_eq!(exists, 0, "job {gone} deleted");
    }
    t.cleanup().await;
}

#[tokio::test]
async fn due_delayed_jobs_are_promoted_by_a_fetch() {
    let t = common::queue().await;
    let mut r = common::request("a", json!({"delay": 1, "timestamp": now_ms() - 10}));
    r.now_ms = now_ms();
    t.queue().add(&[r]).await.unwrap();
    let got = run(&t, &[], "tok", 1).await;
    assert_eq!(got.jobs.len(), 1);
    assert_eq!(got.jobs[0].delay, 0);
    t.cleanup().await;
}

#[tokio::test]
async fn the_rate_limit_is_shared_through_redis() {
    let t = common::queue().await;
    let jobs: Vec<_> = (0..5).map(|_| common::request("a", json!({}))).collect();
    t.queue().add(&jobs).await.unwrap();
    let limited = Fetch {
        limiter: Some((2, Duration::from_secs(10))),
        ..fetch("tok", 5)
    };
    let r = finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], limited)
        .await
        .unwrap();
    assert_eq!(r.jobs.len(), 2);
    let again = finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], limited)
        .await
        .unwrap();
    assert!(again.jobs.is_empty());
    assert!(again.rate_limited.unwrap() > Duration::from_secs(5));
    t.cleanup().await;
}

#[tokio::test]
async fn a_rate_limited_fetch_reports_the_next_delayed_job_and_still_promotes_due_ones() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[
        common::request("a", json!({})),
        common::request("b", json!({})),
    ])
    .await
    .unwrap();
    let limited = Fetch {
        limiter: Some((1, Duration::from_secs(10))),
        ..fetch("tok", 2)
    };
    let r = finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], limited)
        .await
        .unwrap();
    assert_eq!(r.jobs.len(), 1, "the limit lets one job through");
    q.add(&[common::request("later", json!({"delay": 60_000}))])
        .await
        .unwrap();
    let at = now_ms();
    let r = finish_and_fetch(&mut t.con.clone(), &t.keys, at, &[], limited)
        .await
        .unwrap();
    assert!(r.jobs.is_empty() && r.rate_limited.is_some());
    let due = r
        .next_delayed_ms
        .expect("the delayed job's time, limit or not");
    assert!(due >= at + 59_000 && due <= at + 61_000, "{due} vs {at}");
    // at that time, a fetch promotes it although the limit still holds
    let r = finish_and_fetch(&mut t.con.clone(), &t.keys, due, &[], limited)
        .await
        .unwrap();
    assert!(r.jobs.is_empty() && r.rate_limited.is_some());
    assert_eq!(r.next_delayed_ms, None);
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.waiting, counts.delayed), (2, 0));
    t.cleanup().await;
}

#[tokio::test]
async fn a_job_given_back_goes_ahead_of_its_priority_or_to_the_front_of_wait() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[
        common::request("p5-first", json!({"priority": 5})),
        common::request("p5-second", json!({"priority": 5})),
        common::request("p2", json!({"priority": 2})),
        common::request("p9", json!({"priority": 9})),
    ])
    .await
    .unwrap();
    // the fetch takes p2 (job 3), then the first of priority 5 (job 1)
    let got = run(&t, &[], "tok", 2).await;
    let ids: Vec<&str> = got.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["3", "1"]);
    q.add(&[common::request("plain", json!({}))]).await.unwrap();
    let back = [
        settle("1", "tok", Action::Release),
        settle("3", "tok", Action::Release),
    ];
    run(&t, &back, "tok", 0).await;
    let order: Vec<String> = t
        .cmd(&["ZRANGE", &t.keys.key("prioritized"), "0", "-1"])
        .await;
    assert_eq!(
        order,
        ["3", "1", "2", "4"],
        "each job ahead of the others of its priority, not behind them"
    );
    let attempts: Option<String> = t.cmd(&["HGET", &t.keys.job("1"), "atm"]).await;
    assert_eq!(attempts, None, "no attempt counted");
    // a job without a priority goes to the end of wait that workers take next
    q.add(&[common::request("plain-2", json!({}))])
        .await
        .unwrap();
    let got = run(&t, &[], "tok", 1).await;
    assert_eq!(got.jobs[0].id, "5");
    run(&t, &[settle("5", "tok", Action::Release)], "tok", 0).await;
    let wait: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(wait, ["6", "5"]);
    let events = t.events().await;
    assert_eq!(
        events
            .iter()
            .filter(|(e, f)| e == "waiting" && f.contains(&("prev".into(), "active".into())))
            .count(),
        3
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_keep_age_removes_the_oldest_jobs_past_it_at_most_limit_per_call() {
    let t = common::queue().await;
    let q = t.queue();
    let jobs: Vec<_> = (0..5).map(|_| common::request("a", json!({}))).collect();
    q.add(&jobs).await.unwrap();
    run(&t, &[], "tok", 5).await;
    let keep = KeepPolicy {
        count: None,
        age: Some(Duration::from_secs(10)),
        limit: Some(2),
    };
    let start = now_ms();
    // jobs 1..3 finish now; job 4 a minute later, past their age: two of them go
    let first: Vec<Settle> = ["1", "2", "3"]
        .iter()
        .map(|id| settle(id, "tok", completed(keep)))
        .collect();
    finish_and_fetch(&mut t.con.clone(), &t.keys, start, &first, fetch("tok", 0))
        .await
        .unwrap();
    let later = [settle("4", "tok", completed(keep))];
    finish_and_fetch(
        &mut t.con.clone(),
        &t.keys,
        start + 60_000,
        &later,
        fetch("tok", 0),
    )
    .await
    .unwrap();
    let kept: Vec<String> = t
        .cmd(&["ZRANGE", &t.keys.key("completed"), "0", "-1"])
        .await;
    assert_eq!(
        kept,
        ["3", "4"],
        "the two oldest went, the limit kept the third"
    );
    for gone in ["1", "2"] {
        let exists: i64 = t.cmd(&["EXISTS", &t.keys.job(gone)]).await;
        assert_eq!(exists, 0, "job {gone} deleted");
    }
    // without a limit, BullMQ's default (1000) applies: the next settle takes job 3 too
    let unlimited = KeepPolicy {
        limit: None,
        ..keep
    };
    let last = [settle("5", "tok", completed(unlimited))];
    finish_and_fetch(
        &mut t.con.clone(),
        &t.keys,
        start + 60_000,
        &last,
        fetch("tok", 0),
    )
    .await
    .unwrap();
    let kept: Vec<String> = t
        .cmd(&["ZRANGE", &t.keys.key("completed"), "0", "-1"])
        .await;
    assert_eq!(kept, ["4", "5"]);
    t.cleanup().await;
}

#[tokio::test]
async fn due_delayed_jobs_go_ahead_of_a_job_retried_at_once() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[common::request("retried", json!({"attempts": 2}))])
        .await
        .unwrap();
    let got = run(&t, &[], "tok", 1).await;
    assert_eq!(got.jobs[0].id, "1");
    q.add(&[
        common::request("d1", json!({"delay": 50})),
        common::request("d2", json!({"delay": 50})),
    ])
    .await
    .unwrap();
    // the retry settles once the delayed jobs are due: they run first, as BullMQ's retryJob
    // promotes due delayed jobs before it requeues
    let retry = Action::RetryNow {
        reason: "boom".into(),
        lifo: false,
        priority: 0,
    };
    let got = finish_and_fetch(
        &mut t.con.clone(),
        &t.keys,
        now_ms() + 1_000,
        &[settle("1", "tok", retry)],
        fetch("tok", 3),
    )
    .await
    .unwrap();
    let ids: Vec<&str> = got.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["2", "3", "1"]);
    t.cleanup().await;
}

#[tokio::test]
async fn a_job_given_back_stops_the_fetch_while_the_limiter_key_lives() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[
        common::request("a", json!({})),
        common::request("b", json!({})),
    ])
    .await
    .unwrap();
    run(&t, &[], "tok", 1).await;
    // the queue's limiter key (queue.rateLimit), which a worker without a limiter ignores
    // when it fetches, but not after it gave a job back for it (RateLimitError)
    q.pause_rate_limited(60_000).await.unwrap();
    let got = run(&t, &[settle("1", "tok", Action::Release)], "tok", 2).await;
    assert!(got.jobs.is_empty());
    assert!(got.rate_limited.unwrap() > Duration::from_secs(50));
    q.clear_rate_limit().await.unwrap();
    let got = run(&t, &[], "tok", 2).await;
    assert_eq!(got.jobs.len(), 2, "fetched again once the key is gone");
    // a job given back after it was deleted names BullMQ's command for giving back
    let _: i64 = t
        .cmd(&["DEL", &t.keys.job("1"), &t.keys.job_sub("1", "lock")])
        .await;
    let got = run(&t, &[settle("1", "tok", Action::Release)], "tok", 0).await;
    let err = got.settled[0].as_ref().unwrap_err();
    assert_eq!(err.code(), ErrorCode::JobNotFound);
    assert_eq!(
        err.to_string(),
        "Missing key for job 1. moveJobFromActiveToWait"
    );
    t.cleanup().await;
}
