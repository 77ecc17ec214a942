//! Shared test setup: a real Redis from `REDIS_URL` (default 127.0.0.1:6379) and a unique
//! key prefix per test, whose keys are deleted when the guard drops.
#![allow(dead_code)]

pub mod cluster;
pub mod dispatch;

use std::time::{Duration, Instant};

use job_queue_core::connection::SharedConnection;
use job_queue_core::keys::QueueKeys;
use job_queue_core::options::{merge, AddOptions};
use job_queue_core::scripts::AddRequest;
use job_queue_core::time::now_ms;
use job_queue_core::{Engine, RedisConfig};

pub struct TestQueue {
    pub engine: Engine,
    pub keys: QueueKeys,
    pub con: SharedConnection,
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

pub async fn queue() -> TestQueue {
    let prefix = format!("jqtest-{}", uuid_like());
    let config = RedisConfig {
        url: Some(redis_url()),
        ..Default::default()
    };
    let engine = Engine::connect(&config, &prefix)
        .await
        .expect("redis reachable");
    let keys = QueueKeys::new(&prefix, "q").unwrap();
    let con = engine.connection();
    TestQueue { engine, keys, con }
}

fn uuid_like() -> String {
    format!("{}-{}", std::process::id(), rand::random::<u64>())
}

impl TestQueue {
    pub fn queue(&self) -> job_queue_core::Queue {
        self.engine.queue(&self.keys.queue).unwrap()
    }

    /// Polls the queue's job counts until `check` holds; false if 5 s pass first.
    pub async fn counts_until(
        &self,
        check: impl Fn(&job_queue_core::queue::JobCounts) -> bool,
    ) -> bool {
        let check = &check;
        wait_for(Duration::from_secs(5), || async move {
            check(&self.queue().counts().await.unwrap())
        })
        .await
    }

    pub async fn cmd<T: redis::FromRedisValue>(&self, args: &[&str]) -> T {
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        c.query_async(&mut self.con.clone()).await.unwrap()
    }

    /// Deletes every key of this test's prefix.
    pub async fn cleanup(&self) {
        let pattern = format!("{}:*", self.keys.prefix);
        let keys: Vec<String> = self.cmd(&["KEYS", &pattern]).await;
        if !keys.is_empty() {
            let mut c = redis::cmd("DEL");
            c.arg(keys);
            let _: () = c.query_async(&mut self.con.clone()).await.unwrap();
        }
    }

    /// The events stream as (event name, fields) pairs.
    pub async fn events(&self) -> Vec<(String, Vec<(String, String)>)> {
        let entries: Vec<(String, Vec<String>)> = self
            .cmd(&["XRANGE", &self.keys.key("events"), "-", "+"])
            .await;
        entries
            .into_iter()
            .map(|(_, f)| {
                let pairs: Vec<(String, String)> =
                    f.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
                (pairs[0].1.clone(), pairs[1..].to_vec())
            })
            .collect()
    }
}

/// A fetch of `count` jobs under the lock token "tok", for driving scripts by hand.
pub fn fetch(count: usize) -> job_queue_core::scripts::Fetch<'static> {
    job_queue_core::scripts::Fetch {
        token: "tok",
        lock: Duration::from_secs(30),
        count,
        worker_name: None,
        limiter: None,
        metric_points: 0,
        metrics: &job_queue_core::metrics::NO_METRICS,
        strict: false,
    }
}

pub fn request(name: &str, opts: serde_json::Value) -> AddRequest {
    AddRequest {
        name: name.to_owned(),
        data: r#"{"x":1}"#.to_owned(),
        options: AddOptions::from_map(merge([opts.as_object().unwrap().clone()])).unwrap(),
        now_ms: now_ms(),
    }
}

/// Polls `check` until it returns true or `timeout` passes.
pub async fn wait_for<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}
