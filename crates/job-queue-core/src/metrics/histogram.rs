//! Latency histograms as read back from Redis, and their summary statistics.

use serde::Serialize;

use super::BUCKETS_MS;

/// A latency histogram as read back: counts per bucket (not cumulative), sum and count.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Histogram {
    /// Jobs per bucket of [`BUCKETS_MS`] (a last entry for longer ones); empty when none.
    pub buckets: Vec<u64>,
    /// The sum of all observations, in ms.
    pub sum_ms: u64,
    /// Observations (the sum of the buckets).
    pub count: u64,
}

impl Histogram {
    pub(super) fn add_field(&mut self, part: &str, n: u64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; BUCKETS_MS.len() + 1];
        }
        match part {
            "sum" => self.sum_ms += n,
            i => {
                if let Some(slot) = i
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| self.buckets.get_mut(i))
                {
                    *slot += n;
                    self.count += n;
                }
            }
        }
    }

    pub(super) fn merge(&mut self, other: &Histogram) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; BUCKETS_MS.len() + 1];
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.sum_ms += other.sum_ms;
        self.count += other.count;
    }

    /// The mean observation in ms; 0 when there are none.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ms as f64 / self.count as f64
        }
    }

    /// The `q` quantile (0..1), interpolated linearly inside its bucket, as Prometheus'
    /// `histogram_quantile` does; the unbounded bucket answers with its lower bound.
    pub fn quantile(&self, q: f64) -> f64 {
        let total: u64 = self.buckets.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = q * total as f64;
        let mut seen = 0.0;
        for (i, n) in self.buckets.iter().enumerate() {
            let next = seen + *n as f64;
            if next >= rank && *n > 0 {
                let lower = if i == 0 {
                    0.0
                } else {
                    BUCKETS_MS[i - 1] as f64
                };
                let Some(upper) = BUCKETS_MS.get(i) else {
                    return lower;
                };
                return lower + (*upper as f64 - lower) * ((rank - seen) / *n as f64);
            }
            seen = next;
        }
        0.0
    }
}

/// Summary statistics of a latency histogram, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Mean, in ms.
    pub average: f64,
    /// Median, in ms, interpolated within its histogram bucket.
    pub p50: f64,
    /// 95th percentile, in ms (interpolated within its bucket).
    pub p95: f64,
    /// 99th percentile, in ms (interpolated within its bucket).
    pub p99: f64,
    /// Observations the figures come from; 0 means every figure is 0.
    pub count: u64,
}

impl From<&Histogram> for Latency {
    fn from(h: &Histogram) -> Self {
        Self {
            average: h.mean(),
            p50: h.quantile(0.5),
            p95: h.quantile(0.95),
            p99: h.quantile(0.99),
            count: h.count,
        }
    }
}
