//! Tables as Delta Lake: Parquet data files plus a transaction log, readable by Spark, DuckDB,
//! Polars or pandas without ferry.
//!
//! Rows are staged into data files first ([`TableWriter`]) and become visible only when a
//! commit names them. Each commit may carry an application transaction ([`AppTxn`]): the
//! engine records `(ferry-job-<id>, n)` with the commit of a job's n-th object, so after a
//! crash the table itself says which objects are in.

mod error;
mod writer;

use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, MetadataExt, StructType, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::RecordBatchWriter;
use deltalake::{DeltaTable, DeltaTableError};

pub use error::TableError;
pub use writer::{StagedFiles, TableWriter};

/// How a commit treats the rows already in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Append,
    /// Every current data file is removed in the same commit: an atomic overwrite.
    Replace,
}

/// An application transaction recorded with a commit (Delta's `txn` action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppTxn {
    pub app_id: String,
    pub version: i64,
}

impl AppTxn {
    pub fn new(app_id: &str, version: i64) -> Self {
        AppTxn {
            app_id: app_id.to_owned(),
            version,
        }
    }
}

/// A Delta table in a local directory, which may not exist yet.
pub struct Table {
    path: PathBuf,
    url: url::Url,
    delta: DeltaTable,
}

impl Table {
    /// Opens the table at `path`; a directory without a Delta log is an empty table that the
    /// first commit creates.
    pub async fn open(path: &Path) -> Result<Table, TableError> {
        // Nothing is created here: a dry run opens tables too, and must leave no trace.
        let abs = std::path::absolute(path).map_err(|e| TableError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let url = url::Url::from_directory_path(&abs).map_err(|()| TableError::Io {
            path: abs.clone(),
            message: "not a usable directory path".into(),
        })?;
        // Only a directory with a log is loaded: the kernel logs an error for an empty one.
        let delta = if abs.join("_delta_log").is_dir() {
            deltalake::open_table(url.clone()).await
        } else {
            deltalake::DeltaTableBuilder::from_url(url.clone()).and_then(|b| b.build())
        }
        .map_err(|source| delta_error(&abs, "open", source))?;
        Ok(Table {
            path: abs,
            url,
            delta,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The table's version, `None` before the first commit.
    pub fn version(&self) -> Option<i64> {
        self.delta.version().map(|v| v as i64)
    }

    /// The table's columns, `None` before the first commit.
    pub fn arrow_schema(&self) -> Option<SchemaRef> {
        self.delta
            .snapshot()
            .ok()
            .map(|s| s.snapshot().arrow_schema())
    }

    /// The last version recorded for `app_id` by a commit's application transaction.
    pub async fn app_version(&self, app_id: &str) -> Result<Option<i64>, TableError> {
        let Ok(state) = self.delta.snapshot() else {
            return Ok(None);
        };
        state
            .transaction_version(self.delta.log_store().as_ref(), app_id)
            .await
            .map_err(|source| delta_error(&self.path, "read application transactions", source))
    }

    /// A writer that stages rows with `schema` into this table's directory.
    pub fn writer(&self, schema: SchemaRef) -> Result<TableWriter, TableError> {
        let inner = RecordBatchWriter::try_new(self.url.as_str(), schema, None, None)
            .map_err(|source| delta_error(&self.path, "start writing", source))?
            .with_target_file_size(128 << 20);
        Ok(TableWriter {
            path: self.path.clone(),
            inner,
            rows: 0,
        })
    }

    /// Commits staged files in one Delta commit, with `txn` and `info` in the same commit.
    /// Creates the table first if this is its first commit.
    pub async fn commit(
        &mut self,
        staged: StagedFiles,
        mode: WriteMode,
        txn: Option<AppTxn>,
        info: serde_json::Map<String, serde_json::Value>,
    ) -> Result<i64, TableError> {
        let schema = match (&staged.schema, self.arrow_schema()) {
            (Some(s), _) => s.clone(),
            (None, Some(current)) => current,
            (None, None) => arrow::datatypes::SchemaRef::new(arrow::datatypes::Schema::empty()),
        };
        let kernel_schema: StructType = schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| delta_error(&self.path, "convert the schema", e.into()))?;
        if self.delta.version().is_none() {
            // Creation is its own commit with no data: harmless if the data commit never comes.
            self.delta = self
                .delta
                .create()
                .with_columns(kernel_schema.fields().cloned())
                .await
                .map_err(|source| delta_error(&self.path, "create", source))?;
            tracing::info!(table = %self.path.display(), "created table");
        }
        let state = self
            .delta
            .snapshot()
            .map_err(|source| delta_error(&self.path, "read state", source))?;

        let mut actions: Vec<Action> = Vec::new();
        if let Some(current) = self.arrow_schema() {
            check_compatible(&self.path, &current, &schema)?;
            if current.fields().len() != schema.fields().len() {
                let metadata = state
                    .metadata()
                    .clone()
                    .with_schema(&kernel_schema)
                    .map_err(|source| {
                        delta_error(&self.path, "evolve the schema", source.into())
                    })?;
                actions.push(Action::Metadata(metadata));
            }
        }
        if mode == WriteMode::Replace {
            for file in state.log_data().iter() {
                actions.push(Action::Remove(file.remove_action(true)));
            }
        }
        let files = staged.adds.len();
        actions.extend(staged.adds.into_iter().map(Action::Add));

        let mut properties = CommitProperties::default().with_metadata(info);
        if let Some(txn) = &txn {
            properties =
                properties.with_application_transaction(Transaction::new(&txn.app_id, txn.version));
        }
        let operation = DeltaOperation::Write {
            mode: match mode {
                WriteMode::Append => SaveMode::Append,
                WriteMode::Replace => SaveMode::Overwrite,
            },
            partition_by: None,
            predicate: None,
        };
        let finalized = CommitBuilder::from(properties)
            .with_actions(actions)
            .build(Some(state), self.delta.log_store(), operation)
            .await
            .map_err(|source| delta_error(&self.path, "commit", source))?;
        let version = finalized.version() as i64;
        self.delta
            .update_state()
            .await
            .map_err(|source| delta_error(&self.path, "reload", source))?;
        tracing::info!(table = %self.path.display(), version, files, rows = staged.rows, ?mode, "committed");
        Ok(version)
    }
}

/// Columns present in both must keep their type; new columns may be added.
fn check_compatible(path: &Path, table: &SchemaRef, batch: &SchemaRef) -> Result<(), TableError> {
    for field in batch.fields() {
        if let Ok(existing) = table.field_with_name(field.name())
            && existing.data_type() != field.data_type()
        {
            return Err(TableError::SchemaMismatch {
                path: path.to_owned(),
                column: field.name().clone(),
                table_type: existing.data_type().to_string(),
                batch_type: field.data_type().to_string(),
            });
        }
    }
    Ok(())
}

fn delta_error(path: &Path, operation: &'static str, source: DeltaTableError) -> TableError {
    TableError::Delta {
        path: path.to_owned(),
        operation,
        source: Box::new(source),
    }
}

/// Reads every row of the table at `path` (for previews and tests; small tables only).
pub async fn read_table(path: &Path) -> Result<Vec<arrow::array::RecordBatch>, TableError> {
    let table = Table::open(path).await?;
    let Ok(state) = table.delta.snapshot() else {
        return Ok(Vec::new());
    };
    let mut batches = Vec::new();
    for file in state.log_data().iter() {
        let file_path = table.path.join(file.path().as_ref());
        let reader = std::fs::File::open(&file_path)
            .map_err(|e| TableError::Io {
                path: file_path.clone(),
                message: e.to_string(),
            })
            .and_then(|f| {
                deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
                    .and_then(|b| b.build())
                    .map_err(|e| TableError::Io {
                        path: file_path.clone(),
                        message: e.to_string(),
                    })
            })?;
        for batch in reader {
            batches.push(batch.map_err(|e| TableError::Io {
                path: file_path.clone(),
                message: e.to_string(),
            })?);
        }
    }
    Ok(batches)
}

#[cfg(test)]
mod tests;
