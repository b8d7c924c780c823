//! Tables as Delta Lake: Parquet data files plus a transaction log, readable by Spark, DuckDB,
//! Polars or pandas without ferry.
//!
//! Rows are staged into data files first ([`TableWriter`]) and become visible only when a commit
//! names them ([`Table::commit`]). Each commit may carry an application transaction ([`AppTxn`],
//! Delta's `txn` action): the engine records `(ferry-job-<id>, n)` in the same commit as a job's
//! n-th object, so after a crash the table itself says which objects are in
//! ([`Table::app_version`]).

mod commit;
mod compact;
mod error;
mod info;
mod merge;
mod prepared;
mod query;
mod read;
mod schema;
mod vacuum;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::table::state::DeltaTableState;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};

pub use commit::{AppTxn, WriteMode};
pub use compact::CompactReport;
pub use error::TableError;
pub use info::{ColumnInfo, CommitSummary, TableInfo, describe};
pub use merge::{Combine, Duplicates, Matched, MergeReport, MergeSource, SourceError};
pub use prepared::{PreparedQuery, Snapshot};
pub use query::{Answer, QueryError, QueryLimits, query};
pub use read::read_table;
pub use schema::{storable_column_name, storable_type};
pub use vacuum::VacuumReport;
/// The size compaction rewrites small files into, and that writers roll files at.
pub use writer::TARGET_FILE_BYTES;
pub use writer::{StagedFiles, TableWriter};

/// A Delta table in a local directory, which may not exist yet: the first commit creates it.
///
/// The handle holds the table state as of its last open or commit. Ferry expects to be the
/// table's only writer; a commit made by someone else in between surfaces as
/// [`TableError::Conflict`] when it cannot be reconciled.
pub struct Table {
    path: PathBuf,
    delta: DeltaTable,
    /// The Arrow form of the table's schema, `None` before the first commit.
    schema: Option<SchemaRef>,
    /// Application transaction versions committed through this handle, so the per-commit
    /// duplicate check replays the log once per application, not once per commit.
    txns: HashMap<String, i64>,
}

impl Table {
    /// Opens the table at `path`; a directory without a Delta log (or no directory at all) is an
    /// empty table that the first commit creates.
    pub async fn open(path: &Path) -> Result<Table, TableError> {
        // Nothing is created here: a dry run opens tables too, and must leave no trace.
        let abs = std::path::absolute(path).map_err(|e| TableError::Io {
            path: path.to_owned(),
            message: format!("cannot resolve the path: {e}"),
        })?;
        let url = url::Url::from_directory_path(&abs).map_err(|()| TableError::Io {
            path: abs.clone(),
            message: "not a usable directory path".into(),
        })?;
        let mut delta = DeltaTableBuilder::from_url(url)
            .and_then(|b| b.build())
            .map_err(|source| delta_error(&abs, "open", source))?;
        // Asking first keeps the kernel from logging an error for a table that is simply new,
        // and treats a log holding only an unfinished temporary commit as no table.
        let exists = delta
            .verify_deltatable_existence()
            .await
            .map_err(|source| delta_error(&abs, "look for", source))?;
        if exists {
            delta
                .load()
                .await
                .map_err(|source| delta_error(&abs, "load", source))?;
        }
        let mut table = Table {
            path: abs,
            delta,
            schema: None,
            txns: HashMap::new(),
        };
        table.schema = table.current_schema()?;
        Ok(table)
    }

    /// The table's directory, absolute.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The table's version, `None` before the first commit.
    pub fn version(&self) -> Option<i64> {
        self.delta.version().map(|v| v as i64)
    }

    /// The table's columns, `None` before the first commit.
    pub fn arrow_schema(&self) -> Option<SchemaRef> {
        self.schema.clone()
    }

    /// The last version recorded for `app_id` by a commit's application transaction, `None` if
    /// no commit carried one (or the table does not exist yet).
    pub async fn app_version(&self, app_id: &str) -> Result<Option<i64>, TableError> {
        if let Some(&known) = self.txns.get(app_id) {
            return Ok(Some(known));
        }
        let Ok(state) = self.delta.snapshot() else {
            return Ok(None);
        };
        state
            .transaction_version(self.delta.log_store().as_ref(), app_id)
            .await
            .map_err(|source| delta_error(&self.path, "read application transactions", source))
    }

    /// A property of the table (Delta's `configuration`), `None` when unset or before the
    /// first commit.
    pub fn property(&self, key: &str) -> Option<String> {
        let state = self.delta.snapshot().ok()?;
        state.metadata().configuration().get(key).cloned()
    }

    /// A writer that stages rows into this table's directory.
    ///
    /// Its columns are the table's followed by `schema`'s new ones; a column of `schema` whose
    /// type differs from the table's is refused here, before any row is encoded.
    pub fn writer(&self, schema: SchemaRef) -> Result<TableWriter, TableError> {
        self.writer_with_target(schema, writer::TARGET_FILE_BYTES)
    }

    fn writer_with_target(
        &self,
        schema: SchemaRef,
        target_file_bytes: u64,
    ) -> Result<TableWriter, TableError> {
        let columns = schema::merge(&self.path, self.schema.as_ref(), &schema)?;
        TableWriter::new(self.path.clone(), columns, target_file_bytes)
    }

    /// Reads the table's log again (another writer committed since this handle last looked).
    async fn reload(&mut self) -> Result<(), TableError> {
        self.delta
            .load()
            .await
            .map_err(|source| delta_error(&self.path, "load", source))?;
        self.txns.clear();
        self.schema = self.current_schema()?;
        Ok(())
    }

    /// Adopts the state a commit produced, so later commits and schema checks start from it.
    fn set_state(&mut self, state: DeltaTableState) -> Result<(), TableError> {
        self.delta.state = Some(state);
        self.schema = self.current_schema()?;
        Ok(())
    }

    fn current_schema(&self) -> Result<Option<SchemaRef>, TableError> {
        let Ok(state) = self.delta.snapshot() else {
            return Ok(None);
        };
        let arrow: Schema = state
            .schema()
            .as_ref()
            .try_into_arrow()
            .map_err(|e| delta_error(&self.path, "read the schema", e.into()))?;
        Ok(Some(Arc::new(arrow)))
    }
}

fn delta_error(path: &Path, operation: &'static str, source: DeltaTableError) -> TableError {
    TableError::Delta {
        path: path.to_owned(),
        operation,
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests;
