//! arrow-rs record batches into the WIT `batch`: the one conversion every parser that decodes
//! through arrow-rs (Parquet, Avro, Arrow IPC) goes through, so the layout rules of the `types`
//! interface are kept in one place.
//!
//! Columns come out depth-first in pre-order: a `list`, `fixed-size-list` or `struct` column
//! is followed by its children before the next column. Buffers are always written from the
//! array's first logical row: a sliced array's offsets are rebased to start at 0, its child
//! values cut to the range they cover, and its validity bits shifted to start at bit 0 (bits
//! past the last row cleared), since the host reads every buffer from its start.
//!
//! Arrow types the WIT has no variant for go to the nearest one that keeps every value:
//!
//! | Arrow | WIT |
//! | --- | --- |
//! | `int8`, `int16`, `uint8`, `uint16` | `int32` |
//! | `uint32`, `uint64` | `int64` (a `uint64` past `i64::MAX` is a [`VALUE_OUT_OF_RANGE`] error) |
//! | `float16` | `float32` |
//! | `large_utf8`, `utf8_view` | `utf8` |
//! | `large_binary`, `binary_view`, `fixed_size_binary` | `binary` |
//! | `large_list` | `list` |
//! | `decimal32`, `decimal64` | `decimal128` |
//! | `dictionary<K, V>` | `V`, decoded |
//! | `null` (a column only ever null) | `utf8`, every row null |
//!
//! This is done here rather than with arrow-cast's `cast`: `cast` brings every cast between
//! every pair of types into the component (4.7 MB of its 6.5), for these few. A type with no
//! near WIT type (time of day, intervals, maps, unions, list views…) is an
//! [`UNSUPPORTED_TYPE`] error naming the column.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ByteArrayType, ByteViewType, Date32Type, Decimal32Type, Decimal64Type, Decimal128Type,
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, GenericByteArray, GenericByteViewArray, OffsetSizeTrait,
    PrimitiveArray, RecordBatch, new_null_array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, TimeUnit as ArrowTimeUnit};
use std::sync::Arc;

use crate::types::{
    Batch, ByteBuffer, Column, ColumnValues, DecimalValues, Error, TimeUnit, TimestampValues,
};

/// The code of the error for a column whose Arrow type has no WIT type to go to.
pub const UNSUPPORTED_TYPE: &str = "unsupported_type";

/// The code of the error for a value the nearest WIT type cannot hold.
pub const VALUE_OUT_OF_RANGE: &str = "value_out_of_range";

/// `record` as a WIT batch whose rows are the source's rows `row_numbers` (1-based).
///
/// # Panics
/// If `row_numbers` is not as long as `record`: the parser numbered its rows wrong.
pub fn to_batch(record: &RecordBatch, row_numbers: Vec<u64>) -> Result<Batch, Error> {
    assert_eq!(
        row_numbers.len(),
        record.num_rows(),
        "one row number per row of the batch"
    );
    let mut columns = Vec::with_capacity(record.num_columns());
    for (field, array) in record.schema().fields().iter().zip(record.columns()) {
        push_column(&mut columns, field.name(), field.name(), array.as_ref())?;
    }
    Ok(Batch {
        num_rows: u32::try_from(record.num_rows()).expect("batch sizes fit in u32"),
        row_numbers,
        columns,
    })
}

/// The rows of `record` numbered from `first_row` on: what a parser that drops no rows gives
/// [`to_batch`].
pub fn numbered(record: &RecordBatch, first_row: u64) -> Result<Batch, Error> {
    let rows = first_row..first_row + record.num_rows() as u64;
    to_batch(record, rows.collect())
}

/// Appends the column `array` named `name`, then its children; `path` names it in errors
/// (`emb.item`, `address.city`).
fn push_column(
    columns: &mut Vec<Column>,
    path: &str,
    name: &str,
    array: &dyn Array,
) -> Result<(), Error> {
    if let Some(nearer) = nearer(path, array)? {
        return push_column(columns, path, name, nearer.as_ref());
    }
    // Nested columns name their children here; they follow the parent once it is pushed.
    let mut children: Vec<(&str, ArrayRef)> = Vec::new();
    let values = match array.data_type() {
        DataType::Boolean => ColumnValues::Boolean(array.as_boolean().values().iter().collect()),
        DataType::Int32 => ColumnValues::Int32(primitive::<Int32Type>(array)),
        DataType::Int64 => ColumnValues::Int64(primitive::<Int64Type>(array)),
        DataType::Float32 => ColumnValues::Float32(primitive::<Float32Type>(array)),
        DataType::Float64 => ColumnValues::Float64(primitive::<Float64Type>(array)),
        DataType::Utf8 => ColumnValues::Utf8(byte_buffer(path, array.as_string::<i32>())?),
        DataType::LargeUtf8 => ColumnValues::Utf8(byte_buffer(path, array.as_string::<i64>())?),
        DataType::Utf8View => ColumnValues::Utf8(view_buffer(path, array.as_string_view())?),
        DataType::Binary => ColumnValues::Binary(byte_buffer(path, array.as_binary::<i32>())?),
        DataType::LargeBinary => ColumnValues::Binary(byte_buffer(path, array.as_binary::<i64>())?),
        DataType::BinaryView => ColumnValues::Binary(view_buffer(path, array.as_binary_view())?),
        DataType::FixedSizeBinary(_) => {
            let fixed = array.as_fixed_size_binary();
            let values = (0..fixed.len()).map(|i| fixed.value(i));
            ColumnValues::Binary(gathered(path, values)?)
        }
        DataType::Date32 => ColumnValues::Date32(primitive::<Date32Type>(array)),
        DataType::Timestamp(unit, zone) => ColumnValues::Timestamp(TimestampValues {
            unit: match unit {
                ArrowTimeUnit::Second => TimeUnit::Second,
                ArrowTimeUnit::Millisecond => TimeUnit::Millisecond,
                ArrowTimeUnit::Microsecond => TimeUnit::Microsecond,
                ArrowTimeUnit::Nanosecond => TimeUnit::Nanosecond,
            },
            timezone: zone.as_ref().map(|zone| zone.to_string()),
            values: timestamps(array, *unit),
        }),
        DataType::Decimal128(precision, scale) => {
            if *scale < 0 {
                return Err(unsupported(path, array.data_type(), "a negative scale"));
            }
            let values = array.as_primitive::<Decimal128Type>().values();
            ColumnValues::Decimal128(DecimalValues {
                precision: *precision,
                scale: *scale,
                values: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            })
        }
        DataType::List(item) => {
            let list = array.as_list::<i32>();
            let (offsets, range) = rebase(path, list.offsets())?;
            children.push((item.name(), list.values().slice(range.start, range.len())));
            ColumnValues::List(offsets)
        }
        DataType::LargeList(item) => {
            let list = array.as_list::<i64>();
            let (offsets, range) = rebase(path, list.offsets())?;
            children.push((item.name(), list.values().slice(range.start, range.len())));
            ColumnValues::List(offsets)
        }
        DataType::FixedSizeList(item, size) => {
            // The child is already cut to this array's rows (arrow-rs slices it with the list).
            children.push((item.name(), array.as_fixed_size_list().values().clone()));
            ColumnValues::FixedSizeList(u32::try_from(*size).expect("a list size is positive"))
        }
        DataType::Struct(fields) => {
            // Struct fields are cut to the struct's rows, as for fixed-size lists.
            let record = array.as_struct();
            let names = fields.iter().map(|f| f.name().as_str());
            children.extend(names.zip(record.columns().iter().cloned()));
            ColumnValues::Struct(u32::try_from(fields.len()).expect("fields fit in u32"))
        }
        other => return Err(unsupported(path, other, "no WIT column type")),
    };
    columns.push(Column {
        name: name.to_owned(),
        validity: validity(array),
        values,
    });
    for (name, values) in children {
        push_column(columns, &format!("{path}.{name}"), name, values.as_ref())?;
    }
    Ok(())
}

/// `array` converted to a type nearer the WIT's, for the types whose values must change
/// representation first (see the table above); `None` for a type taken as it is.
fn nearer(path: &str, array: &dyn Array) -> Result<Option<ArrayRef>, Error> {
    fn widen<F: ArrowPrimitiveType, T: ArrowPrimitiveType>(
        array: &dyn Array,
        op: impl Fn(F::Native) -> T::Native,
    ) -> ArrayRef {
        Arc::new(array.as_primitive::<F>().unary::<_, T>(op))
    }
    let nearer = match array.data_type() {
        DataType::Int8 => widen::<Int8Type, Int32Type>(array, i32::from),
        DataType::Int16 => widen::<Int16Type, Int32Type>(array, i32::from),
        DataType::UInt8 => widen::<UInt8Type, Int32Type>(array, i32::from),
        DataType::UInt16 => widen::<UInt16Type, Int32Type>(array, i32::from),
        DataType::UInt32 => widen::<UInt32Type, Int64Type>(array, i64::from),
        DataType::UInt64 => {
            let wide = array.as_primitive::<UInt64Type>();
            let narrow: PrimitiveArray<Int64Type> = wide
                .try_unary(i64::try_from)
                .map_err(|_| out_of_range(path, "uint64", "int64"))?;
            Arc::new(narrow)
        }
        DataType::Float16 => widen::<Float16Type, Float32Type>(array, |v| v.to_f32()),
        DataType::Decimal32(precision, scale) => Arc::new(
            array
                .as_primitive::<Decimal32Type>()
                .unary::<_, Decimal128Type>(i128::from)
                .with_precision_and_scale(*precision, *scale)
                .expect("a decimal32's precision fits decimal128"),
        ),
        DataType::Decimal64(precision, scale) => Arc::new(
            array
                .as_primitive::<Decimal64Type>()
                .unary::<_, Decimal128Type>(i128::from)
                .with_precision_and_scale(*precision, *scale)
                .expect("a decimal64's precision fits decimal128"),
        ),
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            arrow_select::take::take(dictionary.values(), dictionary.keys(), None)
                .map_err(|e| crate::error(UNSUPPORTED_TYPE, format!("column `{path}`: {e}")))?
        }
        DataType::Null => new_null_array(&DataType::Utf8, array.len()),
        _ => return Ok(None),
    };
    Ok(Some(nearer))
}

/// The values of a timestamp array of `unit`, as counts of that unit.
fn timestamps(array: &dyn Array, unit: ArrowTimeUnit) -> Vec<i64> {
    match unit {
        ArrowTimeUnit::Second => primitive::<TimestampSecondType>(array),
        ArrowTimeUnit::Millisecond => primitive::<TimestampMillisecondType>(array),
        ArrowTimeUnit::Microsecond => primitive::<TimestampMicrosecondType>(array),
        ArrowTimeUnit::Nanosecond => primitive::<TimestampNanosecondType>(array),
    }
}

fn unsupported(path: &str, data_type: &DataType, why: &str) -> Error {
    crate::error(
        UNSUPPORTED_TYPE,
        format!("column `{path}` has Arrow type {data_type}, which has {why}"),
    )
}

fn out_of_range(path: &str, from: &str, to: &str) -> Error {
    crate::error(
        VALUE_OUT_OF_RANGE,
        format!("column `{path}`: a {from} value does not fit {to}"),
    )
}

/// The array's values from its first row on (arrow-rs keeps the values of a slice sliced).
fn primitive<T: ArrowPrimitiveType>(array: &dyn Array) -> Vec<T::Native> {
    array.as_primitive::<T>().values().to_vec()
}

/// Offsets rebased to start at 0, and the range of child values (or bytes) they cover. The
/// WIT's offsets are 32-bit: a batch whose values (large ones) span more is refused.
fn rebase<O: OffsetSizeTrait>(
    path: &str,
    offsets: &OffsetBuffer<O>,
) -> Result<(Vec<u32>, std::ops::Range<usize>), Error> {
    let first = offsets[0].as_usize();
    let last = offsets[offsets.len() - 1].as_usize();
    if u32::try_from(last - first).is_err() {
        return Err(too_long(path, last - first));
    }
    let rebased = offsets
        .iter()
        .map(|o| (o.as_usize() - first) as u32)
        .collect();
    Ok((rebased, first..last))
}

fn byte_buffer<T: ByteArrayType>(
    path: &str,
    array: &GenericByteArray<T>,
) -> Result<ByteBuffer, Error> {
    let (offsets, range) = rebase(path, array.offsets())?;
    Ok(ByteBuffer {
        offsets,
        bytes: array.values()[range].to_vec(),
    })
}

fn view_buffer<T: ByteViewType + ?Sized>(
    path: &str,
    array: &GenericByteViewArray<T>,
) -> Result<ByteBuffer, Error> {
    let values = (0..array.len()).map(|i| AsRef::<[u8]>::as_ref(array.value(i)));
    gathered(path, values)
}

/// Values gathered back to back (null slots hold what the array has there, often nothing).
fn gathered<'a>(
    path: &str,
    values: impl ExactSizeIterator<Item = &'a [u8]>,
) -> Result<ByteBuffer, Error> {
    let mut offsets = Vec::with_capacity(values.len() + 1);
    offsets.push(0);
    let mut bytes = Vec::new();
    for value in values {
        bytes.extend_from_slice(value);
        offsets.push(u32::try_from(bytes.len()).map_err(|_| too_long(path, bytes.len()))?);
    }
    Ok(ByteBuffer { offsets, bytes })
}

fn too_long(path: &str, len: usize) -> Error {
    crate::error(
        VALUE_OUT_OF_RANGE,
        format!("column `{path}`: {len} bytes or items in one batch, past the WIT's 4 GiB offsets"),
    )
}

/// The validity bits of the array's own rows, from bit 0, bits past the last row cleared;
/// `None` when no row is null.
fn validity(array: &dyn Array) -> Option<Vec<u8>> {
    let nulls = array.nulls().filter(|nulls| nulls.null_count() > 0)?;
    let len = nulls.len();
    let mut bits = nulls.inner().sliced().as_slice()[..len.div_ceil(8)].to_vec();
    if len % 8 != 0 {
        let last = bits.len() - 1;
        bits[last] &= (1u8 << (len % 8)) - 1;
    }
    Some(bits)
}

#[cfg(test)]
mod tests;
