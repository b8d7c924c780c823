//! Project imports as the store keeps them: where the zip came from, what its scan found, the
//! confirmation's choices (never a secret value) and what processing did. `completed` and
//! `failed` are terminal and every transition is guarded in SQL. The records an import
//! creates are written in one transaction with its move to `completed`, so the store holds
//! all of an import or none of it.

use serde::{Deserialize, Serialize};

use super::deployments::{Desired, insert_deployment_in, replace_desired_in};
use super::infras::put_infra_in;
use super::model::text_enum;
use super::secrets::put_secret_in;
use super::variables::put_variable_in;
use super::{Holder, Result, Store, StoreError, now};

text_enum!(
    /// Where an import is: `pending → scanning → confirmation → processing → completed |
    /// failed` (any unfinished one may fail).
    ImportStatus {
        Pending = "pending",
        Scanning = "scanning",
        Confirmation = "confirmation",
        Processing = "processing",
        Completed = "completed",
        Failed = "failed",
    }
);

impl ImportStatus {
    /// Whether the import has ended (and will never change again).
    pub fn is_terminal(self) -> bool {
        matches!(self, ImportStatus::Completed | ImportStatus::Failed)
    }
}

/// An import as listings and `show` give it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRecord {
    pub id: String,
    pub status: ImportStatus,
    /// `upload`, `link <url without its query>` or `export <id>`.
    pub source: String,
    /// The zip's size in bytes, once it is here.
    pub size: Option<u64>,
    /// What the scan found: each object, its state against this home, what it is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<serde_json::Value>,
    /// What the confirmation chose (objects, conflict modes; never a secret value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<serde_json::Value>,
    /// What processing did to each object, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    pub error_message: Option<String>,
    pub creation_date: String,
    pub updated_at: String,
    /// The process that is processing it.
    #[serde(skip)]
    pub processor: Option<(String, u32)>,
}

/// An infra an import writes.
pub struct InfraWrite {
    pub name: String,
    pub kind: String,
    pub stage: String,
    pub spec: serde_json::Value,
}

/// A deployment an import writes: a new one, or the desired state of an existing one of the
/// same service on the same infra.
pub struct DeploymentWrite {
    pub id: String,
    pub service: String,
    pub infra: String,
    pub desired: Desired,
    pub replace: bool,
}

/// Every record one import writes, in one transaction.
#[derive(Default)]
pub struct ImportWrites {
    pub infras: Vec<InfraWrite>,
    pub deployments: Vec<DeploymentWrite>,
    /// `(name, value)`.
    pub variables: Vec<(String, String)>,
    /// `(credential, field, sealed value)`.
    pub secrets: Vec<(String, String, Vec<u8>)>,
}

type ImportRow = (
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    String,
);

macro_rules! select_imports {
    ($rest:literal) => {
        concat!(
            "SELECT id, status, source, size, objects, confirmation, result, error_message, \
             processor_host, processor_pid, created_at, updated_at FROM imports ",
            $rest
        )
    };
}

fn record(row: ImportRow) -> Result<ImportRecord> {
    let (id, status, source, size, objects, confirmation, result, error, host, pid, created, at) =
        row;
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("import {id}: {e}"));
    let json = |text: Option<String>| -> Result<Option<serde_json::Value>> {
        text.map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| corrupt(&e))
    };
    Ok(ImportRecord {
        status: status.parse().map_err(|e: String| corrupt(&e))?,
        source,
        size: size.map(|s| s as u64),
        objects: json(objects)?,
        confirmation: json(confirmation)?,
        result: json(result)?,
        error_message: error,
        creation_date: created,
        updated_at: at,
        processor: host.zip(pid).map(|(h, p)| (h, p as u32)),
        id,
    })
}

impl Store {
    /// Records a new import, `pending`, of the zip from `source`.
    pub async fn create_import(&self, id: &str, source: &str) -> Result<ImportRecord> {
        let at = now();
        sqlx::query(
            "INSERT INTO imports (id, status, source, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?)",
        )
        .bind(id)
        .bind(source)
        .bind(at.as_str())
        .bind(at.as_str())
        .execute(&self.pool)
        .await?;
        self.import(id).await
    }

    /// `pending → scanning`; false when the import was not pending.
    pub async fn start_scan(&self, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE imports SET status = 'scanning', updated_at = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `scanning → confirmation`, with the zip's size and what the scan found.
    pub async fn scanned(&self, id: &str, size: u64, objects: &serde_json::Value) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE imports SET status = 'confirmation', size = ?, objects = ?, updated_at = ? \
             WHERE id = ? AND status = 'scanning'",
        )
        .bind(size as i64)
        .bind(objects.to_string())
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `confirmation → processing` by `holder`, recording the choices; false when the import
    /// was not waiting for a confirmation (so two confirmations cannot both process it).
    pub async fn start_processing(
        &self,
        id: &str,
        confirmation: &serde_json::Value,
        holder: &Holder,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE imports SET status = 'processing', confirmation = ?, processor_host = ?, \
             processor_pid = ?, updated_at = ? WHERE id = ? AND status = 'confirmation'",
        )
        .bind(confirmation.to_string())
        .bind(&holder.host)
        .bind(holder.pid as i64)
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes every record of `writes` and moves the import `processing → completed` with
    /// `result`, in one transaction: all of it, or (on any error) none of it.
    pub async fn complete_import(
        &self,
        id: &str,
        writes: &ImportWrites,
        result: &serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for i in &writes.infras {
            put_infra_in(&mut tx, &i.name, &i.kind, &i.stage, &i.spec).await?;
        }
        for d in &writes.deployments {
            if d.replace {
                replace_desired_in(&mut tx, &d.id, &d.desired).await?;
            } else {
                insert_deployment_in(&mut tx, &d.id, &d.service, &d.infra, &d.desired).await?;
            }
        }
        for (name, value) in &writes.variables {
            put_variable_in(&mut tx, name, value).await?;
        }
        for (credential, field, sealed) in &writes.secrets {
            put_secret_in(&mut tx, credential, field, sealed).await?;
        }
        let done = sqlx::query(
            "UPDATE imports SET status = 'completed', result = ?, updated_at = ? \
             WHERE id = ? AND status = 'processing'",
        )
        .bind(result.to_string())
        .bind(now().as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!(
                "import {id} is no longer processing"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends an unfinished import as `failed` with `message`; false when it had already ended.
    pub async fn fail_import(&self, id: &str, message: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE imports SET status = 'failed', error_message = ?, updated_at = ? \
             WHERE id = ? AND status NOT IN ('completed', 'failed')",
        )
        .bind(message)
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Import `id`; [`StoreError::Missing`] when there is none.
    pub async fn import(&self, id: &str) -> Result<ImportRecord> {
        let row: Option<ImportRow> = sqlx::query_as(select_imports!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(record)
            .transpose()?
            .ok_or_else(|| StoreError::Missing(format!("no import {id}")))
    }

    /// Imports, newest first, only those in `status` when given.
    pub async fn list_imports(&self, status: Option<ImportStatus>) -> Result<Vec<ImportRecord>> {
        let rows: Vec<ImportRow> = sqlx::query_as(select_imports!(
            "WHERE (?1 IS NULL OR status = ?1) ORDER BY created_at DESC, id DESC"
        ))
        .bind(status.map(ImportStatus::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(record).collect()
    }

    /// Removes the record of an import that is not being scanned or processed.
    pub async fn delete_import(&self, id: &str) -> Result<()> {
        let done = sqlx::query(
            "DELETE FROM imports WHERE id = ? AND status NOT IN ('scanning', 'processing')",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            let import = self.import(id).await?;
            return Err(StoreError::Conflict(format!(
                "import {id} is {}; delete it once it has ended",
                import.status
            )));
        }
        Ok(())
    }
}
