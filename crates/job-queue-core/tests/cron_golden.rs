//! Our cron evaluation against cron-parser's (BullMQ's parser) next-fire sequences, written by
//! `scripts/cron-golden.js`: time zones, a spring-forward and a fall-back day, L, #, names,
//! seconds and nicknames.

use chrono::DateTime;
use job_queue_core::schedule::cron::CronRule;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    expression: String,
    tz: String,
    start: String,
    next: Vec<String>,
}

fn ms(iso: &str) -> u64 {
    DateTime::parse_from_rfc3339(iso)
        .unwrap()
        .timestamp_millis() as u64
}

#[test]
fn next_fire_times_match_cron_parser() {
    let cases: Vec<Case> = serde_json::from_str(include_str!("fixtures/cron-golden.json")).unwrap();
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for c in &cases {
        let rule = CronRule::parse(&c.expression, &c.tz, "cron").unwrap();
        let mut t = ms(&c.start);
        let mut got = Vec::new();
        for _ in &c.next {
            t = rule.next_after(t).expect("fires again");
            got.push(t);
        }
        let want: Vec<u64> = c.next.iter().map(|s| ms(s)).collect();
        if got != want {
            failures.push(format!(
                "{} in {}: got {got:?}, want {want:?}",
                c.expression, c.tz
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
