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

impl Store {
    /// Data files of `table` that hold one object's rows alone, as recorded by its jobs: an
    /// object's later version removes them (`on_change = "reimport"`), so compaction must
    /// leave them as they are. Files written ahead of a commit count too, since a running job
    /// records them before its commit makes them part of the table.
    pub async fn replaceable_files(
        &self,
        table: &str,
    ) -> Result<std::collections::HashSet<String>> {
        let lists: Vec<(String,)> = sqlx::query_as(
            "SELECT data_files FROM imported_objects WHERE table_name = ? AND data_files NOT IN ('', '[]') \
             UNION ALL \
             SELECT f.data_files FROM job_files f JOIN jobs j ON j.id = f.job_id \
             WHERE j.table_name = ? AND f.data_files IS NOT NULL AND f.data_files NOT IN ('', '[]')",
        )
        .bind(table)
        .bind(table)
        .fetch_all(&self.pool)
        .await?;
        let mut files = std::collections::HashSet::new();
        for (text,) in lists {
            let list: Vec<String> = serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("data files of table `{table}`: {e}")))?;
            files.extend(list);
        }
        Ok(files)
    }
}
