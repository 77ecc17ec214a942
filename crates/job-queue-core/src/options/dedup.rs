//! BullMQ's `deduplication` option, checked, and the form the add script reads.

use serde_json::Value;

use super::non_negative_ms;
use crate::error::{Error, Result};

/// BullMQ's `deduplication` option (stored as `de`): while the job that claimed
/// `id` is alive (or for `ttl`), adds with the same id are dropped in favour of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dedup {
    /// The deduplication id: adds with the same id while the claim lasts are dropped.
    pub id: String,
    /// How long the claim lasts, in ms; none = until the claiming job completes or fails.
    pub ttl_ms: Option<u64>,
    /// A dropped add restarts the ttl.
    pub extend: bool,
    /// A new add replaces the claiming job while that job is still delayed.
    pub replace: bool,
}

impl Dedup {
    pub(super) fn parse(v: &Value) -> Result<Self> {
        let o = v
            .as_object()
            .ok_or_else(|| Error::validation("deduplication", "must be an object {id, ttl?}"))?;
        let id = match o.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(Error::validation(
                    "deduplication.id",
                    "must be a non-empty string",
                ))
            }
        };
        let ttl_ms = match o.get("ttl") {
            None => None,
            Some(t) => match non_negative_ms(t, "deduplication.ttl")? {
                0 => return Err(Error::validation("deduplication.ttl", "must be positive")),
                ms => Some(ms),
            },
        };
        let flag = |name: &str| -> Result<bool> {
            match o.get(name) {
                None | Some(Value::Bool(false)) => Ok(false),
                Some(Value::Bool(true)) => Ok(true),
                Some(_) => Err(Error::validation(
                    &format!("deduplication.{name}"),
                    "must be a boolean",
                )),
            }
        };
        Ok(Self {
            id,
            ttl_ms,
            extend: flag("extend")?,
            replace: flag("replace")?,
        })
    }

    /// The form add_jobs.lua reads: `<ttl>|<flags>|<id>`.
    pub fn script_arg(&self) -> String {
        let ttl = self.ttl_ms.map(|t| t.to_string()).unwrap_or_default();
        let extend = if self.extend { "e" } else { "" };
        let replace = if self.replace { "r" } else { "" };
        format!("{ttl}|{extend}{replace}|{}", self.id)
    }
}
