//! The blocking wait on a queue's marker (docs/redis-layout.md), on a dedicated named connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::connection::BlockingConnection as MultiplexedConnection;
use crate::connection::Connector as Client;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::connection;
use crate::time::now_ms;

pub(crate) type Pop =
    Pin<Box<dyn Future<Output = redis::RedisResult<Option<(String, String, f64)>>> + Send>>;

/// BZPOPMIN on the marker `key`, waiting at most `wait` (at least 1 ms); a server that does
/// not answer [`connection::BLOCKING_GRACE`] after that, or a master the sentinels replaced
/// meanwhile, is an error (see [`connection::blocking_read`]), and the watcher reconnects.
pub(crate) fn pop(mut con: MultiplexedConnection, key: String, wait: Duration) -> Pop {
    Box::pin(async move {
        connection::blocking_read(
            wait,
            con.moved(),
            redis::cmd("BZPOPMIN")
                .arg(key)
                .arg(wait.as_secs_f64().max(0.001))
                .query_async(&mut con),
        )
        .await
    })
}

/// Opens the worker's named connection and notes its Redis client id in `client_id`; none
/// if Redis does not answer (the watcher then keeps trying).
pub(crate) async fn connect(
    client: &Client,
    name: &str,
    marker_key: &str,
    client_id: &AtomicU64,
) -> Option<MultiplexedConnection> {
    let mut con = connection::blocking(client, name).await.ok()?;
    let id: Option<u64> = con.client_id(marker_key).await.ok();
    client_id.store(id.unwrap_or(0), Ordering::SeqCst);
    Some(con)
}

/// For each request (carrying the earliest delayed due time, if known), waits until work may
/// be available, then calls `wake` (which answers false once the worker is gone).
///
/// Work may be available when a marker arrives (BZPOPMIN returns), when `drain_delay` passes,
/// or when the next delayed job falls due. The due time is kept by a tokio timer, not by the
/// BZPOPMIN timeout: Redis checks blocking timeouts on its server tick (every 100 ms at the
/// default `hz`), which would start delayed jobs up to 100 ms late. A BZPOPMIN still waiting
/// when the timer fires is kept and awaited on the next request, never dropped, so a marker
/// it pops is never lost.
///
/// `con` is the named connection [`connect`] opened (none if it could not): it is opened
/// before the worker runs, not on its first idle moment, because it is how BullMQ's
/// getWorkers and dashboards see a worker, busy or not. `client_id` follows reconnections.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn watch_marker(
    client: Client,
    name: String,
    con: Option<MultiplexedConnection>,
    client_id: Arc<AtomicU64>,
    marker_key: String,
    drain_delay: Duration,
    mut requests: UnboundedReceiver<Option<u64>>,
    wake: impl Fn() -> bool + Send + 'static,
) {
    let mut con = con;
    let mut backoff = Duration::from_millis(50);
    let mut pending: Option<Pop> = None;
    while let Some(mut next_due) = requests.recv().await {
        loop {
            let now = now_ms();
            if next_due.is_some_and(|due| due <= now) {
                break;
            }
            if pending.is_none() {
                let c = match &con {
                    Some(c) => c.clone(),
                    None => match connect(&client, &name, &marker_key, &client_id).await {
                        Some(c) => {
                            backoff = Duration::from_millis(50);
                            con.insert(c).clone()
                        }
                        None => {
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(connection::BLOCKING_RECONNECT_MAX);
                            break;
                        }
                    },
                };
                pending = Some(pop(c, marker_key.clone(), drain_delay));
            }
            let due_at = next_due.map(|due| Instant::now() + Duration::from_millis(due - now));
            let due_timer = async {
                match due_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let popping = pending.as_mut().expect("a pop is pending");
            tokio::select! {
                reply = popping => {
                    pending = None;
                    match reply {
                        // a delay marker for later: wait for it, unless something is sooner
                        Ok(Some((_, _, score))) if score as u64 > now_ms() + 1 => {
                            let later = score as u64;
                            next_due = Some(next_due.map_or(later, |d| d.min(later)));
                        }
                        Ok(_) => break,
                        Err(_) => {
                            con = None;
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(connection::BLOCKING_RECONNECT_MAX);
                            break;
                        }
                    }
                }
                () = due_timer => break,
            }
        }
        if !wake() {
            return;
        }
    }
}
