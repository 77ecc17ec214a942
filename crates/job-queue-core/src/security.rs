//! Security state of a key prefix, kept outside every queue in keys `P::…` (as the
//! registries are, with the same hash tag: see [`PrefixKeys`]; `P::` stands for `P::{P}:`
//! when the prefix has no hash tag of its own): the permissions granted to clients,
//! per-client rate-limit windows, and the audit log. BullMQ ignores all of them.
//!
//! * `P::acl:<client>` (hash): one field per grant, `<resource>\n<action>\n<conditions>`
//!   (the conditions as canonical JSON, `[]` for none), valued with the ms it was granted.
//!   What a grant means (resources, actions, conditions) is decided by the JS access control;
//!   the engine stores, lists and removes grants, at most [`MAX_GRANTS`] per client.
//! * `P::rate:<scope>:<client>` (string): the client's count in the current window, expiring
//!   with it ([`Engine::client_rate_limit`]).
//! * `P::audit` (stream, capped): who did what to which queue or job, when, with what outcome
//!   ([`Engine::audit`], [`Engine::audit_log`]).

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::keys::PrefixKeys;
use crate::scripts::{self, RateWindow};
use crate::Engine;

/// The most grants (resource × action × conditions) one client may hold.
pub const MAX_GRANTS: usize = 1000;
/// The longest client id, resource or scope, in bytes.
const MAX_NAME: usize = 256;
/// Audit entries written per script call.
const AUDIT_BATCH: usize = 500;
/// Entries read per XREVRANGE while filtering the audit log.
const AUDIT_READ_BATCH: usize = 500;
/// The most entries one [`Engine::audit_log`] call looks at (and so the most it can skip
/// while filtering).
pub const AUDIT_SCAN_LIMIT: usize = 100_000;
/// The names of an audit entry's fields, after its time (which is its stream id).
const AUDIT_FIELDS: [&str; 7] = [
    "actor", "action", "queue", "jobId", "outcome", "origin", "metadata",
];

/// A client's grants on one resource with one set of conditions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Permission {
    /// What it applies to (a queue name or a pattern; the access control reads it).
    pub resource: String,
    /// The actions granted, sorted.
    pub actions: Vec<String>,
    /// The conditions, as given (an array; empty for none).
    pub conditions: Vec<Value>,
}

/// One entry to write to the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    /// When it happened, ms since the epoch (the writer's clock).
    pub timestamp_ms: u64,
    /// Who: a client id, or a name for the process (`system`).
    pub actor: String,
    /// What: `enqueue`, `retry`, `pause`, `grant`...
    pub action: String,
    /// The queue acted on, if any.
    pub queue: Option<String>,
    /// The job acted on, if any.
    pub job_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// Where: host and process id of the writer.
    pub origin: String,
    /// More about it, as JSON text.
    pub metadata: Option<String>,
}

/// Which audit entries to read; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries at or after this ms.
    pub since_ms: Option<u64>,
    /// Entries at or before this ms.
    pub until_ms: Option<u64>,
    /// Only this actor's.
    pub actor: Option<String>,
    /// Only this action's.
    pub action: Option<String>,
    /// Only this queue's.
    pub queue: Option<String>,
    /// At most this many (newest first).
    pub limit: usize,
}

/// An audit entry as read back.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Its stream id (`<ms>-<n>`), in order of writing.
    pub id: String,
    /// When it happened, ms since the epoch.
    pub timestamp: u64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// The queue, if any.
    pub queue: Option<String>,
    /// The job, if any.
    pub job_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// Host and process of the writer.
    pub origin: Option<String>,
    /// The metadata JSON, if any.
    pub metadata: Option<Box<RawValue>>,
}

fn acl_key(prefix: &str, client: &str) -> String {
    PrefixKeys::new(prefix).acl(client)
}

fn rate_key(prefix: &str, scope: &str, client: &str) -> String {
    PrefixKeys::new(prefix).rate(scope, client)
}

fn audit_key(prefix: &str) -> String {
    PrefixKeys::new(prefix).audit()
}

/// A name used in a key or a grant field: not empty, at most [`MAX_NAME`] bytes, no newline.
fn check_name(value: &str, field: &str) -> Result<()> {
    if value.is_empty() || value.len() > MAX_NAME {
        return Err(Error::validation(
            field,
            format!("must be a non-empty string of at most {MAX_NAME} bytes"),
        ));
    }
    if value.contains('\n') {
        return Err(Error::validation(field, "must not contain a newline"));
    }
    Ok(())
}

/// A grant's hash field.
fn grant_field(resource: &str, action: &str, conditions: &str) -> String {
    format!("{resource}\n{action}\n{conditions}")
}

/// Splits a grant's hash field; None for a field this engine did not write.
fn parse_field(field: &str) -> Option<(&str, &str, Vec<Value>)> {
    let mut parts = field.splitn(3, '\n');
    let resource = parts.next()?;
    let action = parts.next()?;
    let conditions: Vec<Value> = serde_json::from_str(parts.next()?).ok()?;
    Some((resource, action, conditions))
}

impl Engine {
    /// Grants `actions` on `resource` to `client`, under `conditions` (a JSON array; empty for
    /// none). Grants that exist already are kept; returns how many were new. Bad names, an
    /// action list that is empty, conditions that are not an array, or more than
    /// [`MAX_GRANTS`] grants for the client are validation errors, and nothing is written.
    pub async fn grant_permission(
        &self,
        client: &str,
        resource: &str,
        actions: &[String],
        conditions: &Value,
    ) -> Result<usize> {
        check_name(client, "clientId")?;
        check_name(resource, "permission.resource")?;
        if actions.is_empty() {
            return Err(Error::validation(
                "permission.actions",
                "must name at least one action",
            ));
        }
        for action in actions {
            check_name(action, "permission.actions")?;
        }
        if !conditions.is_array() {
            return Err(Error::validation(
                "permission.conditions",
                "must be an array",
            ));
        }
        // serde_json's maps are sorted, so equal conditions give equal text
        let conditions = conditions.to_string();
        let fields: Vec<String> = actions
            .iter()
            .map(|a| grant_field(resource, a, &conditions))
            .collect();
        scripts::grant_permission(
            &mut self.connection(),
            &acl_key(&self.prefix, client),
            &fields,
            MAX_GRANTS,
            crate::time::now_ms(),
        )
        .await
    }

    /// Removes `client`'s grants on `resource` (whatever their conditions): those of
    /// `actions`, or every one when `actions` is empty. Returns how many.
    pub async fn revoke_permission(
        &self,
        client: &str,
        resource: &str,
        actions: &[String],
    ) -> Result<usize> {
        check_name(client, "clientId")?;
        check_name(resource, "resource")?;
        for action in actions {
            check_name(action, "actions")?;
        }
        scripts::revoke_permission(
            &mut self.connection(),
            &acl_key(&self.prefix, client),
            resource,
            actions,
        )
        .await
    }

    /// `client`'s grants, one [`Permission`] per resource and set of conditions, by resource.
    pub async fn client_permissions(&self, client: &str) -> Result<Vec<Permission>> {
        check_name(client, "clientId")?;
        let fields: Vec<String> = redis::cmd("HKEYS")
            .arg(acl_key(&self.prefix, client))
            .query_async(&mut self.connection())
            .await?;
        let mut list: Vec<Permission> = Vec::new();
        for field in &fields {
            let Some((resource, action, conditions)) = parse_field(field) else {
                continue;
            };
            match list
                .iter_mut()
                .find(|p| p.resource == resource && p.conditions == conditions)
            {
                Some(p) => p.actions.push(action.to_owned()),
                None => list.push(Permission {
                    resource: resource.to_owned(),
                    actions: vec![action.to_owned()],
                    conditions,
                }),
            }
        }
        for p in &mut list {
            p.actions.sort();
        }
        list.sort_by(|a, b| {
            (&a.resource, a.conditions.len()).cmp(&(&b.resource, b.conditions.len()))
        });
        Ok(list)
    }

    /// Counts each client's cost (jobs or calls) in its current window of `window_ms` under
    /// `scope` (`enqueue`, `run`...), shared by every process, when every cost fits under
    /// `max`; otherwise counts nothing and says which client did not fit and when its window
    /// ends. A client named twice has its costs added.
    pub async fn client_rate_limit(
        &self,
        scope: &str,
        clients: &[(String, u64)],
        max: u64,
        window_ms: u64,
    ) -> Result<RateWindow> {
        check_name(scope, "scope")?;
        if max == 0 || window_ms == 0 {
            return Err(Error::validation(
                "rateLimiting",
                "the limit and its window must be positive",
            ));
        }
        let mut windows: Vec<(String, u64)> = Vec::with_capacity(clients.len());
        let mut names: Vec<&str> = Vec::with_capacity(clients.len());
        for (client, cost) in clients {
            check_name(client, "clientId")?;
            match names.iter().position(|n| n == client) {
                Some(i) => windows[i].1 += cost,
                None => {
                    names.push(client);
                    windows.push((rate_key(&self.prefix, scope, client), *cost));
                }
            }
        }
        if windows.is_empty() {
            return Err(Error::validation("clientId", "no client to count"));
        }
        let mut decision =
            scripts::client_rate_limit(&mut self.connection(), &windows, max, window_ms).await?;
        // the refused index is of the merged list: give the first matching caller index back
        if let Some(i) = decision.refused {
            let name = names[i];
            decision.refused = clients.iter().position(|(c, _)| c == name);
        }
        Ok(decision)
    }

    /// Appends `entries` to the audit log (capped at about `cap` entries); returns their
    /// ids. An entry without an actor, action or outcome, or whose metadata is not JSON, is a
    /// validation error and nothing is written.
    pub async fn audit(&self, entries: &[AuditEntry], cap: u64) -> Result<Vec<String>> {
        let mut rows: Vec<(u64, Vec<String>)> = Vec::with_capacity(entries.len());
        for e in entries {
            check_name(&e.actor, "actor")?;
            check_name(&e.action, "action")?;
            check_name(&e.outcome, "outcome")?;
            if let Some(m) = &e.metadata {
                serde_json::from_str::<&RawValue>(m)
                    .map_err(|err| Error::validation("metadata", err.to_string()))?;
            }
            rows.push((
                e.timestamp_ms,
                vec![
                    e.actor.clone(),
                    e.action.clone(),
                    e.queue.clone().unwrap_or_default(),
                    e.job_id.clone().unwrap_or_default(),
                    e.outcome.clone(),
                    e.origin.clone(),
                    e.metadata.clone().unwrap_or_default(),
                ],
            ));
        }
        let key = audit_key(&self.prefix);
        let mut ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(AUDIT_BATCH) {
            ids.extend(
                scripts::audit_append(&mut self.connection(), &key, cap, &AUDIT_FIELDS, chunk)
                    .await?,
            );
        }
        Ok(ids)
    }

    /// Audit entries matching `filter`, newest first, at most `filter.limit`. Looks at no
    /// more than [`AUDIT_SCAN_LIMIT`] entries of the time range.
    pub async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let key = audit_key(&self.prefix);
        let mut con = self.connection();
        let mut end = filter
            .until_ms
            .map_or_else(|| "+".to_owned(), |ms| ms.to_string());
        let start = filter
            .since_ms
            .map_or_else(|| "-".to_owned(), |ms| ms.to_string());
        let mut out = Vec::new();
        let mut looked = 0;
        while out.len() < filter.limit && looked < AUDIT_SCAN_LIMIT {
            let batch: Vec<(String, Vec<String>)> = redis::cmd("XREVRANGE")
                .arg(&key)
                .arg(&end)
                .arg(&start)
                .arg("COUNT")
                .arg(AUDIT_READ_BATCH)
                .query_async(&mut con)
                .await?;
            let done = batch.len() < AUDIT_READ_BATCH;
            looked += batch.len();
            for (id, fields) in batch {
                end = format!("({id}");
                let record = record(id, fields);
                let wanted = |want: &Option<String>, got: Option<&String>| {
                    want.as_ref().is_none_or(|w| got == Some(w))
                };
                if wanted(&filter.actor, Some(&record.actor))
                    && wanted(&filter.action, Some(&record.action))
                    && wanted(&filter.queue, record.queue.as_ref())
                {
                    out.push(record);
                    if out.len() == filter.limit {
                        break;
                    }
                }
            }
            if done {
                break;
            }
        }
        Ok(out)
    }
}

/// An audit stream entry as a record (fields it lacks are empty).
fn record(id: String, fields: Vec<String>) -> AuditRecord {
    let timestamp = id
        .split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0);
    let mut r = AuditRecord {
        id,
        timestamp,
        actor: String::new(),
        action: String::new(),
        queue: None,
        job_id: None,
        outcome: String::new(),
        origin: None,
        metadata: None,
    };
    for pair in fields.chunks_exact(2) {
        let value = pair[1].clone();
        match pair[0].as_str() {
            "actor" => r.actor = value,
            "action" => r.action = value,
            "queue" => r.queue = Some(value),
            "jobId" => r.job_id = Some(value),
            "outcome" => r.outcome = value,
            "origin" => r.origin = Some(value),
            "metadata" => r.metadata = RawValue::from_string(value).ok(),
            _ => {}
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_fields_round_trip() {
        let f = grant_field("orders", "enqueue", r#"[{"field":"jobType"}]"#);
        let (r, a, c) = parse_field(&f).unwrap();
        assert_eq!((r, a), ("orders", "enqueue"));
        assert_eq!(c, vec![serde_json::json!({"field": "jobType"})]);
        assert!(parse_field("no newline").is_none());
    }

    #[test]
    fn names_are_bounded_and_single_line() {
        assert!(check_name("a", "f").is_ok());
        assert!(check_name("", "f").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME + 1), "f").is_err());
        assert_eq!(
            check_name("a\nb", "clientId").unwrap_err().to_string(),
            "invalid clientId: must not contain a newline"
        );
    }

    #[test]
    fn keys_live_under_the_prefix_outside_every_queue() {
        assert_eq!(acl_key("bull:", "c"), "bull::{bull}:acl:c");
        assert_eq!(rate_key("p", "enqueue", "c"), "p::{p}:rate:enqueue:c");
        assert_eq!(audit_key("p"), "p::{p}:audit");
        assert_eq!(audit_key("{p}"), "{p}::audit");
    }
}
