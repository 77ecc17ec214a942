//! Connections to Redis: one multiplexed, self-reconnecting connection shared by every
//! non-blocking call, and a dedicated connection per worker for the blocking marker wait.
//!
//! A non-blocking command that meets a connection that is down is retried, as ioredis does:
//! up to [`RetryPolicy::max_retries`] times (or until the connection is back), waiting
//! [`RetryPolicy::delay`] between tries, each try being one reconnection attempt. Like
//! ioredis, a command cut off by a connection that drops while it is in flight is sent again
//! too: the worker's scripts are safe to replay (settling is keyed by the job's lock token),
//! while an add with a generated id may, in that rare case, be stored twice (give such jobs
//! a custom `jobId` when that matters).

use std::future::Future;
use std::time::Duration;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::{AsyncConnectionConfig, Client, Cmd, IntoConnectionInfo, Pipeline, RedisFuture, Value};

use crate::error::{Error, Result};

/// Where Redis is. A `url` wins over the separate fields.
#[derive(Debug, Clone, Default)]
pub struct RedisConfig {
    /// A `redis://` or `rediss://` URL; when set, every other field but `retry` is ignored.
    pub url: Option<String>,
    /// Host name or address (default 127.0.0.1).
    pub host: Option<String>,
    /// TCP port (default 6379).
    pub port: Option<u16>,
    /// ACL user name (Redis 6+); none = the default user.
    pub username: Option<String>,
    /// Password (AUTH); none = no authentication.
    pub password: Option<String>,
    /// Database index (default 0).
    pub db: Option<i64>,
    /// Connect over TLS (`rediss://`).
    pub tls: bool,
    /// Certificates for TLS: the authorities to trust and a client certificate (mutual TLS).
    /// Any of them set turns TLS on, as `tls` does.
    pub tls_options: TlsOptions,
    /// How non-blocking commands ride out a connection that is down.
    pub retry: RetryPolicy,
}

/// What a TLS connection trusts and presents. The server's certificate is always verified
/// (against the system's roots, or `ca` when given) unless `insecure` says otherwise.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM certificates of the authorities to trust instead of the system's roots.
    pub ca: Option<Vec<u8>>,
    /// PEM client certificate (chain) for mutual TLS; needs `client_key`.
    pub client_cert: Option<Vec<u8>>,
    /// PEM private key of `client_cert`.
    pub client_key: Option<Vec<u8>>,
    /// Skip verifying the server's certificate (`rediss://…#insecure`): for tests only.
    pub insecure: bool,
}

impl TlsOptions {
    /// Whether anything is set (which turns TLS on).
    pub fn is_set(&self) -> bool {
        self.ca.is_some()
            || self.client_cert.is_some()
            || self.client_key.is_some()
            || self.insecure
    }
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the key, nor certificate bytes
        f.debug_struct("TlsOptions")
            .field("ca", &self.ca.is_some())
            .field("client_cert", &self.client_cert.is_some())
            .field("client_key", &self.client_key.is_some())
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// ioredis' `maxRetriesPerRequest` and `retryDelayOnFailover` for the shared connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries of a command while the connection is down before it fails with a connection
    /// error (default 20); `None` retries until the connection is back.
    pub max_retries: Option<u32>,
    /// Wait between those retries (default 100 ms).
    pub delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: Some(20),
            delay: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    fn allows(&self, retries_made: u32) -> bool {
        self.max_retries.is_none_or(|max| retries_made < max)
    }
}

impl RedisConfig {
    /// The connection URL this config describes (`redis://127.0.0.1:6379/0` by default).
    /// `tls_options.insecure` adds redis-rs' `#insecure` fragment.
    pub fn to_url(&self) -> String {
        let url = self.base_url();
        if self.tls_options.insecure && !url.ends_with("#insecure") {
            format!("{url}#insecure")
        } else {
            url
        }
    }

    fn base_url(&self) -> String {
        if let Some(url) = &self.url {
            return url.clone();
        }
        let scheme = if self.tls || self.tls_options.is_set() {
            "rediss"
        } else {
            "redis"
        };
        let auth = match (&self.username, &self.password) {
            (Some(u), Some(p)) => format!("{}:{}@", encode(u), encode(p)),
            (None, Some(p)) => format!(":{}@", encode(p)),
            (Some(u), None) => format!("{}@", encode(u)),
            (None, None) => String::new(),
        };
        format!(
            "{scheme}://{auth}{}:{}/{}",
            self.host.as_deref().unwrap_or("127.0.0.1"),
            self.port.unwrap_or(6379),
            self.db.unwrap_or(0)
        )
    }

    /// A client for [`to_url`](Self::to_url)'s URL, with the TLS certificates when given.
    /// Connects nothing yet; a URL that cannot be parsed, certificates given for a URL that is
    /// not `rediss://`, or a client certificate without its key (or the reverse) is a
    /// validation error on `redis` (`redis.tls` for the certificates).
    ///
    /// Connections skip redis-rs' `CLIENT SETINFO` (library name and version): one command
    /// fewer for an ACL user to be granted, and one Redis before 7.2 does not know.
    pub fn client(&self) -> Result<Client> {
        let url = self.to_url();
        let info = url
            .as_str()
            .into_connection_info()
            .map_err(|e| Error::validation("redis", e.to_string()))?;
        let settings = info.redis_settings().clone().set_skip_set_lib_name();
        let info = info.set_redis_settings(settings);
        let t = &self.tls_options;
        if t.ca.is_none() && t.client_cert.is_none() && t.client_key.is_none() {
            return Client::open(info).map_err(|e| Error::validation("redis", e.to_string()));
        }
        if !url.starts_with("rediss://") {
            return Err(Error::validation(
                "redis.tls",
                "certificates need a TLS connection (a rediss:// URL)",
            ));
        }
        if let Some(ca) = &t.ca {
            check_certificates(ca, "redis.tls.ca")?;
        }
        let client_tls = match (&t.client_cert, &t.client_key) {
            (Some(cert), Some(key)) => Some({
                check_certificates(cert, "redis.tls.cert")?;
                check_key(key)?;
                redis::ClientTlsConfig {
                    client_cert: cert.clone(),
                    client_key: key.clone(),
                }
            }),
            (None, None) => None,
            _ => {
                return Err(Error::validation(
                    "redis.tls",
                    "a client certificate needs its key, and a key its certificate",
                ))
            }
        };
        let certs = redis::TlsCertificates {
            client_tls,
            root_cert: t.ca.clone(),
        };
        Client::build_with_tls(url, certs)
            .map_err(|e| Error::validation("redis.tls", e.to_string()))
    }
}

/// Checks that `pem` holds one or more PEM certificates (redis-rs would silently trust none).
fn check_certificates(pem: &[u8], field: &str) -> Result<()> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        cert.map_err(|e| Error::validation(field, format!("unreadable PEM certificate: {e}")))?;
        count += 1;
    }
    if count == 0 {
        return Err(Error::validation(field, "holds no PEM certificate"));
    }
    Ok(())
}

/// Checks that `pem` holds a PEM private key.
fn check_key(pem: &[u8]) -> Result<()> {
    use rustls::pki_types::{pem::PemObject, PrivateKeyDer};
    PrivateKeyDer::from_pem_slice(pem).map(|_| ()).map_err(|e| {
        Error::validation("redis.tls.key", format!("no readable PEM private key: {e}"))
    })
}

/// Percent-encodes a URL user-info component.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The shared connection: reconnects by itself, and retries a command while the connection
/// is down as `retry` says. Cheap to clone; clones share the one connection.
#[derive(Clone)]
pub struct SharedConnection {
    inner: ConnectionManager,
    retry: RetryPolicy,
}

impl std::fmt::Debug for SharedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedConnection")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Whether the error says the connection is down (refused, reset, closed), not that Redis
/// answered with an error or was too slow to answer.
fn connection_down(e: &redis::RedisError) -> bool {
    e.is_connection_refusal() || e.is_connection_dropped()
}

impl SharedConnection {
    /// Runs `send` on the connection until it succeeds, fails for a reason other than a
    /// connection that is down, or the retries allowed are spent.
    async fn with_retries<T, F, Fut>(&self, send: F) -> redis::RedisResult<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let mut retries = 0;
        loop {
            match send(self.inner.clone()).await {
                Err(e) if connection_down(&e) && self.retry.allows(retries) => {
                    retries += 1;
                    tracing::debug!(error = %e, retries, "connection down; retrying the command");
                    tokio::time::sleep(self.retry.delay).await;
                }
                result => return result,
            }
        }
    }
}

impl ConnectionLike for SharedConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(
            self.with_retries(move |mut con| async move { con.send_packed_command(cmd).await }),
        )
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(self.with_retries(move |mut con| async move {
            con.send_packed_commands(pipeline, offset, count).await
        }))
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

/// Opens the shared connection. The first connection is tried once, so a wrong address or
/// a Redis that is down fails at once; after that the connection reconnects by itself, one
/// attempt per retry of a waiting command (see [`RetryPolicy`]).
pub async fn shared(client: &Client, retry: RetryPolicy) -> Result<SharedConnection> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(30)))
        .set_number_of_retries(0);
    let inner = ConnectionManager::new_with_config(client.clone(), config).await?;
    Ok(SharedConnection { inner, retry })
}

/// A connection for blocking commands: no response timeout (redis-rs would otherwise cut a
/// BZPOPMIN after 500 ms), and named so BullMQ's `getWorkers` can see the worker.
pub async fn blocking(client: &Client, name: &str) -> Result<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(None);
    let mut con = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(name)
        .query_async::<()>(&mut con)
        .await?;
    Ok(con)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls_from_fields() {
        let c = RedisConfig {
            host: Some("h".into()),
            port: Some(7000),
            password: Some("p@ss word".into()),
            db: Some(2),
            ..Default::default()
        };
        assert_eq!(c.to_url(), "redis://:p%40ss%20word@h:7000/2");
        assert_eq!(RedisConfig::default().to_url(), "redis://127.0.0.1:6379/0");
    }

    #[test]
    fn tls_options_turn_tls_on_and_insecure_adds_the_fragment() {
        let ca = RedisConfig {
            tls_options: TlsOptions {
                ca: Some(b"x".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(ca.to_url(), "rediss://127.0.0.1:6379/0");
        let insecure = RedisConfig {
            url: Some("rediss://h:1/0".into()),
            tls_options: TlsOptions {
                insecure: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(insecure.to_url(), "rediss://h:1/0#insecure");
        assert!(
            !format!("{:?}", ca.tls_options).contains('x'),
            "no certificate bytes in Debug"
        );
    }

    #[test]
    fn bad_tls_material_is_a_validation_error_before_connecting() {
        let half = RedisConfig {
            tls_options: TlsOptions {
                client_cert: Some(b"-----BEGIN CERTIFICATE-----".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = half.client().unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::Validation, "{e}");
        let plain = RedisConfig {
            url: Some("redis://127.0.0.1:6379".into()),
            tls_options: TlsOptions {
                ca: Some(b"x".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(plain
            .client()
            .unwrap_err()
            .to_string()
            .contains("rediss://"));
        let garbage = RedisConfig {
            tls_options: TlsOptions {
                ca: Some(b"not a certificate".to_vec()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            garbage.client().unwrap_err().code(),
            crate::ErrorCode::Validation
        );
    }

    #[test]
    fn retry_policy_counts_retries_or_waits_forever() {
        let p = RetryPolicy::default();
        assert_eq!(
            (p.max_retries, p.delay),
            (Some(20), Duration::from_millis(100))
        );
        assert!(p.allows(19) && !p.allows(20));
        let none = RetryPolicy {
            max_retries: Some(0),
            ..p
        };
        assert!(!none.allows(0), "0: fail at the first connection error");
        let forever = RetryPolicy {
            max_retries: None,
            ..p
        };
        assert!(forever.allows(u32::MAX));
    }
}
