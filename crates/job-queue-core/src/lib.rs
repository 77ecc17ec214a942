//! The job-queue engine: a Redis job queue that shares BullMQ 6's data layout, so BullMQ
//! producers, workers and dashboards can work on the same queues.
//!
//! * [`keys`] names every key; [`scripts`] holds the Lua scripts, one atomic operation each.
//! * [`queue::Queue`] adds jobs and answers questions about a queue.
//! * [`worker::Worker`] runs jobs: fetching and settling in batches, renewing locks and
//!   recovering stalled jobs on Rust timers. The processor is whatever implements
//!   [`worker::Dispatcher`]; the Node binding plugs JavaScript in there.
//! * [`worker::ManualWorker`] lets the caller fetch and settle jobs by hand, with the same
//!   script and decisions.
//!
//! ```no_run
//! # async fn demo() -> job_queue_core::Result<()> {
//! use job_queue_core::{Engine, RedisConfig, options, scripts::AddRequest};
//! let engine = Engine::connect(&RedisConfig::default(), "bull").await?;
//! let queue = engine.queue("emails")?;
//! let opts = options::AddOptions::from_map(options::merge([serde_json::Map::new()]))?;
//! let job = AddRequest { name: "welcome".into(), data: "{}".into(), options: opts, now_ms: 0 };
//! queue.add(&[job]).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod cleanup;
pub mod connection;
pub mod dead_letters;
pub mod error;
pub mod events;
pub mod input;
pub mod job;
pub mod job_control;
pub mod keys;
mod marker;
pub mod metrics;
pub mod options;
pub mod orphans;
pub mod producer;
pub mod queue;
pub mod queue_admin;
pub mod queue_limits;
pub mod registry;
mod scan;
pub mod schedule;
pub mod scripts;
pub mod security;

pub mod time;
pub mod worker;

use std::sync::Arc;

use crate::connection::Connector;
use crate::connection::SharedConnection;

pub use connection::{NodeAddress, RedisConfig, RetryPolicy, TlsOptions, Topology, WaitReplicas};
pub use error::{Error, ErrorCode, Result};
pub use queue::Queue;
pub use worker::{Prefetch, Worker, WorkerOptions};

/// A connection to Redis plus the key prefix: the factory for queues and workers.
#[derive(Clone)]
pub struct Engine {
    client: Connector,
    con: SharedConnection,
    prefix: String,
    durable: Option<connection::DurableAdds>,
}

impl Engine {
    /// Connects to Redis for queues under key prefix `prefix` (BullMQ's default is `bull`).
    /// The shared connection is made now, within 5 s: an unreachable server fails here with a
    /// connection error. On a Redis Cluster, a prefix whose first `{` is directly followed by
    /// `}` (an empty hash tag) is a validation error (see [`keys::PrefixKeys::check_one_slot`]).
    pub async fn connect(config: &RedisConfig, prefix: &str) -> Result<Self> {
        if let Some(w) = config.wait {
            if w.replicas == 0 || w.timeout.is_zero() {
                return Err(Error::validation(
                    "redis.wait",
                    "replicas and timeout must be at least 1 (WAIT 0 would wait forever)",
                ));
            }
        }
        let client = config.connector()?;
        if client.is_cluster() {
            keys::PrefixKeys::new(prefix).check_one_slot()?;
        }
        let con = connection::shared(&client, config.retry).await?;
        let durable = match config.wait {
            Some(wait) => Some(connection::DurableAdds::open(&client, config.retry, wait).await?),
            None => None,
        };
        Ok(Self {
            client,
            con,
            prefix: prefix.to_owned(),
            durable,
        })
    }

    /// The queue `name` under this engine's prefix. No Redis call; a name that is empty or
    /// contains `:` is a validation error.
    pub fn queue(&self, name: &str) -> Result<Queue> {
        Ok(Queue::new(self.con.clone(), self.keys(name)?).with_wait(self.durable.clone()))
    }

    /// Starts a worker on `queue` that hands jobs to `dispatcher`; it opens its own connection
    /// for the blocking wait and runs until [`Worker::close`]. Options are validated first.
    pub async fn worker(
        &self,
        queue: &str,
        options: WorkerOptions,
        dispatcher: Arc<dyn worker::Dispatcher>,
    ) -> Result<Worker> {
        let keys = self.keys(queue)?;
        Worker::start(
            self.client.clone(),
            self.con.clone(),
            keys,
            options,
            dispatcher,
        )
        .await
    }

    /// A worker on `queue` whose caller fetches and settles jobs by hand (BullMQ's
    /// `getNextJob` / `moveToCompleted`); no Redis call until it is used. Options are
    /// validated first.
    pub fn manual_worker(
        &self,
        queue: &str,
        options: WorkerOptions,
    ) -> Result<worker::ManualWorker> {
        let keys = self.keys(queue)?;
        worker::ManualWorker::new(self.client.clone(), self.con.clone(), keys, options)
    }

    /// A worker on `queue` that is connected (listed by BullMQ's `getWorkers`) but fetches
    /// nothing until [`Worker::run`]; see [`Worker::connect`].
    pub async fn connect_worker(
        &self,
        queue: &str,
        options: WorkerOptions,
        dispatcher: Arc<dyn worker::Dispatcher>,
    ) -> Result<Worker> {
        let keys = self.keys(queue)?;
        Worker::connect(
            self.client.clone(),
            self.con.clone(),
            keys,
            options,
            dispatcher,
        )
        .await
    }

    /// Follows `queue`'s events stream; see [`events::watch`].
    pub fn watch_events(
        &self,
        queue: &str,
        from: Option<String>,
        deliver: impl Fn(Vec<events::StreamEvent>) -> bool + Send + 'static,
    ) -> Result<events::EventWatch> {
        let keys = self.keys(queue)?;
        Ok(events::watch(self.client.clone(), &keys, from, deliver))
    }

    /// The keys of queue `name` under this engine's prefix; on a Redis Cluster, a name whose
    /// keys would not share one slot is a validation error that says how to name it.
    pub fn keys(&self, name: &str) -> Result<keys::QueueKeys> {
        let keys = keys::QueueKeys::new(&self.prefix, name)?;
        if self.client.is_cluster() {
            keys.check_one_slot()?;
        }
        Ok(keys)
    }

    /// Behind sentinels, how many times the sentinels were asked for the master so far
    /// (each round of questions is shared by every connection that needed it); none
    /// otherwise. For diagnostics and tests.
    pub fn sentinel_resolutions(&self) -> Option<u64> {
        match &self.client {
            connection::Connector::Sentinel(source) => Some(source.resolutions()),
            _ => None,
        }
    }

    /// Whether the engine talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.client.is_cluster()
    }

    /// Round-trip time of a PING, for health reports.
    pub async fn ping(&self) -> Result<std::time::Duration> {
        let start = std::time::Instant::now();
        redis::cmd("PING")
            .query_async::<String>(&mut self.con.clone())
            .await?;
        Ok(start.elapsed())
    }

    /// The shared multiplexed connection (cheap clone), for calls the engine has no method for.
    pub fn connection(&self) -> SharedConnection {
        self.con.clone()
    }
}
