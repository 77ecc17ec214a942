//! What BullMQ's `QueueEvents` needs beyond `watchEvents`: where the events stream ends now,
//! and a watch whose reads block for the caller's `blockingTimeout`.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

use crate::dispatch::ProcessFn;
use crate::errors::to_js;
use crate::observability::NativeEventWatch;
use crate::wire;
use crate::NativeEngine;

#[napi]
impl NativeEngine {
    /// The id of the newest entry of the queue's events stream, or null when it has none.
    #[napi]
    pub async fn last_event_id(&self, queue: String) -> Result<Option<String>> {
        self.queue(&queue)?.last_event_id().await.map_err(to_js)
    }

    /// `watchEvents`, with each read of the stream blocking at most `block_ms`.
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
