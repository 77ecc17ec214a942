//! What lib/managers/worker-manager.js (the design's WorkerManager) asks of `NativeEngine`
//! beyond starting workers: the worker registry of every process, and pausing or resuming a
//! worker of any process through it.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::to_js;
use crate::results::WorkerRecord;
use crate::NativeEngine;

#[napi]
impl NativeEngine {
    /// Every registered worker of every process.
    #[napi]
    pub async fn workers(&self) -> Result<Vec<WorkerRecord>> {
        let list = self.engine()?.workers().await.map_err(to_js)?;
        Ok(list.into_iter().map(WorkerRecord::from).collect())
    }

    /// Asks a worker of any process to pause or resume; false if it is not registered.
    #[napi]
    pub async fn request_worker_pause(&self, id: String, paused: bool) -> Result<bool> {
        self.engine()?
            .request_worker_pause(&id, paused)
            .await
            .map_err(to_js)
    }
}
