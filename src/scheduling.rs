//! Scheduling methods of `NativeEngine`: job schedulers, delayed jobs, and changing a single
//! waiting job.

use job_queue_core::producer::{NewJob, Preparer};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::errors::{to_js, validation};
use crate::results::{ScheduledIteration, SchedulerRecord};
use crate::{jobs_json, NativeEngine};

#[derive(Deserialize)]
struct SchedulerPayload<'a> {
    #[serde(default)]
    defaults: Vec<Map<String, Value>>,
    id: String,
    name: String,
    #[serde(borrow)]
    data: &'a RawValue,
    #[serde(default)]
    opts: Map<String, Value>,
    repeat: Map<String, Value>,
}

#[napi]
impl NativeEngine {
    /// Creates or replaces a job scheduler. `payload` is `{defaults, id, name, data, opts,
    /// repeat}` (repeat in BullMQ's shape: `pattern` or `every`, `tz`, `startDate`, `endDate`,
    /// `limit`, `immediately`). Returns the first iteration it queued.
    #[napi]
    pub async fn upsert_scheduler(
        &self,
        queue: String,
        payload: String,
    ) -> Result<ScheduledIteration> {
        let q = self.queue(&queue)?;
        let input: SchedulerPayload =
            serde_json::from_str(&payload).map_err(|e| validation("schedule", e))?;
        let preparer = Preparer::new(
            input.defaults,
            self.max_data,
            job_queue_core::time::now_ms(),
        );
        let (template, _) = preparer
            .prepare(NewJob {
                name: input.name,
                data: input.data.get(),
                opts: input.opts,
            })
            .map_err(to_js)?;
        let scheduled = q
            .upsert_scheduler(&input.id, &input.repeat, &template)
            .await
            .map_err(to_js)?;
        Ok(scheduled.into())
    }

    /// The queue's schedulers, soonest first.
    #[napi]
    pub async fn schedulers(&self, queue: String) -> Result<Vec<SchedulerRecord>> {
        let list = self.queue(&queue)?.schedulers().await.map_err(to_js)?;
        Ok(list.into_iter().map(SchedulerRecord::from).collect())
    }

    /// Deletes a scheduler and its iteration that has not started; false if there was none.
    #[napi]
    pub async fn remove_scheduler(&self, queue: String, id: String) -> Result<bool> {
        self.queue(&queue)?
            .remove_scheduler(&id)
            .await
            .map_err(to_js)
    }

    /// Delayed jobs, soonest due first, ranks `start..=end`, as a JSON array.
    #[napi]
    pub async fn delayed_jobs(&self, queue: String, start: i64, end: i64) -> Result<String> {
        jobs_json(
            self.queue(&queue)?
                .delayed_jobs(start as isize, end as isize)
                .await,
        )
    }

    #[napi]
    pub async fn change_priority(&self, queue: String, id: String, priority: u32) -> Result<()> {
        self.queue(&queue)?
            .change_priority(&id, priority.into())
            .await
            .map_err(to_js)
    }

    #[napi]
    pub async fn promote_job(&self, queue: String, id: String) -> Result<()> {
        self.queue(&queue)?.promote(&id).await.map_err(to_js)
    }

    #[napi]
    pub async fn change_delay(&self, queue: String, id: String, delay_ms: f64) -> Result<()> {
        if !(delay_ms.is_finite() && delay_ms >= 0.0) {
            return Err(validation("delay", "must be a non-negative number of ms"));
        }
        self.queue(&queue)?
            .change_delay(&id, delay_ms.round() as u64)
            .await
            .map_err(to_js)
    }

    #[napi]
    pub async fn remove_job(&self, queue: String, id: String) -> Result<()> {
        self.queue(&queue)?.remove_job(&id).await.map_err(to_js)
    }
}
