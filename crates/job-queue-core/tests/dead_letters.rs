//! Dead letters against a real Redis: archive, purge by age, and the failure statistics.

mod common;

use job_queue_core::error::ErrorCode;
use job_queue_core::options::KeepPolicy;
use job_queue_core::scripts::{finish_and_fetch, Action, Settle};
use job_queue_core::time::now_ms;
use serde_json::json;

/// Adds jobs named `names` and fails each for good with the matching error name, at `at` ms.
async fn dead_letters(
    t: &common::TestQueue,
    names: &[&str],
    errors: &[&str],
    at: u64,
) -> Vec<String> {
    let requests: Vec<_> = names
        .iter()
        .map(|n| common::request(n, json!({})))
        .collect();
    let ids: Vec<String> = t
        .queue()
        .add(&requests)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    finish_and_fetch(
        &mut t.con.clone(),
        &t.keys,
        at,
        &[],
        common::fetch(ids.len()),
    )
    .await
    .unwrap();
    let settle: Vec<Settle> = ids
        .iter()
        .zip(errors)
        .map(|(id, error)| Settle {
            id: id.clone(),
            token: "tok".into(),
            action: Action::Failed {
                reason: format!("{error} happened"),
                keep: KeepPolicy::KEEP_ALL,
                attempts: 1,
            },
            stacktrace: Some("[]".into()),
            attempts_made: 1,
            dedup_id: None,
            error_name: Some((*error).to_owned()),
        })
        .collect();
    finish_and_fetch(&mut t.con.clone(), &t.keys, at, &settle, common::fetch(0))
        .await
        .unwrap();
    ids
}

#[tokio::test]
async fn statistics_count_dead_letters_by_name_and_error_type() {
    let t = common::queue().await;
    let hour_ago = now_ms() - 3_600_000;
    dead_letters(
        &t,
        &["email", "email"],
        &["TypeError", "TimeoutError"],
        hour_ago,
    )
    .await;
    dead_letters(&t, &["sms"], &["TimeoutError"], now_ms()).await;
    let s = t.queue().failed_stats().await.unwrap();
    assert_eq!(s.total, 3);
    assert_eq!(
        s.by_job_name,
        [("email".to_owned(), 2), ("sms".to_owned(), 1)].into()
    );
    assert_eq!(
        s.by_error_type,
        [("TimeoutError".to_owned(), 2), ("TypeError".to_owned(), 1)].into()
    );
    assert_eq!(s.oldest_failure, Some(hour_ago));
    assert_eq!(
        s.recent_failures, 1,
        "only sms failed in the last 15 minutes"
    );
    assert!((s.recent_failure_rate - 1.0 / 15.0).abs() < 1e-9);
    t.cleanup().await;
}

#[tokio::test]
async fn archiving_keeps_the_job_out_of_the_failed_set_and_purging_deletes_by_age() {
    let t = common::queue().await;
    let q = t.queue();
    let day_ago = now_ms() - 86_400_000;
    let old = dead_letters(&t, &["a", "b"], &["Error", "Error"], day_ago).await;
    let fresh = dead_letters(&t, &["c"], &["Error"], now_ms()).await;

    q.archive_failed(&old[0]).await.unwrap();
    assert_eq!(q.counts().await.unwrap().failed, 2);
    let archived = q.archived_jobs(0, -1).await.unwrap();
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].id, old[0]);
    assert!(archived[0].archived_on.is_some());
    assert_eq!(archived[0].failed_reason.as_deref(), Some("Error happened"));
    let err = q.archive_failed(&old[0]).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::JobNotInState);

    // failed more than an hour ago: only old[1]; the archived one is not touched
    assert_eq!(q.purge_failed(Some(now_ms() - 3_600_000)).await.unwrap(), 1);
    assert!(q.get_job(&old[1]).await.unwrap().is_none());
    assert!(q.get_job(&old[0]).await.unwrap().is_some());
    assert_eq!(q.purge_failed(None).await.unwrap(), 1);
    assert!(q.get_job(&fresh[0]).await.unwrap().is_none());
    assert_eq!(q.counts().await.unwrap().failed, 0);
    let cleaned = t
        .events()
        .await
        .into_iter()
        .filter(|(e, _)| e == "cleaned")
        .count();
    assert_eq!(cleaned, 2);
    t.cleanup().await;
}
