//! The incremental ledger: which objects a workflow has imported, from which source, into
//! which table, with the ETag they had and the data files holding their rows. Entries are
//! written with a file's `passed` status (see `files`), read here.

use super::{Result, Store, StoreError};

/// An object an earlier job imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub etag: Option<String>,
    /// Table-relative paths of the data files that hold its rows (empty for objects recorded
    /// before ferry kept them).
    pub data_files: Vec<String>,
}

impl Store {
    /// The objects `workflow` has passed from source `source_id` into `table`, by key, with
    /// the ETag each had then and the data files holding its rows. Objects recorded before
    /// ledgers named their source count for every source.
    pub async fn imported_objects(
        &self,
        workflow: &str,
        source_id: &str,
        table: &str,
    ) -> Result<std::collections::HashMap<String, Imported>> {
        let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT object_key, etag, data_files FROM imported_objects \
             WHERE workflow = ? AND table_name = ? AND source_id IN (?, '') ORDER BY source_id",
        )
        .bind(workflow)
        .bind(table)
        .bind(source_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(key, etag, files)| {
                let data_files = match files {
                    None => Vec::new(),
                    Some(text) => serde_json::from_str(&text)
                        .map_err(|e| StoreError::Corrupt(format!("data files of `{key}`: {e}")))?,
                };
                Ok((key, Imported { etag, data_files }))
            })
            .collect()
    }
}
