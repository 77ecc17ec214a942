//! Schedulers, deduplication and the job operations of issue 4 against a real Redis
//! (docs/redis-layout.md).

mod common;

use job_queue_core::error::{Error, ErrorCode};
use job_queue_core::options::KeepPolicy;
use job_queue_core::schedule::NextIteration;
use job_queue_core::scripts::{self, finish_and_fetch, Action, Settle};
use job_queue_core::time::now_ms;
use serde_json::{json, Map, Value};

fn map(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn an_every_scheduler_queues_one_iteration_per_slot() {
    let t = common::queue().await;
    let q = t.queue();
    let template = common::request("tick", json!({"attempts": 2}));
    let first = q
        .upsert_scheduler("s1", &map(json!({"every": 60_000})), &template)
        .await
        .unwrap();
    assert!(first.job_id.starts_with("repeat:s1:"));
    let hash: Map<String, Value> = t
        .cmd::<Vec<(String, String)>>(&["HGETALL", &t.keys.key("repeat:s1")])
        .await
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    assert_eq!(hash["name"], "tick");
    assert_eq!(hash["every"], "60000");
    assert_eq!(hash["ic"], "1");
    assert_eq!(hash["data"], r#"{"x":1}"#);
    // the first iteration of an `every` schedule is due now
    let counts = q.counts().await.unwrap();
    assert_eq!(counts.waiting, 1);

    let job = q.get_job(&first.job_id).await.unwrap().unwrap();
    let opts: Value = serde_json::from_str(job.opts.get()).unwrap();
    assert_eq!(opts["repeat"]["every"], 60_000);
    assert_eq!(opts["repeat"]["count"], 1);
    assert_eq!(opts["repeatJobKey"], "s1");
    assert_eq!(opts["attempts"], 2);
    assert_eq!(job.repeat_job_key.as_deref(), Some("s1"));

    let next = NextIteration::after("s1", &job.id, job.opts.get(), now_ms())
        .unwrap()
        .unwrap();
    let made = scripts::next_iteration(&mut t.con.clone(), &t.keys, &next, now_ms())
        .await
        .unwrap()
        .expect("the current iteration produces the next");
    assert_eq!(made, format!("repeat:s1:{}", first.next + 60_000));
    // the same producer again (a second worker, a retry): nothing new
    let again = scripts::next_iteration(&mut t.con.clone(), &t.keys, &next, now_ms())
        .await
        .unwrap();
    assert_eq!(again, None);
    assert_eq!(q.counts().await.unwrap().delayed, 1);
    let second = q.get_job(&made).await.unwrap().unwrap();
    let opts: Value = serde_json::from_str(second.opts.get()).unwrap();
    assert_eq!(opts["repeat"]["count"], 2);
    assert_eq!(opts["prevMillis"], first.next + 60_000);
    t.cleanup().await;
}

#[tokio::test]
async fn declaring_the_same_schedule_again_changes_nothing() {
    let t = common::queue().await;
    let q = t.queue();
    let template = common::request("tick", json!({}));
    let every = map(json!({"every": 60_000}));
    let first = q.upsert_scheduler("s", &every, &template).await.unwrap();
    let again = q.upsert_scheduler("s", &every, &template).await.unwrap();
    assert_eq!(again.job_id, first.job_id);
    let added = t
        .events()
        .await
        .into_iter()
        .filter(|(e, _)| e == "added")
        .count();
    assert_eq!(added, 1, "no second iteration");
    // a changed definition replaces the waiting iteration
    let other = common::request("tock", json!({}));
    q.upsert_scheduler("s", &every, &other).await.unwrap();
    let job = q.get_job(&first.job_id).await.unwrap().unwrap();
    assert_eq!(job.name, "tock");
    t.cleanup().await;
}

#[tokio::test]
async fn a_cron_scheduler_waits_for_its_fire_time_and_respects_its_limit() {
    let t = common::queue().await;
    let q = t.queue();
    let template = common::request("report", json!({"priority": 3}));
    let repeat = map(json!({"pattern": "0 9 * * *", "tz": "Europe/Berlin", "limit": 2}));
    let first = q
        .upsert_scheduler("daily", &repeat, &template)
        .await
        .unwrap();
    assert!(first.next > now_ms());
    assert_eq!(q.counts().await.unwrap().delayed, 1);
    let list = q.schedulers().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].key, "daily");
    assert_eq!(list[0].pattern.as_deref(), Some("0 9 * * *"));
    assert_eq!(list[0].tz.as_deref(), Some("Europe/Berlin"));
    assert_eq!(list[0].next, Some(first.next));

    let job = q.get_job(&first.job_id).await.unwrap().unwrap();
    assert_eq!(job.priority, 3);
    let next = NextIteration::after("daily", &job.id, job.opts.get(), now_ms())
        .unwrap()
        .expect("iteration 2 of 2");
    assert_eq!(next.at, Some(first.next + 86_400_000));
    let made = scripts::next_iteration(&mut t.con.clone(), &t.keys, &next, now_ms())
        .await
        .unwrap()
        .unwrap();
    let second = q.get_job(&made).await.unwrap().unwrap();
    assert_eq!(
        NextIteration::after("daily", &second.id, second.opts.get(), now_ms()).unwrap(),
        None,
        "a limit of 2 ends the schedule after the second iteration"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn replacing_and_removing_a_scheduler_drops_its_waiting_iteration() {
    let t = common::queue().await;
    let q = t.queue();
    let template = common::request("r", json!({}));
    let a = q
        .upsert_scheduler("s", &map(json!({"pattern": "*/5 * * * *"})), &template)
        .await
        .unwrap();
    let b = q
        .upsert_scheduler("s", &map(json!({"pattern": "0 0 1 1 *"})), &template)
        .await
        .unwrap();
    assert_ne!(a.job_id, b.job_id);
    assert!(q.get_job(&a.job_id).await.unwrap().is_none());
    assert_eq!(q.counts().await.unwrap().delayed, 1);
    assert!(q.remove_scheduler("s").await.unwrap());
    assert!(!q.remove_scheduler("s").await.unwrap());
    assert_eq!(q.counts().await.unwrap().delayed, 0);
    assert!(q.schedulers().await.unwrap().is_empty());
    let removed = t
        .events()
        .await
        .into_iter()
        .filter(|(e, _)| e == "removed")
        .count();
    assert_eq!(removed, 2);
    t.cleanup().await;
}

#[tokio::test]
async fn bad_schedules_are_refused_before_anything_is_written() {
    let t = common::queue().await;
    let q = t.queue();
    let template = common::request("r", json!({}));
    let cases = [
        (json!({"pattern": "61 * * * *"}), "cronExpression"),
        (json!({"pattern": "* * * * *", "every": 5}), "every"),
        (json!({"every": 0}), "every"),
        (
            json!({"pattern": "* * * * *", "tz": "Nowhere/City"}),
            "timezone",
        ),
        (json!({"pattern": "* * * * *", "endDate": 1000}), "endDate"),
        (json!({"pattern": "* * * * *", "limit": 0}), "maxRuns"),
        (json!({}), "cronExpression"),
    ];
    for (repeat, field) in cases {
        let err = q
            .upsert_scheduler("bad", &map(repeat.clone()), &template)
            .await
            .unwrap_err();
        match &err {
            Error::Validation { field: f, .. } => assert_eq!(f, field, "{repeat}: {err}"),
            other => panic!("{repeat}: expected a validation error, got {other:?}"),
        }
    }
    // the rules BullMQ also has fail in its words
    for (repeat, message) in [
        (
            json!({"pattern": "* * * * *", "every": 5}),
            "Both .pattern and .every options are defined for this repeatable job",
        ),
        (
            json!({}),
            "Either .pattern or .every options must be defined for this repeatable job",
        ),
        (
            json!({"pattern": "* * * * *", "immediately": true, "startDate": 4_102_444_800_000u64}),
            "Both .immediately and .startDate options are defined for this repeatable job",
        ),
    ] {
        let err = q
            .upsert_scheduler("bad", &map(repeat.clone()), &template)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), message, "{repeat}");
    }
    let delayed = common::request("r", json!({"delay": 5}));
    let err = q
        .upsert_scheduler("bad", &map(json!({"every": 1000})), &delayed)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("delay"), "{err}");
    let keys: Vec<String> = t.cmd(&["KEYS", &format!("{}:*", t.keys.prefix)]).await;
    assert!(keys.is_empty(), "nothing written: {keys:?}");
}

#[tokio::test]
async fn deduplication_keeps_the_first_job_until_it_finishes() {
    let t = common::queue().await;
    let q = t.queue();
    let dedup = json!({"deduplication": {"id": "d1"}});
    let added = q
        .add(&[
            common::request("a", dedup.clone()),
            common::request("a", dedup.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(added, [("1".to_owned(), true), ("1".to_owned(), false)]);
    assert_eq!(q.counts().await.unwrap().waiting, 1);
    let ev = t.events().await;
    let d = ev.iter().find(|(e, _)| e == "deduplicated").expect("event");
    assert!(d.1.contains(&("deduplicatedJobId".into(), "2".into())));
    // run job 1 to completion: the id is free again
    finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(1))
        .await
        .unwrap();
    let done = Settle {
        id: "1".into(),
        token: "tok".into(),
        action: Action::Completed {
            return_value: "null".into(),
            keep: KeepPolicy::KEEP_ALL,
            attempts: 1,
        },
        stacktrace: None,
        attempts_made: 1,
        dedup_id: Some("d1".into()),
        error_name: None,
    };
    finish_and_fetch(
        &mut t.con.clone(),
        &t.keys,
        now_ms(),
        &[done],
        common::fetch(0),
    )
    .await
    .unwrap();
    let third = q.add(&[common::request("a", dedup)]).await.unwrap();
    assert_eq!(third, [("3".to_owned(), true)]);
    t.cleanup().await;
}

#[tokio::test]
async fn deduplication_with_ttl_and_replace() {
    let t = common::queue().await;
    let q = t.queue();
    let ttl = json!({"deduplication": {"id": "t", "ttl": 60_000}});
    q.add(&[common::request("a", ttl.clone())]).await.unwrap();
    let pttl: i64 = t.cmd(&["PTTL", &t.keys.key("de:t")]).await;
    assert!(pttl > 50_000 && pttl <= 60_000, "{pttl}");
    assert!(!q.add(&[common::request("a", ttl)]).await.unwrap()[0].1);

    let replace =
        json!({"delay": 60_000, "deduplication": {"id": "r", "ttl": 60_000, "replace": true}});
    let first = q
        .add(&[common::request("a", replace.clone())])
        .await
        .unwrap();
    let second = q.add(&[common::request("a", replace)]).await.unwrap();
    assert!(second[0].1, "a delayed owner is replaced");
    assert!(q.get_job(&first[0].0).await.unwrap().is_none());
    let owner: String = t.cmd(&["GET", &t.keys.key("de:r")]).await;
    assert_eq!(owner, second[0].0);
    let bad = job_queue_core::options::AddOptions::from_map(job_queue_core::options::merge([map(
        json!({"deduplication": {"ttl": 5}}),
    )]));
    assert!(bad.unwrap_err().to_string().contains("deduplication.id"));
    t.cleanup().await;
}

#[tokio::test]
async fn priority_delay_promotion_and_removal_of_single_jobs() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[
        common::request("a", json!({})),
        common::request("b", json!({})),
        common::request("c", json!({"delay": 60_000})),
    ])
    .await
    .unwrap();
    // job 2 jumps ahead of job 1
    q.change_priority("2", 1).await.unwrap();
    let got = finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(1))
        .await
        .unwrap();
    assert_eq!(
        got.jobs[0].id, "1",
        "plain waiting jobs still run before prioritized ones"
    );
    q.change_priority("1", 0).await.ok();
    let got = finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(1))
        .await
        .unwrap();
    assert_eq!(got.jobs[0].id, "2");
    assert_eq!(got.jobs[0].priority, 1);

    // a delayed job: moved later, then promoted
    q.change_delay("3", 120_000).await.unwrap();
    let score: f64 = t.cmd(&["ZSCORE", &t.keys.key("delayed"), "3"]).await;
    let due = (score / 4096.0) as u64;
    assert!(due > now_ms() + 110_000, "due {due}");
    assert_eq!(
        q.promote("1").await.unwrap_err().code(),
        ErrorCode::JobNotInState
    );
    q.promote("3").await.unwrap();
    let counts = q.counts().await.unwrap();
    assert_eq!((counts.delayed, counts.waiting), (0, 1));

    assert_eq!(
        q.remove_job("2").await.unwrap_err().code(),
        ErrorCode::JobNotInState
    );
    q.remove_job("3").await.unwrap();
    assert!(q.get_job("3").await.unwrap().is_none());
    assert_eq!(q.counts().await.unwrap().waiting, 0);
    assert_eq!(
        q.remove_job("3").await.unwrap_err().code(),
        ErrorCode::JobNotFound
    );
    assert_eq!(
        q.change_priority("3", 1).await.unwrap_err().code(),
        ErrorCode::JobNotFound
    );
    t.cleanup().await;
}

#[tokio::test]
async fn is_scheduler_knows_scheduler_ids_with_many_segments() {
    let t = common::queue().await;
    let q = t.queue();
    let id = "tenant:region:env:service:queue:task";
    let template = common::request("tick", json!({}));
    q.upsert_scheduler(id, &map(json!({"every": 60_000})), &template)
        .await
        .unwrap();
    assert!(q.is_scheduler(id).await.unwrap());
    assert!(!q.is_scheduler("tenant:region").await.unwrap());
    q.remove_scheduler(id).await.unwrap();
    assert!(!q.is_scheduler(id).await.unwrap());
    t.cleanup().await;
}
