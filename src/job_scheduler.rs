//! What lib/managers/job-scheduler.js (the design's JobScheduler) asks of `NativeEngine`, and
//! lib/queue.js's `add` / `addBulk` too: adding jobs (validated and prepared by the engine's
//! `Preparer`, issued in the order JavaScript made the calls, see `add_order.rs`), job
//! schedulers, delayed jobs, and changing, retrying or removing a single job.

use std::future::Future;

use job_queue_core::input;
use job_queue_core::producer::{NewJob, Preparer};
use job_queue_core::Queue;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::add_order;
use crate::errors::{self, to_js, validation};
use crate::results::{ScheduledIteration, SchedulerRecord};
use crate::wire;
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
    /// Validates the jobs, then adds the valid ones in one atomic call. `payload` is
    /// `{defaults: [opts...], jobs: [{name, data, opts}]}`. With `all_or_nothing`, one invalid
    /// job rejects the call and nothing is written. Returns JSON
    /// `{opts: [stored opts text...], jobs: [[id, created, timestamp, opts index] | error]}`
    /// where an error is `{code, message, field}`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn add_jobs<'env>(
        &self,
        env: &'env Env,
        queue: String,
        payload: String,
        all_or_nothing: bool,
    ) -> Result<PromiseRaw<'env, String>> {
        // A queue the engine refuses (a name without a hash tag on a cluster, a closed
        // engine) rejects the promise, so JS gets it where it converts engine errors
        // (`call` in lib/input.js), not as a synchronous throw.
        let q = match self.queue(&queue) {
            Ok(q) => q,
            Err(e) => return env.spawn_future(async move { Err::<String, _>(e) }),
        };
        let max_data = self.max_data;
        let order = self.add_order.clone();
        let ticket = order.ticket(); // on the JS thread: the order of the calls
        env.spawn_future(async move {
            let turn = order.turn(ticket).await;
            add_jobs_issued_in_turn(q, max_data, payload, all_or_nothing, turn).await
        })
    }

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
        let delay = input::non_negative_ms(delay_ms, "delay").map_err(to_js)?;
        self.queue(&queue)?
            .change_delay(&id, delay.as_millis() as u64)
            .await
            .map_err(to_js)
    }

    #[napi]
    pub async fn remove_job(&self, queue: String, id: String) -> Result<()> {
        self.queue(&queue)?.remove_job(&id).await.map_err(to_js)
    }

    #[napi]
    pub async fn retry_job(&self, queue: String, id: String) -> Result<()> {
        self.queue(&queue)?.retry_job(&id).await.map_err(to_js)
    }
}

/// The work of one `addJobs` call once its turn has come: validates and prepares the jobs,
/// issues the script call, gives the turn to the next call, then awaits the reply.
async fn add_jobs_issued_in_turn(
    q: Queue,
    max_data: usize,
    payload: String,
    all_or_nothing: bool,
    turn: add_order::Turn<'_>,
) -> Result<String> {
    let input = wire::decode_add_payload(&payload).map_err(|e| validation("jobs", e))?;
    let preparer = Preparer::new(input.defaults, max_data, job_queue_core::time::now_ms())
        .allow_any_data(input.any_data)
        .bullmq_options(input.bullmq);
    let mut requests = Vec::with_capacity(input.jobs.len());
    let mut outcomes = Vec::with_capacity(input.jobs.len());
    for job in input.jobs {
        let new_job = NewJob {
            name: job.name,
            data: job.data.get(),
            opts: job.opts,
        };
        match preparer.prepare(new_job) {
            Ok((request, plain)) => {
                outcomes.push(Ok((requests.len(), plain)));
                requests.push(request);
            }
            Err(e) if all_or_nothing => return Err(to_js(e)),
            Err(e) => outcomes.push(Err(errors::reason(&e))),
        }
    }
    let mut call = Box::pin(async {
        let added = q.add(&requests).await;
        (added, requests)
    });
    // polled once, the call joins the connection's pipeline now; then the next may go
    let first = call
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    drop(turn);
    let (added, requests) = match first {
        std::task::Poll::Ready(done) => done,
        std::task::Poll::Pending => call.await,
    };
    let added = added.map_err(to_js)?;
    let mut opts: Vec<&str> = Vec::new();
    let mut default_index = None;
    let jobs: Vec<wire::AddEntry> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Err(reason) => wire::AddEntry::Refused(reason),
            Ok((i, plain)) => {
                let r = &requests[i];
                let index = match (plain, default_index) {
                    (true, Some(d)) => d,
                    _ => {
                        opts.push(&r.options.stored);
                        if plain {
                            default_index = Some(opts.len() - 1);
                        }
                        opts.len() - 1
                    }
                };
                let (id, created) = &added[i];
                wire::AddEntry::Added {
                    id,
                    created: *created,
                    timestamp: r.options.timestamp.unwrap_or(r.now_ms),
                    opts: index,
                }
            }
        })
        .collect();
    Ok(wire::encode_add_result(&opts, jobs))
}
