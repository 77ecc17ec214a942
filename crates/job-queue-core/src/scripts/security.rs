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
    /// Every cost was counted.
    pub allowed: bool,
    /// The index (from 0) of the client whose cost did not fit, when not allowed.
    pub refused: Option<usize>,
    /// The window's count: of the refused client, else of the first (after counting).
    pub count: u64,
    /// ms until that window ends (and its count starts again from 0).
    pub window_left_ms: u64,
}

/// Counts each `(key, cost)` against its window when every one fits under `max`; else
/// counts nothing.
pub async fn client_rate_limit<C: ConnectionLike>(
    con: &mut C,
    windows: &[(String, u64)],
    max: u64,
    window_ms: u64,
) -> Result<RateWindow> {
    let mut inv = CLIENT_RATE_LIMIT.prepare_invoke();
    for (key, _) in windows {
        inv.key(key);
    }
    inv.arg(max).arg(window_ms);
    for (_, cost) in windows {
        inv.arg(*cost);
    }
    let reply: Vec<i64> = inv.invoke_async(con).await?;
    let at = |i: usize| reply.get(i).copied().unwrap_or(0).max(0) as u64;
    Ok(RateWindow {
        allowed: at(0) == 1,
        refused: (at(0) != 1).then(|| (at(3) as usize).saturating_sub(1)),
        count: at(1),
        window_left_ms: at(2),
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
