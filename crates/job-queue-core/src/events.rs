//! Following a queue's events stream (docs/redis-layout.md), so a process sees what happens to jobs
//! anywhere: added, waiting, active, progress, completed, failed, stalled, … written by our
//! scripts and BullMQ's alike.

use std::time::Duration;

use crate::connection::BlockingConnection as MultiplexedConnection;
use crate::connection::Connector as Client;
use tokio::task::JoinHandle;

use crate::connection;
use crate::keys::QueueKeys;

/// One stream entry: its id and its fields (the first is `event` = the event's name).
pub type StreamEvent = (String, Vec<(String, String)>);

/// An XREAD reply: per stream (one here), its entries; none when the block timed out.
type ReadReply = Option<Vec<(String, Vec<StreamEvent>)>>;

/// Entries read per XREAD.
const BATCH: usize = 200;
/// How long one XREAD blocks; the loop then blocks again.
const BLOCK: Duration = Duration::from_secs(5);

/// A running watch; stops when dropped.
pub struct EventWatch {
    task: JoinHandle<()>,
}

impl Drop for EventWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts reading `keys`' events stream from now on (or after id `from`), on a dedicated
/// connection named as BullMQ names its QueueEvents' ([`QueueKeys::queue_events_client_name`]),
/// handing each batch to `deliver` until it answers false. Reconnects with
/// backoff when the connection drops, carrying on after the last id it delivered.
pub fn watch(
    client: Client,
    keys: &QueueKeys,
    from: Option<String>,
    deliver: impl Fn(Vec<StreamEvent>) -> bool + Send + 'static,
) -> EventWatch {
    watch_blocking(client, keys, from, BLOCK, deliver)
}

/// [`watch`], with each XREAD blocking at most `block` (at least 1 ms).
pub fn watch_blocking(
    client: Client,
    keys: &QueueKeys,
    from: Option<String>,
    block: Duration,
    deliver: impl Fn(Vec<StreamEvent>) -> bool + Send + 'static,
) -> EventWatch {
    let block_ms = block.as_millis().max(1) as u64;
    let stream = keys.key("events");
    let name = keys.queue_events_client_name();
    let task = tokio::spawn(async move {
        let mut last = from.unwrap_or_else(|| "$".to_owned());
        let mut con: Option<MultiplexedConnection> = None;
        let mut backoff = Duration::from_millis(50);
        loop {
            let c = match &mut con {
                Some(c) => c,
                None => match connection::blocking(&client, &name).await {
                    Ok(c) => con.insert(c),
                    Err(e) => {
                        tracing::warn!(stream = %stream, error = %e, "events stream: cannot connect");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(connection::BLOCKING_RECONNECT_MAX);
                        continue;
                    }
                },
            };
            // "$" is "what comes after the read starts": pinned to the newest entry before
            // the first read, so a reconnection (a failover) misses nothing written between
            if last == "$" {
                let newest: redis::RedisResult<Vec<StreamEvent>> = redis::cmd("XREVRANGE")
                    .arg(&stream)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1)
                    .query_async(c)
                    .await;
                match newest {
                    Ok(newest) => {
                        last = newest
                            .into_iter()
                            .next()
                            .map_or_else(|| "0-0".to_owned(), |(id, _)| id)
                    }
                    Err(e) => {
                        tracing::warn!(stream = %stream, error = %e, "events stream: read failed, reconnecting");
                        con = None;
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(connection::BLOCKING_RECONNECT_MAX);
                        continue;
                    }
                }
            }
            // a server that stops answering (frozen, cut off) is given up BLOCKING_GRACE
            // after the block ends, and a master the sentinels replaced at once
            let reply: redis::RedisResult<ReadReply> = connection::blocking_read(
                Duration::from_millis(block_ms),
                c.moved(),
                redis::cmd("XREAD")
                    .arg("COUNT")
                    .arg(BATCH)
                    .arg("BLOCK")
                    .arg(block_ms)
                    .arg("STREAMS")
                    .arg(&stream)
                    .arg(&last)
                    .query_async(c),
            )
            .await;
            match reply {
                Ok(Some(streams)) => {
                    backoff = Duration::from_millis(50);
                    let entries: Vec<StreamEvent> =
                        streams.into_iter().flat_map(|(_, e)| e).collect();
                    if let Some((id, _)) = entries.last() {
                        last = id.clone();
                    }
                    if !entries.is_empty() && !deliver(entries) {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(stream = %stream, error = %e, "events stream: read failed, reconnecting");
                    con = None;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(connection::BLOCKING_RECONNECT_MAX);
                }
            }
        }
    });
    EventWatch { task }
}

impl crate::Queue {
    /// The id of the newest entry of the queue's events stream, if it has any: where a watch
    /// that should see everything from now on starts (`$` means "from when the read starts",
    /// which would miss what happens before the first read reaches Redis).
    pub async fn last_event_id(&self) -> crate::Result<Option<String>> {
        let newest: Vec<StreamEvent> = redis::cmd("XREVRANGE")
            .arg(self.keys.key("events"))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.con.clone())
            .await?;
        Ok(newest.into_iter().next().map(|(id, _)| id))
    }
}

impl crate::Engine {
    /// Follows `queue`'s events stream, each read blocking at most `block`; see
    /// [`watch_blocking`].
    pub fn watch_events_blocking(
        &self,
        queue: &str,
        from: Option<String>,
        block: Duration,
        deliver: impl Fn(Vec<StreamEvent>) -> bool + Send + 'static,
    ) -> crate::Result<EventWatch> {
        let keys = self.keys(queue)?;
        Ok(watch_blocking(
            self.client.clone(),
            &keys,
            from,
            block,
            deliver,
        ))
    }
}
