//! Connections to Redis: one multiplexed, self-reconnecting connection shared by every
//! non-blocking call, and a dedicated connection per worker for the blocking marker wait.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Client};

use crate::error::{Error, Result};

/// Where Redis is. A `url` wins over the separate fields.
#[derive(Debug, Clone, Default)]
pub struct RedisConfig {
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: Option<i64>,
    pub tls: bool,
}

impl RedisConfig {
    /// The connection URL this config describes (`redis://127.0.0.1:6379/0` by default).
    pub fn to_url(&self) -> String {
        if let Some(url) = &self.url {
            return url.clone();
        }
        let scheme = if self.tls { "rediss" } else { "redis" };
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

    pub fn client(&self) -> Result<Client> {
        Client::open(self.to_url()).map_err(|e| Error::validation("redis", e.to_string()))
    }
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

/// The shared connection. It reconnects by itself; a call made while Redis is down fails
/// with a connection error and the next one tries again.
pub async fn shared(client: &Client) -> Result<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(30)))
        .set_number_of_retries(3)
        .set_max_delay(Duration::from_secs(2));
    Ok(ConnectionManager::new_with_config(client.clone(), config).await?)
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
}
