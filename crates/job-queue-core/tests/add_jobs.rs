//! `add_jobs.lua` against a real Redis: the layout BullMQ expects after an add.

mod common;

use serde_json::json;

#[tokio::test]
async fn standard_add_writes_the_bullmq_layout() {
    let t = common::queue().await;
    let added = t
        .queue()
        .add(&[common::request("n", json!({}))])
        .await
        .unwrap();
    assert_eq!(added, vec![("1".to_owned(), true)]);
    let hash: std::collections::HashMap<String, String> =
        t.cmd(&["HGETALL", &t.keys.job("1")]).await;
    assert_eq!(hash["name"], "n");
    assert_eq!(hash["data"], r#"{"x":1}"#);
    assert_eq!(hash["delay"], "0");
    assert_eq!(hash["priority"], "0");
    let opts: serde_json::Value = serde_json::from_str(&hash["opts"]).unwrap();
    assert_eq!(opts["attempts"], 1);
    let wait: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(wait, ["1"]);
    let marker: Vec<(String, f64)> = t
        .cmd(&["ZRANGE", &t.keys.key("marker"), "0", "-1", "WITHSCORES"])
        .await;
    assert_eq!(marker, [("0".to_owned(), 0.0)]);
    let names: Vec<String> = t.events().await.into_iter().map(|e| e.0).collect();
    assert_eq!(names, ["added", "waiting"]);
    t.cleanup().await;
}

#[tokio::test]
async fn alike_and_different_jobs_in_one_call_each_keep_their_own_fields() {
    let t = common::queue().await;
    let mut jobs: Vec<_> = (0..3).map(|_| common::request("same", json!({}))).collect();
    for (i, job) in jobs.iter_mut().enumerate() {
        job.data = format!(r#"{{"i":{i}}}"#);
    }
    jobs.push(common::request("later", json!({"delay": 60000})));
    jobs.push(common::request("other", json!({"attempts": 3})));
    jobs.push(common::request("same", json!({"jobId": "mine"})));
    let added = t.queue().add(&jobs).await.unwrap();
    let ids: Vec<&str> = added.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "mine"]);
    for (id, name, data, delay) in [
        ("1", "same", r#"{"i":0}"#, "0"),
        ("3", "same", r#"{"i":2}"#, "0"),
        ("4", "later", r#"{"x":1}"#, "60000"),
        ("5", "other", r#"{"x":1}"#, "0"),
        ("mine", "same", r#"{"x":1}"#, "0"),
    ] {
        let hash: std::collections::HashMap<String, String> =
            t.cmd(&["HGETALL", &t.keys.job(id)]).await;
        assert_eq!(
            (
                hash["name"].as_str(),
                hash["data"].as_str(),
                hash["delay"].as_str()
            ),
            (name, data, delay),
            "job {id}"
        );
    }
    let opts: String = t.cmd(&["HGET", &t.keys.job("5"), "opts"]).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&opts).unwrap()["attempts"],
        3
    );
    let wait: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(wait, ["mine", "5", "3", "2", "1"]);
    let delayed: i64 = t.cmd(&["ZCARD", &t.keys.key("delayed")]).await;
    assert_eq!(delayed, 1);
    t.cleanup().await;
}

#[tokio::test]
async fn existing_custom_id_is_left_alone() {
    let t = common::queue().await;
    let q = t.queue();
    let first = q
        .add(&[common::request("a", json!({"jobId": "my-id"}))])
        .await
        .unwrap();
    let second = q
        .add(&[common::request("b", json!({"jobId": "my-id"}))])
        .await
        .unwrap();
    assert_eq!(first, vec![("my-id".to_owned(), true)]);
    assert_eq!(second, vec![("my-id".to_owned(), false)]);
    let name: String = t.cmd(&["HGET", &t.keys.job("my-id"), "name"]).await;
    assert_eq!(name, "a");
    let counter: String = t.cmd(&["GET", &t.keys.key("id")]).await;
    assert_eq!(
        counter, "2",
        "the id counter advances on every add, as BullMQ's does"
    );
    let wait: i64 = t.cmd(&["LLEN", &t.keys.key("wait")]).await;
    assert_eq!(wait, 1);
    assert!(t.events().await.iter().any(|e| e.0 == "duplicated"));
    t.cleanup().await;
}

#[tokio::test]
async fn delayed_scores_are_shifted_with_a_sequence() {
    let t = common::queue().await;
    let mut a = common::request("a", json!({"delay": 5000, "timestamp": 1_000_000}));
    a.now_ms = 0;
    let b = a.clone();
    t.queue().add(&[a, b]).await.unwrap();
    let scores: Vec<(String, f64)> = t
        .cmd(&["ZRANGE", &t.keys.key("delayed"), "0", "-1", "WITHSCORES"])
        .await;
    let due = 1_005_000f64;
    assert_eq!(
        scores,
        [("1".into(), due * 4096.0), ("2".into(), due * 4096.0 + 1.0)]
    );
    let marker: f64 = t.cmd(&["ZSCORE", &t.keys.key("marker"), "1"]).await;
    assert_eq!(marker, due);
    t.cleanup().await;
}

#[tokio::test]
async fn priorities_and_lifo_follow_bullmq_ordering() {
    let t = common::queue().await;
    let q = t.queue();
    q.add(&[
        common::request("p5", json!({"priority": 5})),
        common::request("p5b", json!({"priority": 5})),
        common::request("p1", json!({"priority": 1})),
        common::request("fifo", json!({})),
        common::request("lifo", json!({"lifo": true})),
    ])
    .await
    .unwrap();
    let scores: Vec<(String, f64)> = t
        .cmd(&[
            "ZRANGE",
            &t.keys.key("prioritized"),
            "0",
            "-1",
            "WITHSCORES",
        ])
        .await;
    let shift = 4_294_967_296f64;
    assert_eq!(
        scores,
        [
            ("3".into(), shift + 3.0),
            ("1".into(), 5.0 * shift + 1.0),
            ("2".into(), 5.0 * shift + 2.0)
        ]
    );
    let wait: Vec<String> = t.cmd(&["LRANGE", &t.keys.key("wait"), "0", "-1"]).await;
    assert_eq!(
        wait,
        ["4", "5"],
        "FIFO at the left, LIFO at the right (next to run)"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn paused_queue_gets_jobs_but_no_marker() {
    let t = common::queue().await;
    let _: () = t.cmd(&["HSET", &t.keys.key("meta"), "paused", "1"]).await;
    t.queue()
        .add(&[common::request("n", json!({}))])
        .await
        .unwrap();
    let exists: i64 = t.cmd(&["EXISTS", &t.keys.key("marker")]).await;
    assert_eq!(exists, 0);
    assert!(t.queue().is_paused().await.unwrap());
    t.cleanup().await;
}

#[tokio::test]
async fn stats_and_failed_lists_of_a_queue_with_nothing_finished_are_empty() {
    let t = common::queue().await;
    t.queue()
        .add(&[common::request("n", json!({}))])
        .await
        .unwrap();
    let stats = t.queue().processing_stats().await.unwrap();
    assert_eq!(stats.processing_rate, 0.0);
    assert_eq!(stats.average_processing_time, 0.0);
    assert!(t.queue().failed_jobs(0, 9).await.unwrap().is_empty());
    t.cleanup().await;
}
