//! An Avro object container file read in order, block by block, into batches of at most
//! `batch_size` records: apache-avro decodes one block at a time (checking the sync marker
//! that ends it before handing out its records), [`crate::arrays`] builds each batch's columns.
//!
//! Memory stays bounded by a block and a batch. When a block fails, the records gathered
//! before it are still returned, and the failure comes with the next call, naming the first
//! record that was not decoded.

use std::io::Read;
use std::sync::Arc;

use apache_avro::Reader;
use apache_avro::types::Value;
use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema as ArrowSchema, SchemaRef};
use ferry_guest::arrow_batch;
use ferry_guest::types::{Batch, Error};

use crate::arrays::{self, present};
use crate::failure;
use crate::shape::{self, Projected};

pub struct Records<R: Read> {
    reader: Reader<'static, R>,
    columns: Vec<Projected>,
    schema: SchemaRef,
    /// The object's key, for messages.
    key: String,
    batch_size: usize,
    /// The 1-based index of the next record.
    next_row: u64,
    /// Where the reading stopped, once it has: returned after the records before it.
    stopped: Option<Error>,
}

impl<R: Read> Records<R> {
    /// Reads the header (schema, codec, sync marker) and maps the top-level fields named in
    /// `columns` (all when `None`; names the file lacks are left for the mapping to report).
    pub fn open(
        source: R,
        key: &str,
        columns: Option<&[String]>,
        batch_size: usize,
    ) -> Result<Self, Error> {
        let reader = Reader::new(source).map_err(|e| failure::header(e, key))?;
        let columns = shape::project(reader.writer_schema(), columns)
            .map_err(|refusal| failure::refused(&refusal, key))?;
        let fields: Vec<_> = columns.iter().map(|p| p.column.field()).collect();
        Ok(Records {
            reader,
            columns,
            schema: Arc::new(ArrowSchema::new(fields)),
            key: key.to_owned(),
            batch_size,
            next_row: 1,
            stopped: None,
        })
    }

    /// The next batch, `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, Error> {
        if let Some(error) = self.stopped.take() {
            return Err(error);
        }
        let mut records = Vec::with_capacity(self.batch_size.min(1024));
        while records.len() < self.batch_size {
            match self.reader.next() {
                Some(Ok(record)) => records.push(record),
                Some(Err(e)) => {
                    let row = self.next_row + records.len() as u64;
                    self.stopped = Some(failure::block(e, &self.key, row));
                    break;
                }
                None => break,
            }
        }
        if records.is_empty() {
            return self.stopped.take().map_or(Ok(None), Err);
        }
        let first = self.next_row;
        self.next_row += records.len() as u64;
        self.batch(&records, first).map(Some)
    }

    fn batch(&self, records: &[Value], first: u64) -> Result<Batch, Error> {
        let arrays = self
            .columns
            .iter()
            .map(|p| {
                let values: Vec<Option<&Value>> = records
                    .iter()
                    .map(|r| match r {
                        Value::Record(fields) => fields.get(p.position).and_then(|f| present(&f.1)),
                        _ => None,
                    })
                    .collect();
                arrays::array(&p.column, &values)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| failure::mismatch(&m, &self.key, first + m.index as u64))?;
        let options = RecordBatchOptions::new().with_row_count(Some(records.len()));
        let record = RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| failure::arrow(e, &self.key, first))?;
        arrow_batch::numbered(&record, first).map_err(|e| Error {
            message: format!("{}: {}", self.key, e.message),
            row: Some(first),
            ..e
        })
    }
}

#[cfg(test)]
mod tests;
