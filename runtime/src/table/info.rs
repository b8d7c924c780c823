//! What `ferry tables list|show` and `GET /v1/tables/{name}` say about a table, read from its
//! log alone: version, columns, data files, size, rows, and the last commit (with the job that
//! made it). No data file is opened.

use std::path::Path;

use futures_util::StreamExt;
use serde::Serialize;

use super::error::TableError;
use super::{Table, delta_error};

/// A table as its log describes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableInfo {
    pub name: String,
    pub path: String,
    /// The last committed version (the first commit is 0).
    pub version: i64,
    pub columns: Vec<ColumnInfo>,
    /// Data files the current version is made of.
    pub files: usize,
    /// Their encoded size.
    pub bytes: u64,
    /// Rows, from the files' statistics; `None` when a file has none (written elsewhere).
    pub rows: Option<u64>,
    pub last_commit: Option<CommitSummary>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub nullable: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitSummary {
    pub version: Option<i64>,
    /// Milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub operation: Option<String>,
    /// The ferry job that committed it, when ferry did.
    pub job_id: Option<String>,
}

/// The table at `path` named `name`; `None` when there is no table there yet.
pub async fn describe(name: &str, path: &Path) -> Result<Option<TableInfo>, TableError> {
    let table = Table::open(path).await?;
    let (Ok(state), Some(schema), Some(version)) = (
        table.delta.snapshot(),
        table.schema.clone(),
        table.delta.version(),
    ) else {
        return Ok(None);
    };
    let log = state
        .snapshot()
        .try_log_data()
        .map_err(|source| delta_error(&table.path, "list the data files", source))?;
    let (mut files, mut bytes, mut rows) = (0usize, 0u64, Some(0u64));
    for file in log.iter() {
        files += 1;
        bytes += file.size().max(0) as u64;
        rows = rows.zip(file.num_records()).map(|(a, b)| a + b as u64);
    }
    let last_commit = match table.delta.history(Some(1)).next().await {
        Some(Ok(commit)) => Some(CommitSummary {
            version: Some(version as i64),
            timestamp: commit.timestamp,
            operation: commit.operation.clone(),
            job_id: commit
                .info
                .get("ferry.jobId")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
        }),
        _ => None,
    };
    Ok(Some(TableInfo {
        name: name.to_owned(),
        path: table.path.display().to_string(),
        version: version as i64,
        columns: schema
            .fields()
            .iter()
            .map(|f| ColumnInfo {
                name: f.name().clone(),
                type_: f.data_type().to_string(),
                nullable: f.is_nullable(),
            })
            .collect(),
        files,
        bytes,
        rows,
        last_commit,
    }))
}
