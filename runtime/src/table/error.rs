//! What can go wrong with a table, always naming the table and what was being done.

use std::path::PathBuf;

/// Why a table operation failed.
///
/// Every variant names the table directory: one job writes one table, but the engine's logs and
/// a user's terminal see many jobs.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The Delta library failed (storage, log, Parquet encoding).
    #[error("table {path}: cannot {operation}: {source}")]
    Delta {
        path: PathBuf,
        operation: &'static str,
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    /// Someone else committed to the table since this handle read it, in a way this commit
    /// cannot be placed after (any commit before a replace, a schema change, the table's
    /// creation). Nothing of this commit is visible; ferry expects to be the table's only
    /// writer. The source says what delta-rs detected.
    #[error(
        "table {path}: another writer committed to the table while this commit was being made; nothing of it was written"
    )]
    Conflict {
        path: PathBuf,
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    /// A column's type differs between the table (or earlier rows of the same writer) and the
    /// new rows. Callers cast before writing; this only detects.
    #[error(
        "table {path}: column `{column}` is {table_type} in the table but {batch_type} in the new rows"
    )]
    SchemaMismatch {
        path: PathBuf,
        column: String,
        table_type: String,
        batch_type: String,
    },
    /// The commit's application transaction is not newer than the one the table already holds
    /// for that application: committing would store the same rows twice.
    #[error(
        "table {path}: application `{app_id}` already committed version {committed}; refusing version {version}"
    )]
    AlreadyCommitted {
        path: PathBuf,
        app_id: String,
        version: i64,
        committed: i64,
    },
    /// A table is created by its first commit, which then needs at least one column.
    #[error("table {path}: cannot create the table: no columns were staged")]
    NoColumns { path: PathBuf },
    /// A data file of the table could not be read back.
    #[error("table {path}: cannot read data file {file}: {source}")]
    Read {
        path: PathBuf,
        file: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The file system refused something outside the Delta library (resolving the path).
    #[error("table {path}: {message}")]
    Io { path: PathBuf, message: String },
}
