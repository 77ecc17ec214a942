//! Seeded fuzzing of the Lua scripts through their Rust wrappers: random operations with edge
//! arguments (missing, empty, unicode, control-character, brace and colon ids; priorities,
//! delays and counts at and past their limits; JSON and non-JSON texts; wrong lock tokens) on
//! a queue holding jobs in each state. Every call must succeed or fail with a typed error
//! (never a script's raw error, which surfaces as `ERR_CONNECTION`), and a failed call must
//! leave every key of the prefix as it was (compared by `DUMP`). `FUZZ_SEED` replays a run,
//! `FUZZ_STEPS` lengthens it.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use job_queue_core::error::ErrorCode;
use job_queue_core::job_control::FinishedSet;
use job_queue_core::options::KeepPolicy;
use job_queue_core::queue_admin::JobState;
use job_queue_core::scripts::{finish_and_fetch, Action, Settle};
use job_queue_core::time::now_ms;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// Every key of the test's prefix and its DUMP (streams and hashes alike). Keys about to
/// expire (a lock the fuzzer extended by a few ms) are left out: their expiry is not a write.
async fn snapshot(t: &common::TestQueue) -> BTreeMap<String, Vec<u8>> {
    let pattern = format!("{}:*", t.keys.prefix);
    let keys: Vec<String> = t.cmd(&["KEYS", &pattern]).await;
    let mut out = BTreeMap::new();
    for k in keys {
        let pttl: i64 = t.cmd(&["PTTL", &k]).await;
        if (0..10_000).contains(&pttl) {
            continue;
        }
        let dump: Option<Vec<u8>> = redis::cmd("DUMP")
            .arg(&k)
            .query_async(&mut t.con.clone())
            .await
            .unwrap();
        if let Some(d) = dump {
            out.insert(k, d);
        }
    }
    out
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

fn id(rng: &mut StdRng) -> String {
    let long = "9".repeat(10_000);
    let ids: [&str; 16] = [
        "1", "2", "3", "4", "5", "6", "missing", "", ":", "{q}", "a:b", "\0", "ü😀", "-1", "0",
        &long,
    ];
    pick(rng, &ids).to_string()
}

fn text(rng: &mut StdRng) -> String {
    let big = format!("\"{}\"", "x".repeat(100_000));
    let texts: [&str; 10] = [
        "{}",
        "1",
        "\"s\"",
        "null",
        "{",
        "",
        "[1,{\"__proto__\":{}}]",
        "\u{1}",
        "NaN",
        &big,
    ];
    pick(rng, &texts).to_string()
}

fn number(rng: &mut StdRng) -> u64 {
    *pick(
        rng,
        &[
            0,
            1,
            2,
            1000,
            2_097_151,
            2_097_152,
            u32::MAX as u64,
            i64::MAX as u64,
            u64::MAX,
        ],
    )
}

fn state(rng: &mut StdRng) -> JobState {
    *pick(
        rng,
        &[
            JobState::Completed,
            JobState::Failed,
            JobState::Delayed,
            JobState::Prioritized,
            JobState::Active,
            JobState::Wait,
            JobState::Paused,
            JobState::WaitingChildren,
        ],
    )
}

/// Jobs in several states: an active one (token "tok"), a waiting, a delayed and a
/// prioritized one, and one more waiting; the fuzzed settles move some to completed and failed.
async fn populate(t: &common::TestQueue) {
    let q = t.queue();
    q.add(&[common::request("a", json!({}))]).await.unwrap();
    finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[], common::fetch(1))
        .await
        .unwrap();
    q.add(&[common::request("b", json!({}))]).await.unwrap();
    q.add(&[common::request("c", json!({"delay": 600_000}))])
        .await
        .unwrap();
    q.add(&[common::request("d", json!({"priority": 5}))])
        .await
        .unwrap();
    q.add(&[common::request("e", json!({}))]).await.unwrap();
}

#[tokio::test]
async fn scripts_fail_typed_and_write_nothing_when_they_refuse() {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_202);
    let steps: usize = std::env::var("FUZZ_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut rng = StdRng::seed_from_u64(seed);
    let t = common::queue().await;
    populate(&t).await;
    let q = t.queue();
    let mut refused = 0;
    for step in 0..steps {
        let op = rng.random_range(0..16);
        let (a, b) = (id(&mut rng), text(&mut rng));
        let (n, m) = (number(&mut rng), number(&mut rng));
        let before = snapshot(&t).await;
        let label = format!(
            "step {step} op {op} id {:.40?} text {:.40?} n {n} m {m}",
            a, b
        );
        let result: Result<(), job_queue_core::error::Error> = match op {
            0 => q.retry_job(&a).await,
            1 => q.change_priority(&a, n).await,
            2 => q.promote(&a).await,
            3 => q.change_delay(&a, n).await,
            4 => q.remove_job(&a).await,
            5 => q.update_progress(&a, &b).await,
            6 => q.add_log(&a, &b, n).await.map(drop),
            7 => q.update_data(&a, &b, 1 << 20).await,
            8 => q
                .extend_lock(
                    &a,
                    pick::<&str>(&mut rng, &["tok", "other", ""]),
                    Duration::from_millis(n.min(1 << 40)),
                )
                .await
                .map(drop),
            9 => q
                .move_to_delayed(&a, n, Some(*pick(&mut rng, &["tok", "other"])))
                .await
                .map(drop),
            10 => {
                q.retry_finished(
                    &a,
                    *pick(&mut rng, &[FinishedSet::Completed, FinishedSet::Failed]),
                    rng.random(),
                    rng.random(),
                )
                .await
            }
            11 => q.change_priority_lifo(&a, n, rng.random()).await,
            12 => q.move_to_wait(state(&mut rng), n, m).await.map(drop),
            13 => q.clean_batch(state(&mut rng), n, m).await.map(drop),
            14 => q
                .jobs_by_state(&[state(&mut rng)], n as isize, m as isize, rng.random())
                .await
                .map(drop),
            _ => {
                let settle = Settle {
                    id: a.clone(),
                    token: pick(&mut rng, &["tok", "other"]).to_string(),
                    action: if rng.random() {
                        Action::Completed {
                            return_value: b.clone(),
                            keep: KeepPolicy::KEEP_ALL,
                            attempts: (n % 5) as u32,
                        }
                    } else {
                        Action::Failed {
                            reason: b.clone(),
                            keep: KeepPolicy::KEEP_ALL,
                            attempts: (n % 5) as u32,
                        }
                    },
                    stacktrace: None,
                    attempts_made: (m % 5) as u32,
                    dedup_id: None,
                    error_name: None,
                };
                let mut fetch = common::fetch(0);
                fetch.strict = true;
                match finish_and_fetch(&mut t.con.clone(), &t.keys, now_ms(), &[settle], fetch)
                    .await
                {
                    Ok(mut r) => r.settled.pop().unwrap_or(Ok(())),
                    Err(e) => Err(e),
                }
            }
        };
        if let Err(e) = result {
            refused += 1;
            assert_ne!(
                e.code(),
                ErrorCode::Connection,
                "{label}: untyped script error {e}"
            );
            let after = snapshot(&t).await;
            let changed: Vec<&String> = before
                .keys()
                .chain(after.keys())
                .filter(|k| before.get(*k) != after.get(*k))
                .collect();
            assert!(
                changed.is_empty(),
                "{label}: refused ({e}) but wrote to Redis: {changed:?}"
            );
        }
        // keep jobs around to act on
        if t.queue().counts().await.unwrap().waiting == 0 {
            populate(&t).await;
        }
    }
    assert!(
        refused > steps / 10,
        "only {refused} of {steps} calls refused: the generator is too tame"
    );
    t.cleanup().await;
}
