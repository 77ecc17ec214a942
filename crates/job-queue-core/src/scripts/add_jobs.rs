//! Wrapper of `lua/add_jobs.lua`.

use redis::aio::ConnectionLike;

use super::{invocation, ADD_JOBS};
use crate::error::Result;
use crate::keys::QueueKeys;
use crate::options::AddOptions;

/// One job to add, already validated.
#[derive(Debug, Clone)]
pub struct AddRequest {
    pub name: String,
    /// The payload as JSON text.
    pub data: String,
    pub options: AddOptions,
    /// Creation time in ms, used when the options carry no `timestamp`.
    pub now_ms: u64,
}

/// Adds `jobs` in one atomic call. Returns, per job, its id and whether it was created
/// (`false`: the id names the job that stands for it: the one with that custom id, or the
/// owner of its deduplication id).
pub async fn add_jobs<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    jobs: &[AddRequest],
) -> Result<Vec<(String, bool)>> {
    let mut inv = invocation(&ADD_JOBS, keys);
    inv.arg(jobs.len());
    for job in jobs {
        let o = &job.options;
        inv.arg(o.job_id.as_deref().unwrap_or(""))
            .arg(&job.name)
            .arg(&job.data)
            .arg(&o.stored)
            .arg(o.timestamp.unwrap_or(job.now_ms))
            .arg(o.delay_ms)
            .arg(o.priority)
            .arg(if o.lifo { "1" } else { "0" })
            .arg(o.dedup.as_ref().map(|d| d.script_arg()).unwrap_or_default());
    }
    let flat: Vec<(String, i64)> = inv.invoke_async(con).await?;
    Ok(flat
        .into_iter()
        .map(|(id, created)| (id, created == 1))
        .collect())
}
