//! What lib/queue-events.js (BullMQ's `QueueEvents`, and the coordinator's `events(queue)`)
//! asks of `NativeEngine`: where the queue's events stream ends now, and following it, each
//! read blocking for the caller's `blockingTimeout`.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

use job_queue_core::events::EventWatch;

use crate::errors::to_js;
use crate::wire;
use crate::worker::ProcessFn;
use crate::NativeEngine;

/// A queue's events stream being followed; `close()` stops it.
#[napi]
pub struct NativeEventWatch {
    pub(crate) watch: Option<EventWatch>,
}

#[napi]
impl NativeEventWatch {
    #[napi]
    pub fn close(&mut self) {
        self.watch.take();
    }
}

#[napi]
impl NativeEngine {
    /// The id of the newest entry of the queue's events stream, or null when it has none.
    #[napi]
    pub async fn last_event_id(&self, queue: String) -> Result<Option<String>> {
        self.queue(&queue)?.last_event_id().await.map_err(to_js)
    }

    /// Follows the queue's events stream from now (or after id `from`), each read of the
    /// stream blocking at most `block_ms`; `callback` gets batches as JSON
    /// `[[id, {event, ...fields}]]`. Held strongly: a watch keeps Node alive until closed, as
    /// a listener would expect.
    #[napi(
        ts_args_type = "queue: string, from: string | undefined | null, blockMs: number, callback: (batch: string) => void"
    )]
    pub async fn watch_events_blocking(
        &self,
        queue: String,
        from: Option<String>,
        block_ms: u32,
        callback: ProcessFn,
    ) -> Result<NativeEventWatch> {
        let block = Duration::from_millis(block_ms.into());
        let watch = self
            .engine()?
            .watch_events_blocking(&queue, from, block, move |entries| {
                callback.call(
                    wire::encode_stream_events(entries),
                    ThreadsafeFunctionCallMode::NonBlocking,
                ) == Status::Ok
            })
            .map_err(to_js)?;
        Ok(NativeEventWatch { watch: Some(watch) })
    }
}
