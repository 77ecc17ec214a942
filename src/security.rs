//! Security methods of `NativeEngine`: client grants, per-client rate windows and the audit
//! log (the engine's `security` module). Converts and forwards.

use job_queue_core::security::{AuditEntry, AuditFilter};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::Deserialize;

use crate::errors::{to_js, validation};
use crate::NativeEngine;

/// What a rate-limit check decided.
#[napi(object)]
pub struct RateWindowResult {
    /// Every cost was counted.
    pub allowed: bool,
    /// The index of the client whose cost did not fit.
    pub refused: Option<u32>,
    /// The window's count.
    pub count: f64,
    /// ms until the window ends.
    pub window_left_ms: f64,
}

/// Which audit entries to read (ms since the epoch for times).
#[napi(object)]
pub struct AuditFilterJs {
    pub since_ms: Option<f64>,
    pub until_ms: Option<f64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub queue: Option<String>,
    pub limit: u32,
}

/// A client's grants on one resource under one set of conditions (the design's `Permission`).
#[napi(object)]
pub struct PermissionJs {
    /// A queue name, `*` or a pattern such as `reports-*`.
    pub resource: String,
    /// The actions granted, sorted.
    pub actions: Vec<String>,
    /// The conditions, as granted (`{ field, operator, value }`; empty for none).
    pub conditions: Vec<serde_json::Value>,
}

/// An audit entry as read back.
#[napi(object)]
pub struct AuditRecordJs {
    /// Its stream id (`<ms>-<n>`), in order of writing.
    pub id: String,
    /// When it happened, ms since the epoch.
    pub timestamp: f64,
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
    /// The metadata, if any.
    pub metadata: Option<serde_json::Value>,
}

/// One audit entry as lib/ sends it (`metadata` is JSON text).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryIn {
    timestamp: u64,
    actor: String,
    action: String,
    queue: Option<String>,
    job_id: Option<String>,
    outcome: String,
    origin: String,
    metadata: Option<String>,
}

#[napi]
impl NativeEngine {
    /// Checks job data (JSON text) as an add would (a JSON object, at most the engine's
    /// `maxJobDataSize` bytes), writing nothing: the security manager's `validateJobData`.
    #[napi]
    pub fn check_job_data(&self, data: String) -> Result<()> {
        job_queue_core::producer::check_data(&data, self.max_data, false).map_err(to_js)
    }

    /// Grants `actions` on `resource` to `client` under `conditions` (a JSON array); returns
    /// how many grants were new.
    #[napi]
    pub async fn grant_permission(
        &self,
        client: String,
        resource: String,
        actions: Vec<String>,
        conditions: String,
    ) -> Result<u32> {
        let conditions: serde_json::Value = serde_json::from_str(&conditions)
            .map_err(|e| validation("permission.conditions", e))?;
        let added = self
            .engine()?
            .grant_permission(&client, &resource, &actions, &conditions)
            .await
            .map_err(to_js)?;
        Ok(added as u32)
    }

    /// Removes `client`'s grants on `resource` (of `actions`, or all when empty); returns
    /// how many.
    #[napi]
    pub async fn revoke_permission(
        &self,
        client: String,
        resource: String,
        actions: Vec<String>,
    ) -> Result<u32> {
        let removed = self
            .engine()?
            .revoke_permission(&client, &resource, &actions)
            .await
            .map_err(to_js)?;
        Ok(removed as u32)
    }

    /// `client`'s permissions.
    #[napi]
    pub async fn client_permissions(&self, client: String) -> Result<Vec<PermissionJs>> {
        let list = self
            .engine()?
            .client_permissions(&client)
            .await
            .map_err(to_js)?;
        Ok(list
            .into_iter()
            .map(|p| PermissionJs {
                resource: p.resource,
                actions: p.actions,
                conditions: p.conditions,
            })
            .collect())
    }

    /// Counts each client's cost (`clients[i]` costs `costs[i]`) in its window under `scope`
    /// when every one fits under `max`; else counts nothing.
    #[napi]
    pub async fn client_rate_limit(
        &self,
        scope: String,
        clients: Vec<String>,
        costs: Vec<u32>,
        max: u32,
        window_ms: f64,
    ) -> Result<RateWindowResult> {
        if clients.len() != costs.len() {
            return Err(validation("costs", "one cost per client"));
        }
        let clients: Vec<(String, u64)> = clients
            .into_iter()
            .zip(costs)
            .map(|(c, n)| (c, u64::from(n)))
            .collect();
        let w = self
            .engine()?
            .client_rate_limit(&scope, &clients, max.into(), window_ms.max(0.0) as u64)
            .await
            .map_err(to_js)?;
        Ok(RateWindowResult {
            allowed: w.allowed,
            refused: w.refused.map(|i| i as u32),
            count: w.count as f64,
            window_left_ms: w.window_left_ms as f64,
        })
    }

    /// Appends the entries (a JSON array) to the audit log, capped at about `cap`; returns
    /// their ids.
    #[napi]
    pub async fn audit(&self, entries: String, cap: u32) -> Result<Vec<String>> {
        let given: Vec<EntryIn> =
            serde_json::from_str(&entries).map_err(|e| validation("audit entry", e))?;
        let entries: Vec<AuditEntry> = given
            .into_iter()
            .map(|e| AuditEntry {
                timestamp_ms: e.timestamp,
                actor: e.actor,
                action: e.action,
                queue: e.queue,
                job_id: e.job_id,
                outcome: e.outcome,
                origin: e.origin,
                metadata: e.metadata,
            })
            .collect();
        self.engine()?
            .audit(&entries, cap.into())
            .await
            .map_err(to_js)
    }

    /// Audit entries matching the filter, newest first.
    #[napi]
    pub async fn audit_log(&self, filter: AuditFilterJs) -> Result<Vec<AuditRecordJs>> {
        let ms = |v: Option<f64>| v.map(|m| m.max(0.0) as u64);
        let filter = AuditFilter {
            since_ms: ms(filter.since_ms),
            until_ms: ms(filter.until_ms),
            actor: filter.actor,
            action: filter.action,
            queue: filter.queue,
            limit: filter.limit as usize,
        };
        let records = self.engine()?.audit_log(&filter).await.map_err(to_js)?;
        records
            .into_iter()
            .map(|r| {
                let metadata = r
                    .metadata
                    .map(|m| serde_json::from_str(m.get()))
                    .transpose()
                    .map_err(|e| validation("audit.metadata", e))?;
                Ok(AuditRecordJs {
                    id: r.id,
                    timestamp: r.timestamp as f64,
                    actor: r.actor,
                    action: r.action,
                    queue: r.queue,
                    job_id: r.job_id,
                    outcome: r.outcome,
                    origin: r.origin,
                    metadata,
                })
            })
            .collect()
    }
}
