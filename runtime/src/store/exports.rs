//! Project exports as the store keeps them: the selection asked for, the status, and once
//! completed the objects written and the zip's size. `completed` and `failed` are terminal:
//! every transition is guarded in SQL, so a late writer cannot change a finished export.

use serde::{Deserialize, Serialize};

use super::model::text_enum;
use super::{Result, Store, StoreError, now};

text_enum!(
    /// Where an export is: `pending → processing → completed | failed`.
    ExportStatus {
        Pending = "pending",
        Processing = "processing",
        Completed = "completed",
        Failed = "failed",
    }
);

impl ExportStatus {
    /// Whether the export has ended (and will never change again).
    pub fn is_terminal(self) -> bool {
        matches!(self, ExportStatus::Completed | ExportStatus::Failed)
    }
}

/// An export as listings and `show` give it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRecord {
    pub id: String,
    pub status: ExportStatus,
    /// What was asked for (names only; never a passphrase or a value).
    pub selection: serde_json::Value,
    /// What the zip holds, once completed: each object's kind, name and dependencies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<serde_json::Value>,
    /// The zip's size in bytes, once completed.
    pub size: Option<u64>,
    pub error_message: Option<String>,
    pub creation_date: String,
    pub updated_at: String,
}

type ExportRow = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    String,
);

/// `SELECT <every export column> FROM exports <rest>`, as one static string.
macro_rules! select_exports {
    ($rest:literal) => {
        concat!(
            "SELECT id, status, selection, objects, size, error_message, created_at, updated_at FROM exports ",
            $rest
        )
    };
}

fn record(row: ExportRow) -> Result<ExportRecord> {
    let (id, status, selection, objects, size, error_message, created_at, updated_at) = row;
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("export {id}: {e}"));
    Ok(ExportRecord {
        status: status.parse().map_err(|e: String| corrupt(&e))?,
        selection: serde_json::from_str(&selection).map_err(|e| corrupt(&e))?,
        objects: objects
            .map(|o| serde_json::from_str(&o))
            .transpose()
            .map_err(|e| corrupt(&e))?,
        size: size.map(|s| s as u64),
        error_message,
        creation_date: created_at,
        updated_at,
        id,
    })
}

impl Store {
    /// Records a new export, `pending`.
    pub async fn create_export(
        &self,
        id: &str,
        selection: &serde_json::Value,
    ) -> Result<ExportRecord> {
        let at = now();
        sqlx::query(
            "INSERT INTO exports (id, status, selection, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(ExportStatus::Pending.as_str())
        .bind(selection.to_string())
        .bind(at.as_str())
        .bind(at.as_str())
        .execute(&self.pool)
        .await?;
        self.export(id).await
    }

    /// `pending → processing`; false when the export was not pending.
    pub async fn start_export(&self, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE exports SET status = 'processing', updated_at = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `processing → completed`, with what the zip holds and its size.
    pub async fn complete_export(
        &self,
        id: &str,
        objects: &serde_json::Value,
        size: u64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE exports SET status = 'completed', objects = ?, size = ?, updated_at = ? \
             WHERE id = ? AND status = 'processing'",
        )
        .bind(objects.to_string())
        .bind(size as i64)
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends an unfinished export as `failed` with `message`; false when it had already ended.
    pub async fn fail_export(&self, id: &str, message: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE exports SET status = 'failed', error_message = ?, updated_at = ? \
             WHERE id = ? AND status IN ('pending', 'processing')",
        )
        .bind(message)
        .bind(now().as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every unfinished export as `failed` (a stopped process left them); how many.
    pub async fn fail_unfinished_exports(&self, message: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE exports SET status = 'failed', error_message = ?, updated_at = ? \
             WHERE status IN ('pending', 'processing')",
        )
        .bind(message)
        .bind(now().as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Export `id`; [`StoreError::Missing`] when there is none.
    pub async fn export(&self, id: &str) -> Result<ExportRecord> {
        let row: Option<ExportRow> = sqlx::query_as(select_exports!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(record)
            .transpose()?
            .ok_or_else(|| StoreError::Missing(format!("no export {id}")))
    }

    /// Exports, newest first, only those in `status` when given.
    pub async fn list_exports(&self, status: Option<ExportStatus>) -> Result<Vec<ExportRecord>> {
        let rows: Vec<ExportRow> = sqlx::query_as(select_exports!(
            "WHERE (?1 IS NULL OR status = ?1) ORDER BY created_at DESC, id DESC"
        ))
        .bind(status.map(ExportStatus::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(record).collect()
    }

    /// Removes the record of a finished export; refused while it is being written.
    pub async fn delete_export(&self, id: &str) -> Result<()> {
        let export = self.export(id).await?;
        if !export.status.is_terminal() {
            return Err(StoreError::Conflict(format!(
                "export {id} is {}; delete it once it has ended",
                export.status
            )));
        }
        sqlx::query("DELETE FROM exports WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
