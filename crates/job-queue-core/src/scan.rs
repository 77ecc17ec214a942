//! Walking keys by pattern with SCAN (never KEYS, which blocks Redis), batch by batch.

use redis::aio::ConnectionLike;

use crate::error::Result;

/// Keys asked for per SCAN call.
const COUNT: u64 = 1000;

/// A SCAN over keys matching a glob pattern.
pub(crate) struct Scan {
    pattern: String,
    cursor: u64,
    done: bool,
}

impl Scan {
    /// Scans for keys starting with `prefix` (taken literally) and ending with `suffix` (a
    /// glob, e.g. `*` or `*:meta`).
    pub(crate) fn new(prefix: &str, suffix: &str) -> Self {
        Self {
            pattern: format!("{}{suffix}", glob_escape(prefix)),
            cursor: 0,
            done: false,
        }
    }

    /// The next batch of keys (possibly empty), or None once the scan is complete.
    pub(crate) async fn next_batch<C: ConnectionLike>(
        &mut self,
        con: &mut C,
    ) -> Result<Option<Vec<String>>> {
        if self.done {
            return Ok(None);
        }
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(self.cursor)
            .arg("MATCH")
            .arg(&self.pattern)
            .arg("COUNT")
            .arg(COUNT)
            .query_async(con)
            .await?;
        self.cursor = next;
        self.done = next == 0;
        Ok(Some(keys))
    }
}

/// `s` with the characters SCAN MATCH treats specially escaped.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
