//! A queue's scheduler operations: create or replace, list, remove.

use serde_json::{Map, Value};

use super::{Repeat, Scheduled, SchedulerInfo};
use crate::error::{Error, Result};
use crate::queue::Queue;
use crate::scripts::{self, AddRequest, UpsertRequest};
use crate::time::now_ms;

impl Queue {
    /// Creates scheduler `id`, or replaces it (its waiting iteration is dropped and the new
    /// schedule takes over). `template` is the job every iteration is made from; the schedule
    /// decides its id and delay, so a template that sets them is refused.
    pub async fn upsert_scheduler(
        &self,
        id: &str,
        repeat: &Map<String, Value>,
        template: &AddRequest,
    ) -> Result<Scheduled> {
        if id.is_empty() {
            return Err(Error::validation("schedulerId", "must not be empty"));
        }
        let repeat = Repeat::from_map(repeat)?;
        let o = &template.options;
        let own_field = if o.job_id.is_some() {
            Some("jobId")
        } else if o.delay_ms > 0 {
            Some("delay")
        } else if o.stored.contains("\"repeat\":") {
            Some("repeat")
        } else {
            None
        };
        if let Some(field) = own_field {
            return Err(Error::validation(
                field,
                "is decided by the schedule and cannot be set on a recurring job",
            ));
        }
        let now = now_ms();
        let request = UpsertRequest {
            id,
            first_cron: repeat.first_cron(now)?,
            every: repeat.every(),
            offset: repeat.offset,
            start_date: repeat.start_date,
            iteration_fields: serde_json::Value::Object(repeat.iteration_fields()).to_string(),
            hash_fields: repeat.hash_fields(),
            name: &template.name,
            data: &template.data,
            opts: &o.stored,
            priority: o.priority,
            now,
        };
        scripts::upsert_scheduler(&mut self.con.clone(), &self.keys, &request).await
    }

    /// Every scheduler of the queue, soonest next iteration first.
    pub async fn schedulers(&self) -> Result<Vec<SchedulerInfo>> {
        let mut con = self.con.clone();
        let repeat = self.keys.key("repeat");
        let ids: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(&repeat)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut con)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (id, _) in &ids {
            pipe.hgetall(format!("{repeat}:{id}"));
        }
        let hashes: Vec<Vec<(String, String)>> = pipe.query_async(&mut con).await?;
        Ok(ids
            .into_iter()
            .zip(hashes)
            .filter(|(_, h)| !h.is_empty())
            .map(|((id, next), h)| SchedulerInfo::from_hash(id, Some(next as u64), h))
            .collect())
    }

    /// Whether `id` names a job scheduler of the queue (its hash has an iteration count, as
    /// BullMQ's `isJobScheduler` checks), ours or BullMQ's.
    pub async fn is_scheduler(&self, id: &str) -> Result<bool> {
        let found: bool = redis::cmd("HEXISTS")
            .arg(format!("{}:{id}", self.keys.key("repeat")))
            .arg("ic")
            .query_async(&mut self.con.clone())
            .await?;
        Ok(found)
    }

    /// Deletes scheduler `id` and its iteration that has not started. Returns whether it
    /// existed.
    pub async fn remove_scheduler(&self, id: &str) -> Result<bool> {
        scripts::remove_scheduler(&mut self.con.clone(), &self.keys, id).await
    }
}
