//! Infras, deployments and their operations as the store keeps them. Desired and observed
//! state are separate columns, written by different parties: users (through the CLI, the API
//! or a workflow's `deploy` step) set desired state; reconciliation and status checks record
//! what they observed. A finished operation is never rewritten (guarded in SQL).

use serde::{Deserialize, Serialize};

use super::model::text_enum;
use super::{Result, Store, StoreError, now};

/// An infra as stored: its declaration as JSON (see `deploy::InfraSpec`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InfraRecord {
    pub name: String,
    pub kind: String,
    pub stage: String,
    /// Kept as declared (TOML's snake_case); shown with camelCase keys like everything else a
    /// client reads, but for the deployer's own `settings`, whose names are the plugin's.
    #[serde(serialize_with = "camel_spec")]
    pub spec: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

fn camel_spec<S: serde::Serializer>(
    spec: &serde_json::Value,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&rekey(spec, &camel), s)
}

/// An infra spec as a client sends it back (camelCase keys, as shown) in the declared form
/// (snake_case): the inverse of how records are shown. Snake_case keys pass unchanged.
pub fn spec_from_client(spec: &serde_json::Value) -> serde_json::Value {
    rekey(spec, &snake)
}

fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Renames every key but those inside `settings` (the deployer plugin's own names).
fn rekey(value: &serde_json::Value, rename: &dyn Fn(&str) -> String) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let v = if k == "settings" {
                    v.clone()
                } else {
                    rekey(v, rename)
                };
                (rename(k), v)
            })
            .collect(),
        serde_json::Value::Array(items) => items.iter().map(|v| rekey(v, rename)).collect(),
        other => other.clone(),
    }
}

/// One version and its share of the traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub version: String,
    pub percent: u8,
}

text_enum!(
    /// How a deployment is doing, as last observed.
    DeploymentHealth {
        Healthy = "HEALTHY",
        Unhealthy = "UNHEALTHY",
        Degraded = "DEGRADED",
        Disabled = "DISABLED",
        Unknown = "UNKNOWN",
    }
);

/// What a deployment looked like when last checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    pub health: DeploymentHealth,
    pub messages: Vec<String>,
    /// Versions answering requests.
    pub versions: Vec<String>,
    pub urls: Vec<String>,
    pub checked_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRecord {
    pub id: String,
    pub service: String,
    pub infra: String,
    pub desired: Desired,
    pub observed: Option<Observed>,
    #[serde(skip)]
    pub plugin_state: String,
    pub created_at: String,
    pub updated_at: String,
}

/// What users want: these versions (one, or a split), enabled or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Desired {
    pub versions: Vec<Share>,
    pub enabled: bool,
}

text_enum!(
    OperationStatus {
        Running = "RUNNING",
        Done = "DONE",
        Failed = "FAILED",
    }
);

text_enum!(
    OperationAction {
        Update = "update",
        Delete = "delete",
    }
);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationRecord {
    pub id: String,
    pub deployment: String,
    pub action: OperationAction,
    pub status: OperationStatus,
    pub message: String,
    pub error_code: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// The process running it (while RUNNING): its pid, and a token unique to that process
    /// (pids are reused, a container's first process is always 1).
    #[serde(skip)]
    pub runner_pid: u32,
    #[serde(skip)]
    pub runner: String,
}

type InfraRow = (String, String, String, String, String, String);

fn infra(row: InfraRow) -> Result<InfraRecord> {
    let (name, kind, stage, spec, created_at, updated_at) = row;
    Ok(InfraRecord {
        spec: serde_json::from_str(&spec).map_err(|e| corrupt(&name, e))?,
        name,
        kind,
        stage,
        created_at,
        updated_at,
    })
}

type DeploymentRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
);

/// `SELECT <every deployment column> FROM deployments <rest>`, as one static string.
macro_rules! select_deployments {
    ($rest:literal) => {
        concat!(
            "SELECT id, service, infra, desired_versions, desired_enabled, observed, plugin_state, created_at, updated_at FROM deployments ",
            $rest
        )
    };
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn deployment(row: DeploymentRow) -> Result<DeploymentRecord> {
    let (id, service, infra, versions, enabled, observed, plugin_state, created_at, updated_at) =
        row;
    Ok(DeploymentRecord {
        desired: Desired {
            versions: serde_json::from_str(&versions).map_err(|e| corrupt(&id, e))?,
            enabled: enabled != 0,
        },
        observed: observed
            .map(|o| serde_json::from_str(&o))
            .transpose()
            .map_err(|e| corrupt(&id, e))?,
        id,
        service,
        infra,
        plugin_state,
        created_at,
        updated_at,
    })
}

type OperationRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
    String,
);

/// `SELECT <every operation column> FROM deployment_operations <rest>`.
macro_rules! select_operations {
    ($rest:literal) => {
        concat!(
            "SELECT id, deployment, action, status, message, error_code, created_at, finished_at, runner_pid, runner FROM deployment_operations ",
            $rest
        )
    };
}

fn operation(row: OperationRow) -> Result<OperationRecord> {
    let (id, deployment, action, status, message, error_code, created_at, finished_at, pid, runner) =
        row;
    Ok(OperationRecord {
        runner_pid: pid as u32,
        runner,
        action: action.parse().map_err(|e| corrupt(&id, e))?,
        status: status.parse().map_err(|e| corrupt(&id, e))?,
        id,
        deployment,
        message,
        error_code,
        created_at,
        finished_at,
    })
}

impl Store {
    /// Creates or replaces infra `name`. Its type cannot change while deployments live on it
    /// (another deployer could not read what the first one recorded).
    pub async fn put_infra(
        &self,
        name: &str,
        kind: &str,
        stage: &str,
        spec: &serde_json::Value,
    ) -> Result<InfraRecord> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        let live: Option<(String, i64)> = sqlx::query_as(
            "SELECT i.kind, (SELECT COUNT(*) FROM deployments d WHERE d.infra = i.name)
             FROM infras i WHERE i.name = ?",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((old, deployments)) = live
            && old != kind
            && deployments > 0
        {
            return Err(StoreError::Conflict(format!(
                "infra `{name}` is of type {old} and has {deployments} deployment(s); delete them before changing its type"
            )));
        }
        sqlx::query(
            "INSERT INTO infras (name, kind, stage, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, stage = excluded.stage,
                 spec = excluded.spec, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(kind)
        .bind(stage)
        .bind(spec.to_string())
        .bind(at.as_str())
        .bind(at.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.infra(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("infra `{name}` vanished")))
    }

    pub async fn infra(&self, name: &str) -> Result<Option<InfraRecord>> {
        let row: Option<InfraRow> = sqlx::query_as(
            "SELECT name, kind, stage, spec, created_at, updated_at FROM infras WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(infra).transpose()
    }

    pub async fn list_infras(&self) -> Result<Vec<InfraRecord>> {
        let rows: Vec<InfraRow> = sqlx::query_as(
            "SELECT name, kind, stage, spec, created_at, updated_at FROM infras ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(infra).collect()
    }

    /// Deletes infra `name`; refused while deployments use it.
    pub async fn delete_infra(&self, name: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let users: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM deployments WHERE infra = ? ORDER BY id")
                .bind(name)
                .fetch_all(&mut *tx)
                .await?;
        if !users.is_empty() {
            let ids: Vec<String> = users.into_iter().map(|(id,)| id).collect();
            return Err(StoreError::Conflict(format!(
                "infra `{name}` has live deployments ({}); delete them first",
                ids.join(", ")
            )));
        }
        let done = sqlx::query("DELETE FROM infras WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(done)
    }

    /// Records a new deployment; refused if the id is taken.
    pub async fn create_deployment(
        &self,
        id: &str,
        service: &str,
        infra: &str,
        desired: &Desired,
    ) -> Result<DeploymentRecord> {
        let at = now();
        let inserted = sqlx::query(
            "INSERT INTO deployments (id, service, infra, desired_versions, desired_enabled, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
        )
        .bind(id)
        .bind(service)
        .bind(infra)
        .bind(serde_json::to_string(&desired.versions).expect("shares serialize"))
        .bind(desired.enabled as i64)
        .bind(at.as_str())
        .bind(at.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "deployment `{id}` already exists"
            )));
        }
        self.deployment(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("deployment `{id}` vanished")))
    }

    pub async fn deployment(&self, id: &str) -> Result<Option<DeploymentRecord>> {
        let row: Option<DeploymentRow> = sqlx::query_as(select_deployments!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(deployment).transpose()
    }

    /// Deployments, optionally only those of one service or on one infra.
    pub async fn list_deployments(
        &self,
        service: Option<&str>,
        infra: Option<&str>,
    ) -> Result<Vec<DeploymentRecord>> {
        let rows: Vec<DeploymentRow> = sqlx::query_as(select_deployments!(
            "WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR infra = ?2) ORDER BY id"
        ))
        .bind(service)
        .bind(infra)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(deployment).collect()
    }

    /// Changes what is given of the desired state, in one statement, leaving the rest as it
    /// is (so a concurrent change of the other part is not lost).
    pub async fn set_desired(
        &self,
        id: &str,
        versions: Option<&[Share]>,
        enabled: Option<bool>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deployments SET desired_versions = COALESCE(?, desired_versions),
                 desired_enabled = COALESCE(?, desired_enabled), updated_at = ? WHERE id = ?",
        )
        .bind(versions.map(|v| serde_json::to_string(v).expect("shares serialize")))
        .bind(enabled.map(i64::from))
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_observed(&self, id: &str, observed: &Observed) -> Result<()> {
        sqlx::query("UPDATE deployments SET observed = ? WHERE id = ?")
            .bind(serde_json::to_string(observed).expect("observed serializes"))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores the deployer's record of its resources as soon as it has one, so that an
    /// interrupted operation still knows what it created.
    pub async fn set_plugin_state(&self, id: &str, state: &str) -> Result<()> {
        sqlx::query("UPDATE deployments SET plugin_state = ? WHERE id = ?")
            .bind(state)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_deployment(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM deployments WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Versions of `service` some deployment wants or serves: they cannot be deleted.
    pub async fn versions_in_use(&self, service: &str) -> Result<Vec<(String, String)>> {
        let mut used = Vec::new();
        for d in self.list_deployments(Some(service), None).await? {
            let observed = d.observed.iter().flat_map(|o| o.versions.iter().cloned());
            for v in d
                .desired
                .versions
                .iter()
                .map(|s| s.version.clone())
                .chain(observed)
            {
                if !used.contains(&(v.clone(), d.id.clone())) {
                    used.push((v, d.id.clone()));
                }
            }
        }
        Ok(used)
    }

    /// Starts an operation on `deployment`, run by process `pid` (`runner` unique to it);
    /// refused while another one runs on it.
    pub async fn start_operation(
        &self,
        deployment: &str,
        action: OperationAction,
        pid: u32,
        runner: &str,
    ) -> Result<OperationRecord> {
        let id = uuid::Uuid::now_v7().to_string();
        let inserted = sqlx::query(
            "INSERT INTO deployment_operations (id, deployment, action, status, runner_pid, created_at, runner)
             SELECT ?1, ?2, ?3, 'RUNNING', ?4, ?5, ?6 WHERE NOT EXISTS (
                 SELECT 1 FROM deployment_operations WHERE deployment = ?2 AND status = 'RUNNING')",
        )
        .bind(&id)
        .bind(deployment)
        .bind(action.as_str())
        .bind(pid as i64)
        .bind(now().as_str())
        .bind(runner)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "deployment `{deployment}` has an operation running; wait for it"
            )));
        }
        self.operation(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("operation {id} vanished")))
    }

    pub async fn operation(&self, id: &str) -> Result<Option<OperationRecord>> {
        let row: Option<OperationRow> = sqlx::query_as(select_operations!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(operation).transpose()
    }

    pub async fn list_operations(&self, deployment: &str) -> Result<Vec<OperationRecord>> {
        let rows: Vec<OperationRow> = sqlx::query_as(select_operations!(
            "WHERE deployment = ? ORDER BY created_at DESC, id DESC"
        ))
        .bind(deployment)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(operation).collect()
    }

    /// Progress of a running operation.
    pub async fn operation_progress(&self, id: &str, message: &str) -> Result<()> {
        sqlx::query(
            "UPDATE deployment_operations SET message = ? WHERE id = ? AND status = 'RUNNING'",
        )
        .bind(message)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends a running operation; an ended one stays as it ended.
    pub async fn finish_operation(
        &self,
        id: &str,
        status: OperationStatus,
        message: &str,
        error_code: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deployment_operations SET status = ?, message = ?, error_code = ?, finished_at = ?
             WHERE id = ? AND status = 'RUNNING'",
        )
        .bind(status.as_str())
        .bind(message)
        .bind(error_code)
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every operation still RUNNING, on any deployment.
    pub async fn running_operations(&self) -> Result<Vec<OperationRecord>> {
        let rows: Vec<OperationRow> = sqlx::query_as(select_operations!(
            "WHERE status = 'RUNNING' ORDER BY created_at"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(operation).collect()
    }

    /// Records what a job's deploy step started.
    pub async fn record_deployment(
        &self,
        job: uuid::Uuid,
        deployment: &str,
        operation: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET deployments = json_insert(deployments, '$[#]', json_object('deployment', ?, 'operation', ?)),
                 updated_at = ? WHERE id = ?",
        )
        .bind(deployment)
        .bind(operation)
        .bind(now().as_str())
        .bind(job.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
