use ferry_guest::batch_json;
use ferry_guest::types::{ColumnValues, DecimalValues, TimeUnit};
use serde_json::Value as Json;

use super::*;
use crate::failure::{INVALID_AVRO, TRUNCATED_FILE, UNSUPPORTED_CODEC};
use ferry_guest::arrow_batch::UNSUPPORTED_TYPE;

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn open(
    name: &str,
    columns: Option<&[String]>,
    batch_size: usize,
) -> Result<Records<std::fs::File>, Error> {
    let file = std::fs::File::open(data(name)).unwrap();
    Records::open(file, name, columns, batch_size)
}

fn read_all(records: &mut Records<std::fs::File>) -> (Vec<Batch>, Option<Error>) {
    let mut batches = Vec::new();
    loop {
        match records.next_batch() {
            Ok(Some(batch)) => batches.push(batch),
            Ok(None) => return (batches, None),
            Err(e) => return (batches, Some(e)),
        }
    }
}

fn json(name: &str) -> Json {
    serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

fn expected() -> Vec<Json> {
    serde_json::from_value(json("events.json")).unwrap()
}

fn rows(batches: &[Batch]) -> Vec<Json> {
    batches.iter().flat_map(batch_json::rows).collect()
}

/// The first record of the second block, which the corrupt fixtures break.
fn second_block() -> u64 {
    json("blocks.json")["first_row"][1].as_u64().unwrap()
}

#[test]
fn every_codec_decodes_to_the_values_fastavro_wrote() {
    for codec in ["null", "deflate", "snappy", "bzip2"] {
        let name = format!("events_{codec}.avro");
        let (batches, error) = read_all(&mut open(&name, None, 8192).unwrap());
        assert_eq!(error, None, "{name}");
        assert_eq!(rows(&batches), expected(), "{name}");
    }
}

#[test]
fn a_codec_left_out_of_the_build_is_refused_at_open() {
    let Err(error) = open("events_xz.avro", None, 8192) else {
        panic!("opened")
    };
    assert_eq!(error.code, UNSUPPORTED_CODEC);
    assert!(
        error
            .message
            .starts_with("events_xz.avro: its blocks are compressed with xz"),
        "{}",
        error.message
    );
}

#[test]
fn zstandard_is_refused_unless_built_in() {
    let opened = open("events_zstandard.avro", None, 8192);
    if cfg!(feature = "zstandard") {
        let (batches, error) = read_all(&mut opened.unwrap());
        assert_eq!(error, None);
        assert_eq!(rows(&batches), expected());
    } else {
        let Err(error) = opened else { panic!("opened") };
        assert_eq!(error.code, UNSUPPORTED_CODEC);
        assert!(
            error.message.contains("compressed with zstandard"),
            "{}",
            error.message
        );
    }
}

#[test]
fn batches_hold_at_most_batch_size_records_numbered_from_one() {
    let (batches, error) = read_all(&mut open("events_deflate.avro", None, 3).unwrap());
    assert_eq!(error, None);
    let sizes: Vec<u32> = batches.iter().map(|b| b.num_rows).collect();
    assert_eq!(sizes, [3, 3, 3, 1]);
    let numbers: Vec<u64> = batches.iter().flat_map(|b| b.row_numbers.clone()).collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<u64>>());
    assert_eq!(rows(&batches), expected());
}

#[test]
fn avro_types_land_on_their_column_types() {
    let (batches, _) = read_all(&mut open("events_snappy.avro", None, 8192).unwrap());
    let columns = &batches[0].columns;
    let find = |name: &str| &columns.iter().find(|c| c.name == name).unwrap().values;
    assert!(matches!(find("count"), ColumnValues::Int32(_)));
    assert!(matches!(find("ratio"), ColumnValues::Float32(_)));
    assert!(matches!(find("hash"), ColumnValues::Binary(_)));
    assert!(matches!(find("kind"), ColumnValues::Utf8(_)));
    assert!(matches!(find("uid"), ColumnValues::Utf8(_)));
    assert!(matches!(find("nothing"), ColumnValues::Utf8(_)));
    assert!(matches!(find("tags"), ColumnValues::List(_)));
    assert_eq!(find("place"), &ColumnValues::Struct(3));
    assert!(matches!(find("day"), ColumnValues::Date32(_)));
    let ColumnValues::Timestamp(at) = find("at") else {
        panic!("at is a timestamp")
    };
    assert_eq!(
        (at.unit, at.timezone.as_deref()),
        (TimeUnit::Millisecond, Some("UTC"))
    );
    let ColumnValues::Timestamp(at_us) = find("at_us") else {
        panic!("at_us is a timestamp")
    };
    assert_eq!(at_us.unit, TimeUnit::Microsecond);
    let ColumnValues::Decimal128(DecimalValues {
        precision, scale, ..
    }) = find("big")
    else {
        panic!("big is a decimal")
    };
    assert_eq!((*precision, *scale), (38, 4));
}

#[test]
fn only_the_fields_asked_for_are_built() {
    let wanted = ["place".to_owned(), "id".to_owned(), "absent".to_owned()];
    let (batches, error) = read_all(&mut open("events_null.avro", Some(&wanted), 8192).unwrap());
    assert_eq!(error, None);
    let names: Vec<&str> = batches[0].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "place", "lat", "lon", "codes", "item"]);
    let want: Vec<Json> = expected()
        .into_iter()
        .map(|row| serde_json::json!({"id": row["id"], "place": row["place"]}))
        .collect();
    assert_eq!(rows(&batches), want);
}

#[test]
fn no_field_asked_for_still_counts_the_records() {
    let (batches, error) = read_all(&mut open("events_deflate.avro", Some(&[]), 4).unwrap());
    assert_eq!(error, None);
    assert!(batches.iter().all(|b| b.columns.is_empty()));
    let sizes: Vec<u32> = batches.iter().map(|b| b.num_rows).collect();
    assert_eq!(sizes, [4, 4, 2]);
}

#[test]
fn a_bad_sync_marker_stops_at_its_block_after_the_records_before() {
    let (batches, error) = read_all(&mut open("bad_sync.avro", None, 8192).unwrap());
    let before = (second_block() - 1) as usize;
    assert_eq!(rows(&batches), expected()[..before]);
    let error = error.unwrap();
    assert_eq!(error.code, INVALID_AVRO);
    assert_eq!(error.row, Some(second_block()));
    assert_eq!(
        error.message,
        format!(
            "bad_sync.avro: the sync marker after the block holding record {} is not the \
             header's: the file is corrupt from there on",
            second_block()
        )
    );
}

#[test]
fn a_file_cut_short_is_truncated_at_its_record() {
    let (batches, error) = read_all(&mut open("truncated.avro", None, 8192).unwrap());
    assert_eq!(
        batches.iter().map(|b| b.num_rows as u64).sum::<u64>(),
        second_block() - 1
    );
    let error = error.unwrap();
    assert_eq!(error.code, TRUNCATED_FILE);
    assert_eq!(error.row, Some(second_block()));
}

#[test]
fn another_format_is_not_avro() {
    let Err(error) = open("not_avro.avro", None, 8192) else {
        panic!("opened")
    };
    assert_eq!(error.code, INVALID_AVRO);
    assert!(
        error
            .message
            .starts_with("not_avro.avro: not an Avro object container file")
    );
}

#[test]
fn a_union_of_two_types_is_refused_unless_left_out() {
    let Err(error) = open("union.avro", None, 8192) else {
        panic!("opened")
    };
    assert_eq!(error.code, UNSUPPORTED_TYPE);
    assert_eq!(
        error.message,
        "union.avro: field `value`: a union of int, string: only a union of null and one type \
         has a column type"
    );
    let (batches, error) =
        read_all(&mut open("union.avro", Some(&["id".to_owned()]), 8192).unwrap());
    assert_eq!(error, None);
    assert_eq!(
        rows(&batches),
        [serde_json::json!({"id": 1}), serde_json::json!({"id": 2})]
    );
}
