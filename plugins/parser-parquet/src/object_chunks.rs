//! The object as parquet-rs reads a file: ranges by offset ([`ChunkReader`]), not a cursor.
//!
//! Column chunk pages are asked for whole (`get_bytes`), each in one host call (a few if
//! larger than the WIT allows per call); the small thrift headers before them are read through
//! an [`ObjectFile`] (`get_read`) with a short read-ahead, so a header costs one call without
//! copying a megabyte of the pages that follow it, which `get_bytes` asks for next anyway.

use std::io::{Seek, SeekFrom};

use bytes::Bytes;
use ferry_guest::object::{MAX_READ, Object, ObjectError, ObjectFile};
use parquet::errors::{ParquetError, Result};
use parquet::file::reader::{ChunkReader, Length};

/// What a page header's reader fetches at a time: headers are tens of bytes, with statistics
/// a few hundred.
const HEADER_READ_AHEAD: u64 = 16 << 10;

/// An [`Object`] of known size, as parquet-rs's [`ChunkReader`].
#[derive(Debug, Clone)]
pub struct ObjectChunks<O> {
    object: O,
    size: u64,
}

impl<O: Object> ObjectChunks<O> {
    pub fn new(object: O) -> Self {
        let size = object.size();
        ObjectChunks { object, size }
    }
}

impl<O> Length for ObjectChunks<O> {
    fn len(&self) -> u64 {
        self.size
    }
}

impl<O: Object + Clone + Send + Sync> ChunkReader for ObjectChunks<O> {
    type T = ObjectFile<O>;

    fn get_read(&self, start: u64) -> Result<ObjectFile<O>> {
        if start > self.size {
            return Err(past_the_end(start, 0, self.size));
        }
        let mut file = ObjectFile::new(self.object.clone()).with_read_ahead(HEADER_READ_AHEAD);
        file.seek(SeekFrom::Start(start))?;
        Ok(file)
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes> {
        let end = start.saturating_add(length as u64);
        if end > self.size {
            return Err(past_the_end(start, length, self.size));
        }
        let mut bytes = Vec::with_capacity(length);
        while (bytes.len() as u64) < length as u64 {
            let offset = start + bytes.len() as u64;
            let want = (end - offset).min(MAX_READ);
            let chunk = self
                .object
                .read(offset, want)
                .map_err(|e| ParquetError::External(Box::new(ObjectError(e))))?;
            if chunk.is_empty() {
                return Err(past_the_end(start, length, offset));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(bytes))
    }
}

/// What parquet-rs's own readers say for a range past the end: the file is shorter than its
/// footer says.
fn past_the_end(start: u64, length: usize, size: u64) -> ParquetError {
    ParquetError::EOF(format!(
        "{length} bytes at offset {start} were to be read, but the object ends at {size}"
    ))
}
