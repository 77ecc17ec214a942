//! Walking keys by pattern with SCAN (never KEYS, which blocks Redis), batch by batch.

use redis::aio::ConnectionLike;

use crate::error::Result;

/// Keys asked for per SCAN call, unless the scan says otherwise.
const COUNT: u64 = 1000;

/// A SCAN over keys matching a glob pattern.
pub(crate) struct Scan {
    pattern: String,
    count: u64,
    cursor: u64,
    done: bool,
}

impl Scan {
    /// Scans for keys starting with `prefix` (taken literally) and ending with `suffix` (a
    /// glob, e.g. `*` or `*:meta`).
    pub(crate) fn new(prefix: &str, suffix: &str) -> Self {
        Self::with_count(prefix, suffix, COUNT)
    }

    /// [`Scan::new`], asking SCAN for about `count` keys per call (at least 1).
    pub(crate) fn with_count(prefix: &str, suffix: &str, count: u64) -> Self {
        Self {
            pattern: format!("{}{suffix}", glob_escape(prefix)),
            count: count.max(1),
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
            .arg(self.count)
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
