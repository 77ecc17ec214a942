//! Queue-wide limits as BullMQ's Queue sets them: a global concurrency and a global rate
//! limit kept in the queue's meta hash (the fetch of every worker, ours or BullMQ's, obeys
//! them), a rate-limit pause of the whole queue, and the meta hash as read back.

use std::collections::HashMap;

use redis::AsyncCommands;

use crate::error::{Error, Result};
use crate::queue::Queue;
use crate::scripts::{self, LimitChange};

impl Queue {
    /// Sets (or with `None` clears) the most jobs all workers of the queue run at once.
    pub async fn set_global_concurrency(&self, limit: Option<u64>) -> Result<()> {
        if limit == Some(0) {
            return Err(Error::validation("concurrency", "must be at least 1"));
        }
        scripts::queue_limits(
            &mut self.con.clone(),
            &self.keys,
            LimitChange::Concurrency(limit),
        )
        .await
    }

    /// Sets (or with `None` clears) the most jobs all workers start per `window` ms.
    pub async fn set_global_rate_limit(&self, rate: Option<(u64, u64)>) -> Result<()> {
        if let Some((max, window)) = rate {
            if max == 0 {
                return Err(Error::validation("max", "must be at least 1"));
            }
            if window == 0 {
                return Err(Error::validation("duration", "must be at least 1 ms"));
            }
        }
        scripts::queue_limits(&mut self.con.clone(), &self.keys, LimitChange::Rate(rate)).await
    }

    /// Makes every rate-limited worker of the queue fetch nothing for `ms` milliseconds.
    pub async fn pause_rate_limited(&self, ms: u64) -> Result<()> {
        if ms == 0 {
            return Ok(());
        }
        scripts::queue_limits(&mut self.con.clone(), &self.keys, LimitChange::Pause(ms)).await
    }

    /// Ends a rate-limit pause or a used-up rate window at once.
    pub async fn clear_rate_limit(&self) -> Result<()> {
        scripts::queue_limits(&mut self.con.clone(), &self.keys, LimitChange::Unpause).await
    }

    /// How long (ms) workers allowed `max_jobs` per window must still wait: 0 when they may
    /// fetch. Without `max_jobs`, the queue's global rate limit applies; with neither, the
    /// limiter key's own TTL as Redis reports it (-2: no key, -1: no expiry), as BullMQ.
    pub async fn rate_limit_ttl(&self, max_jobs: Option<u64>) -> Result<i64> {
        let mut con = self.con.clone();
        let limiter = self.keys.key("limiter");
        let (global, used, ttl): (Option<u64>, Option<u64>, i64) = redis::pipe()
            .hget(self.keys.key("meta"), "max")
            .get(&limiter)
            .pttl(&limiter)
            .query_async(&mut con)
            .await?;
        let Some(max) = max_jobs.or(global) else {
            return Ok(ttl);
        };
        Ok(if used.unwrap_or(0) >= max && ttl > 0 {
            ttl
        } else {
            0
        })
    }

    /// Whether the queue runs as many jobs as its global concurrency allows (BullMQ's
    /// `isMaxed`): false without a global concurrency.
    pub async fn is_maxed(&self) -> Result<bool> {
        let (concurrency, active): (Option<u64>, u64) = redis::pipe()
            .atomic()
            .hget(self.keys.key("meta"), "concurrency")
            .llen(self.keys.key("active"))
            .query_async(&mut self.con.clone())
            .await?;
        Ok(concurrency.is_some_and(|c| active >= c))
    }

    /// The queue's meta hash, field by field.
    pub async fn meta(&self) -> Result<HashMap<String, String>> {
        let mut con = self.con.clone();
        Ok(con.hgetall(self.keys.key("meta")).await?)
    }
}
