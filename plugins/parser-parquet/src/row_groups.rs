//! A Parquet file read one row group at a time, each into batches of at most `batch_size`
//! rows. Only the footer and the pages of the row group being decoded are ever read, so memory
//! stays bounded by a row group's projected pages and one batch, never the file.
//!
//! Generic over parquet's [`ChunkReader`]: the component reads the `object` import through
//! [`crate::object_chunks`], the tests read bytes in memory through the same adapter.

use arrow_array::RecordBatch;
use ferry_guest::arrow_batch;
use ferry_guest::types::{Batch, Error};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::file::reader::ChunkReader;

use crate::failure::Failure;

/// `PAR1`, at both ends of every Parquet file.
const MAGIC: &[u8; 4] = b"PAR1";

/// The last 8 bytes: the footer's length (4 bytes, little-endian) and the magic.
const TAIL: u64 = 8;

pub struct RowGroups<R> {
    source: R,
    /// The object's key, for messages.
    key: String,
    metadata: ArrowReaderMetadata,
    projection: ProjectionMask,
    batch_size: usize,
    /// Row groups before this one are done.
    next_group: usize,
    /// The 1-based number of the first row of `next_group`.
    next_group_row: u64,
    current: Option<Group>,
}

/// The row group being decoded.
struct Group {
    index: usize,
    /// Its first row, 1-based across the file.
    first_row: u64,
    /// The next row it will hand out.
    next_row: u64,
    reader: ParquetRecordBatchReader,
}

impl<R: ChunkReader + Clone + 'static> RowGroups<R> {
    /// Reads the footer of `source`, projecting the root columns named in `columns` (all when
    /// `None`; names the file lacks are left for the mapping to report).
    pub fn open(
        source: R,
        key: &str,
        columns: Option<&[String]>,
        batch_size: usize,
    ) -> Result<Self, Error> {
        check_magic(&source).map_err(|f| f.error(key, None))?;
        let metadata = ArrowReaderMetadata::load(&source, ArrowReaderOptions::new())
            .map_err(|e| Failure::from(e).in_footer().error(key, None))?;
        let schema = metadata.metadata().file_metadata().schema_descr_ptr();
        let projection = match columns {
            None => ProjectionMask::all(),
            Some(names) => {
                let roots = schema.root_schema().get_fields();
                let wanted = roots
                    .iter()
                    .enumerate()
                    .filter(|(_, field)| names.iter().any(|n| n == field.name()))
                    .map(|(i, _)| i);
                ProjectionMask::roots(&schema, wanted)
            }
        };
        Ok(RowGroups {
            source,
            key: key.to_owned(),
            metadata,
            projection,
            batch_size,
            next_group: 0,
            next_group_row: 1,
            current: None,
        })
    }

    /// The next batch, `None` when every row group is done.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, Error> {
        loop {
            if self.current.is_none() && !self.start_group()? {
                return Ok(None);
            }
            let group = self.current.as_mut().expect("a row group is open");
            match group.reader.next() {
                Some(Ok(record)) => return self.convert(record).map(Some),
                Some(Err(e)) => {
                    let (index, first_row) = (group.index, group.first_row);
                    return Err(Failure::from(e)
                        .in_row_group(index)
                        .error(&self.key, Some(first_row)));
                }
                None => self.current = None,
            }
        }
    }

    /// Opens the next row group's reader; `false` when there is none.
    fn start_group(&mut self) -> Result<bool, Error> {
        let groups = self.metadata.metadata().row_groups();
        let Some(group) = groups.get(self.next_group) else {
            return Ok(false);
        };
        let index = self.next_group;
        let first_row = self.next_group_row;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.source.clone(),
            self.metadata.clone(),
        )
        .with_row_groups(vec![index])
        .with_projection(self.projection.clone())
        .with_batch_size(self.batch_size)
        .build()
        .map_err(|e| {
            Failure::from(e)
                .in_row_group(index)
                .error(&self.key, Some(first_row))
        })?;
        self.next_group += 1;
        self.next_group_row += u64::try_from(group.num_rows()).unwrap_or(0);
        self.current = Some(Group {
            index,
            first_row,
            next_row: first_row,
            reader,
        });
        Ok(true)
    }

    fn convert(&mut self, record: RecordBatch) -> Result<Batch, Error> {
        let group = self.current.as_mut().expect("a row group is open");
        let first = group.next_row;
        group.next_row += record.num_rows() as u64;
        arrow_batch::numbered(&record, first).map_err(|mut e| {
            e.message = format!("{}: {}", self.key, e.message);
            e.row = Some(first);
            e
        })
    }
}

/// Tells a file that is not Parquet from one cut short, before the footer is parsed (which
/// would call both a corrupt footer).
fn check_magic(source: &impl ChunkReader) -> Result<(), Failure> {
    let len = source.len();
    let head = source.get_bytes(0, MAGIC.len().min(len as usize))?;
    if head.as_ref() != MAGIC {
        return Err(Failure::not_parquet(
            "it does not start with the Parquet magic `PAR1`",
        ));
    }
    if len < MAGIC.len() as u64 + TAIL {
        return Err(Failure::truncated(format!("it is only {len} bytes long")));
    }
    let tail = source.get_bytes(len - TAIL, TAIL as usize)?;
    if &tail[4..] != MAGIC {
        return Err(Failure::truncated(
            "it starts like a Parquet file but does not end with its footer's magic `PAR1`",
        ));
    }
    let footer = u64::from(u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")));
    if footer + TAIL + MAGIC.len() as u64 > len {
        return Err(Failure::truncated(format!(
            "its footer claims {footer} bytes, more than the file holds ({len} bytes)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
