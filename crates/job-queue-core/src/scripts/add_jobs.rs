//! Wrapper of `lua/add_jobs.lua`.

use redis::aio::ConnectionLike;

use super::{number_shapes, ADD_JOBS, QUEUE_KEYS};
use crate::connection::{DurableAdds, WaitReplicas};
use crate::error::{Error, Result};
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
///
/// With `wait`, the call is followed, in one pipeline on the same connection, by `WAIT`:
/// the jobs count as added once `wait.replicas` replicas confirmed them, and fewer within
/// `wait.timeout` is [`Error::NotReplicated`] (the jobs are on the master, not yet
/// confirmed). The pipeline makes a resend after a failover resend both (the new master's
/// `WAIT` then confirms what this connection wrote there), never a `WAIT` alone on a new
/// connection, which would confirm nothing it wrote. `WAIT` holds up the connection's other
/// calls while it waits: the engine's queues send such adds through
/// [`add_jobs_durable`], on a connection of their own.
pub async fn add_jobs<C: ConnectionLike>(
    con: &mut C,
    keys: &QueueKeys,
    jobs: &[AddRequest],
    wait: Option<WaitReplicas>,
) -> Result<Vec<(String, bool)>> {
    let inv = invocation(keys, jobs);
    let mut loaded = false;
    let flat: Vec<(String, i64)> = loop {
        let sent: redis::RedisResult<Vec<(String, i64)>> = match wait {
            None => inv.query_async(con).await,
            Some(w) => {
                let mut pipe = redis::pipe();
                pipe.add_command(inv.clone())
                    .cmd("WAIT")
                    .arg(w.replicas)
                    .arg(w.timeout.as_millis() as u64);
                match pipe.query_async::<(Vec<(String, i64)>, u32)>(con).await {
                    Ok((flat, acked)) => {
                        confirmed(w, acked)?;
                        Ok(flat)
                    }
                    Err(e) => Err(e),
                }
            }
        };
        match sent {
            Err(e) if !loaded && no_script(&e) => {
                // SCRIPT LOAD goes to every master of a cluster
                ADD_JOBS.load_async(con).await?;
                loaded = true;
            }
            other => break other?,
        }
    };
    Ok(created(flat))
}

/// [`add_jobs`] with `durable.wait()`, through [`DurableAdds`]: the call joins the next group
/// of adds sent on their own connection with one `WAIT` for all of them. Fewer replicas
/// than asked within the timeout is [`Error::NotReplicated`] (the jobs are stored on the
/// master; adding them again with the same custom `jobId` is safe).
pub async fn add_jobs_durable(
    durable: &DurableAdds,
    keys: &QueueKeys,
    jobs: &[AddRequest],
) -> Result<Vec<(String, bool)>> {
    let inv = invocation(keys, jobs);
    let mut loaded = false;
    loop {
        let (reply, acked) = durable.send(inv.clone(), &keys.base).await?;
        match reply.extract_error() {
            Err(e) if !loaded && no_script(&e) => {
                // the master found after a failover may not have the script yet
                ADD_JOBS.load_async(&mut durable.connection()).await?;
                loaded = true;
            }
            Err(e) => return Err(e.into()),
            Ok(reply) => {
                let flat: Vec<(String, i64)> =
                    redis::from_redis_value(reply).map_err(redis::RedisError::from)?;
                confirmed(durable.wait(), acked)?;
                return Ok(created(flat));
            }
        }
    }
}

/// `EVALSHA` of `lua/add_jobs.lua` for `jobs` (built here, not through `redis::Script`, so
/// it can share a pipeline with `WAIT`).
fn invocation(keys: &QueueKeys, jobs: &[AddRequest]) -> redis::Cmd {
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
    let mut inv = redis::cmd("EVALSHA");
    inv.arg(ADD_JOBS.get_hash()).arg(QUEUE_KEYS.len());
    for suffix in QUEUE_KEYS {
        inv.arg(keys.key(suffix));
    }
    inv.arg(&keys.base);
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
    inv
}

fn no_script(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
}

/// Ok when `acked` replicas are enough for `w`.
fn confirmed(w: WaitReplicas, acked: u32) -> Result<()> {
    if acked >= w.replicas {
        return Ok(());
    }
    Err(Error::NotReplicated {
        wanted: w.replicas,
        acked,
        timeout_ms: w.timeout.as_millis() as u64,
    })
}

fn created(flat: Vec<(String, i64)>) -> Vec<(String, bool)> {
    flat.into_iter()
        .map(|(id, created)| (id, created == 1))
        .collect()
}
