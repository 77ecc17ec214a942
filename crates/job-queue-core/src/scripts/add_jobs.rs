//! Wrapper of `lua/add_jobs.lua`.

use redis::aio::ConnectionLike;

use super::{invocation, number_shapes, ADD_JOBS};
use crate::error::Result;
use crate::keys::QueueKeys;
use crate::options::AddOptions;

/// One job to add, already validated.
#[derive(Debug, Clone)]
pub struct AddRequest {
    /// The job's name.
    pub name: String,
    /// The payload as JSON text.
    pub data: String,
    /// Its validated options (id, delay, priority, lifo, deduplication, the `opts` to store).
    pub options: AddOptions,
    /// Creation time in ms, used when the options carry no `timestamp`.
    pub now_ms: u64,
}

/// What jobs of one call tend to share: name, stored options, timestamp, delay, priority and
/// lifo. Each distinct shape is sent once and jobs refer to it by number, so adding a thousand
/// alike jobs costs Redis 4 arguments per job instead of 10.
type Shape<'a> = (&'a str, &'a str, u64, u64, u64, bool);

/// Adds `jobs` in one atomic call. Returns, per job, its id and whether it was created
/// (`false`: the id names the job that stands for it: the one with that custom id, or the
/// owner of its deduplication id).
pub async fn add_jobs<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    jobs: &[AddRequest],
) -> Result<Vec<(String, bool)>> {
    let (shapes, refs) = number_shapes(jobs.iter().map(|job| -> Shape {
        let o = &job.options;
        (
            &job.name,
            &o.stored,
            o.timestamp.unwrap_or(job.now_ms),
            o.delay_ms,
            o.priority,
            o.lifo,
        )
    }));
    let mut inv = invocation(&ADD_JOBS, keys);
    inv.arg(jobs.len()).arg(shapes.len());
    for (name, stored, timestamp, delay, priority, lifo) in &shapes {
        inv.arg(*name)
            .arg(*stored)
            .arg(timestamp)
            .arg(delay)
            .arg(priority)
            .arg(if *lifo { "1" } else { "0" });
    }
    for (job, shape) in jobs.iter().zip(refs) {
        let o = &job.options;
        inv.arg(o.job_id.as_deref().unwrap_or(""))
            .arg(&job.data)
            .arg(shape)
            .arg(o.dedup.as_ref().map(|d| d.script_arg()).unwrap_or_default());
    }
    let flat: Vec<(String, i64)> = inv.invoke_async(con).await?;
    Ok(flat
        .into_iter()
        .map(|(id, created)| (id, created == 1))
        .collect())
}
