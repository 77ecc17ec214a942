//! `NativeEngine`, the connected engine behind lib/connection.js (the BullMQ-style classes'
//! shared engines) and lib/coordinator.js (the coordinator's own): connect (the engine config
//! and TLS material from JS as the engine's `RedisConfig`), ping, close, and the helpers every
//! other `#[napi] impl NativeEngine` block uses to reach a queue.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use job_queue_core::{
    Engine, NodeAddress, Queue, RedisConfig, RetryPolicy, TlsOptions, Topology, WaitReplicas,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::add_order::AddOrder;
use crate::errors::to_js;

/// Where Redis is and how keys are named.
#[napi(object)]
pub struct EngineConfig {
    /// `redis://` or `rediss://` URL; wins over the separate fields.
    pub url: Option<String>,
    /// Host name or address (default 127.0.0.1).
    pub host: Option<String>,
    /// Port (default 6379).
    pub port: Option<u32>,
    /// ACL user name.
    pub username: Option<String>,
    /// Password (AUTH).
    pub password: Option<String>,
    /// Database number (default 0).
    pub db: Option<u32>,
    /// Connect with TLS.
    pub tls: Option<bool>,
    /// Key prefix, default `bull` (BullMQ's default).
    pub prefix: Option<String>,
    /// Largest accepted job data, in bytes of JSON (default 1 MiB).
    pub max_job_data_size: Option<u32>,
    /// Retries of a command while the connection is down before it fails (default 20).
    pub max_retries_per_request: Option<u32>,
    /// Retry such commands until the connection is back (ioredis' `maxRetriesPerRequest:
    /// null`); wins over `max_retries_per_request`.
    pub retry_until_connected: Option<bool>,
    /// ms between those retries (default 100).
    pub retry_delay_on_failover: Option<u32>,
    /// Redis Cluster seed nodes: when set, the engine talks to a cluster (url/host/port are
    /// not used).
    pub cluster_nodes: Option<Vec<NodeAddressJs>>,
    /// Sentinels: when set, the engine talks to the master they name for `sentinel_name`.
    pub sentinels: Option<Vec<NodeAddressJs>>,
    /// The sentinels' master set name (ioredis' `name`).
    pub sentinel_name: Option<String>,
    /// ACL user for the sentinels themselves.
    pub sentinel_username: Option<String>,
    /// Password for the sentinels themselves.
    pub sentinel_password: Option<String>,
    /// Adds count as done once this many replicas confirmed them (WAIT); unset: at once.
    pub wait_replicas: Option<u32>,
    /// How long adds wait for those replicas, ms (default 1000).
    pub wait_timeout: Option<u32>,
}

/// A node's address (a cluster node or a sentinel).
#[napi(object)]
pub struct NodeAddressJs {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u32,
}

fn nodes(list: &[NodeAddressJs]) -> Vec<NodeAddress> {
    list.iter()
        .map(|n| NodeAddress {
            host: n.host.clone(),
            port: n.port as u16,
        })
        .collect()
}

/// TLS material, PEM text (what ioredis' `tls` option takes, read from files by lib/).
#[napi(object)]
pub struct TlsConfig {
    /// Authorities to trust instead of the system's roots.
    pub ca: Option<String>,
    /// Client certificate for mutual TLS.
    pub cert: Option<String>,
    /// Its private key.
    pub key: Option<String>,
    /// `false` skips verifying the server's certificate (default true).
    pub reject_unauthorized: Option<bool>,
}

#[napi]
pub struct NativeEngine {
    engine: Mutex<Option<Engine>>,
    /// Largest accepted job data, in bytes of JSON.
    pub(crate) max_data: usize,
    /// The order add calls are issued in (the order JavaScript made them).
    pub(crate) add_order: Arc<AddOrder>,
}

/// The shared connection's retry policy from the engine config (defaults where unset).
fn retry_policy(
    max_retries: Option<u32>,
    until_connected: Option<bool>,
    delay_ms: Option<u32>,
) -> RetryPolicy {
    let defaults = RetryPolicy::default();
    RetryPolicy {
        max_retries: if until_connected == Some(true) {
            None
        } else {
            max_retries.or(defaults.max_retries)
        },
        delay: delay_ms.map_or(defaults.delay, |m| Duration::from_millis(m.into())),
    }
}

/// The engine's Redis config for what JS gave.
pub(crate) fn redis_config(config: &EngineConfig, tls: Option<TlsConfig>) -> RedisConfig {
    let tls_options = tls.map_or_else(TlsOptions::default, |t| TlsOptions {
        ca: t.ca.map(String::into_bytes),
        client_cert: t.cert.map(String::into_bytes),
        client_key: t.key.map(String::into_bytes),
        insecure: t.reject_unauthorized == Some(false),
    });
    RedisConfig {
        url: config.url.clone(),
        host: config.host.clone(),
        port: config.port.map(|p| p as u16),
        username: config.username.clone(),
        password: config.password.clone(),
        db: config.db.map(i64::from),
        tls: config.tls.unwrap_or(false),
        tls_options,
        retry: retry_policy(
            config.max_retries_per_request,
            config.retry_until_connected,
            config.retry_delay_on_failover,
        ),
        wait: config.wait_replicas.map(|replicas| WaitReplicas {
            replicas,
            timeout: Duration::from_millis(config.wait_timeout.unwrap_or(1000).into()),
        }),
        topology: if let Some(list) = &config.cluster_nodes {
            Topology::Cluster { nodes: nodes(list) }
        } else if let Some(list) = &config.sentinels {
            Topology::Sentinel {
                sentinels: nodes(list),
                name: config.sentinel_name.clone().unwrap_or_default(),
                sentinel_username: config.sentinel_username.clone(),
                sentinel_password: config.sentinel_password.clone(),
            }
        } else {
            Topology::Single
        },
    }
}

#[napi]
impl NativeEngine {
    /// Connects to Redis (fails fast with a connection error when it does not answer), over
    /// TLS with `tls`'s certificates when given.
    #[napi(factory)]
    pub async fn connect(config: EngineConfig, tls: Option<TlsConfig>) -> Result<NativeEngine> {
        let redis = redis_config(&config, tls);
        let prefix = config.prefix.unwrap_or_else(|| "bull".to_owned());
        // the PING makes a refused login or certificate fail here, not at the first command
        let engine = Engine::connect(&redis, &prefix).await.map_err(to_js)?;
        engine.ping().await.map_err(to_js)?;
        Ok(NativeEngine {
            engine: Mutex::new(Some(engine)),
            max_data: config.max_job_data_size.unwrap_or(1 << 20) as usize,
            add_order: Arc::default(),
        })
    }

    /// The connected engine; a closed error once `close()` was called.
    pub(crate) fn engine(&self) -> Result<Engine> {
        self.engine
            .lock()
            .expect("engine lock")
            .clone()
            .ok_or_else(|| to_js(job_queue_core::Error::Closed("coordinator")))
    }

    /// The engine's handle on one queue.
    pub(crate) fn queue(&self, name: &str) -> Result<Queue> {
        self.engine()?.queue(name).map_err(to_js)
    }

    /// Round-trip latency to Redis in ms.
    #[napi]
    pub async fn ping(&self) -> Result<f64> {
        let d = self.engine()?.ping().await.map_err(to_js)?;
        Ok(d.as_secs_f64() * 1000.0)
    }

    /// Drops the shared connection. Workers must be closed first.
    #[napi]
    pub fn close(&self) {
        self.engine.lock().expect("engine lock").take();
    }
}
