//! Deploy operations (update, delete) to wait on. One runs per deployment at a time; a
//! finished one is never rewritten (guarded in SQL).

use serde::Serialize;

use super::deployments::*;
use super::{Result, Store, StoreError, now};

/// `SELECT <every operation column> FROM deployment_operations <rest>`.
macro_rules! select_operations {
    ($rest:literal) => {
        concat!(
            "SELECT id, deployment, action, status, message, error_code, created_at, finished_at, runner_pid, runner FROM deployment_operations ",
            $rest
        )
    };
}

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
}
