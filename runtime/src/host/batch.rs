//! Columnar batches from plugins into Arrow arrays. Value buffers move without copying; every
//! length, offset and UTF-8 sequence is checked, because a plugin is not trusted to be right.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, RecordBatchOptions, StringArray,
    TimestampMicrosecondArray,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{Field, Schema};

use super::bindings::wit::{Batch, Column, ColumnValues, Utf8Buffer};

pub use crate::rows::RowBatch;

pub(crate) fn to_record_batch(batch: Batch) -> Result<RowBatch, String> {
    let n = batch.num_rows as usize;
    if batch.row_numbers.len() != n {
        return Err(format!(
            "batch of {n} rows carries {} row numbers",
            batch.row_numbers.len()
        ));
    }
    let mut fields: Vec<Field> = Vec::with_capacity(batch.columns.len());
    let mut arrays = Vec::with_capacity(batch.columns.len());
    // A set, not a scan of the fields so far: batches may have tens of thousands of columns.
    let mut names: HashSet<String> = HashSet::with_capacity(batch.columns.len());
    for column in batch.columns {
        if !names.insert(column.name.clone()) {
            return Err(format!("column `{}` appears twice", column.name));
        }
        let name = column.name.clone();
        let array = to_array(column, n).map_err(|e| format!("column `{name}`: {e}"))?;
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(n));
    let record = RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
        .map_err(|e| e.to_string())?;
    Ok(RowBatch {
        rows: batch.row_numbers,
        batch: record,
    })
}

fn to_array(column: Column, n: usize) -> Result<ArrayRef, String> {
    let nulls = match column.validity {
        None => None,
        Some(bits) => {
            if bits.len() < n.div_ceil(8) {
                return Err(format!(
                    "validity bitmap has {} bytes for {n} rows",
                    bits.len()
                ));
            }
            Some(NullBuffer::new(arrow::buffer::BooleanBuffer::new(
                Buffer::from_vec(bits),
                0,
                n,
            )))
        }
    };
    let check_len = |len: usize| {
        if len == n {
            Ok(())
        } else {
            Err(format!("{len} values for {n} rows"))
        }
    };
    let array: ArrayRef = match column.values {
        ColumnValues::Boolean(values) => {
            check_len(values.len())?;
            Arc::new(BooleanArray::new(values.into_iter().collect(), nulls))
        }
        ColumnValues::Int64(values) => {
            check_len(values.len())?;
            Arc::new(Int64Array::new(ScalarBuffer::from(values), nulls))
        }
        ColumnValues::Float64(values) => {
            check_len(values.len())?;
            Arc::new(Float64Array::new(ScalarBuffer::from(values), nulls))
        }
        ColumnValues::TimestampMicros(values) => {
            check_len(values.len())?;
            Arc::new(
                TimestampMicrosecondArray::new(ScalarBuffer::from(values), nulls)
                    .with_timezone("UTC"),
            )
        }
        ColumnValues::Utf8(buffer) => Arc::new(to_string_array(buffer, n, nulls)?),
    };
    Ok(array)
}

fn to_string_array(
    buffer: Utf8Buffer,
    n: usize,
    nulls: Option<NullBuffer>,
) -> Result<StringArray, String> {
    let Utf8Buffer { offsets, bytes } = buffer;
    if offsets.len() != n + 1 {
        return Err(format!(
            "{} offsets for {n} rows (expected {})",
            offsets.len(),
            n + 1
        ));
    }
    if offsets.windows(2).any(|w| w[0] > w[1]) {
        return Err("string offsets are not increasing".into());
    }
    let last = *offsets.last().expect("n + 1 >= 1 offsets") as usize;
    if last > bytes.len() || last > i32::MAX as usize {
        return Err(format!(
            "string offsets reach {last} but there are {} bytes",
            bytes.len()
        ));
    }
    // Same bits as i32: every offset was checked to be <= i32::MAX above (they increase).
    let offsets: ScalarBuffer<i32> = ScalarBuffer::new(Buffer::from_vec(offsets), 0, n + 1);
    StringArray::try_new(OffsetBuffer::new(offsets), Buffer::from_vec(bytes), nulls)
        .map_err(|e| e.to_string())
}

/// An Arrow batch as the WIT batch a plugin reads (for predictors). Types a plugin batch can
/// hold pass as they are; others are refused, naming the column.
pub(crate) fn from_record_batch(batch: &RecordBatch, rows: &[u64]) -> Result<Batch, String> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
    let n = batch.num_rows();
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let validity = array.nulls().map(|nulls| {
            let mut bits = vec![0u8; n.div_ceil(8)];
            for i in 0..n {
                if nulls.is_valid(i) {
                    bits[i / 8] |= 1 << (i % 8);
                }
            }
            bits
        });
        let values = match array.data_type() {
            DataType::Boolean => {
                ColumnValues::Boolean((0..n).map(|i| array.as_boolean().value(i)).collect())
            }
            DataType::Int64 => {
                ColumnValues::Int64(array.as_primitive::<Int64Type>().values().to_vec())
            }
            DataType::Float64 => {
                ColumnValues::Float64(array.as_primitive::<Float64Type>().values().to_vec())
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => ColumnValues::TimestampMicros(
                array
                    .as_primitive::<TimestampMicrosecondType>()
                    .values()
                    .to_vec(),
            ),
            DataType::Utf8 => {
                let strings = array.as_string::<i32>();
                let base = strings.value_offsets()[0];
                ColumnValues::Utf8(Utf8Buffer {
                    offsets: strings
                        .value_offsets()
                        .iter()
                        .map(|o| (o - base) as u32)
                        .collect(),
                    bytes: strings.value_data()[base as usize..strings.value_offsets()[n] as usize]
                        .to_vec(),
                })
            }
            other => {
                return Err(format!(
                    "column `{}` is {other}, which plugins cannot receive",
                    field.name()
                ));
            }
        };
        columns.push(Column {
            name: field.name().clone(),
            validity,
            values,
        });
    }
    Ok(Batch {
        num_rows: n as u32,
        row_numbers: if rows.len() == n {
            rows.to_vec()
        } else {
            (1..=n as u64).collect()
        },
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;

    fn utf8(values: &[&str]) -> ColumnValues {
        let mut offsets = vec![0u32];
        let mut bytes = Vec::new();
        for v in values {
            bytes.extend_from_slice(v.as_bytes());
            offsets.push(bytes.len() as u32);
        }
        ColumnValues::Utf8(Utf8Buffer { offsets, bytes })
    }

    #[test]
    fn converts_typed_columns_with_validity() {
        let batch = Batch {
            num_rows: 3,
            row_numbers: vec![1, 2, 4],
            columns: vec![
                Column {
                    name: "id".into(),
                    validity: None,
                    values: utf8(&["a", "bé", ""]),
                },
                Column {
                    name: "score".into(),
                    validity: Some(vec![0b101]),
                    values: ColumnValues::Float64(vec![0.5, 0.0, 1.5]),
                },
            ],
        };
        let out = to_record_batch(batch).unwrap();
        assert_eq!(out.rows, vec![1, 2, 4]);
        let ids = out
            .batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(ids.value(1), "bé");
        let scores = out
            .batch
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert!(scores.is_null(1));
        assert_eq!(scores.value(2), 1.5);
    }

    #[test]
    fn a_repeated_column_name_is_refused() {
        let column = |name: &str| Column {
            name: name.into(),
            validity: None,
            values: ColumnValues::Int64(vec![1]),
        };
        let mut columns: Vec<Column> = (0..1000).map(|i| column(&format!("c{i}"))).collect();
        assert!(
            to_record_batch(Batch {
                num_rows: 1,
                row_numbers: vec![1],
                columns: columns.clone(),
            })
            .is_ok()
        );
        columns.push(column("c500"));
        let err = to_record_batch(Batch {
            num_rows: 1,
            row_numbers: vec![1],
            columns,
        })
        .unwrap_err();
        assert_eq!(err, "column `c500` appears twice");
    }

    #[test]
    fn rejects_lying_buffers() {
        let bad_offsets = Batch {
            num_rows: 1,
            row_numbers: vec![1],
            columns: vec![Column {
                name: "s".into(),
                validity: None,
                values: ColumnValues::Utf8(Utf8Buffer {
                    offsets: vec![0, 10],
                    bytes: b"abc".to_vec(),
                }),
            }],
        };
        assert!(
            to_record_batch(bad_offsets)
                .unwrap_err()
                .contains("offsets reach 10")
        );
        let bad_utf8 = Batch {
            num_rows: 1,
            row_numbers: vec![1],
            columns: vec![Column {
                name: "s".into(),
                validity: None,
                values: ColumnValues::Utf8(Utf8Buffer {
                    offsets: vec![0, 2],
                    bytes: vec![0xff, 0xfe],
                }),
            }],
        };
        assert!(to_record_batch(bad_utf8).is_err());
        let short = Batch {
            num_rows: 2,
            row_numbers: vec![1, 2],
            columns: vec![Column {
                name: "n".into(),
                validity: None,
                values: ColumnValues::Int64(vec![1]),
            }],
        };
        assert!(
            to_record_batch(short)
                .unwrap_err()
                .contains("1 values for 2 rows")
        );
    }
}
