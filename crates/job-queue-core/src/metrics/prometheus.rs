//! The Prometheus text exposition of queue metrics.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Histogram, JobTypeCounters, QueueMetrics, BUCKETS_MS};

/// A gauge of the exposition: name, help, and how to read it from a queue's metrics.
type Gauge = (&'static str, &'static str, fn(&QueueMetrics) -> u64);

/// Escapes a Prometheus label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text exposition format (version 0.0.4) of `queues`' metrics: the design's metric
/// names, with durations in seconds as Prometheus' conventions ask.
pub fn prometheus_text(queues: &[QueueMetrics]) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: &mut dyn FnMut(&mut String)| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        samples(&mut out);
    };
    let counter = |field: fn(&JobTypeCounters) -> u64, metric: &'static str| {
        move |o: &mut String| {
            for q in queues {
                for (t, c) in &q.by_job_type {
                    let _ = writeln!(
                        o,
                        "{metric}{{queue=\"{}\",job_type=\"{}\"}} {}",
                        label(&q.name),
                        label(t),
                        field(c)
                    );
                }
            }
        }
    };
    family(
        "jobs_completed_total",
        "counter",
        "Jobs completed.",
        &mut counter(|c| c.completed, "jobs_completed_total"),
    );
    family(
        "jobs_failed_total",
        "counter",
        "Job attempts that failed, retried or not.",
        &mut counter(|c| c.failed, "jobs_failed_total"),
    );
    family(
        "job_retries_total",
        "counter",
        "Failed attempts that were retried.",
        &mut counter(|c| c.retried, "job_retries_total"),
    );
    family(
        "jobs_dead_letter_total",
        "counter",
        "Jobs that failed for good (dead letters).",
        &mut counter(|c| c.dead_letter, "jobs_dead_letter_total"),
    );
    for (metric, help, pick) in [
        (
            "job_processing_duration_seconds",
            "Time a job attempt ran.",
            (|q: &QueueMetrics| &q.processing_by_type)
                as fn(&QueueMetrics) -> &BTreeMap<String, Histogram>,
        ),
        (
            "job_wait_duration_seconds",
            "Time a job waited, runnable, before its first attempt started.",
            |q: &QueueMetrics| &q.wait_by_type,
        ),
    ] {
        family(metric, "histogram", help, &mut |o: &mut String| {
            for q in queues {
                for (t, h) in pick(q) {
                    let labels = format!("queue=\"{}\",job_type=\"{}\"", label(&q.name), label(t));
                    let mut cumulative = 0;
                    for (i, n) in h.buckets.iter().enumerate() {
                        cumulative += n;
                        let le = BUCKETS_MS
                            .get(i)
                            .map_or("+Inf".to_owned(), |ms| format!("{}", *ms as f64 / 1000.0));
                        let _ = writeln!(o, "{metric}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
                    }
                    let _ = writeln!(o, "{metric}_sum{{{labels}}} {}", h.sum_ms as f64 / 1000.0);
                    let _ = writeln!(o, "{metric}_count{{{labels}}} {}", h.count);
                }
            }
        });
    }
    family(
        "jobs_stalled_total",
        "counter",
        "Jobs recovered after their worker stopped renewing the lock.",
        &mut |o: &mut String| {
            for q in queues {
                let _ = writeln!(
                    o,
                    "jobs_stalled_total{{queue=\"{}\"}} {}",
                    label(&q.name),
                    q.stalled
                );
            }
        },
    );
    let gauges: [Gauge; 7] = [
        (
            "queue_jobs_waiting",
            "Jobs waiting to run (prioritized included).",
            |q| q.job_counts.waiting + q.job_counts.prioritized,
        ),
        ("queue_jobs_active", "Jobs running.", |q| {
            q.job_counts.active
        }),
        ("queue_jobs_completed", "Completed jobs kept.", |q| {
            q.job_counts.completed
        }),
        (
            "queue_jobs_failed",
            "Failed jobs kept (dead letters).",
            |q| q.job_counts.failed,
        ),
        ("queue_jobs_delayed", "Delayed jobs.", |q| {
            q.job_counts.delayed
        }),
        ("queue_paused", "1 when the queue is paused.", |q| {
            u64::from(q.is_paused)
        }),
        (
            "queue_active_workers",
            "Workers connected for the queue, in any process.",
            |q| q.workers as u64,
        ),
    ];
    for (metric, help, value) in gauges {
        family(metric, "gauge", help, &mut |o: &mut String| {
            for q in queues {
                let _ = writeln!(o, "{metric}{{queue=\"{}\"}} {}", label(&q.name), value(q));
            }
        });
    }
    out
}
