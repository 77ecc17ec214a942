//! The security scripts of a key prefix (our keys, outside every queue): client permissions,
//! per-client rate-limit windows and the audit log. See `crate::security` for the keys.

use redis::aio::ConnectionLike;

use super::{AUDIT_APPEND, CLIENT_RATE_LIMIT, GRANT_PERMISSION, REVOKE_PERMISSION};
use crate::error::{Error, Result};

/// Adds `fields` (each `<resource>\n<action>\n<conditions>`) to the client's grants at
/// `acl_key`; returns how many were new. More than `max_grants` in all is a validation error
/// and writes nothing.
pub async fn grant_permission<C: ConnectionLike>(
    con: &mut C,
    acl_key: &str,
    fields: &[String],
    max_grants: usize,
    now: u64,
) -> Result<usize> {
    let added: i64 = GRANT_PERMISSION
        .key(acl_key)
        .arg(max_grants)
        .arg(now)
        .arg(fields)
        .invoke_async(con)
        .await?;
    usize::try_from(added).map_err(|_| {
        Error::validation(
            "permission",
            format!("a client holds at most {max_grants} grants (resource × action × conditions)"),
        )
    })
}

/// Removes the client's grants on `resource` (of `actions`, or all); returns how many.
pub async fn revoke_permission<C: ConnectionLike>(
    con: &mut C,
    acl_key: &str,
    resource: &str,
    actions: &[String],
) -> Result<usize> {
    let removed: i64 = REVOKE_PERMISSION
        .key(acl_key)
        .arg(resource)
        .arg(actions)
        .invoke_async(con)
        .await?;
    Ok(removed.max(0) as usize)
}

/// What [`client_rate_limit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    /// The cost was counted.
    pub allowed: bool,
    /// The window's count (after counting, when allowed).
    pub count: u64,
    /// ms until the window ends (and the count starts again from 0).
    pub window_left_ms: u64,
}

/// Counts `cost` against the window at `key` when it fits under `max`.
pub async fn client_rate_limit<C: ConnectionLike>(
    con: &mut C,
    key: &str,
    cost: u64,
    max: u64,
    window_ms: u64,
) -> Result<RateWindow> {
    let (allowed, count, left): (i64, i64, i64) = CLIENT_RATE_LIMIT
        .key(key)
        .arg(cost)
        .arg(max)
        .arg(window_ms)
        .invoke_async(con)
        .await?;
    Ok(RateWindow {
        allowed: allowed == 1,
        count: count.max(0) as u64,
        window_left_ms: left.max(0) as u64,
    })
}

/// Appends entries to the audit stream at `key` (capped at about `cap`): each entry is its ms
/// and its values for `names` (an empty value is left out). Returns the ids written.
pub async fn audit_append<C: ConnectionLike>(
    con: &mut C,
    key: &str,
    cap: u64,
    names: &[&str],
    entries: &[(u64, Vec<String>)],
) -> Result<Vec<String>> {
    let mut inv = AUDIT_APPEND.key(key);
    inv.arg(cap).arg(names.len());
    for (ms, values) in entries {
        inv.arg(*ms);
        for (name, value) in names.iter().zip(values) {
            inv.arg(*name).arg(value);
        }
    }
    Ok(inv.invoke_async(con).await?)
}
