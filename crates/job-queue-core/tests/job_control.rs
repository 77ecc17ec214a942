//! The engine behind BullMQ's `Job` methods (`job_control.rs`, `update_data.lua`,
//! `move_to_delayed.lua`, and the lock and scheduler checks of `remove_job.lua`) against a
//! real Redis.

mod common;

use std::time::Duration;

use job_queue_core::error::ErrorCode;
use job_queue_core::job_control::{Finished, FinishedSet, JobState};
use job_queue_core::scripts::finish_and_fetch;
use job_queue_core::time::now_ms;
use serde_json::json;

/// Adds jobs named `names` (ids 1, 2, ...) and makes the first `active` of them active under
/// the token "tok".
async fn jobs(t: &common::TestQueue, names: &[&str], active: usize) {
    let requests: Vec<_> = names
        .iter()
        .map(|n| common::request(n, json!({})))
        .collect();
    t.queue().add(&requests).await.unwrap();
    if active > 0 {
        finish_and_fetch(
            &mut t.con.clone(),
            &t.keys,
            now_ms(),
            &[],
            common::fetch(active),
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn job_state_names_each_state_as_bullmq_does() {
    let t = common::queue().await;
    jobs(&t, &["a", "b"], 1).await;
    let q = t.queue();
    assert_eq!(q.job_state("1").await.unwrap(), JobState::Active);
    assert_eq!(q.job_state("2").await.unwrap(), JobState::Waiting);
    assert_eq!(q.job_state("9").await.unwrap(), JobState::Unknown);
    q.change_priority_lifo("2", 3, false).await.unwrap();
    assert_eq!(q.job_state("2").await.unwrap(), JobState::Prioritized);
    assert_eq!(q.finished("2").await.unwrap(), Finished::No);
    assert_eq!(q.finished("9").await.unwrap(), Finished::Missing);
    t.cleanup().await;
}

#[tokio::test]
async fn update_data_checks_its_input_before_writing() {
    let t = common::queue().await;
    jobs(&t, &["a"], 0).await;
    let q = t.queue();
    q.update_data("1", r#"{"y":2}"#, 1024).await.unwrap();
    let job = q.get_job("1").await.unwrap().unwrap();
    assert_eq!(job.data.get(), r#"{"y":2}"#);
    for bad in ["[1]", "{not json", "3"] {
        let err = q.update_data("1", bad, 1024).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{bad}");
    }
    let err = q
        .update_data("1", r#"{"big":"xxxx"}"#, 5)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    let err = q.update_data("7", "{}", 1024).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::JobNotFound);
    assert_eq!(
        q.get_job("1").await.unwrap().unwrap().data.get(),
        r#"{"y":2}"#
    );
    t.cleanup().await;
}

#[tokio::test]
async fn extend_lock_renews_only_for_the_token_that_holds_it() {
    let t = common::queue().await;
    jobs(&t, &["a"], 1).await;
    let q = t.queue();
    assert!(q
        .extend_lock("1", "tok", Duration::from_secs(90))
        .await
        .unwrap());
    let ttl: i64 = t.cmd(&["PTTL", &t.keys.job_sub("1", "lock")]).await;
    assert!(ttl > 60_000, "renewed to {ttl}");
    assert!(!q
        .extend_lock("1", "other", Duration::from_secs(1))
        .await
        .unwrap());
    let ttl: i64 = t.cmd(&["PTTL", &t.keys.job_sub("1", "lock")]).await;
    assert!(ttl > 60_000, "untouched by another token");
    t.cleanup().await;
}

#[tokio::test]
async fn move_to_delayed_checks_the_token_then_frees_the_lock_and_keeps_the_attempt() {
    let t = common::queue().await;
    jobs(&t, &["a", "b"], 1).await;
    let q = t.queue();
    let due = now_ms() + 60_000;
    let err = q
        .move_to_delayed("1", due, Some("other"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LockMismatch);
    assert_eq!(q.job_state("1").await.unwrap(), JobState::Active);
    let err = q.move_to_delayed("2", due, Some("tok")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::JobNotInState, "job 2 is not active");

    let delay = q.move_to_delayed("1", due, Some("tok")).await.unwrap();
    assert!(delay > 59_000 && delay <= 60_000);
    assert_eq!(q.job_state("1").await.unwrap(), JobState::Delayed);
    let lock: i64 = t.cmd(&["EXISTS", &t.keys.job_sub("1", "lock")]).await;
    assert_eq!(lock, 0);
    let job = q.get_job("1").await.unwrap().unwrap();
    assert_eq!(job.attempts_made, 0);
    assert_eq!(job.delay, delay);
    let (name, fields) = t.events().await.pop().unwrap();
    assert_eq!(name, "delayed");
    assert_eq!(fields[1], ("delay".into(), due.to_string()));
    t.cleanup().await;
}

#[tokio::test]
async fn retry_finished_takes_a_job_from_the_set_named() {
    let t = common::queue().await;
    jobs(&t, &["a"], 0).await;
    let q = t.queue();
    let err = q
        .retry_finished("1", FinishedSet::Completed, false, false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::JobNotInState);
    assert_eq!(
        FinishedSet::parse("active").unwrap_err().code(),
        ErrorCode::Validation
    );
    t.cleanup().await;
}

#[tokio::test]
async fn remove_refuses_a_locked_job_and_a_schedulers_next_run() {
    let t = common::queue().await;
    jobs(&t, &["a"], 1).await;
    let q = t.queue();
    let err = q.remove_job("1").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::JobNotInState);
    assert!(q.get_job("1").await.unwrap().is_some());

    // a job the repeat set names as a scheduler's next run
    let next = "repeat:s1:1000";
    let _: () = t
        .cmd(&[
            "HSET",
            &t.keys.job(next),
            "name",
            "n",
            "data",
            "{}",
            "opts",
            "{}",
            "rjk",
            "s1",
        ])
        .await;
    let _: () = t.cmd(&["ZADD", &t.keys.key("repeat"), "1000", "s1"]).await;
    let err = q.remove_job(next).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::JobNotInState);
    assert!(err.to_string().contains("scheduler"));
    // once the scheduler points elsewhere, the old run can go
    let _: () = t.cmd(&["ZADD", &t.keys.key("repeat"), "2000", "s1"]).await;
    q.remove_job(next).await.unwrap();
    assert!(q.get_job(next).await.unwrap().is_none());
    t.cleanup().await;
}

#[tokio::test]
async fn clear_logs_empties_a_log_or_keeps_its_newest_lines() {
    let t = common::queue().await;
    jobs(&t, &["a"], 0).await;
    let q = t.queue();
    for line in ["one", "two", "three"] {
        q.add_log("1", line, 0).await.unwrap();
    }
    assert_eq!(
        q.clear_logs("1", 5).await.unwrap(),
        3,
        "more than there are: all stay"
    );
    assert_eq!(q.clear_logs("1", 2).await.unwrap(), 2);
    assert_eq!(q.logs("1").await.unwrap(), ["two", "three"]);
    assert_eq!(q.clear_logs("1", 0).await.unwrap(), 0);
    assert!(q.logs("1").await.unwrap().is_empty());
    let gone: i64 = t.cmd(&["EXISTS", &t.keys.job_sub("1", "logs")]).await;
    assert_eq!(gone, 0);
    // a job without a log, or no job at all: nothing to do
    assert_eq!(q.clear_logs("404", 0).await.unwrap(), 0);
    t.cleanup().await;
}

#[tokio::test]
async fn extend_locks_renews_the_pairs_whose_token_holds_the_lock() {
    let t = common::queue().await;
    jobs(&t, &["a", "b"], 2).await;
    let q = t.queue();
    let pairs = [
        ("1".to_owned(), "tok".to_owned()),
        ("2".to_owned(), "other".to_owned()),
        ("3".to_owned(), "tok".to_owned()),
    ];
    let lost = q
        .extend_locks(&pairs, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(lost, ["2", "3"]);
    let ttl: i64 = t.cmd(&["PTTL", &t.keys.job_sub("1", "lock")]).await;
    assert!(ttl > 60_000, "renewed to 120 s, got {ttl}");
    let ttl: i64 = t.cmd(&["PTTL", &t.keys.job_sub("2", "lock")]).await;
    assert!(ttl <= 30_000, "another token's lock is left alone");
    let err = q.extend_locks(&pairs, Duration::ZERO).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    t.cleanup().await;
}
