//! The settle step of the worker loop as a pure function: a job's outcome in, the script
//! arguments that settle it, the event that announces it and the attempt to count in the
//! metrics out. It reads no clock and draws no random number (both are arguments), and
//! touches neither Redis nor the loop's state, so it is tested on its own.
//!
//! This is the one place that decides retry-or-fail: the `failed` event carries the decision
//! (and the delay before the retry), so nothing upstream works it out again.

use std::time::Duration;

use super::running::Running;
use super::{Failure, Outcome, WorkerEvent, WorkerOptions};
use crate::metrics::AttemptEnd;
use crate::scripts::{Action, Settle};

/// An attempt that ended, for the metrics.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Attempt {
    /// The job's name.
    pub(super) name: String,
    /// How it ended.
    pub(super) end: AttemptEnd,
    /// How long it ran, in ms.
    pub(super) ran_ms: u64,
    /// On a first attempt, how long the job waited before it, in ms.
    pub(super) waited_ms: Option<u64>,
}

/// What settling one outcome comes to.
#[derive(Debug)]
pub(super) struct Settled {
    /// The script arguments for the job.
    pub(super) settle: Settle,
    /// The event announcing it once settled (none for a job given back unprocessed).
    pub(super) event: Option<WorkerEvent>,
    /// The attempt to count (none for a job given back unprocessed).
    pub(super) attempt: Option<Attempt>,
}

/// Decides what `outcome` does to the job `run`: complete, retry (now or after a delay), fail
/// for good, or give back. `handle` is the one the job was dispatched with (none for a job
/// never dispatched); `now_ms` the time of settling; `jitter` in [0, 1) the random draw for
/// the backoff's jitter.
pub(super) fn settle(
    run: Running,
    outcome: Outcome,
    handle: Option<u64>,
    options: &WorkerOptions,
    now_ms: u64,
    jitter: f64,
) -> Settled {
    let ran_ms = now_ms.saturating_sub(run.started_ms);
    match outcome {
        Outcome::Completed(return_value) => {
            let attempt = Attempt {
                name: run.name.clone(),
                end: AttemptEnd::Completed,
                ran_ms,
                waited_ms: run.waited_ms,
            };
            let action = Action::Completed {
                return_value: return_value.clone(),
                keep: run
                    .opts
                    .remove_on_complete
                    .unwrap_or(options.remove_on_complete),
                attempts: run.opts.attempts,
            };
            let event = WorkerEvent::Completed {
                handle,
                id: run.id.clone(),
                return_value,
            };
            let attempts_made = run.attempts_made + 1;
            Settled {
                settle: run.settle(action, None, attempts_made),
                event: Some(event),
                attempt: Some(attempt),
            }
        }
        Outcome::Release => {
            let attempts_made = run.attempts_made;
            Settled {
                settle: run.settle(Action::Release, None, attempts_made),
                event: None,
                attempt: None,
            }
        }
        Outcome::Moved => unreachable!("a moved job is forgotten before settling"),
        Outcome::Failed(failure) => {
            settle_failed(run, failure, None, handle, options, ran_ms, jitter)
        }
        Outcome::FailedWithDelay(failure, delay) => {
            settle_failed(run, failure, Some(delay), handle, options, ran_ms, jitter)
        }
    }
}

/// A failed attempt: retry now, later (after `delay`, else the job's backoff), or fail for
/// good (no attempts left, or `failure.unrecoverable`).
fn settle_failed(
    mut run: Running,
    failure: Failure,
    delay: Option<Duration>,
    handle: Option<u64>,
    options: &WorkerOptions,
    ran_ms: u64,
    jitter: f64,
) -> Settled {
    let attempt = run.attempts_made + 1;
    let mut stacktrace = std::mem::take(&mut run.stacktrace);
    if let Some(stack) = failure.stack {
        stacktrace.push(stack);
    }
    if let Some(limit) = run.opts.stack_trace_limit {
        let excess = stacktrace.len().saturating_sub(limit);
        stacktrace.drain(..excess);
    }
    let retrying = !failure.unrecoverable && attempt < run.opts.attempts;
    let end = if retrying {
        AttemptEnd::Retried
    } else {
        AttemptEnd::Failed
    };
    let counted = Attempt {
        name: run.name.clone(),
        end,
        ran_ms,
        waited_ms: run.waited_ms,
    };
    let reason = failure.message;
    let retry = &options.retry;
    let mut retry_delay = None;
    let action = if retrying {
        let delay = delay.unwrap_or_else(|| {
            run.opts
                .backoff
                .map(|b| b.delay_after(attempt, retry, jitter))
                .unwrap_or_default()
        });
        retry_delay = Some(delay);
        if delay.is_zero() {
            Action::RetryNow {
                reason: reason.clone(),
                lifo: run.opts.lifo,
                priority: run.priority,
            }
        } else {
            Action::RetryLater {
                reason: reason.clone(),
                delay,
            }
        }
    } else {
        Action::Failed {
            reason: reason.clone(),
            keep: run.opts.remove_on_fail.unwrap_or(options.remove_on_fail),
            attempts: run.opts.attempts,
        }
    };
    let event = WorkerEvent::Failed {
        handle,
        id: run.id.clone(),
        name: run.name.clone(),
        error_name: failure.name.clone(),
        reason,
        retrying,
        retry_delay,
        attempt,
        trace_id: run.opts.trace_id.clone(),
        job: None,
    };
    let stack = serde_json::to_string(&stacktrace).expect("strings serialise");
    let mut settle = run.settle(action, Some(stack), attempt);
    settle.error_name = failure.name;
    Settled {
        settle,
        event: Some(event),
        attempt: Some(counted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{Backoff, BackoffKind, KeepPolicy, StoredOptions};

    fn run(attempts_made: u32, opts: StoredOptions) -> Running {
        Running {
            id: "7".into(),
            name: "email".into(),
            token: "tok:1".into(),
            opts,
            attempts_made,
            priority: 0,
            dedup_id: None,
            stacktrace: vec!["old".into()],
            started_ms: 1_000,
            waited_ms: Some(40),
            dispatched: None,
        }
    }

    fn failure(unrecoverable: bool) -> Failure {
        Failure {
            name: Some("TypeError".into()),
            message: "boom".into(),
            stack: Some("TypeError: boom\n  at x".into()),
            unrecoverable,
        }
    }

    fn attempts(n: u32) -> StoredOptions {
        StoredOptions {
            attempts: n,
            trace_id: Some("trace-1".into()),
            ..StoredOptions::default()
        }
    }

    fn failed_event(s: &Settled) -> (bool, Option<Duration>, u32, Option<String>) {
        match &s.event {
            Some(WorkerEvent::Failed {
                retrying,
                retry_delay,
                attempt,
                trace_id,
                ..
            }) => (*retrying, *retry_delay, *attempt, trace_id.clone()),
            other => panic!("expected a failed event, got {other:?}"),
        }
    }

    #[test]
    fn completed_counts_the_attempt_and_keeps_by_the_worker_default() {
        let options = WorkerOptions {
            remove_on_complete: KeepPolicy::newest(3),
            ..WorkerOptions::default()
        };
        let s = settle(
            run(0, attempts(2)),
            Outcome::Completed("42".into()),
            Some(5),
            &options,
            1_250,
            0.5,
        );
        assert_eq!(s.settle.attempts_made, 1);
        assert!(s.settle.stacktrace.is_none());
        match &s.settle.action {
            Action::Completed {
                return_value, keep, ..
            } => {
                assert_eq!(return_value, "42");
                assert_eq!(*keep, KeepPolicy::newest(3));
            }
            other => panic!("expected completed, got {other:?}"),
        }
        assert!(matches!(
            &s.event,
            Some(WorkerEvent::Completed { handle: Some(5), id, .. }) if id == "7"
        ));
        assert_eq!(
            s.attempt,
            Some(Attempt {
                name: "email".into(),
                end: AttemptEnd::Completed,
                ran_ms: 250,
                waited_ms: Some(40),
            })
        );
    }

    #[test]
    fn failure_with_attempts_left_retries_at_once_without_backoff() {
        let s = settle(
            run(0, attempts(3)),
            Outcome::Failed(failure(false)),
            Some(1),
            &WorkerOptions::default(),
            1_000,
            0.0,
        );
        assert!(matches!(s.settle.action, Action::RetryNow { .. }));
        assert_eq!(
            failed_event(&s),
            (true, Some(Duration::ZERO), 1, Some("trace-1".into()))
        );
        assert_eq!(s.attempt.unwrap().end, AttemptEnd::Retried);
        assert_eq!(s.settle.error_name.as_deref(), Some("TypeError"));
        let stack: Vec<String> =
            serde_json::from_str(s.settle.stacktrace.as_ref().unwrap()).unwrap();
        assert_eq!(stack, ["old", "TypeError: boom\n  at x"]);
    }

    #[test]
    fn backoff_gives_the_retry_delay_and_the_event_carries_it() {
        let mut opts = attempts(3);
        opts.backoff = Some(Backoff {
            kind: BackoffKind::Exponential,
            delay: Duration::from_millis(100),
            max_delay: None,
            jitter: Some(0.0),
        });
        let s = settle(
            run(1, opts),
            Outcome::Failed(failure(false)),
            Some(1),
            &WorkerOptions::default(),
            1_000,
            0.3,
        );
        match s.settle.action {
            Action::RetryLater { delay, .. } => assert_eq!(delay, Duration::from_millis(200)),
            ref other => panic!("expected a delayed retry, got {other:?}"),
        }
        assert_eq!(failed_event(&s).1, Some(Duration::from_millis(200)));
        assert_eq!(failed_event(&s).2, 2);
    }

    #[test]
    fn delay_from_the_processor_side_wins_over_the_backoff() {
        let s = settle(
            run(0, attempts(2)),
            Outcome::FailedWithDelay(failure(false), Duration::from_millis(70)),
            None,
            &WorkerOptions::default(),
            1_000,
            0.0,
        );
        assert!(
            matches!(s.settle.action, Action::RetryLater { delay, .. } if delay == Duration::from_millis(70))
        );
        assert_eq!(failed_event(&s).1, Some(Duration::from_millis(70)));
    }

    #[test]
    fn last_attempt_fails_for_good_with_no_retry_delay() {
        let options = WorkerOptions {
            remove_on_fail: KeepPolicy::newest(1),
            ..WorkerOptions::default()
        };
        let s = settle(
            run(2, attempts(3)),
            Outcome::Failed(failure(false)),
            Some(9),
            &options,
            1_000,
            0.0,
        );
        match s.settle.action {
            Action::Failed { keep, attempts, .. } => {
                assert_eq!(keep, KeepPolicy::newest(1));
                assert_eq!(attempts, 3);
            }
            ref other => panic!("expected failed, got {other:?}"),
        }
        assert_eq!(failed_event(&s), (false, None, 3, Some("trace-1".into())));
        assert_eq!(s.attempt.unwrap().end, AttemptEnd::Failed);
        assert_eq!(s.settle.attempts_made, 3);
    }

    #[test]
    fn unrecoverable_fails_for_good_with_attempts_left() {
        let s = settle(
            run(0, attempts(5)),
            Outcome::Failed(failure(true)),
            Some(1),
            &WorkerOptions::default(),
            1_000,
            0.0,
        );
        assert!(matches!(s.settle.action, Action::Failed { .. }));
        assert!(!failed_event(&s).0);
    }

    #[test]
    fn stack_trace_limit_keeps_the_newest() {
        let mut opts = attempts(1);
        opts.stack_trace_limit = Some(1);
        let s = settle(
            run(0, opts),
            Outcome::Failed(failure(false)),
            None,
            &WorkerOptions::default(),
            1_000,
            0.0,
        );
        let stack: Vec<String> =
            serde_json::from_str(s.settle.stacktrace.as_ref().unwrap()).unwrap();
        assert_eq!(stack, ["TypeError: boom\n  at x"]);
    }

    #[test]
    fn release_counts_no_attempt_and_announces_nothing() {
        let s = settle(
            run(2, attempts(3)),
            Outcome::Release,
            Some(1),
            &WorkerOptions::default(),
            1_000,
            0.0,
        );
        assert!(matches!(s.settle.action, Action::Release));
        assert_eq!(s.settle.attempts_made, 2);
        assert!(s.event.is_none() && s.attempt.is_none());
    }
}
