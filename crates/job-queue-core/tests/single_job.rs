//! `retry_job.lua`, `update_progress.lua` and `add_log.lua` against a real Redis.

mod common;

use job_queue_core::error::ErrorCode;
use job_queue_core::options::KeepPolicy;
use job_queue_core::scripts::{finish_and_fetch, Action, Settle};
use job_queue_core::time::now_ms;
use serde_json::json;

/// Adds one job and runs it to a final failure.
async fn failed_job(t: &common::TestQueue, opts: serde_json::Value) {
    t.queue().add(&[common::request("a", opts)]).await.unwrap();
    finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(1))
        .await
        .unwrap();
    let fail = Settle {
        id: "1".into(),
        token: "tok".into(),
        action: Action::Failed {
            reason: "broken".into(),
            keep: KeepPolicy::KEEP_ALL,
            attempts: 1,
        },
        stacktrace: Some(r#"["Error: broken"]"#.into()),
        attempts_made: 1,
        dedup_id: None,
        error_name: None,
    };
    finish_and_fetch(
        &mut t.con.clone(),
        &t.keys,
        now_ms(),
        &[fail],
        common::fetch(0),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn retrying_a_failed_job_requeues_it_with_fresh_attempts() {
    let t = common::queue().await;
    failed_job(&t, json!({})).await;
    t.queue().retry_job("1").await.unwrap();
    let counts = t.queue().counts().await.unwrap();
    assert_eq!((counts.failed, counts.waiting), (0, 1));
    let job = t.queue().get_job("1").await.unwrap().unwrap();
    assert_eq!(job.attempts_made, 0);
    assert_eq!(job.failed_reason, None);
    assert_eq!(job.finished_on, None);
    assert_eq!(
        job.stacktrace,
        ["Error: broken"],
        "the stack trace is kept, as BullMQ keeps it"
    );
    let last = t.events().await.pop().unwrap();
    assert_eq!(last.0, "waiting");
    assert_eq!(last.1[1], ("prev".into(), "failed".into()));
    t.cleanup().await;
}

#[tokio::test]
async fn retrying_a_prioritized_job_keeps_its_priority() {
    let t = common::queue().await;
    failed_job(&t, json!({"priority": 7})).await;
    t.queue().retry_job("1").await.unwrap();
    let score: f64 = t.cmd(&["ZSCORE", &t.keys.key("prioritized"), "1"]).await;
    assert_eq!((score / 4_294_967_296f64).floor(), 7.0);
    t.cleanup().await;
}

#[tokio::test]
async fn only_failed_jobs_can_be_retried() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    let waiting = t.queue().retry_job("1").await.unwrap_err();
    assert_eq!(waiting.code(), ErrorCode::JobNotInState);
    let missing = t.queue().retry_job("nope").await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::JobNotFound);
    let wait: i64 = t.cmd(&["LLEN", &t.keys.key("wait")]).await;
    assert_eq!(wait, 1, "nothing moved");
    t.cleanup().await;
}

#[tokio::test]
async fn progress_is_stored_and_announced() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    t.queue()
        .update_progress("1", r#"{"pct":40}"#)
        .await
        .unwrap();
    let job = t.queue().get_job("1").await.unwrap().unwrap();
    assert_eq!(job.progress.get(), r#"{"pct":40}"#);
    let last = t.events().await.pop().unwrap();
    assert_eq!(last.0, "progress");
    assert_eq!(last.1[1], ("data".into(), r#"{"pct":40}"#.into()));
    let not_json = t.queue().update_progress("1", "{oops").await.unwrap_err();
    assert_eq!(not_json.code(), ErrorCode::Validation);
    let missing = t.queue().update_progress("2", "1").await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::JobNotFound);
    t.cleanup().await;
}

#[tokio::test]
async fn logs_append_and_keep_the_newest_lines() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("a", json!({}))])
        .await
        .unwrap();
    let q = t.queue();
    for line in ["one", "two", "three"] {
        q.add_log("1", line, 2).await.unwrap();
    }
    assert_eq!(q.logs("1").await.unwrap(), ["two", "three"]);
    assert_eq!(q.add_log("1", "four", 0).await.unwrap(), 3);
    let missing = q.add_log("2", "x", 0).await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::JobNotFound);
    t.cleanup().await;
}
