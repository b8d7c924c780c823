//! arrow-rs record batches into the WIT `batch`: the one conversion every parser that decodes
//! through arrow-rs (Parquet, Avro, Arrow IPC) goes through, so the layout rules of the `types`
//! interface are kept in one place.
//!
//! Columns come out depth-first in pre-order: a `list`, `fixed-size-list` or `struct` column
//! is followed by its children before the next column. Buffers are always written from the
//! array's first logical row: a sliced array's offsets are rebased to start at 0, its child
//! values cut to the range they cover, and its validity bits shifted to start at bit 0, since
//! the host reads every buffer from its start.
//!
//! Arrow types the WIT has no variant for are first cast to the nearest one ([`nearest`]):
//! narrower integers widen, large and view strings, binaries and lists become their 32-bit
//! offset forms, dictionaries decode to their value type. A type with no near WIT type (time of
//! day, intervals, maps, unions…) is an [`UNSUPPORTED_TYPE`] error naming the column; a value
//! that does not fit its cast (a `uint64` past `i64::MAX`) is a [`VALUE_OUT_OF_RANGE`] error.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ByteArrayType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, GenericByteArray, RecordBatch};
use arrow_buffer::OffsetBuffer;
use arrow_cast::{CastOptions, can_cast_types, cast_with_options};
use arrow_schema::{DataType, TimeUnit as ArrowTimeUnit};

use crate::types::{
    Batch, ByteBuffer, Column, ColumnValues, DecimalValues, Error, TimeUnit, TimestampValues,
};

/// The code of the error for a column whose Arrow type has no WIT type to go to.
pub const UNSUPPORTED_TYPE: &str = "unsupported_type";

/// The code of the error for a value its cast to the nearest WIT type cannot hold.
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

/// The type an Arrow type without a WIT variant of its own is cast to, if it has one near
/// enough that no value changes meaning.
pub fn nearest(data_type: &DataType) -> Option<DataType> {
    use DataType::*;
    let to = match data_type {
        Int8 | Int16 | UInt8 | UInt16 => Int32,
        UInt32 | UInt64 => Int64,
        Float16 => Float32,
        LargeUtf8 | Utf8View => Utf8,
        LargeBinary | BinaryView | FixedSizeBinary(_) => Binary,
        LargeList(item) | ListView(item) | LargeListView(item) => List(item.clone()),
        Decimal32(precision, scale) | Decimal64(precision, scale) => Decimal128(*precision, *scale),
        Dictionary(_, values) => values.as_ref().clone(),
        // A column that is only ever null (Avro's `null`, pandas' all-None object column):
        // its values are never read, so the cheapest nullable type carries it.
        Null => Utf8,
        _ => return None,
    };
    Some(to)
}

/// Appends the column `array` named `name`, then its children; `path` names it in errors
/// (`emb.item`, `address.city`).
fn push_column(
    columns: &mut Vec<Column>,
    path: &str,
    name: &str,
    array: &dyn Array,
) -> Result<(), Error> {
    if let Some(to) = nearest(array.data_type()) {
        let cast = cast_to(path, array, &to)?;
        return push_column(columns, path, name, cast.as_ref());
    }
    // Nested columns name their children here; they follow the parent once it is pushed.
    let mut children: Vec<(&str, ArrayRef)> = Vec::new();
    let values = match array.data_type() {
        DataType::Boolean => ColumnValues::Boolean(array.as_boolean().values().iter().collect()),
        DataType::Int32 => ColumnValues::Int32(primitive::<Int32Type>(array)),
        DataType::Int64 => ColumnValues::Int64(primitive::<Int64Type>(array)),
        DataType::Float32 => ColumnValues::Float32(primitive::<Float32Type>(array)),
        DataType::Float64 => ColumnValues::Float64(primitive::<Float64Type>(array)),
        DataType::Utf8 => ColumnValues::Utf8(byte_buffer(array.as_string::<i32>())),
        DataType::Binary => ColumnValues::Binary(byte_buffer(array.as_binary::<i32>())),
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
            let (offsets, range) = rebase(list.offsets());
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
            children.extend(
                fields
                    .iter()
                    .map(|f| f.name().as_str())
                    .zip(record.columns().iter().cloned()),
            );
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

/// The values of a timestamp array of `unit`, as counts of that unit.
fn timestamps(array: &dyn Array, unit: ArrowTimeUnit) -> Vec<i64> {
    match unit {
        ArrowTimeUnit::Second => primitive::<TimestampSecondType>(array),
        ArrowTimeUnit::Millisecond => primitive::<TimestampMillisecondType>(array),
        ArrowTimeUnit::Microsecond => primitive::<TimestampMicrosecondType>(array),
        ArrowTimeUnit::Nanosecond => primitive::<TimestampNanosecondType>(array),
    }
}

/// `array` cast to `to`, refusing values that would not survive it rather than nulling them.
fn cast_to(path: &str, array: &dyn Array, to: &DataType) -> Result<ArrayRef, Error> {
    if !can_cast_types(array.data_type(), to) {
        return Err(unsupported(
            path,
            array.data_type(),
            "no cast to a WIT type",
        ));
    }
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    cast_with_options(array, to, &options).map_err(|e| {
        crate::error(
            VALUE_OUT_OF_RANGE,
            format!(
                "column `{path}`: a {} value does not fit {to}: {e}",
                array.data_type()
            ),
        )
    })
}

fn unsupported(path: &str, data_type: &DataType, why: &str) -> Error {
    crate::error(
        UNSUPPORTED_TYPE,
        format!("column `{path}` has Arrow type {data_type}, which has {why}"),
    )
}

/// The array's values from its first row on (arrow-rs keeps the values of a slice sliced).
fn primitive<T: ArrowPrimitiveType>(array: &dyn Array) -> Vec<T::Native> {
    array.as_primitive::<T>().values().to_vec()
}

/// Offsets rebased to start at 0, and the range of child values (or bytes) they cover.
fn rebase(offsets: &OffsetBuffer<i32>) -> (Vec<u32>, std::ops::Range<usize>) {
    let first = offsets[0];
    let last = offsets[offsets.len() - 1];
    let rebased = offsets
        .iter()
        .map(|o| u32::try_from(o - first).expect("Arrow offsets never decrease"))
        .collect();
    let index = |o: i32| usize::try_from(o).expect("Arrow offsets are never negative");
    (rebased, index(first)..index(last))
}

fn byte_buffer<T: ByteArrayType<Offset = i32>>(array: &GenericByteArray<T>) -> ByteBuffer {
    let (offsets, range) = rebase(array.offsets());
    ByteBuffer {
        offsets,
        bytes: array.values()[range].to_vec(),
    }
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
