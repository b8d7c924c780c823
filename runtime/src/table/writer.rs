//! Staging rows as Parquet data files that no reader sees until a commit names them.
//!
//! A Delta table is the set of files its log names, so a data file can be written in full before
//! anything refers to it. If ferry dies mid-object, the files it staged are orphans: invisible to
//! every reader, and rewritten under new names when the object is read again.

use std::path::PathBuf;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::kernel::Add;
use deltalake::parquet::basic::Compression;
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::writer::{DeltaWriter, RecordBatchWriter, WriteMode as DeltaWriteMode};

use super::error::TableError;
use super::schema;

/// Data files roll over at this encoded size: large enough that readers open few files, small
/// enough that a file of a huge object is not a single upload.
pub(super) const TARGET_FILE_BYTES: u64 = 128 << 20;

/// A row group is flushed from memory at this encoded size (or at parquet's 1Mi rows), which
/// bounds what one writer holds however wide or long the object.
const ROW_GROUP_BYTES: usize = 64 << 20;

/// Streams batches into data files, rolling files at [`TARGET_FILE_BYTES`] and row groups at a
/// fixed size, so memory stays bounded however large the object.
///
/// The writer's columns are the table's, then any new ones in the order they appear; a batch
/// that lacks a column gets nulls for it. Every file it writes therefore carries every column
/// the table will have after the commit.
pub struct TableWriter {
    path: PathBuf,
    inner: RecordBatchWriter,
    rows: u64,
}

/// Data files written but not committed: the `add` actions that a commit will record, the
/// columns the files were written with, and how many rows they hold.
///
/// Dropping it commits nothing; the files stay on disk unreferenced.
#[derive(Debug, Default)]
pub struct StagedFiles {
    pub(super) adds: Vec<Add>,
    pub(super) schemas: Vec<SchemaRef>,
    /// Data files (table-relative paths) the commit removes: an object's earlier rows when it
    /// is imported again. Files the table no longer holds are passed over.
    pub(super) removes: Vec<String>,
    rows: u64,
}

impl StagedFiles {
    /// Gathers several objects' files into one commit (a replace job commits once, at the end).
    pub fn extend(&mut self, other: StagedFiles) {
        self.adds.extend(other.adds);
        self.removes.extend(other.removes);
        for s in other.schemas {
            if !self.schemas.contains(&s) {
                self.schemas.push(s);
            }
        }
        self.rows += other.rows;
    }

    /// The commit of these files also removes `paths` (see [`StagedFiles::paths`]), in the
    /// same atomic commit: readers see the old rows or the new, never both.
    pub fn replacing(mut self, paths: Vec<String>) -> StagedFiles {
        self.removes.extend(paths);
        self
    }

    /// Table-relative paths of the staged data files.
    pub fn paths(&self) -> Vec<String> {
        self.adds.iter().map(|a| a.path.clone()).collect()
    }

    /// Rows in the staged files.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// How many data files were staged.
    pub fn files(&self) -> usize {
        self.adds.len()
    }

    /// Encoded size of the staged files.
    pub fn bytes(&self) -> u64 {
        self.adds.iter().map(|a| a.size.max(0) as u64).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.adds.is_empty()
    }
}

impl TableWriter {
    /// A writer for a table at `url` whose columns are already `schema` (the table's merged with
    /// the caller's, see [`super::Table::writer`]).
    pub(super) fn new(
        path: PathBuf,
        url: &url::Url,
        schema: SchemaRef,
        target_file_bytes: u64,
    ) -> Result<Self, TableError> {
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .set_created_by(format!(
                "ferry {} (delta-rs {})",
                env!("CARGO_PKG_VERSION"),
                deltalake::crate_version()
            ))
            .build();
        let inner = RecordBatchWriter::try_new(url.as_str(), schema, None, None)
            .map_err(|source| TableError::Delta {
                path: path.clone(),
                operation: "start writing",
                source: Box::new(source),
            })?
            .with_target_file_size(target_file_bytes)
            .with_writer_properties(properties);
        Ok(TableWriter {
            path,
            inner,
            rows: 0,
        })
    }

    /// Encodes `batch` into the current data file, which is uploaded as it fills.
    ///
    /// A column new to the writer widens it (later files carry it; earlier ones read it as
    /// null); a column whose type differs from the table's or an earlier batch's is a
    /// [`TableError::SchemaMismatch`], and nothing of the batch is written.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<(), TableError> {
        if batch.num_rows() == 0 {
            // An empty batch would open an empty data file; its columns add nothing either.
            return Ok(());
        }
        schema::merge(
            &self.path,
            Some(&self.inner.arrow_schema()),
            &batch.schema(),
        )?;
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

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Closes the data files. They stay invisible until [`super::Table::commit`] names them.
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
            schemas: vec![self.inner.arrow_schema()],
            removes: Vec::new(),
            rows: self.rows,
        })
    }
}
