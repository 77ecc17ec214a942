//! Connecting `NativeEngine`: the engine config (and TLS material) from JS as the engine's
//! `RedisConfig`.

use std::sync::{Arc, Mutex};

use job_queue_core::{Engine, RedisConfig, TlsOptions};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::{retry_policy, EngineConfig, NativeEngine};

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
    }
}

/// Connects and checks the connection with a PING (so a refused login or certificate fails
/// here, not at the first command).
pub(crate) async fn open(config: EngineConfig, tls: Option<TlsConfig>) -> Result<NativeEngine> {
    let redis = redis_config(&config, tls);
    let prefix = config.prefix.unwrap_or_else(|| "bull".to_owned());
    let engine = Engine::connect(&redis, &prefix).await.map_err(to_js)?;
    engine.ping().await.map_err(to_js)?;
    Ok(NativeEngine {
        engine: Mutex::new(Some(engine)),
        max_data: config.max_job_data_size.unwrap_or(1 << 20) as usize,
        add_order: Arc::default(),
    })
}
