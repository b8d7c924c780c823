//! One object through the pipeline: read it from the source in chunks, decompress if needed,
//! push the bytes through the parser, map each batch, and hand the rows to a sink (a table
//! writer, or the dry run's preview). Nothing here commits: the caller decides.

use std::collections::HashSet;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use super::download::{Chunk, ObjectChunks};
use super::inflate::Inflate;
use super::pipeline::PipelinedWriter;
use crate::diagnostic::RowDiagnostic;
use crate::host::{ParserInstance, ParserOutput, PluginError};
use crate::mapping::Mapping;
use crate::store::{ErrorInfo, RowMetrics};
use crate::table::{MergeSource, StagedFiles, TableError, TableWriter};
use crate::workflow::{Compression, DecompressionLimits};

/// The most bytes pushed to the parser at once.
pub const PUSH: usize = 1 << 20;

/// An object's rows are held in memory up to this size, then written with the other objects
/// of their commit into shared data files: a thousand 4 KB objects make one Parquet file and
/// one fsync, not a thousand. A larger object streams into data files of its own.
pub const HOLD_BYTES: usize = 8 << 20;

/// Where mapped rows go.
pub enum Sink<'a> {
    /// Staged for the table (committed later by the caller): held while the object is small,
    /// then streamed into its own data files.
    Table {
        held: Held,
        writer: Option<PipelinedWriter>,
        open: &'a (dyn Fn(SchemaRef) -> Result<TableWriter, TableError> + Sync),
    },
    /// Held whole, up to `limit` bytes of Arrow memory: a merge needs every row of its object
    /// at once, to keep one row per key. A larger object fails.
    Whole { held: Held, limit: usize },
    /// Kept in memory for a dry run, up to `limit` rows.
    Preview {
        batches: Vec<RecordBatch>,
        limit: usize,
    },
}

/// Rows of a small object, in memory until it ends.
#[derive(Default)]
pub struct Held {
    batches: Vec<RecordBatch>,
    bytes: usize,
}

/// Where an object's rows ended up once it was read to its end.
pub enum Rows {
    /// It had none.
    None,
    /// Small enough to be held: the caller writes them (see [`HOLD_BYTES`]).
    Held(Vec<RecordBatch>),
    /// In data files of its own.
    Staged(StagedFiles),
    /// Held whole and made a merge's source, one row per key.
    Keyed(MergeSource),
}

impl Sink<'_> {
    /// A table sink that opens its writer with `open` once the object outgrows [`HOLD_BYTES`].
    pub fn table(open: &(dyn Fn(SchemaRef) -> Result<TableWriter, TableError> + Sync)) -> Sink<'_> {
        Sink::Table {
            held: Held::default(),
            writer: None,
            open,
        }
    }

    /// A sink that holds an object's rows whole, up to `limit` bytes.
    pub fn whole(limit: usize) -> Sink<'static> {
        Sink::Whole {
            held: Held::default(),
            limit,
        }
    }

    /// The rows of a table sink whose object was read to its end.
    pub async fn into_rows(self) -> Result<Rows, TableError> {
        match self {
            Sink::Table {
                writer: Some(w), ..
            } => Ok(Rows::Staged(w.finish().await?)),
            Sink::Table { held, .. } | Sink::Whole { held, .. } if held.batches.is_empty() => {
                Ok(Rows::None)
            }
            Sink::Table { held, .. } | Sink::Whole { held, .. } => Ok(Rows::Held(held.batches)),
            Sink::Preview { .. } => Ok(Rows::None),
        }
    }
}

/// What happened to one object.
#[derive(Default)]
pub struct FileReport {
    pub metrics: RowMetrics,
    pub diagnostics: Vec<RowDiagnostic>,
    /// Columns stored under another name (reported once per object).
    renamed: std::collections::BTreeSet<String>,
}

/// Why an object could not be read to the end.
#[derive(Debug)]
pub enum FileFailure {
    /// The object itself is bad (or a plugin failed on it): the file fails, the job goes on.
    File(ErrorInfo),
    /// Too many rows were skipped by error: the job fails.
    TooManyExceptions(ErrorInfo),
    /// The job was canceled while this object was being read.
    Canceled,
    /// Writing staged data failed: the table or disk is at fault, not the object.
    Table(TableError),
}

impl From<PluginError> for FileFailure {
    fn from(e: PluginError) -> Self {
        match e {
            PluginError::Canceled { .. } => FileFailure::Canceled,
            e => FileFailure::File(ErrorInfo {
                code: e.code().to_owned(),
                message: e.message(),
                row: e.row(),
            }),
        }
    }
}

/// Everything `process` needs besides the object.
pub struct FileContext<'a> {
    pub mapping: &'a Mapping,
    pub compression: Compression,
    pub decompression: &'a DecompressionLimits,
    /// The schema rows must fit: the table's, or the one this job established first.
    pub schema: &'a mut Option<SchemaRef>,
    /// Rows skipped by error so far in the job, and the limit.
    pub exceptions_before: u64,
    pub max_exceptions: Option<u64>,
    pub on_bytes: &'a (dyn Fn(u64) + Sync),
    /// Where an object is copied for a parser that reads whole files (the home's `tmp/`).
    pub spool: &'a std::path::Path,
}

/// What reading an object's bytes takes, besides the object: owned, so a parse can run in a
/// task of its own (see [`super::parse_ahead`]).
#[derive(Debug, Clone)]
pub struct Input {
    pub compression: Compression,
    pub decompression: DecompressionLimits,
    /// Where an object is copied for a parser that reads whole files (the home's `tmp/`).
    pub spool: std::path::PathBuf,
    /// The columns the mapping reads, which a file parser projects on (`None`: all).
    pub columns: Option<Vec<String>>,
}

/// One step of a parse, as [`parse`] hands it on.
pub enum Step {
    /// This many more bytes of the object were read.
    Bytes(u64),
    /// The parser decoded rows (or diagnostics).
    Output(ParserOutput),
}

/// Where [`parse`] hands its steps: the mapping in line ([`process`]), or a channel to the job
/// ([`super::parse_ahead`]).
pub trait Emit: Send {
    fn emit(&mut self, step: Step) -> impl Future<Output = Result<(), FileFailure>> + Send;
}

/// The mapping, in line with the parse.
struct Absorb<'c, 'a, 's> {
    ctx: &'c mut FileContext<'a>,
    sink: &'c mut Sink<'s>,
    report: &'c mut FileReport,
}

impl Emit for Absorb<'_, '_, '_> {
    async fn emit(&mut self, step: Step) -> Result<(), FileFailure> {
        match step {
            Step::Bytes(n) => {
                (self.ctx.on_bytes)(n);
                Ok(())
            }
            Step::Output(output) => absorb(output, self.ctx, self.sink, self.report).await,
        }
    }
}

/// Reads one object, parses it, maps each batch and hands the rows to `sink`.
pub async fn process(
    key: &str,
    chunks: &mut ObjectChunks,
    parser: &mut ParserInstance,
    ctx: &mut FileContext<'_>,
    sink: &mut Sink<'_>,
    report: &mut FileReport,
) -> Result<(), FileFailure> {
    let input = Input {
        compression: ctx.compression,
        decompression: *ctx.decompression,
        spool: ctx.spool.to_owned(),
        columns: ctx.mapping.input_columns(),
    };
    let mut emit = Absorb { ctx, sink, report };
    parse(key, chunks, parser, &input, &mut emit).await
}

/// Reads one object from its chunks (inflating it if compressed) through `parser`, handing
/// every step to `emit`: the parsing half of [`process`], which the job also runs ahead of
/// the mapping, several objects at once.
pub async fn parse(
    key: &str,
    chunks: &mut ObjectChunks,
    parser: &mut ParserInstance,
    input: &Input,
    emit: &mut impl Emit,
) -> Result<(), FileFailure> {
    let gz = inflater(key, input);
    if parser.reads_files() {
        return read_whole(key, chunks, gz, parser, input, emit).await;
    }
    parser.open(key).await?;
    let mut plain = Plain::new(key, chunks, gz);
    while let Some(bytes) = plain.next(emit).await? {
        push(&bytes, parser, emit).await?;
    }
    let decoded = parser.finish().await?;
    emit.emit(Step::Output(decoded)).await
}

/// The inflater for `key`, when the step says (or its name says) the object is gzip.
pub fn inflater(key: &str, input: &Input) -> Option<Inflate> {
    let gzip = match input.compression {
        Compression::Gzip => true,
        Compression::None => false,
        Compression::Auto => key.ends_with(".gz"),
    };
    gzip.then(|| Inflate::new(&input.decompression))
}

/// An object's bytes as the parser is to read them: chunk after chunk, inflated when the
/// object is compressed (one inflate step at a time, so memory stays bounded however well it
/// compresses).
pub struct Plain<'c> {
    key: &'c str,
    chunks: &'c mut ObjectChunks,
    gz: Option<Inflate>,
    /// A compressed chunk not yet inflated to its end, and how far it has been.
    compressed: Vec<u8>,
    at: usize,
    /// Bytes of the object read so far.
    offset: u64,
    ended: bool,
}

impl<'c> Plain<'c> {
    pub fn new(key: &'c str, chunks: &'c mut ObjectChunks, gz: Option<Inflate>) -> Self {
        Plain {
            key,
            chunks,
            gz,
            compressed: Vec::new(),
            at: 0,
            offset: 0,
            ended: false,
        }
    }

    /// The object's next plain bytes, `None` after its end. Each chunk read is reported to
    /// `emit` as [`Step::Bytes`].
    pub async fn next(&mut self, emit: &mut impl Emit) -> Result<Option<Vec<u8>>, FileFailure> {
        loop {
            if let Some(inflate) = self.gz.as_mut()
                && self.at < self.compressed.len()
            {
                let mut input = &self.compressed[self.at..];
                let before = input.len();
                let plain = inflate
                    .step(self.key, &mut input)
                    .map_err(FileFailure::File)?;
                self.at += before - input.len();
                return Ok(Some(plain));
            }
            if self.ended {
                return Ok(None);
            }
            let Some(bytes) = next_chunk(self.key, self.chunks, self.offset).await? else {
                self.ended = true;
                return match self.gz.take() {
                    Some(inflate) => Ok(Some(inflate.finish(self.key).map_err(FileFailure::File)?)),
                    None => Ok(None),
                };
            };
            self.offset += bytes.len() as u64;
            emit.emit(Step::Bytes(bytes.len() as u64)).await?;
            if self.gz.is_none() {
                return Ok(Some(bytes));
            }
            self.compressed = bytes;
            self.at = 0;
        }
    }
}

/// The object's next chunk, `None` at its end.
async fn next_chunk(
    key: &str,
    chunks: &mut ObjectChunks,
    offset: u64,
) -> Result<Option<Vec<u8>>, FileFailure> {
    match chunks.recv().await {
        Some(Ok(Chunk::Data(bytes))) => Ok(Some(bytes)),
        Some(Ok(Chunk::End)) => Ok(None),
        Some(Err(e)) => Err(e.into()),
        None => Err(FileFailure::File(ErrorInfo {
            code: "download_stopped".into(),
            message: format!("{key}: the download stopped after {offset} bytes"),
            row: None,
        })),
    }
}

/// For a parser that reads whole files (Parquet's footer is at its end): the object goes to a
/// temporary file first (inflated, if it was compressed), which the parser then reads through
/// the `object` import, a part at a time. The copy is removed however this ends.
async fn read_whole(
    key: &str,
    chunks: &mut ObjectChunks,
    gz: Option<Inflate>,
    parser: &mut ParserInstance,
    input: &Input,
    emit: &mut impl Emit,
) -> Result<(), FileFailure> {
    use std::io::Write;
    let disk = |e: std::io::Error| {
        FileFailure::File(ErrorInfo {
            code: "spool_failed".into(),
            message: format!("{key}: cannot keep a copy for the parser: {e}"),
            row: None,
        })
    };
    std::fs::create_dir_all(&input.spool).map_err(disk)?;
    let copy = tempfile::NamedTempFile::new_in(&input.spool).map_err(disk)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, copy.as_file());
    let mut plain = Plain::new(key, chunks, gz);
    while let Some(bytes) = plain.next(emit).await? {
        out.write_all(&bytes).map_err(disk)?;
    }
    out.flush().map_err(disk)?;
    drop(out);
    parser
        .open_file(key, copy.path(), input.columns.as_deref())
        .await?;
    while let Some(part) = parser.next().await? {
        emit.emit(Step::Output(part)).await?;
    }
    Ok(())
}

/// Hands plain bytes to the parser, at most [`PUSH`] at a time.
pub async fn push(
    plain: &[u8],
    parser: &mut ParserInstance,
    emit: &mut impl Emit,
) -> Result<(), FileFailure> {
    for piece in plain.chunks(PUSH) {
        let decoded = parser.push(piece).await?;
        emit.emit(Step::Output(decoded)).await?;
    }
    Ok(())
}

/// Maps one parser output and hands its rows to the sink, counting and checking the job's
/// exceptions.
pub async fn absorb(
    decoded: ParserOutput,
    ctx: &mut FileContext<'_>,
    sink: &mut Sink<'_>,
    report: &mut FileReport,
) -> Result<(), FileFailure> {
    // A parser's warnings (a value nulled, a header name made up) leave the row in.
    let parse_skipped = decoded
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Error)
        .count() as u64;
    report.metrics.num_rows_processed += parse_skipped;
    report.metrics.num_rows_skipped_by_error += parse_skipped;
    // Rows kept with a value nulled by the parser count as with warning, once per row.
    let nulled: HashSet<u64> = decoded
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Warning && d.row > 0)
        .map(|d| d.row)
        .collect();
    report.metrics.num_rows_processed_with_warning += nulled.len() as u64;
    report.diagnostics.extend(decoded.diagnostics);
    for batch in &decoded.batches {
        let mapped = ctx.mapping.apply(batch, ctx.schema.as_ref()).map_err(|e| {
            FileFailure::File(ErrorInfo {
                code: "mapping_failed".into(),
                message: e.to_string(),
                row: batch.rows.first().copied(),
            })
        })?;
        let m = &mut report.metrics;
        m.num_rows_processed += mapped.rows_in;
        m.num_rows_processed_with_warning += mapped.rows_with_warning;
        m.num_rows_skipped_by_filter += mapped.skipped_by_filter;
        m.num_rows_skipped_by_error += mapped.skipped_by_error;
        m.num_rows_persisted += mapped.batch.num_rows() as u64;
        report.diagnostics.extend(mapped.diagnostics);
        if mapped.batch.num_rows() > 0 {
            let batch = storable(mapped.batch, report)?;
            widen_schema(ctx.schema, &batch.schema());
            write(sink, batch).await?;
        }
    }
    let total = ctx.exceptions_before + report.metrics.num_rows_skipped_by_error;
    if let Some(max) = ctx.max_exceptions
        && total > max
    {
        let first = report
            .diagnostics
            .iter()
            .find(|d| d.severity == crate::diagnostic::Severity::Error);
        return Err(FileFailure::TooManyExceptions(ErrorInfo {
            code: "max_parse_exceptions".into(),
            message: format!(
                "{total} rows were skipped by error, more than max_parse_exceptions = {max}{}",
                first.map(|d| format!("; first: {d}")).unwrap_or_default()
            ),
            row: first.map(|d| d.row),
        }));
    }
    Ok(())
}

/// The batch with every column name a table reader would refuse (a NUL byte, `;`, a space…)
/// replaced by one it accepts, each renaming reported once per object as a warning on row 0
/// (the header). Names made equal by the renaming get `_2`, `_3`….
fn storable(batch: RecordBatch, report: &mut FileReport) -> Result<RecordBatch, FileFailure> {
    let batch = storable_types(batch)?;
    Ok(storable_names(batch, report))
}

/// Columns cast to the types Delta stores (see [`crate::table::storable_type`]).
fn storable_types(batch: RecordBatch) -> Result<RecordBatch, FileFailure> {
    let schema = batch.schema();
    if schema
        .fields()
        .iter()
        .all(|f| crate::table::storable_type(f.data_type()).is_none())
    {
        return Ok(batch);
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        match crate::table::storable_type(field.data_type()) {
            None => {
                fields.push(field.clone());
                columns.push(column.clone());
            }
            Some(ty) => {
                let cast = arrow::compute::cast(column, &ty).map_err(|e| {
                    FileFailure::File(ErrorInfo {
                        code: "unstorable_type".into(),
                        message: format!(
                            "column `{}` ({}) cannot be stored as {ty}: {e}",
                            field.name(),
                            field.data_type()
                        ),
                        row: None,
                    })
                })?;
                fields.push(std::sync::Arc::new(
                    field.as_ref().clone().with_data_type(ty),
                ));
                columns.push(cast);
            }
        }
    }
    let schema = arrow::datatypes::Schema::new_with_metadata(fields, schema.metadata().clone());
    RecordBatch::try_new(std::sync::Arc::new(schema), columns).map_err(|e| {
        FileFailure::File(ErrorInfo {
            code: "unstorable_type".into(),
            message: e.to_string(),
            row: None,
        })
    })
}

fn storable_names(batch: RecordBatch, report: &mut FileReport) -> RecordBatch {
    let schema = batch.schema();
    if schema
        .fields()
        .iter()
        .all(|f| crate::table::storable_column_name(f.name()).is_none())
    {
        return batch;
    }
    let mut taken: HashSet<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let fields: Vec<arrow::datatypes::FieldRef> = schema
        .fields()
        .iter()
        .map(|f| {
            let Some(base) = crate::table::storable_column_name(f.name()) else {
                return f.clone();
            };
            let mut name = base.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            taken.insert(name.clone());
            if report.renamed.insert(f.name().clone()) {
                report.diagnostics.push(RowDiagnostic {
                    row: 0,
                    line: None,
                    // As for a made-up header name: the column as it is stored.
                    column: Some(name.clone()),
                    code: "renamed_column".into(),
                    message: format!(
                        "column {:?} is stored as `{name}`: table readers refuse its name",
                        f.name()
                    ),
                    severity: crate::diagnostic::Severity::Warning,
                });
            }
            std::sync::Arc::new(f.as_ref().clone().with_name(name))
        })
        .collect();
    let renamed = std::sync::Arc::new(arrow::datatypes::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ));
    RecordBatch::try_new(renamed, batch.columns().to_vec()).expect("same columns, renamed")
}

/// The job's schema grows with columns that later objects add (nullable, at the end).
///
/// Names are looked up in a set, not with `field_with_name` (a scan): with tens of thousands
/// of columns, a scan per column is what made wide files slow.
fn widen_schema(schema: &mut Option<SchemaRef>, batch: &SchemaRef) {
    match schema {
        None => *schema = Some(batch.clone()),
        Some(current) if current == batch => {}
        Some(current) => {
            let known: HashSet<&str> = current.fields().iter().map(|f| f.name().as_str()).collect();
            let new: Vec<_> = batch
                .fields()
                .iter()
                .filter(|f| !known.contains(f.name().as_str()))
                .cloned()
                .collect();
            if !new.is_empty() {
                let fields: Vec<_> = current.fields().iter().cloned().chain(new).collect();
                *schema = Some(std::sync::Arc::new(arrow::datatypes::Schema::new(fields)));
            }
        }
    }
}

async fn write(sink: &mut Sink<'_>, batch: RecordBatch) -> Result<(), FileFailure> {
    match sink {
        Sink::Preview { batches, limit } => {
            let have: usize = batches.iter().map(RecordBatch::num_rows).sum();
            if have < *limit {
                batches.push(batch.slice(0, batch.num_rows().min(*limit - have)));
            }
            Ok(())
        }
        Sink::Whole { held, limit } => {
            held.bytes += batch.get_array_memory_size();
            if held.bytes > *limit {
                return Err(FileFailure::File(ErrorInfo {
                    code: "object_too_large".into(),
                    message: format!(
                        "the object's rows pass {} in memory, the most one merge holds: \
                         split the object into smaller ones",
                        crate::units::ByteSize(*limit as u64)
                    ),
                    row: None,
                }));
            }
            held.batches.push(batch);
            Ok(())
        }
        Sink::Table { held, writer, open } => {
            if writer.is_none() {
                let size = batch.get_array_memory_size();
                if held.bytes + size <= HOLD_BYTES {
                    held.bytes += size;
                    held.batches.push(batch);
                    return Ok(());
                }
                // Too big to hold: from here on the object streams into its own files.
                let first = held.batches.first().map_or(batch.schema(), |b| b.schema());
                let mut w = PipelinedWriter::start(open(first).map_err(FileFailure::Table)?);
                for earlier in std::mem::take(&mut held.batches) {
                    w.write(earlier).await.map_err(FileFailure::Table)?;
                }
                held.bytes = 0;
                *writer = Some(w);
            }
            let w = writer.as_mut().expect("writer opened above");
            w.write(batch).await.map_err(FileFailure::Table)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema(names: impl IntoIterator<Item = String>) -> SchemaRef {
        let fields: Vec<Field> = names
            .into_iter()
            .map(|n| Field::new(n, DataType::Int64, true))
            .collect();
        Arc::new(Schema::new(fields))
    }

    #[test]
    fn the_job_schema_widens_with_new_columns_at_the_end() {
        let mut job = None;
        let first = schema((0..5_000).map(|i| format!("c{i}")));
        widen_schema(&mut job, &first);
        assert_eq!(job.as_ref(), Some(&first));
        // A later object repeats most columns in another order and brings two new ones.
        let later = schema(
            ["n1".to_owned()]
                .into_iter()
                .chain((0..5_000).rev().map(|i| format!("c{i}")))
                .chain(["n2".to_owned()]),
        );
        widen_schema(&mut job, &later);
        let job = job.unwrap();
        let names: Vec<&str> = job.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names.len(), 5_002);
        assert_eq!(names[..2], ["c0", "c1"]);
        assert_eq!(names[4_999..], ["c4999", "n1", "n2"]);
    }
}
