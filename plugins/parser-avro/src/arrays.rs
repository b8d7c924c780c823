//! Avro values, a batch of records at a time, into arrow-rs arrays of the [`Shape`] their
//! field was given, column by column (and, for nested types, child by child).

use std::sync::Arc;

use apache_avro::types::Value;
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
};
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int32Array, Int64Array, ListArray, NullArray, PrimitiveArray, StringArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, Fields};

use crate::shape::{Column, Shape, Unit};

/// A value that is not of its field's type, or does not fit its column: the decoder's bug or
/// a decimal wider than its precision says.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Which value of the batch (0-based).
    pub index: usize,
    pub why: String,
}

/// The value inside any unions, `None` for null.
pub fn present(value: &Value) -> Option<&Value> {
    match value {
        Value::Union(_, inner) => present(inner),
        Value::Null => None,
        value => Some(value),
    }
}

/// The array of `column`'s values (`None` for a null one).
pub fn array(column: &Column, values: &[Option<&Value>]) -> Result<ArrayRef, Mismatch> {
    let array: ArrayRef = match &column.shape {
        Shape::Null => Arc::new(NullArray::new(values.len())),
        Shape::Boolean => Arc::new(BooleanArray::from(scalars(column, values, |v| match v {
            Value::Boolean(b) => Some(*b),
            _ => None,
        })?)),
        Shape::Int => Arc::new(Int32Array::from(scalars(column, values, |v| match v {
            Value::Int(i) => Some(*i),
            _ => None,
        })?)),
        Shape::Long => Arc::new(Int64Array::from(scalars(column, values, |v| match v {
            Value::Long(i) => Some(*i),
            _ => None,
        })?)),
        Shape::Float => Arc::new(Float32Array::from(scalars(column, values, |v| match v {
            Value::Float(f) => Some(*f),
            _ => None,
        })?)),
        Shape::Double => Arc::new(Float64Array::from(scalars(column, values, |v| match v {
            Value::Double(f) => Some(*f),
            _ => None,
        })?)),
        Shape::Binary => Arc::new(BinaryArray::from(scalars(column, values, |v| match v {
            Value::Bytes(b) | Value::Fixed(_, b) => Some(b.as_slice()),
            _ => None,
        })?)),
        Shape::Utf8 => Arc::new(StringArray::from(scalars(column, values, |v| match v {
            Value::String(s) | Value::Enum(_, s) => Some(s.clone()),
            Value::Uuid(u) => Some(u.to_string()),
            _ => None,
        })?)),
        Shape::Date => Arc::new(Date32Array::from(scalars(column, values, |v| match v {
            Value::Date(d) => Some(*d),
            _ => None,
        })?)),
        Shape::Timestamp { unit, utc } => timestamps(column, values, *unit, *utc)?,
        Shape::Decimal { precision, scale } => {
            let digits = scalars(column, values, |v| match v {
                Value::Decimal(d) => Vec::<u8>::try_from(d).ok(),
                _ => None,
            })?;
            let unscaled = digits
                .iter()
                .enumerate()
                .map(|(index, bytes)| {
                    bytes
                        .as_deref()
                        .map(|b| {
                            big_endian(b).ok_or_else(|| Mismatch {
                                index,
                                why: format!(
                                    "a decimal of {} bytes does not fit decimal({precision}, \
                                     {scale})",
                                    b.len()
                                ),
                            })
                        })
                        .transpose()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let decimals = Decimal128Array::from(unscaled)
                .with_precision_and_scale(*precision, *scale)
                .map_err(|e| arrow_mismatch(column, e))?;
            Arc::new(decimals)
        }
        Shape::List(items) => {
            let mut lengths = Vec::with_capacity(values.len());
            let mut children = Vec::new();
            for (index, value) in values.iter().enumerate() {
                match value {
                    None => lengths.push(0),
                    Some(Value::Array(list)) => {
                        lengths.push(list.len());
                        children.extend(list.iter().map(present));
                    }
                    Some(other) => return Err(mismatch(column, index, other)),
                }
            }
            let child = array(items, &children).map_err(|m| Mismatch {
                index: item_row(&lengths, m.index),
                why: m.why,
            })?;
            Arc::new(
                ListArray::try_new(
                    Arc::new(items.field()),
                    OffsetBuffer::from_lengths(lengths),
                    child,
                    nulls(values),
                )
                .map_err(|e| arrow_mismatch(column, e))?,
            )
        }
        Shape::Record(fields) => {
            for (index, value) in values.iter().enumerate() {
                match value {
                    None => {}
                    Some(Value::Record(r)) if r.len() == fields.len() => {}
                    Some(other) => return Err(mismatch(column, index, other)),
                }
            }
            let children = fields
                .iter()
                .enumerate()
                .map(|(i, field)| {
                    let values: Vec<Option<&Value>> = values
                        .iter()
                        .map(|v| match v {
                            Some(Value::Record(r)) => present(&r[i].1),
                            _ => None,
                        })
                        .collect();
                    array(field, &values)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let fields = Fields::from_iter(fields.iter().map(Column::field));
            Arc::new(
                StructArray::try_new(fields, children, nulls(values))
                    .map_err(|e| arrow_mismatch(column, e))?,
            )
        }
    };
    Ok(array)
}

/// One scalar per value through `get`, which says `None` for a value of another type.
fn scalars<'v, T>(
    column: &Column,
    values: &[Option<&'v Value>],
    get: impl Fn(&'v Value) -> Option<T>,
) -> Result<Vec<Option<T>>, Mismatch> {
    values
        .iter()
        .enumerate()
        .map(|(index, value)| match value {
            None => Ok(None),
            Some(v) => get(v).map(Some).ok_or_else(|| mismatch(column, index, v)),
        })
        .collect()
}

fn timestamps(
    column: &Column,
    values: &[Option<&Value>],
    unit: Unit,
    utc: bool,
) -> Result<ArrayRef, Mismatch> {
    let counts = scalars(column, values, |v| match (unit, v) {
        (Unit::Millis, Value::TimestampMillis(t) | Value::LocalTimestampMillis(t))
        | (Unit::Micros, Value::TimestampMicros(t) | Value::LocalTimestampMicros(t))
        | (Unit::Nanos, Value::TimestampNanos(t) | Value::LocalTimestampNanos(t)) => Some(*t),
        _ => None,
    })?;
    let zone = utc.then_some("UTC");
    let array: ArrayRef = match unit {
        Unit::Millis => Arc::new(
            PrimitiveArray::<TimestampMillisecondType>::from(counts).with_timezone_opt(zone),
        ),
        Unit::Micros => Arc::new(
            PrimitiveArray::<TimestampMicrosecondType>::from(counts).with_timezone_opt(zone),
        ),
        Unit::Nanos => Arc::new(
            PrimitiveArray::<TimestampNanosecondType>::from(counts).with_timezone_opt(zone),
        ),
    };
    Ok(array)
}

/// Avro's decimal bytes (big-endian two's complement, any length) as an `i128`, if they fit.
fn big_endian(bytes: &[u8]) -> Option<i128> {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let fill = if negative { 0xff } else { 0 };
    // Leading sign bytes carry no digits; what is left must fit 16 bytes.
    let start = bytes.iter().take_while(|b| **b == fill).count();
    let significant = &bytes[start.min(bytes.len().saturating_sub(1))..];
    if significant.len() > 16 {
        return None;
    }
    let mut wide = [fill; 16];
    wide[16 - significant.len()..].copy_from_slice(significant);
    let value = i128::from_be_bytes(wide);
    // Cutting the sign bytes must not have flipped the sign.
    ((value < 0) == negative || bytes.is_empty()).then_some(value)
}

/// The parent row that list item `item` belongs to, given each row's list length.
fn item_row(lengths: &[usize], item: usize) -> usize {
    let mut end = 0;
    for (row, len) in lengths.iter().enumerate() {
        end += len;
        if item < end {
            return row;
        }
    }
    lengths.len().saturating_sub(1)
}

fn nulls(values: &[Option<&Value>]) -> Option<NullBuffer> {
    let nulls = NullBuffer::from_iter(values.iter().map(Option::is_some));
    (nulls.null_count() > 0).then_some(nulls)
}

fn mismatch(column: &Column, index: usize, value: &Value) -> Mismatch {
    Mismatch {
        index,
        why: format!(
            "field `{}` holds {value:?}, not a value of its type",
            column.name
        ),
    }
}

fn arrow_mismatch(column: &Column, error: ArrowError) -> Mismatch {
    Mismatch {
        index: 0,
        why: format!("field `{}`: {error}", column.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bytes_of_any_length_are_sign_extended() {
        assert_eq!(big_endian(&[0x01, 0x00]), Some(256));
        assert_eq!(big_endian(&[0xff]), Some(-1));
        assert_eq!(big_endian(&[0xff, 0x7f]), Some(-129));
        assert_eq!(big_endian(&[]), Some(0));
        let mut wide = vec![0xff; 4];
        wide.extend((-5i128).to_be_bytes());
        assert_eq!(
            big_endian(&wide),
            Some(-5),
            "sign bytes past 16 carry nothing"
        );
        let mut too_wide = vec![0x01];
        too_wide.extend([0; 16]);
        assert_eq!(big_endian(&too_wide), None);
        // 0x00 0x80…: positive, but 0x80… alone would read as negative.
        let mut positive = vec![0x00, 0x80];
        positive.extend([0; 15]);
        assert_eq!(big_endian(&positive), None, "needs 17 bytes");
    }

    #[test]
    fn a_list_items_mismatch_names_its_row() {
        assert_eq!(item_row(&[2, 0, 3], 0), 0);
        assert_eq!(item_row(&[2, 0, 3], 2), 2);
        assert_eq!(item_row(&[2, 0, 3], 4), 2);
    }

    #[test]
    fn a_value_of_another_type_is_a_mismatch_at_its_index() {
        let column = Column {
            name: "n".into(),
            shape: Shape::Long,
            nullable: true,
        };
        let values = [Value::Long(1), Value::String("x".into())];
        let refs: Vec<Option<&Value>> = values.iter().map(present).collect();
        let m = array(&column, &refs).unwrap_err();
        assert_eq!(m.index, 1);
        assert_eq!(
            m.why,
            "field `n` holds String(\"x\"), not a value of its type"
        );
    }
}
