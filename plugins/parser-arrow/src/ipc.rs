//! Arrow IPC, file or stream, read one record batch at a time through [`ObjectFile`].
//!
//! The two formats are told apart by their first bytes: a file starts with the magic `ARROW1`
//! and ends with a footer that says where each batch is, so its batches are read in turn by
//! seeking; a stream is a run of messages read in order. Either way only one record batch (and
//! the dictionaries it uses) is decoded at a time, and it is split into WIT batches of at most
//! `batch_size` rows.

use std::io::{Read, Seek, SeekFrom};

use arrow_array::RecordBatch;
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::{ArrowError, SchemaRef};
use ferry_guest::arrow_batch;
use ferry_guest::object::{Object, ObjectFile};
use ferry_guest::types::{Batch, Error};

use crate::failure::{self, Place};

/// The first six bytes of an Arrow IPC file (and its last six); a stream has none.
const FILE_MAGIC: &[u8; 6] = b"ARROW1";

/// What starts every message of a stream (since Arrow 0.15, 2019; older streams, without it,
/// are not read).
const CONTINUATION: [u8; 4] = [0xff; 4];

/// Why an object did not open.
enum Opening {
    /// Neither magic: not Arrow IPC at all.
    NotArrow,
    /// A file's magic at the start but not at the end.
    Truncated,
    Arrow(ArrowError),
}

impl From<ArrowError> for Opening {
    fn from(e: ArrowError) -> Self {
        Opening::Arrow(e)
    }
}

/// Which of the two formats, with its reader.
enum Reader<O: Object> {
    File(FileReader<ObjectFile<O>>),
    Stream(StreamReader<ObjectFile<O>>),
}

impl<O: Object> Reader<O> {
    /// The reader the object's first bytes call for, or why it is neither format.
    fn open(object: O, projection: Option<Vec<usize>>) -> Result<Self, Opening> {
        let mut file = ObjectFile::new(object);
        let mut head = [0u8; 6];
        let head = match file.read(&mut head) {
            Ok(n) => &head[..n],
            Err(e) => return Err(Opening::Arrow(e.into())),
        };
        let size = file.size();
        let is_file = head == FILE_MAGIC;
        if !is_file && !head.starts_with(&CONTINUATION) {
            return Err(Opening::NotArrow);
        }
        if is_file {
            let mut tail = [0u8; 6];
            file.seek(SeekFrom::End(-6))
                .map_err(|e| Opening::Arrow(e.into()))?;
            let whole = size >= 12 && file.read_exact(&mut tail).is_ok() && &tail == FILE_MAGIC;
            if !whole {
                return Err(Opening::Truncated);
            }
        }
        file.rewind().map_err(|e| Opening::Arrow(e.into()))?;
        let reader = if is_file {
            Reader::File(FileReader::try_new(file, projection)?)
        } else {
            Reader::Stream(StreamReader::try_new(file, projection)?)
        };
        Ok(reader)
    }

    fn schema(&self) -> SchemaRef {
        match self {
            Reader::File(r) => r.schema(),
            Reader::Stream(r) => r.schema(),
        }
    }

    fn next(&mut self) -> Option<Result<RecordBatch, ArrowError>> {
        match self {
            Reader::File(r) => r.next(),
            Reader::Stream(r) => r.next(),
        }
    }

    fn format(&self) -> &'static str {
        match self {
            Reader::File(_) => "Arrow IPC file",
            Reader::Stream(_) => "Arrow IPC stream",
        }
    }
}

pub struct IpcBatches<O: Object> {
    reader: Reader<O>,
    /// The object's key, for messages.
    key: String,
    batch_size: usize,
    /// The index of the next record batch in the object.
    next_batch: usize,
    /// The 1-based number of its first row.
    next_row: u64,
}

impl<O: Object + Clone> IpcBatches<O> {
    /// Reads the schema (and a file's footer), projecting the top-level columns named in
    /// `columns` (all when `None`; names the object lacks are left for the mapping to report).
    pub fn open(
        object: O,
        key: &str,
        columns: Option<&[String]>,
        batch_size: usize,
    ) -> Result<Self, Error> {
        let opened = |projection| {
            Reader::open(object.clone(), projection).map_err(|opening| match opening {
                Opening::NotArrow => failure::not_arrow(key),
                Opening::Truncated => failure::truncated_file(key),
                Opening::Arrow(e) => failure::error(e, key, Place::Schema),
            })
        };
        let mut reader = opened(None)?;
        if let Some(names) = columns {
            // The schema is only known once opened, so a projection takes a second opening
            // (of a schema message or a footer: a few bytes).
            let schema = reader.schema();
            let wanted = schema
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, field)| names.iter().any(|n| n == field.name()))
                .map(|(i, _)| i)
                .collect();
            reader = opened(Some(wanted))?;
        }
        Ok(IpcBatches {
            reader,
            key: key.to_owned(),
            batch_size,
            next_batch: 0,
            next_row: 1,
        })
    }

    /// The next record batch as WIT batches of at most `batch_size` rows; `None` at the end.
    pub fn next_batches(&mut self) -> Result<Option<Vec<Batch>>, Error> {
        let place = Place::Batch {
            index: self.next_batch,
            first_row: self.next_row,
            format: self.reader.format(),
        };
        let record = match self.reader.next() {
            None => return Ok(None),
            Some(Ok(record)) => record,
            Some(Err(e)) => return Err(failure::error(e, &self.key, place)),
        };
        let mut batches = Vec::with_capacity(record.num_rows().div_ceil(self.batch_size));
        let mut offset = 0;
        while offset < record.num_rows() {
            let len = self.batch_size.min(record.num_rows() - offset);
            let first = self.next_row + offset as u64;
            let batch =
                arrow_batch::numbered(&record.slice(offset, len), first).map_err(|e| Error {
                    message: format!("{}: {}", self.key, e.message),
                    row: Some(first),
                    ..e
                })?;
            batches.push(batch);
            offset += len;
        }
        self.next_batch += 1;
        self.next_row += record.num_rows() as u64;
        Ok(Some(batches))
    }
}

#[cfg(test)]
mod tests;
