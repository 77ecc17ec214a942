//! The blocking wait on a queue's marker (spec §3.5), on a dedicated named connection.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::Client;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::connection;
use crate::time::now_ms;

/// For each request (carrying the earliest delayed due time, if known), blocks on the marker
/// until work may be available or the wait times out, then calls `wake` (which answers false
/// once the worker is gone). A future
/// delay marker is slept on until its time, capped at `drain_delay`.
pub(crate) async fn watch_marker(
    client: Client,
    name: String,
    marker_key: String,
    drain_delay: Duration,
    mut requests: UnboundedReceiver<Option<u64>>,
    wake: impl Fn() -> bool + Send + 'static,
) {
    // Connect at once, not on the first idle moment: the named connection is how BullMQ's
    // getWorkers and dashboards see a worker, busy or not.
    let mut con: Option<MultiplexedConnection> = connection::blocking(&client, &name).await.ok();
    let mut backoff = Duration::from_millis(50);
    while let Some(mut next_due) = requests.recv().await {
        loop {
            let c = match &mut con {
                Some(c) => c,
                None => match connection::blocking(&client, &name).await {
                    Ok(c) => {
                        backoff = Duration::from_millis(50);
                        con.insert(c)
                    }
                    Err(_) => {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(2));
                        break;
                    }
                },
            };
            let now = now_ms();
            let mut wait = drain_delay;
            if let Some(due) = next_due {
                wait = wait.min(Duration::from_millis(due.saturating_sub(now)));
            }
            if wait.is_zero() {
                break;
            }
            let reply: redis::RedisResult<Option<(String, String, f64)>> = redis::cmd("BZPOPMIN")
                .arg(&marker_key)
                .arg(wait.as_secs_f64().max(0.001))
                .query_async(c)
                .await;
            match reply {
                Ok(Some((_, _, score))) if score as u64 > now_ms() + 1 => {
                    next_due = Some(score as u64);
                }
                Ok(_) => break,
                Err(_) => {
                    con = None;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    break;
                }
            }
        }
        if !wake() {
            return;
        }
    }
}
