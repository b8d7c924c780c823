use std::path::PathBuf;

/// Why a table operation failed, with the table and operation named.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("table {path}: cannot {operation}: {source}")]
    Delta {
        path: PathBuf,
        operation: &'static str,
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    #[error(
        "table {path}: column `{column}` is {table_type} in the table but {batch_type} in the new rows"
    )]
    SchemaMismatch {
        path: PathBuf,
        column: String,
        table_type: String,
        batch_type: String,
    },
    #[error("table {path}: {message}")]
    Io { path: PathBuf, message: String },
}
