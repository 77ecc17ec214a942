//! The security keys of a prefix against a real Redis: grants, per-client rate windows shared
//! by two engines, and the audit log.

mod common;

use job_queue_core::keys::PrefixKeys;
use job_queue_core::security::{AuditEntry, AuditFilter, MAX_GRANTS};
use job_queue_core::{Engine, ErrorCode, RedisConfig};
use serde_json::json;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn grants_merge_by_resource_and_conditions_and_revoke_by_resource_and_action() {
    let t = common::queue().await;
    let e = &t.engine;
    let by_type = json!([{"field": "jobType", "operator": "in", "value": ["a", "b"]}]);
    assert_eq!(
        e.grant_permission("c1", "orders", &strings(&["enqueue", "view"]), &json!([]))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        e.grant_permission("c1", "orders", &strings(&["view"]), &json!([]))
            .await
            .unwrap(),
        0,
        "granting again adds nothing"
    );
    e.grant_permission("c1", "orders", &strings(&["enqueue"]), &by_type)
        .await
        .unwrap();
    e.grant_permission("c1", "*", &strings(&["view"]), &json!([]))
        .await
        .unwrap();
    let perms = e.client_permissions("c1").await.unwrap();
    let shape: Vec<_> = perms
        .iter()
        .map(|p| (p.resource.as_str(), p.actions.clone(), p.conditions.len()))
        .collect();
    assert_eq!(
        shape,
        vec![
            ("*", strings(&["view"]), 0),
            ("orders", strings(&["enqueue", "view"]), 0),
            ("orders", strings(&["enqueue"]), 1),
        ]
    );
    assert_eq!(perms[2].conditions[0]["value"], json!(["a", "b"]));
    assert!(e.client_permissions("nobody").await.unwrap().is_empty());

    // revoking enqueue on orders removes it under every condition set, keeps view
    assert_eq!(
        e.revoke_permission("c1", "orders", &strings(&["enqueue"]))
            .await
            .unwrap(),
        2
    );
    let left: Vec<_> = e
        .client_permissions("c1")
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.resource, p.actions))
        .collect();
    assert_eq!(
        left,
        vec![
            ("*".to_owned(), strings(&["view"])),
            ("orders".to_owned(), strings(&["view"]))
        ]
    );
    // a resource is matched whole: "order" is not "orders"
    assert_eq!(e.revoke_permission("c1", "order", &[]).await.unwrap(), 0);
    assert_eq!(e.revoke_permission("c1", "orders", &[]).await.unwrap(), 1);
    assert_eq!(e.client_permissions("c1").await.unwrap().len(), 1);
    t.cleanup().await;
}

#[tokio::test]
async fn bad_grants_and_too_many_grants_write_nothing() {
    let t = common::queue().await;
    let e = &t.engine;
    let key = PrefixKeys::new(&t.keys.prefix).acl("c");
    for (client, resource, actions, conditions, field) in [
        ("", "q", strings(&["view"]), json!([]), "clientId"),
        (
            "c",
            "q\nx",
            strings(&["view"]),
            json!([]),
            "permission.resource",
        ),
        ("c", "q", vec![], json!([]), "permission.actions"),
        (
            "c",
            "q",
            strings(&["view"]),
            json!({}),
            "permission.conditions",
        ),
    ] {
        let err = e
            .grant_permission(client, resource, &actions, &conditions)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation);
        assert!(err.to_string().contains(field), "{err}");
    }
    let exists: bool = t.cmd(&["EXISTS", &key]).await;
    assert!(!exists);

    let many: Vec<String> = (0..MAX_GRANTS - 1).map(|i| format!("a{i}")).collect();
    e.grant_permission("c", "q", &many, &json!([]))
        .await
        .unwrap();
    let err = e
        .grant_permission("c", "q", &strings(&["x", "y"]), &json!([]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation, "{err}");
    let len: usize = t.cmd(&["HLEN", &key]).await;
    assert_eq!(len, MAX_GRANTS - 1, "the refused grant wrote nothing");
    assert_eq!(
        e.grant_permission("c", "q", &strings(&["x"]), &json!([]))
            .await
            .unwrap(),
        1,
        "one more fits"
    );
    t.cleanup().await;
}

fn one(client: &str, cost: u64) -> Vec<(String, u64)> {
    vec![(client.to_owned(), cost)]
}

#[tokio::test]
async fn a_rate_window_is_shared_by_every_engine_and_counts_nothing_over_the_limit() {
    let t = common::queue().await;
    let other = Engine::connect(
        &RedisConfig {
            url: Some(common::redis_url()),
            ..Default::default()
        },
        &t.keys.prefix,
    )
    .await
    .unwrap();
    let a = t
        .engine
        .client_rate_limit("enqueue", &one("c", 2), 3, 60_000)
        .await
        .unwrap();
    assert!(
        a.allowed && a.count == 2 && a.window_left_ms > 59_000,
        "{a:?}"
    );
    let b = other
        .client_rate_limit("enqueue", &one("c", 1), 3, 60_000)
        .await
        .unwrap();
    assert!(
        b.allowed && b.count == 3,
        "the other engine sees the same window: {b:?}"
    );
    let over = t
        .engine
        .client_rate_limit("enqueue", &one("c", 1), 3, 60_000)
        .await
        .unwrap();
    assert!(
        !over.allowed && over.count == 3 && over.refused == Some(0),
        "{over:?}"
    );
    assert!(over.window_left_ms > 0 && over.window_left_ms <= 60_000);
    // another client, and another scope, have their own windows
    assert!(
        other
            .client_rate_limit("enqueue", &one("d", 3), 3, 60_000)
            .await
            .unwrap()
            .allowed
    );
    assert!(
        other
            .client_rate_limit("run", &one("c", 1), 3, 60_000)
            .await
            .unwrap()
            .allowed
    );
    // a cost larger than the limit never fits and counts nothing
    let huge = t
        .engine
        .client_rate_limit("enqueue", &one("e", 4), 3, 60_000)
        .await
        .unwrap();
    assert!(!huge.allowed && huge.count == 0);
    let exists: bool = t
        .cmd(&[
            "EXISTS",
            &PrefixKeys::new(&t.keys.prefix).rate("enqueue", "e"),
        ])
        .await;
    assert!(!exists, "a refused first call leaves no key");
    t.cleanup().await;
}

#[tokio::test]
async fn several_clients_are_counted_all_or_nothing() {
    let t = common::queue().await;
    let e = &t.engine;
    let key = |c: &str| PrefixKeys::new(&t.keys.prefix).rate("enqueue", c);
    e.client_rate_limit("enqueue", &one("b", 2), 3, 60_000)
        .await
        .unwrap();
    // a: 1, b: 1 + 1 more (named twice) = 4 > 3 → refused at b, a not counted
    let clients = vec![
        ("a".to_owned(), 1),
        ("b".to_owned(), 1),
        ("b".to_owned(), 1),
    ];
    let d = e
        .client_rate_limit("enqueue", &clients, 3, 60_000)
        .await
        .unwrap();
    assert!(!d.allowed && d.refused == Some(1) && d.count == 2, "{d:?}");
    let a_exists: bool = t.cmd(&["EXISTS", &key("a")]).await;
    assert!(!a_exists, "nothing counted for a");
    let fits = vec![("a".to_owned(), 1), ("b".to_owned(), 1)];
    assert!(
        e.client_rate_limit("enqueue", &fits, 3, 60_000)
            .await
            .unwrap()
            .allowed
    );
    let (a, b): (u64, u64) = (
        t.cmd::<String>(&["GET", &key("a")]).await.parse().unwrap(),
        t.cmd::<String>(&["GET", &key("b")]).await.parse().unwrap(),
    );
    assert_eq!((a, b), (1, 3));
    t.cleanup().await;
}

#[tokio::test]
async fn a_window_ends_and_the_count_starts_again() {
    let t = common::queue().await;
    let e = &t.engine;
    assert!(
        e.client_rate_limit("s", &one("c", 1), 1, 50)
            .await
            .unwrap()
            .allowed
    );
    let over = e.client_rate_limit("s", &one("c", 1), 1, 50).await.unwrap();
    assert!(!over.allowed);
    let ok = common::wait_for(std::time::Duration::from_secs(2), || async {
        e.client_rate_limit("s", &one("c", 1), 1, 50)
            .await
            .unwrap()
            .allowed
    })
    .await;
    assert!(ok, "a new window lets the client in again");
    t.cleanup().await;
}

fn entry(ms: u64, actor: &str, action: &str, queue: Option<&str>) -> AuditEntry {
    AuditEntry {
        timestamp_ms: ms,
        actor: actor.into(),
        action: action.into(),
        queue: queue.map(Into::into),
        job_id: None,
        outcome: "success".into(),
        origin: "host:1".into(),
        metadata: Some(r#"{"n":1}"#.into()),
    }
}

#[tokio::test]
async fn the_audit_log_keeps_order_and_filters_by_time_actor_action_and_queue() {
    let t = common::queue().await;
    let e = &t.engine;
    let ids = e
        .audit(
            &[
                entry(1_000, "alice", "pause", Some("q1")),
                entry(2_000, "bob", "retry", Some("q2")),
                // a writer whose clock is behind: kept after the newest, at its ms
                entry(1_500, "alice", "retry", Some("q1")),
                entry(3_000, "system", "scale", None),
            ],
            1000,
        )
        .await
        .unwrap();
    assert_eq!(ids, ["1000-0", "2000-0", "2000-1", "3000-0"]);
    let all = e
        .audit_log(&AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let seen: Vec<_> = all
        .iter()
        .map(|r| (r.actor.as_str(), r.action.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("system", "scale"),
            ("alice", "retry"),
            ("bob", "retry"),
            ("alice", "pause")
        ],
        "newest first"
    );
    assert_eq!(all[0].queue, None);
    assert_eq!(all[3].metadata.as_ref().unwrap().get(), r#"{"n":1}"#);
    assert_eq!(all[3].origin.as_deref(), Some("host:1"));

    let f =
        |since, until, actor: Option<&str>, action: Option<&str>, queue: Option<&str>, limit| {
            AuditFilter {
                since_ms: since,
                until_ms: until,
                actor: actor.map(Into::into),
                action: action.map(Into::into),
                queue: queue.map(Into::into),
                limit,
            }
        };
    let ids_of = |v: Vec<job_queue_core::security::AuditRecord>| {
        v.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids_of(
            e.audit_log(&f(Some(2_000), None, None, None, None, 10))
                .await
                .unwrap()
        ),
        ["3000-0", "2000-1", "2000-0"]
    );
    assert_eq!(
        ids_of(
            e.audit_log(&f(None, Some(2_000), None, None, None, 10))
                .await
                .unwrap()
        ),
        ["2000-1", "2000-0", "1000-0"]
    );
    assert_eq!(
        ids_of(
            e.audit_log(&f(None, None, Some("alice"), None, None, 10))
                .await
                .unwrap()
        ),
        ["2000-1", "1000-0"]
    );
    assert_eq!(
        ids_of(
            e.audit_log(&f(None, None, None, Some("retry"), Some("q1"), 10))
                .await
                .unwrap()
        ),
        ["2000-1"]
    );
    assert_eq!(
        ids_of(
            e.audit_log(&f(None, None, None, None, None, 2))
                .await
                .unwrap()
        ),
        ["3000-0", "2000-1"]
    );

    // metadata that is not JSON is refused before anything is written
    let mut bad = entry(4_000, "x", "y", None);
    bad.metadata = Some("{".into());
    let err = e
        .audit(&[entry(4_000, "x", "y", None), bad], 1000)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Validation);
    assert_eq!(
        e.audit_log(&f(None, None, None, None, None, 100))
            .await
            .unwrap()
            .len(),
        4
    );
    t.cleanup().await;
}

#[tokio::test]
async fn the_audit_log_is_capped_and_filtering_reads_past_a_batch() {
    let t = common::queue().await;
    let e = &t.engine;
    let many: Vec<AuditEntry> = (0..1_200)
        .map(|i| {
            entry(
                10_000 + i,
                if i == 3 { "rare" } else { "busy" },
                "enqueue",
                Some("q"),
            )
        })
        .collect();
    e.audit(&many, 100_000).await.unwrap();
    let rare = e
        .audit_log(&AuditFilter {
            actor: Some("rare".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rare.len(), 1, "found beyond the first read batch");
    assert_eq!(rare[0].timestamp, 10_003);
    // a small cap trims the stream (approximately, by whole nodes)
    e.audit(&many, 100).await.unwrap();
    let len: usize = t
        .cmd(&["XLEN", &PrefixKeys::new(&t.keys.prefix).audit()])
        .await;
    assert!(len < 1_200, "trimmed to about the cap: {len}");
    t.cleanup().await;
}
