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
}

impl KeepPolicy {
    /// Keeps every finished job (BullMQ's `false`).
    pub const KEEP_ALL: Self = Self {
        count: None,
        age: None,
    };

    /// Reads `true` (keep none), `false`/`null` (keep all), a count, or `{age (s), count}`;
    /// anything else, or a count or age that is not a non-negative integer, is a validation error
    /// on `field`.
    pub fn parse(v: &Value, field: &str) -> Result<Self> {
        match v {
            Value::Bool(true) => Ok(Self {
                count: Some(0),
                age: None,
            }),
            Value::Bool(false) | Value::Null => Ok(Self::KEEP_ALL),
            Value::Number(_) => Ok(Self {
                count: Some(whole_number(v, field)?),
                age: None,
            }),
            Value::Object(o) => Ok(Self {
                count: o.get("count").map(|c| whole_number(c, field)).transpose()?,
                age: o
                    .get("age")
                    .map(|a| whole_number(a, field).map(Duration::from_secs))
                    .transpose()?,
            }),
            _ => Err(Error::validation(
                field,
                "must be a boolean, a count, or {age, count}",
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
