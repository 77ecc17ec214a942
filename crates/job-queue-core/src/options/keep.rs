//! Keep policies: what to keep of finished jobs (`removeOnComplete` / `removeOnFail`).

use std::time::Duration;

use serde_json::Value;

use super::whole_number;
use crate::error::{Error, Result};

/// What to keep of finished jobs (`removeOnComplete` / `removeOnFail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeepPolicy {
    /// Keep at most this many newest finished jobs; `None` keeps all, `Some(0)` none.
    pub count: Option<u64>,
    /// Remove finished jobs older than this.
    pub age: Option<Duration>,
    /// At most this many jobs removed by `age` per settle (BullMQ's `limit`); `None` is
    /// BullMQ's default, [`DEFAULT_AGE_LIMIT`].
    pub limit: Option<u64>,
}

/// Jobs a settle removes by age at most when the policy sets no `limit` (BullMQ's default).
pub const DEFAULT_AGE_LIMIT: u64 = 1000;

impl KeepPolicy {
    /// Keeps every finished job (BullMQ's `false`).
    pub const KEEP_ALL: Self = Self {
        count: None,
        age: None,
        limit: None,
    };

    /// Keeps at most the newest `count` finished jobs.
    pub const fn newest(count: u64) -> Self {
        Self {
            count: Some(count),
            age: None,
            limit: None,
        }
    }

    /// Reads `true` (keep none), `false`/`null` (keep all), a count, or `{age (s), count,
    /// limit}`; anything else, or a count, age or limit that is not a non-negative integer, is
    /// a validation error on `field`.
    pub fn parse(v: &Value, field: &str) -> Result<Self> {
        match v {
            Value::Bool(true) => Ok(Self::newest(0)),
            Value::Bool(false) | Value::Null => Ok(Self::KEEP_ALL),
            Value::Number(_) => Ok(Self::newest(whole_number(v, field)?)),
            Value::Object(o) => Ok(Self {
                count: o.get("count").map(|c| whole_number(c, field)).transpose()?,
                age: o
                    .get("age")
                    .map(|a| whole_number(a, field).map(Duration::from_secs))
                    .transpose()?,
                limit: o.get("limit").map(|l| whole_number(l, field)).transpose()?,
            }),
            _ => Err(Error::validation(
                field,
                "must be a boolean, a count, or {age, count, limit}",
            )),
        }
    }

    /// [`parse`](Self::parse) of JSON text; text that is not JSON is refused likewise.
    pub fn parse_text(text: &str, field: &str) -> Result<Self> {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => Self::parse(&v, field),
            Err(_) => Err(Error::validation(
                field,
                "must be a boolean, a count, or {age, count}",
            )),
        }
    }
}
