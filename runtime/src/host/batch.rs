//! Columnar batches between plugins and Arrow arrays, in both directions. Value buffers move
//! without copying where Arrow allows; every length, offset and UTF-8 sequence is checked,
//! because a plugin is not trusted to be right.
//!
//! A WIT batch lists its columns depth-first: a `list`, `fixed-size-list` or `struct` column
//! is followed by its children. Reading walks that list once, taking each column's children
//! as it goes.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, Decimal128Array,
    FixedSizeListArray, Float32Array, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch,
    RecordBatchOptions, StringArray, StructArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray,
};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit as ArrowUnit};

use super::bindings::wit::{
    Batch, ByteBuffer, Column, ColumnValues, DecimalValues, TimeUnit, TimestampValues,
};

pub use crate::rows::RowBatch;

/// Nesting deeper than this is refused: no real schema needs it, and a plugin must not be
/// able to exhaust the host's stack.
const MAX_DEPTH: usize = 32;

/// A batch a plugin produced (or a host batch a plugin cannot receive), and why.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BatchError {
    #[error("batch of {rows} rows carries {numbers} row numbers")]
    RowNumbers { rows: usize, numbers: usize },
    #[error("column `{0}` appears twice")]
    Repeated(String),
    #[error("column `{column}`: {problem}")]
    Column { column: String, problem: String },
    #[error("column `{column}` is {data_type}, which plugins cannot receive")]
    Unsupported { column: String, data_type: String },
    #[error("{0}")]
    Arrow(String),
}

fn problem(column: &str, problem: impl Into<String>) -> BatchError {
    BatchError::Column {
        column: column.to_owned(),
        problem: problem.into(),
    }
}

pub(crate) fn to_record_batch(batch: Batch) -> Result<RowBatch, BatchError> {
    let n = batch.num_rows as usize;
    if batch.row_numbers.len() != n {
        return Err(BatchError::RowNumbers {
            rows: n,
            numbers: batch.row_numbers.len(),
        });
    }
    let mut columns = batch.columns.into_iter();
    let mut fields: Vec<Field> = Vec::new();
    let mut arrays = Vec::new();
    // A set, not a scan of the fields so far: batches may have tens of thousands of columns.
    let mut names: HashSet<String> = HashSet::new();
    while let Some(column) = columns.next() {
        if !names.insert(column.name.clone()) {
            return Err(BatchError::Repeated(column.name));
        }
        let (field, array) = read_column(column, n, &mut columns, 0)?;
        fields.push(field);
        arrays.push(array);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(n));
    let record = RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
        .map_err(|e| BatchError::Arrow(e.to_string()))?;
    Ok(RowBatch {
        rows: batch.row_numbers,
        batch: record,
    })
}

/// One column of `len` values and, for nested columns, the children that follow it in `rest`.
fn read_column(
    column: Column,
    len: usize,
    rest: &mut std::vec::IntoIter<Column>,
    depth: usize,
) -> Result<(Field, ArrayRef), BatchError> {
    let name = column.name;
    let fail = |p: String| problem(&name, p);
    if depth > MAX_DEPTH {
        return Err(fail(format!("nested more than {MAX_DEPTH} levels deep")));
    }
    let nulls = validity(column.validity, len).map_err(&fail)?;
    let check_len = |values: usize| {
        if values == len {
            Ok(())
        } else {
            Err(fail(format!("{values} values for {len} rows")))
        }
    };
    let mut child = |len: usize| -> Result<(Field, ArrayRef), BatchError> {
        let column = rest
            .next()
            .ok_or_else(|| problem(&name, "its child column is missing"))?;
        read_column(column, len, rest, depth + 1)
    };
    let array: ArrayRef = match column.values {
        ColumnValues::Boolean(values) => {
            check_len(values.len())?;
            Arc::new(BooleanArray::new(values.into_iter().collect(), nulls))
        }
        ColumnValues::Int32(values) => {
            check_len(values.len())?;
            Arc::new(Int32Array::new(ScalarBuffer::from(values), nulls))
        }
        ColumnValues::Int64(values) => {
            check_len(values.len())?;
            Arc::new(Int64Array::new(ScalarBuffer::from(values), nulls))
        }
        ColumnValues::Float32(values) => {
            check_len(values.len())?;
            Arc::new(Float32Array::new(ScalarBuffer::from(values), nulls))
        }
        ColumnValues::Float64(values) => {
            check_len(values.len())?;
            Arc::new(Float64Array::new(ScalarBuffer::from(values), nulls))
        }
        ColumnValues::Date32(values) => {
            check_len(values.len())?;
            Arc::new(Date32Array::new(ScalarBuffer::from(values), nulls))
        }
        ColumnValues::Timestamp(TimestampValues {
            unit,
            timezone,
            values,
        }) => {
            check_len(values.len())?;
            let values = ScalarBuffer::from(values);
            let zone = timezone.map(Arc::<str>::from);
            match unit {
                TimeUnit::Second => {
                    Arc::new(TimestampSecondArray::new(values, nulls).with_timezone_opt(zone))
                        as ArrayRef
                }
                TimeUnit::Millisecond => {
                    Arc::new(TimestampMillisecondArray::new(values, nulls).with_timezone_opt(zone))
                }
                TimeUnit::Microsecond => {
                    Arc::new(TimestampMicrosecondArray::new(values, nulls).with_timezone_opt(zone))
                }
                TimeUnit::Nanosecond => {
                    Arc::new(TimestampNanosecondArray::new(values, nulls).with_timezone_opt(zone))
                }
            }
        }
        ColumnValues::Decimal128(DecimalValues {
            precision,
            scale,
            values,
        }) => {
            if values.len() != len * 16 {
                return Err(fail(format!(
                    "{} decimal bytes for {len} rows (16 per value)",
                    values.len()
                )));
            }
            let values: Vec<i128> = values
                .chunks_exact(16)
                .map(|b| i128::from_le_bytes(b.try_into().expect("16 bytes")))
                .collect();
            let array = Decimal128Array::new(ScalarBuffer::from(values), nulls)
                .with_precision_and_scale(precision, scale)
                .map_err(|e| fail(e.to_string()))?;
            array
                .validate_decimal_precision(precision)
                .map_err(|e| fail(e.to_string()))?;
            Arc::new(array)
        }
        ColumnValues::Utf8(buffer) => {
            let (offsets, bytes) = offsets_and_bytes(buffer, len).map_err(&fail)?;
            Arc::new(StringArray::try_new(offsets, bytes, nulls).map_err(|e| fail(e.to_string()))?)
        }
        ColumnValues::Binary(buffer) => {
            let (offsets, bytes) = offsets_and_bytes(buffer, len).map_err(&fail)?;
            Arc::new(BinaryArray::try_new(offsets, bytes, nulls).map_err(|e| fail(e.to_string()))?)
        }
        ColumnValues::List(offsets) => {
            let offsets = checked_offsets(offsets, len, None).map_err(&fail)?;
            let items = *offsets.last().expect("n + 1 offsets") as usize;
            let (field, values) = child(items)?;
            Arc::new(
                ListArray::try_new(Arc::new(field), offsets, values, nulls)
                    .map_err(|e| fail(e.to_string()))?,
            )
        }
        ColumnValues::FixedSizeList(size) => {
            let items = len
                .checked_mul(size as usize)
                .filter(|_| size > 0 && size <= i32::MAX as u32)
                .ok_or_else(|| fail(format!("a list size of {size} is out of range")))?;
            let (field, values) = child(items)?;
            Arc::new(
                FixedSizeListArray::try_new(Arc::new(field), size as i32, values, nulls)
                    .map_err(|e| fail(e.to_string()))?,
            )
        }
        ColumnValues::Struct(count) => {
            let mut fields = Vec::new();
            let mut arrays = Vec::new();
            let mut names = HashSet::new();
            for _ in 0..count {
                let (field, array) = child(len)?;
                if !names.insert(field.name().clone()) {
                    return Err(fail(format!("field `{}` appears twice", field.name())));
                }
                fields.push(field);
                arrays.push(array);
            }
            if fields.is_empty() {
                return Err(fail("a struct needs at least one field".into()));
            }
            Arc::new(
                StructArray::try_new(Fields::from(fields), arrays, nulls)
                    .map_err(|e| fail(e.to_string()))?,
            )
        }
    };
    Ok((Field::new(name, array.data_type().clone(), true), array))
}

fn validity(bits: Option<Vec<u8>>, len: usize) -> Result<Option<NullBuffer>, String> {
    let Some(bits) = bits else {
        return Ok(None);
    };
    if bits.len() < len.div_ceil(8) {
        return Err(format!(
            "validity bitmap has {} bytes for {len} rows",
            bits.len()
        ));
    }
    Ok(Some(NullBuffer::new(BooleanBuffer::new(
        Buffer::from_vec(bits),
        0,
        len,
    ))))
}

/// `len + 1` increasing offsets, each at most `limit` (when the values' length is known).
fn checked_offsets(
    offsets: Vec<u32>,
    len: usize,
    limit: Option<usize>,
) -> Result<OffsetBuffer<i32>, String> {
    if offsets.len() != len + 1 {
        return Err(format!(
            "{} offsets for {len} rows (expected {})",
            offsets.len(),
            len + 1
        ));
    }
    if offsets.windows(2).any(|w| w[0] > w[1]) {
        return Err("offsets are not increasing".into());
    }
    let last = *offsets.last().expect("n + 1 >= 1 offsets") as usize;
    if last > i32::MAX as usize || limit.is_some_and(|limit| last > limit) {
        return Err(format!(
            "offsets reach {last} but there are {} bytes",
            limit.unwrap_or(i32::MAX as usize)
        ));
    }
    // Same bits as i32: every offset was checked to be <= i32::MAX above (they increase).
    let offsets: ScalarBuffer<i32> = ScalarBuffer::new(Buffer::from_vec(offsets), 0, len + 1);
    Ok(OffsetBuffer::new(offsets))
}

fn offsets_and_bytes(
    buffer: ByteBuffer,
    len: usize,
) -> Result<(OffsetBuffer<i32>, Buffer), String> {
    let ByteBuffer { offsets, bytes } = buffer;
    let offsets = checked_offsets(offsets, len, Some(bytes.len()))?;
    Ok((offsets, Buffer::from_vec(bytes)))
}

/// An Arrow batch as the WIT batch a plugin reads (for predictors). Every type a WIT batch
/// can hold passes; others are refused, naming the column.
pub(crate) fn from_record_batch(batch: &RecordBatch, rows: &[u64]) -> Result<Batch, BatchError> {
    let n = batch.num_rows();
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        write_column(field.name(), array.as_ref(), &mut columns, 0)?;
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

/// Appends `array` (and, depth-first, its children) to `out`.
fn write_column(
    name: &str,
    array: &dyn Array,
    out: &mut Vec<Column>,
    depth: usize,
) -> Result<(), BatchError> {
    use arrow::datatypes::{
        Date32Type, Decimal128Type, Float32Type, Float64Type, Int32Type, Int64Type,
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    if depth > MAX_DEPTH {
        return Err(problem(
            name,
            format!("nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    let validity = array
        .logical_nulls()
        .filter(|nulls| nulls.null_count() > 0)
        .map(|nulls| nulls.inner().sliced().as_slice().to_vec());
    let index = out.len();
    let timestamp = |unit, zone: &Option<Arc<str>>, values: Vec<i64>| {
        ColumnValues::Timestamp(TimestampValues {
            unit,
            timezone: zone.as_deref().map(str::to_owned),
            values,
        })
    };
    let values = match array.data_type() {
        DataType::Boolean => ColumnValues::Boolean(array.as_boolean().values().iter().collect()),
        DataType::Int32 => ColumnValues::Int32(array.as_primitive::<Int32Type>().values().to_vec()),
        DataType::Int64 => ColumnValues::Int64(array.as_primitive::<Int64Type>().values().to_vec()),
        DataType::Float32 => {
            ColumnValues::Float32(array.as_primitive::<Float32Type>().values().to_vec())
        }
        DataType::Float64 => {
            ColumnValues::Float64(array.as_primitive::<Float64Type>().values().to_vec())
        }
        DataType::Date32 => {
            ColumnValues::Date32(array.as_primitive::<Date32Type>().values().to_vec())
        }
        DataType::Timestamp(unit, zone) => match unit {
            ArrowUnit::Second => timestamp(
                TimeUnit::Second,
                zone,
                array
                    .as_primitive::<TimestampSecondType>()
                    .values()
                    .to_vec(),
            ),
            ArrowUnit::Millisecond => timestamp(
                TimeUnit::Millisecond,
                zone,
                array
                    .as_primitive::<TimestampMillisecondType>()
                    .values()
                    .to_vec(),
            ),
            ArrowUnit::Microsecond => timestamp(
                TimeUnit::Microsecond,
                zone,
                array
                    .as_primitive::<TimestampMicrosecondType>()
                    .values()
                    .to_vec(),
            ),
            ArrowUnit::Nanosecond => timestamp(
                TimeUnit::Nanosecond,
                zone,
                array
                    .as_primitive::<TimestampNanosecondType>()
                    .values()
                    .to_vec(),
            ),
        },
        DataType::Decimal128(precision, scale) => ColumnValues::Decimal128(DecimalValues {
            precision: *precision,
            scale: *scale,
            values: array
                .as_primitive::<Decimal128Type>()
                .values()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        }),
        DataType::Utf8 => {
            let strings = array.as_string::<i32>();
            ColumnValues::Utf8(rebased(strings.value_offsets(), strings.value_data()))
        }
        DataType::Binary => {
            let bytes = array.as_binary::<i32>();
            ColumnValues::Binary(rebased(bytes.value_offsets(), bytes.value_data()))
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let offsets = list.value_offsets();
            let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
            out.push(Column {
                name: name.to_owned(),
                validity,
                values: ColumnValues::List(
                    offsets
                        .iter()
                        .map(|o| (*o as usize - first) as u32)
                        .collect(),
                ),
            });
            let field = match list.data_type() {
                DataType::List(field) => field.clone(),
                _ => unreachable!("a list array has a list type"),
            };
            let items = list.values().slice(first, last - first);
            return write_column(field.name(), items.as_ref(), out, depth + 1);
        }
        DataType::FixedSizeList(field, size) => {
            let list = array.as_fixed_size_list();
            out.push(Column {
                name: name.to_owned(),
                validity,
                values: ColumnValues::FixedSizeList(*size as u32),
            });
            let size = *size as usize;
            let items = list.values().slice(list.offset() * size, list.len() * size);
            return write_column(field.name(), items.as_ref(), out, depth + 1);
        }
        DataType::Struct(fields) => {
            let record = array.as_struct();
            out.push(Column {
                name: name.to_owned(),
                validity,
                values: ColumnValues::Struct(fields.len() as u32),
            });
            for (field, child) in fields.iter().zip(record.columns()) {
                write_column(field.name(), child.as_ref(), out, depth + 1)?;
            }
            return Ok(());
        }
        other => {
            return Err(BatchError::Unsupported {
                column: name.to_owned(),
                data_type: other.to_string(),
            });
        }
    };
    out.insert(
        index,
        Column {
            name: name.to_owned(),
            validity,
            values,
        },
    );
    Ok(())
}

/// Offsets that start at 0 and the bytes they cover, for a possibly sliced array.
fn rebased(offsets: &[i32], data: &[u8]) -> ByteBuffer {
    let (first, last) = (offsets[0], offsets[offsets.len() - 1]);
    ByteBuffer {
        offsets: offsets.iter().map(|o| (o - first) as u32).collect(),
        bytes: data[first as usize..last as usize].to_vec(),
    }
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
        ColumnValues::Utf8(ByteBuffer { offsets, bytes })
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
        assert_eq!(err.to_string(), "column `c500` appears twice");
    }

    #[test]
    fn rejects_lying_buffers() {
        let bad_offsets = Batch {
            num_rows: 1,
            row_numbers: vec![1],
            columns: vec![Column {
                name: "s".into(),
                validity: None,
                values: ColumnValues::Utf8(ByteBuffer {
                    offsets: vec![0, 10],
                    bytes: b"abc".to_vec(),
                }),
            }],
        };
        assert!(
            to_record_batch(bad_offsets)
                .unwrap_err()
                .to_string()
                .contains("offsets reach 10")
        );
        let bad_utf8 = Batch {
            num_rows: 1,
            row_numbers: vec![1],
            columns: vec![Column {
                name: "s".into(),
                validity: None,
                values: ColumnValues::Utf8(ByteBuffer {
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
                .to_string()
                .contains("1 values for 2 rows")
        );
    }

    #[test]
    fn nested_columns_round_trip_depth_first() {
        use arrow::array::{ArrayRef, Int64Builder, ListBuilder};
        // { id: int64, emb: fixed-size-list<float32, 2>, tags: list<int64>, pos: struct{x, at} }
        let emb = FixedSizeListArray::try_new(
            Arc::new(Field::new("item", DataType::Float32, true)),
            2,
            Arc::new(Float32Array::from(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
            Some(NullBuffer::from(vec![true, false, true])),
        )
        .unwrap();
        let mut tags = ListBuilder::new(Int64Builder::new());
        tags.append_value([Some(1), None]);
        tags.append_null();
        tags.append_value([Some(3)]);
        let pos = StructArray::from(vec![
            (
                Arc::new(Field::new("x", DataType::Decimal128(10, 2), true)),
                Arc::new(
                    Decimal128Array::from(vec![Some(12345), None, Some(-1)])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ) as ArrayRef,
            ),
            (
                Arc::new(Field::new("at", DataType::Date32, true)),
                Arc::new(Date32Array::from(vec![1, 2, 3])) as ArrayRef,
            ),
        ]);
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("emb", emb.data_type().clone(), true),
            Field::new("tags", tags.finish_cloned().data_type().clone(), true),
            Field::new("pos", pos.data_type().clone(), true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![10, 20, 30])),
                Arc::new(emb),
                Arc::new(tags.finish()),
                Arc::new(pos),
            ],
        )
        .unwrap();
        // Sliced, so offsets and validity have to be rebased on the way out.
        let sliced = batch.slice(1, 2);
        let wit = from_record_batch(&sliced, &[7, 9]).unwrap();
        let kinds: Vec<&str> = wit.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            kinds,
            ["id", "emb", "item", "tags", "item", "pos", "x", "at"]
        );
        let back = to_record_batch(wit).unwrap();
        assert_eq!(back.rows, vec![7, 9]);
        assert_eq!(back.batch, sliced);
    }

    #[test]
    fn a_nested_column_without_its_child_is_refused() {
        let batch = Batch {
            num_rows: 1,
            row_numbers: vec![1],
            columns: vec![Column {
                name: "l".into(),
                validity: None,
                values: ColumnValues::List(vec![0, 2]),
            }],
        };
        assert_eq!(
            to_record_batch(batch).unwrap_err().to_string(),
            "column `l`: its child column is missing"
        );
        let overflow = Batch {
            num_rows: 1,
            row_numbers: vec![1],
            columns: vec![Column {
                name: "d".into(),
                validity: None,
                values: ColumnValues::Decimal128(DecimalValues {
                    precision: 3,
                    scale: 0,
                    values: 12345i128.to_le_bytes().to_vec(),
                }),
            }],
        };
        assert!(
            to_record_batch(overflow)
                .unwrap_err()
                .to_string()
                .contains("column `d`"),
        );
    }
}
