//! Infras, deployments and their operations as the store keeps them. Desired and observed
//! state are separate columns, written by different parties: users (through the CLI, the API
//! or a workflow's `deploy` step) set desired state; reconciliation and status checks record
//! what they observed. A finished operation is never rewritten (guarded in SQL).

use serde::{Deserialize, Serialize};

use super::model::text_enum;
use super::{Result, Store, StoreError, now};

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

pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
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

impl Store {
    /// Records a new deployment; refused if the id is taken.
    pub async fn create_deployment(
        &self,
        id: &str,
        service: &str,
        infra: &str,
        desired: &Desired,
    ) -> Result<DeploymentRecord> {
        let mut conn = self.pool.acquire().await?;
        insert_deployment_in(&mut conn, id, service, infra, desired).await?;
        drop(conn);
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

/// Inserts a new deployment (refused if the id is taken) on `conn`, which may be inside a
/// transaction the caller commits.
pub(super) async fn insert_deployment_in(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
    service: &str,
    infra: &str,
    desired: &Desired,
) -> Result<()> {
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
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "deployment `{id}` already exists"
        )));
    }
    Ok(())
}

/// Sets a deployment's desired versions and whether it is enabled, on `conn` (an import
/// replacing a deployment of the same service on the same infra).
pub(super) async fn replace_desired_in(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
    desired: &Desired,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE deployments SET desired_versions = ?, desired_enabled = ?, updated_at = ? WHERE id = ?",
    )
    .bind(serde_json::to_string(&desired.versions).expect("shares serialize"))
    .bind(desired.enabled as i64)
    .bind(now().as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Missing(format!("no deployment `{id}`")));
    }
    Ok(())
}
