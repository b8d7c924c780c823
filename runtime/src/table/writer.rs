//! Staging rows as Parquet data files that no reader sees until a commit names them.

use std::path::PathBuf;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::kernel::Add;
use deltalake::writer::{DeltaWriter, RecordBatchWriter, WriteMode as DeltaWriteMode};

use super::error::TableError;

/// Streams batches into data files, rolling them at the writer's target size, so memory stays
/// bounded however large the object.
pub struct TableWriter {
    pub(super) path: PathBuf,
    pub(super) inner: RecordBatchWriter,
    pub(super) rows: u64,
}

/// Data files written but not committed, and the schema they were written with.
#[derive(Debug, Default)]
pub struct StagedFiles {
    pub(super) adds: Vec<Add>,
    pub(super) schema: Option<SchemaRef>,
    pub rows: u64,
}

impl StagedFiles {
    /// Gathers several objects' files into one commit (the replace mode's single commit).
    pub fn extend(&mut self, other: StagedFiles) {
        self.adds.extend(other.adds);
        self.rows += other.rows;
        if other.schema.is_some() {
            self.schema = other.schema;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.adds.is_empty()
    }
}

impl TableWriter {
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<(), TableError> {
        // MergeSchema lets a later batch add a (nullable) column; a changed type is an error.
        self.inner
            .write_with_mode(batch.clone(), DeltaWriteMode::MergeSchema)
            .await
            .map_err(|source| TableError::Delta {
                path: self.path.clone(),
                operation: "write data",
                source: Box::new(source),
            })?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Closes the data files. They stay invisible until [`super::Table::commit`].
    pub async fn finish(mut self) -> Result<StagedFiles, TableError> {
        let adds = self
            .inner
            .flush()
            .await
            .map_err(|source| TableError::Delta {
                path: self.path.clone(),
                operation: "finish data files",
                source: Box::new(source),
            })?;
        Ok(StagedFiles {
            adds,
            schema: Some(self.inner.arrow_schema()),
            rows: self.rows,
        })
    }
}
