//! Staging rows as Parquet data files that no reader sees until a commit names them.
//!
//! A Delta table is the set of files its log names, so a data file can be written in full before
//! anything refers to it. If ferry dies mid-object, the files it staged are orphans: invisible to
//! every reader, and rewritten under new names when the object is read again.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use arrow::array::{RecordBatch, new_null_array};
use arrow::datatypes::{DataType, SchemaRef};
use deltalake::kernel::Add;
use deltalake::parquet::arrow::ArrowWriter;
use deltalake::parquet::basic::Compression;
use deltalake::parquet::errors::ParquetError;
use deltalake::parquet::file::properties::WriterProperties;

use super::error::TableError;
use super::schema;

/// Data files roll over at this encoded size: large enough that readers open few files, small
/// enough that a file of a huge object is not a single upload.
pub const TARGET_FILE_BYTES: u64 = 128 << 20;

/// A row group is flushed from memory at this encoded size (or at parquet's 1Mi rows), which
/// bounds what one writer holds however wide or long the object. 32 MiB is about DuckDB's
/// 122,880-row groups for typical prediction rows, and keeps a 1 GB import under 300 MB.
const ROW_GROUP_BYTES: usize = 32 << 20;

/// Streams batches into data files, rolling files at [`TARGET_FILE_BYTES`] and row groups at a
/// fixed size, so memory stays bounded however large the object.
///
/// The writer's columns are the table's, then any new ones in the order they appear; a batch
/// that lacks a column gets nulls for it. A batch with new columns closes the current file and
/// starts one that carries them; files written before read them as null, like the table's
/// older files.
pub struct TableWriter {
    /// The table's directory, where data files are written.
    path: PathBuf,
    /// The columns of the file being written (and of every later one, until a batch adds some).
    schema: SchemaRef,
    properties: WriterProperties,
    target_file_bytes: u64,
    file: Option<OpenFile>,
    /// Files closed so far.
    done: Vec<Add>,
    /// The columns of each closed file, distinct.
    schemas: Vec<SchemaRef>,
    rows: u64,
}

/// The data file being written: Parquet encodes straight into it, so a writer holds at most
/// one row group in memory (delta-rs's own writer keeps the whole file until it uploads it).
struct OpenFile {
    /// File name, which is also its path relative to the table.
    name: String,
    writer: ArrowWriter<BufWriter<File>>,
    null_counts: Vec<u64>,
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

    /// Neither adds nor removes a file: a commit of it would change nothing.
    pub fn changes_nothing(&self) -> bool {
        self.adds.is_empty() && self.removes.is_empty()
    }
}

impl TableWriter {
    /// A writer for a table at `path` whose columns are already `schema` (the table's merged
    /// with the caller's, see [`super::Table::writer`]).
    pub(super) fn new(
        path: PathBuf,
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
        Ok(TableWriter {
            path,
            schema,
            properties,
            target_file_bytes,
            file: None,
            done: Vec::new(),
            schemas: Vec::new(),
            rows: 0,
        })
    }

    /// Encodes `batch` into the current data file, which streams to disk as row groups fill.
    ///
    /// A column new to the writer widens it (the next file carries it; earlier ones read it as
    /// null); a column the batch lacks is written as nulls. A column whose type differs from the
    /// table's or an earlier batch's is a [`TableError::SchemaMismatch`], and nothing of the
    /// batch is written.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<(), TableError> {
        if batch.num_rows() == 0 {
            // An empty batch would open an empty data file; its columns add nothing either.
            return Ok(());
        }
        let merged = schema::merge(&self.path, Some(&self.schema), &batch.schema())?;
        if schema::adds_columns(Some(&self.schema), &merged) {
            // A Parquet file has one schema: the wider columns start a new file.
            self.close_file()?;
            self.schema = merged;
        }
        let batch = self.widen(batch)?;
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(self.open_file()?),
        };
        file.writer
            .write(&batch)
            .map_err(|e| parquet_error(&self.path, e))?;
        for (count, column) in file.null_counts.iter_mut().zip(batch.columns()) {
            *count += column.null_count() as u64;
        }
        file.rows += batch.num_rows() as u64;
        self.rows += batch.num_rows() as u64;
        let encoded = file.writer.bytes_written() + file.writer.in_progress_size();
        if encoded as u64 >= self.target_file_bytes {
            self.close_file()?;
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Closes the data files. They stay invisible until [`super::Table::commit`] names them.
    pub async fn finish(mut self) -> Result<StagedFiles, TableError> {
        self.close_file()?;
        let mut schemas = self.schemas;
        if !schemas.contains(&self.schema) {
            schemas.push(self.schema);
        }
        Ok(StagedFiles {
            adds: self.done,
            schemas,
            removes: Vec::new(),
            rows: self.rows,
        })
    }

    /// `batch` with the writer's columns, in the writer's order: the ones it lacks as nulls.
    fn widen(&self, batch: &RecordBatch) -> Result<RecordBatch, TableError> {
        if batch.schema() == self.schema {
            return Ok(batch.clone());
        }
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|field| match batch.column_by_name(field.name()) {
                Some(column) => column.clone(),
                None => new_null_array(field.data_type(), batch.num_rows()),
            })
            .collect();
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| TableError::Io {
            path: self.path.clone(),
            message: format!("cannot line the batch up with the table's columns: {e}"),
        })
    }

    /// A new data file named as Delta writers name theirs, so no two writers ever collide.
    fn open_file(&self) -> Result<OpenFile, TableError> {
        let name = format!("part-00000-{}-c000.snappy.parquet", uuid::Uuid::new_v4());
        let full = self.path.join(&name);
        let io = |e: std::io::Error| TableError::Io {
            path: full.clone(),
            message: format!("cannot create the data file: {e}"),
        };
        std::fs::create_dir_all(&self.path).map_err(io)?;
        let sink = BufWriter::with_capacity(1 << 20, File::create_new(&full).map_err(io)?);
        let writer = ArrowWriter::try_new(sink, self.schema.clone(), Some(self.properties.clone()))
            .map_err(|e| parquet_error(&self.path, e))?;
        Ok(OpenFile {
            name,
            writer,
            null_counts: vec![0; self.schema.fields().len()],
            rows: 0,
        })
    }

    /// Finishes the open data file, if any, and records its `add` action.
    fn close_file(&mut self) -> Result<(), TableError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let full = self.path.join(&file.name);
        let sink = file
            .writer
            .into_inner()
            .map_err(|e| parquet_error(&self.path, e))?;
        let io = |e: std::io::Error| TableError::Io {
            path: full.clone(),
            message: format!("cannot finish the data file: {e}"),
        };
        let written = sink.into_inner().map_err(|e| io(e.into_error()))?;
        // Durable before a commit names it: the log must never point at a file a crash lost.
        written.sync_all().map_err(io)?;
        let meta = written.metadata().map_err(io)?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        self.done.push(Add {
            path: file.name,
            partition_values: HashMap::new(),
            size: meta.len() as i64,
            modification_time: modified,
            data_change: true,
            stats: Some(stats(&self.schema, file.rows, &file.null_counts)),
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
            clustering_provider: None,
        });
        if !self.schemas.contains(&self.schema) {
            self.schemas.push(self.schema.clone());
        }
        Ok(())
    }
}

fn parquet_error(path: &std::path::Path, e: ParquetError) -> TableError {
    TableError::Io {
        path: path.to_owned(),
        message: format!("cannot encode Parquet: {e}"),
    }
}

/// The `stats` of an `add` action: the row count and each top-level column's null count.
///
/// Minimum and maximum values are left out on purpose: a reader skips a file whose range
/// excludes its filter, so a wrong bound would hide rows, and a missing one only costs a read.
fn stats(schema: &SchemaRef, rows: u64, null_counts: &[u64]) -> String {
    let nulls: serde_json::Map<String, serde_json::Value> = schema
        .fields()
        .iter()
        .zip(null_counts)
        .filter(|(field, _)| !matches!(field.data_type(), DataType::Struct(_)))
        .map(|(field, n)| (field.name().clone(), (*n).into()))
        .collect();
    serde_json::json!({ "numRecords": rows, "nullCount": nulls }).to_string()
}
