use std::sync::Arc;

use arrow_array::builder::{
    FixedSizeListBuilder, Float32Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::types::{Int32Type, UInt64Type};
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal64Array, Decimal128Array,
    DictionaryArray, FixedSizeBinaryArray, FixedSizeListArray, Float16Array, Float32Array,
    Float64Array, Int8Array, Int32Array, Int64Array, LargeBinaryArray, LargeListArray,
    LargeStringArray, ListArray, NullArray, PrimitiveArray, StringArray, StringViewArray,
    StructArray, Time64MicrosecondArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    UInt64Array, make_array,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{Field, Fields};

use super::*;

fn record(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn convert(columns: Vec<(&str, ArrayRef)>) -> Vec<Column> {
    let record = record(columns);
    numbered(&record, 1).unwrap().columns
}

fn only(columns: Vec<Column>) -> Column {
    assert_eq!(columns.len(), 1, "{columns:?}");
    columns.into_iter().next().unwrap()
}

fn utf8(offsets: &[u32], bytes: &str) -> ColumnValues {
    ColumnValues::Utf8(ByteBuffer {
        offsets: offsets.to_vec(),
        bytes: bytes.as_bytes().to_vec(),
    })
}

/// Reads WIT columns back into arrow-rs arrays, as the host does: the shape comes from the
/// columns alone (each nested column says how many children follow and how long they are).
fn read_back(columns: &[Column], len: usize) -> Vec<(String, ArrayRef)> {
    fn one(columns: &mut std::slice::Iter<'_, Column>, len: usize) -> (String, ArrayRef) {
        let column = columns.next().expect("a child column follows");
        let nulls = column
            .validity
            .as_ref()
            .map(|bits| NullBuffer::new(BooleanBuffer::new(Buffer::from(bits.clone()), 0, len)));
        let array: ArrayRef = match &column.values {
            ColumnValues::Boolean(v) => {
                Arc::new(BooleanArray::new(BooleanBuffer::from(v.clone()), nulls))
            }
            ColumnValues::Int32(v) => Arc::new(Int32Array::new(v.clone().into(), nulls)),
            ColumnValues::Int64(v) => Arc::new(Int64Array::new(v.clone().into(), nulls)),
            ColumnValues::Float32(v) => Arc::new(Float32Array::new(v.clone().into(), nulls)),
            ColumnValues::Float64(v) => Arc::new(Float64Array::new(v.clone().into(), nulls)),
            ColumnValues::Date32(v) => Arc::new(Date32Array::new(v.clone().into(), nulls)),
            ColumnValues::Utf8(b) => Arc::new(StringArray::new(
                offsets(&b.offsets),
                Buffer::from(b.bytes.clone()),
                nulls,
            )),
            ColumnValues::Binary(b) => Arc::new(BinaryArray::new(
                offsets(&b.offsets),
                Buffer::from(b.bytes.clone()),
                nulls,
            )),
            ColumnValues::Timestamp(t) => {
                let zone = t.timezone.clone();
                match t.unit {
                    TimeUnit::Millisecond => Arc::new(
                        TimestampMillisecondArray::new(t.values.clone().into(), nulls)
                            .with_timezone_opt(zone),
                    ),
                    TimeUnit::Microsecond => Arc::new(
                        TimestampMicrosecondArray::new(t.values.clone().into(), nulls)
                            .with_timezone_opt(zone),
                    ),
                    unit => panic!("no test reads {unit:?}"),
                }
            }
            ColumnValues::Decimal128(d) => {
                let values: Vec<i128> = d
                    .values
                    .chunks(16)
                    .map(|b| i128::from_le_bytes(b.try_into().unwrap()))
                    .collect();
                Arc::new(
                    Decimal128Array::new(values.into(), nulls)
                        .with_precision_and_scale(d.precision, d.scale)
                        .unwrap(),
                )
            }
            ColumnValues::List(o) => {
                let (name, items) = one(columns, *o.last().unwrap() as usize);
                let field = Field::new(name, items.data_type().clone(), true);
                Arc::new(ListArray::new(Arc::new(field), offsets(o), items, nulls))
            }
            ColumnValues::FixedSizeList(size) => {
                let (name, items) = one(columns, len * *size as usize);
                let field = Field::new(name, items.data_type().clone(), true);
                Arc::new(FixedSizeListArray::new(
                    Arc::new(field),
                    *size as i32,
                    items,
                    nulls,
                ))
            }
            ColumnValues::Struct(n) => {
                let (fields, children): (Vec<Field>, Vec<ArrayRef>) = (0..*n)
                    .map(|_| {
                        let (name, child) = one(columns, len);
                        (Field::new(name, child.data_type().clone(), true), child)
                    })
                    .unzip();
                Arc::new(StructArray::new(Fields::from(fields), children, nulls))
            }
        };
        (column.name.clone(), array)
    }
    fn offsets(offsets: &[u32]) -> OffsetBuffer<i32> {
        let offsets: Vec<i32> = offsets.iter().map(|o| *o as i32).collect();
        OffsetBuffer::new(ScalarBuffer::from(offsets))
    }
    let mut iter = columns.iter();
    let mut read = Vec::new();
    while iter.len() > 0 {
        read.push(one(&mut iter, len));
    }
    read
}

/// Converts `columns` and reads them back, expecting each array as it was.
fn round_trip(columns: Vec<(&str, ArrayRef)>) {
    let record = record(columns.clone());
    let batch = numbered(&record, 1).unwrap();
    let back = read_back(&batch.columns, record.num_rows());
    assert_eq!(back.len(), columns.len());
    for ((name, array), (back_name, back_array)) in columns.iter().zip(&back) {
        assert_eq!(name, back_name);
        assert_eq!(array.as_ref(), back_array.as_ref(), "column `{name}`");
    }
}

fn ints(values: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

/// `{ id: int64, tags: list<utf8>, emb: fixed-size-list<float32, 2> }` over three rows, the
/// second a null struct, the third's tags null and one of its embedding items null.
fn nested() -> ArrayRef {
    let mut tags = ListBuilder::new(StringBuilder::new());
    tags.append_value([Some("a"), Some("bc")]);
    tags.append_value([Some("d")]);
    tags.append_null();
    let mut emb = FixedSizeListBuilder::new(Float32Builder::new(), 2);
    for value in [Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(5.0), None] {
        emb.values().append_option(value);
    }
    for _ in 0..3 {
        emb.append(true);
    }
    let tags = tags.finish();
    let emb = emb.finish();
    let fields = Fields::from(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("tags", tags.data_type().clone(), true),
        Field::new("emb", emb.data_type().clone(), true),
    ]);
    Arc::new(StructArray::new(
        fields,
        vec![
            ints(&[Some(1), Some(2), Some(3)]),
            Arc::new(tags),
            Arc::new(emb),
        ],
        Some(NullBuffer::from(vec![true, false, true])),
    ))
}

#[test]
fn flat_columns_keep_their_values_and_nulls() {
    let columns = convert(vec![
        (
            "b",
            Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
        ),
        (
            "i",
            Arc::new(Int32Array::from(vec![Some(-1), Some(2), None])),
        ),
        ("f", Arc::new(Float32Array::from(vec![0.5, 1.5, -2.0]))),
        (
            "d",
            Arc::new(Float64Array::from(vec![Some(1e300), None, None])),
        ),
        (
            "s",
            Arc::new(StringArray::from(vec![Some("é"), None, Some("xy")])),
        ),
        ("day", Arc::new(Date32Array::from(vec![19000, -1, 0]))),
    ]);
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["b", "i", "f", "d", "s", "day"]);
    assert_eq!(
        columns[0].values,
        ColumnValues::Boolean(vec![true, false, false])
    );
    assert_eq!(columns[0].validity, Some(vec![0b101]));
    assert_eq!(columns[1].values, ColumnValues::Int32(vec![-1, 2, 0]));
    assert_eq!(columns[1].validity, Some(vec![0b011]));
    assert_eq!(
        columns[2].values,
        ColumnValues::Float32(vec![0.5, 1.5, -2.0])
    );
    assert_eq!(columns[2].validity, None);
    assert_eq!(columns[3].validity, Some(vec![0b001]));
    assert_eq!(columns[4].values, utf8(&[0, 2, 2, 4], "éxy"));
    assert_eq!(columns[5].values, ColumnValues::Date32(vec![19000, -1, 0]));
}

#[test]
fn timestamps_keep_their_unit_and_zone_and_decimals_their_scale() {
    let columns = convert(vec![
        (
            "at",
            Arc::new(TimestampMicrosecondArray::from(vec![1, -2]).with_timezone("UTC")),
        ),
        (
            "wall",
            Arc::new(TimestampMillisecondArray::from(vec![3, 4])),
        ),
        (
            "price",
            Arc::new(
                Decimal128Array::from(vec![Some(12345), Some(-1)])
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
    ]);
    assert_eq!(
        columns[0].values,
        ColumnValues::Timestamp(TimestampValues {
            unit: TimeUnit::Microsecond,
            timezone: Some("UTC".into()),
            values: vec![1, -2],
        })
    );
    assert_eq!(
        columns[1].values,
        ColumnValues::Timestamp(TimestampValues {
            unit: TimeUnit::Millisecond,
            timezone: None,
            values: vec![3, 4],
        })
    );
    let mut bytes = 12345i128.to_le_bytes().to_vec();
    bytes.extend([0xff; 16]);
    assert_eq!(
        columns[2].values,
        ColumnValues::Decimal128(DecimalValues {
            precision: 10,
            scale: 2,
            values: bytes,
        })
    );
}

#[test]
fn nested_columns_are_followed_by_their_children_depth_first() {
    let columns = convert(vec![("s", nested()), ("n", ints(&[Some(7), None, None]))]);
    let shape: Vec<(&str, &ColumnValues)> = columns
        .iter()
        .map(|c| (c.name.as_str(), &c.values))
        .collect();
    assert_eq!(shape.len(), 7);
    assert_eq!(shape[0], ("s", &ColumnValues::Struct(3)));
    assert_eq!(shape[1], ("id", &ColumnValues::Int64(vec![1, 2, 3])));
    assert_eq!(shape[2], ("tags", &ColumnValues::List(vec![0, 2, 3, 3])));
    assert_eq!(shape[3], ("item", &utf8(&[0, 1, 3, 4], "abcd")));
    assert_eq!(shape[4], ("emb", &ColumnValues::FixedSizeList(2)));
    assert_eq!(
        shape[5],
        (
            "item",
            &ColumnValues::Float32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 0.0])
        )
    );
    assert_eq!(shape[6].0, "n");
    assert_eq!(columns[0].validity, Some(vec![0b101]));
    assert_eq!(columns[2].validity, Some(vec![0b011]));
    // The null inside the third row's embedding is the child's sixth bit.
    assert_eq!(columns[5].validity, Some(vec![0b01_1111]));
    round_trip(vec![("s", nested())]);
}

#[test]
fn sliced_arrays_are_written_from_their_first_row() {
    // Ten rows with nulls at 3 and 9; the slice 2..9 starts mid-byte.
    let values: Vec<Option<i64>> = (0..10).map(|i| (i != 3 && i != 9).then_some(i)).collect();
    let sliced = ints(&values).slice(2, 7);
    let column = only(convert(vec![("n", sliced.clone())]));
    assert_eq!(
        column.values,
        ColumnValues::Int64(vec![2, 0, 4, 5, 6, 7, 8])
    );
    assert_eq!(column.validity, Some(vec![0b0111_1101]));
    // Cut at a byte boundary the bitmap is the parent's own bytes: the bits of rows past the
    // slice are cleared, not left as the rows after it had them.
    let head = only(convert(vec![("n", ints(&values).slice(0, 5))]));
    assert_eq!(head.validity, Some(vec![0b1_0111]));

    let strings = StringArray::from(vec!["a", "bb", "ccc", "dddd"]).slice(1, 2);
    let column = only(convert(vec![("s", Arc::new(strings))]));
    assert_eq!(column.values, utf8(&[0, 2, 5], "bbccc"));

    let lists = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        Some(vec![Some(3)]),
        None,
        Some(vec![Some(4), None, Some(6)]),
    ]);
    let columns = convert(vec![("l", Arc::new(lists.slice(1, 3)))]);
    assert_eq!(columns[0].values, ColumnValues::List(vec![0, 1, 1, 4]));
    assert_eq!(columns[0].validity, Some(vec![0b101]));
    assert_eq!(columns[1].values, ColumnValues::Int64(vec![3, 4, 0, 6]));
    assert_eq!(columns[1].validity, Some(vec![0b1011]));

    round_trip(vec![("n", sliced)]);
    round_trip(vec![("l", Arc::new(lists.slice(1, 3)))]);
    round_trip(vec![("s", nested().slice(1, 2))]);
}

#[test]
fn slices_of_array_data_with_offsets_convert_like_slices() {
    // Readers (IPC, Parquet) may hand out arrays built from `ArrayData` with an offset.
    let data = nested().to_data().slice(1, 2);
    let array = make_array(data);
    assert_eq!(
        array.offset(),
        0,
        "arrow-rs moves the offset into the children"
    );
    let columns = convert(vec![("s", array.clone())]);
    assert_eq!(columns[0].validity, Some(vec![0b10]));
    assert_eq!(columns[1].values, ColumnValues::Int64(vec![2, 3]));
    assert_eq!(
        columns[5].values,
        ColumnValues::Float32(vec![3.0, 4.0, 5.0, 0.0])
    );
    round_trip(vec![("s", array)]);
}

#[test]
fn an_all_valid_column_has_no_bitmap_even_when_its_parent_has_nulls() {
    let lists = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![Some(vec![Some(1)]), None]);
    let columns = convert(vec![("l", Arc::new(lists))]);
    assert_eq!(columns[0].validity, Some(vec![0b01]));
    assert_eq!(columns[1].validity, None);
}

#[test]
fn types_without_a_wit_variant_go_to_the_nearest() {
    let dictionary: DictionaryArray<Int32Type> = vec![Some("x"), None, Some("y"), Some("x")]
        .into_iter()
        .collect();
    let large_lists = LargeListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1)]),
        Some(vec![]),
    ]);
    let columns = convert(vec![
        ("small", Arc::new(Int8Array::from(vec![-3, 4, 0, 1]))),
        (
            "big",
            Arc::new(UInt64Array::from(vec![0, 1, 2, u64::from(u32::MAX) + 1])),
        ),
        (
            "text",
            Arc::new(LargeStringArray::from(vec!["a", "", "bc", "d"])),
        ),
        ("dict", Arc::new(dictionary)),
        ("none", Arc::new(NullArray::new(4))),
    ]);
    assert_eq!(columns[0].values, ColumnValues::Int32(vec![-3, 4, 0, 1]));
    assert_eq!(
        columns[1].values,
        ColumnValues::Int64(vec![0, 1, 2, i64::from(u32::MAX) + 1])
    );
    assert_eq!(columns[2].values, utf8(&[0, 1, 1, 3, 4], "abcd"));
    assert_eq!(columns[3].values, utf8(&[0, 1, 1, 2, 3], "xyx"));
    assert_eq!(columns[3].validity, Some(vec![0b1101]));
    assert_eq!(columns[4].values, utf8(&[0, 0, 0, 0, 0], ""));
    assert_eq!(columns[4].validity, Some(vec![0]));

    let mut large_lists_twice = convert(vec![("l", Arc::new(large_lists))]).into_iter();
    assert_eq!(
        large_lists_twice.next().unwrap().values,
        ColumnValues::List(vec![0, 1, 1])
    );
}

#[test]
fn views_fixed_binaries_half_floats_and_narrow_decimals_go_to_the_nearest_too() {
    let views = StringViewArray::from(vec![
        Some("a string longer than twelve bytes"),
        None,
        Some("b"),
    ]);
    let fixed = FixedSizeBinaryArray::try_from_iter(vec![b"ab", b"cd", b"ef", b"gh"].into_iter())
        .unwrap()
        .slice(1, 3);
    let columns = convert(vec![
        ("view", Arc::new(views)),
        ("fixed", Arc::new(fixed)),
        (
            "half",
            // The bits of 0.5, -2.0 and 0.0 as IEEE half floats.
            Arc::new(Float16Array::new(
                ScalarBuffer::new(Buffer::from_vec(vec![0x3800u16, 0xc000, 0]), 0, 3),
                None,
            )),
        ),
        (
            "money",
            Arc::new(
                Decimal64Array::from(vec![Some(-125), None, Some(7)])
                    .with_precision_and_scale(12, 2)
                    .unwrap(),
            ),
        ),
        (
            "blob",
            Arc::new(LargeBinaryArray::from(vec![&b"w"[..], b"x", b"", b"yz"]).slice(1, 3)),
        ),
    ]);
    assert_eq!(
        columns[0].values,
        utf8(&[0, 33, 33, 34], "a string longer than twelve bytesb")
    );
    assert_eq!(columns[0].validity, Some(vec![0b101]));
    assert_eq!(
        columns[1].values,
        ColumnValues::Binary(ByteBuffer {
            offsets: vec![0, 2, 4, 6],
            bytes: b"cdefgh".to_vec(),
        })
    );
    assert_eq!(
        columns[2].values,
        ColumnValues::Float32(vec![0.5, -2.0, 0.0])
    );
    let mut money = (-125i128).to_le_bytes().to_vec();
    money.extend(0i128.to_le_bytes());
    money.extend(7i128.to_le_bytes());
    assert_eq!(
        columns[3].values,
        ColumnValues::Decimal128(DecimalValues {
            precision: 12,
            scale: 2,
            values: money,
        })
    );
    assert_eq!(columns[3].validity, Some(vec![0b101]));
    assert_eq!(
        columns[4].values,
        ColumnValues::Binary(ByteBuffer {
            offsets: vec![0, 1, 1, 3],
            bytes: b"xyz".to_vec(),
        })
    );
}

#[test]
fn a_value_the_nearest_type_cannot_hold_is_an_error() {
    let big: PrimitiveArray<UInt64Type> = vec![u64::MAX].into();
    let record = record(vec![("big", Arc::new(big) as ArrayRef)]);
    let err = numbered(&record, 1).unwrap_err();
    assert_eq!(err.code, VALUE_OUT_OF_RANGE);
    assert_eq!(
        err.message,
        "column `big`: a uint64 value does not fit int64"
    );
}

#[test]
fn a_type_without_a_near_wit_type_is_an_error_naming_the_column() {
    let times = Time64MicrosecondArray::from(vec![1]);
    let fields = Fields::from(vec![Field::new("at", times.data_type().clone(), true)]);
    let s = StructArray::new(fields, vec![Arc::new(times)], None);
    let record = record(vec![("event", Arc::new(s) as ArrayRef)]);
    let err = numbered(&record, 1).unwrap_err();
    assert_eq!(err.code, UNSUPPORTED_TYPE);
    assert_eq!(
        err.message,
        "column `event.at` has Arrow type Time64(µs), which has no WIT column type"
    );
}

#[test]
fn rows_are_numbered_as_given() {
    let record = record(vec![("n", ints(&[Some(1), Some(2)]))]);
    let batch = numbered(&record, 41).unwrap();
    assert_eq!(batch.num_rows, 2);
    assert_eq!(batch.row_numbers, [41, 42]);
    let batch = to_batch(&record, vec![3, 9]).unwrap();
    assert_eq!(batch.row_numbers, [3, 9]);
}

#[test]
#[should_panic(expected = "one row number per row")]
fn row_numbers_must_match_the_rows() {
    let record = record(vec![("n", ints(&[Some(1), Some(2)]))]);
    let _ = to_batch(&record, vec![1]);
}

#[test]
fn every_wit_type_round_trips() {
    let mut fixed = FixedSizeListBuilder::new(Float32Builder::new(), 3);
    for row in 0..4 {
        for i in 0..3 {
            fixed.values().append_value((row * 3 + i) as f32);
        }
        fixed.append(row != 2);
    }
    let mut lists = ListBuilder::new(ListBuilder::new(Int64Builder::new()));
    lists.append_value([Some(vec![Some(1)]), None]);
    lists.append_null();
    lists.append_value([Some(vec![]), Some(vec![None, Some(2)])]);
    lists.append_value(Vec::<Option<Vec<Option<i64>>>>::new());
    round_trip(vec![
        (
            "b",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                None,
                Some(false),
                Some(true),
            ])),
        ),
        (
            "bin",
            Arc::new(BinaryArray::from_opt_vec(vec![
                Some(b"\x00\xff"),
                None,
                Some(b""),
                Some(b"z"),
            ])),
        ),
        (
            "f64",
            Arc::new(Float64Array::from(vec![
                Some(0.1),
                Some(f64::MAX),
                None,
                Some(-0.0),
            ])),
        ),
        ("emb", Arc::new(fixed.finish())),
        ("ll", Arc::new(lists.finish())),
        (
            "dec",
            Arc::new(
                Decimal128Array::from(vec![
                    Some(i128::MAX / 10),
                    None,
                    Some(i128::MIN / 10),
                    Some(0),
                ])
                .with_precision_and_scale(38, 0)
                .unwrap(),
            ),
        ),
        (
            "at",
            Arc::new(
                TimestampMicrosecondArray::from(vec![Some(1), None, Some(3), Some(4)])
                    .with_timezone("+02:00"),
            ),
        ),
    ]);
}
