//! What BullMQ's `QueueEvents` needs beyond `watchEvents`: where the events stream ends now.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::NativeEngine;

#[napi]
impl NativeEngine {
    /// The id of the newest entry of the queue's events stream, or null when it has none.
    #[napi]
    pub async fn last_event_id(&self, queue: String) -> Result<Option<String>> {
        self.queue(&queue)?.last_event_id().await.map_err(to_js)
    }
}
