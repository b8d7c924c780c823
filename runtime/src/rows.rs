//! A batch of decoded rows that still knows where each row came from: what a parser plugin
//! hands the host (through [`crate::host`]) and the mapping turns into table rows, so that every
//! diagnostic can name the source row.

use arrow::array::RecordBatch;

/// A batch with the source row number of each of its rows.
#[derive(Debug, Clone)]
pub struct RowBatch {
    /// 1-based row numbers in the source object, one per row of `batch`.
    pub rows: Vec<u64>,
    pub batch: RecordBatch,
}
