use ferry_guest::batch_json;
use serde_json::Value;

use super::*;
use crate::failure::{INVALID_ARROW, TRUNCATED_FILE, UNSUPPORTED_CODEC};
use ferry_guest::types::{ColumnValues, TimeUnit};

fn open(
    name: &str,
    columns: Option<&[String]>,
    batch_size: usize,
) -> Result<IpcBatches<Vec<u8>>, Error> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    IpcBatches::open(bytes, name, columns, batch_size)
}

/// Every record batch's WIT batches until the end, or the error that stopped the reading.
fn read_all(batches: &mut IpcBatches<Vec<u8>>) -> (Vec<Vec<Batch>>, Option<Error>) {
    let mut out = Vec::new();
    loop {
        match batches.next_batches() {
            Ok(Some(b)) => out.push(b),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn expected() -> Vec<Value> {
    let path = format!("{}/tests/data/types.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn rows(batches: &[Vec<Batch>]) -> Vec<Value> {
    batches
        .iter()
        .flatten()
        .flat_map(batch_json::rows)
        .collect()
}

#[test]
fn a_file_and_a_stream_decode_to_the_values_pyarrow_wrote() {
    // The file's buffers are lz4-compressed, the stream's are not.
    for name in ["types.arrow", "types.arrows"] {
        let (batches, error) = read_all(&mut open(name, None, 8192).unwrap());
        assert_eq!(error, None, "{name}");
        assert_eq!(batches.len(), 3, "{name}: one part per record batch");
        assert_eq!(rows(&batches), expected(), "{name}");
    }
}

#[test]
fn casts_land_on_the_nearest_wit_types() {
    let (batches, _) = read_all(&mut open("types.arrow", None, 8192).unwrap());
    let columns = &batches[0][0].columns;
    let find = |name: &str| &columns.iter().find(|c| c.name == name).unwrap().values;
    assert!(matches!(find("small"), ColumnValues::Int32(_)));
    assert!(matches!(find("count"), ColumnValues::Int64(_)));
    assert!(matches!(find("name"), ColumnValues::Utf8(_)));
    assert!(matches!(find("note"), ColumnValues::Utf8(_)));
    assert!(matches!(find("raw"), ColumnValues::Binary(_)));
    assert!(matches!(find("label"), ColumnValues::Utf8(_)));
    assert!(matches!(find("series"), ColumnValues::List(_)));
    assert!(matches!(find("tag"), ColumnValues::Utf8(_)));
    let ColumnValues::Timestamp(at) = find("at") else {
        panic!("at is a timestamp")
    };
    assert_eq!(
        (at.unit, at.timezone.as_deref()),
        (TimeUnit::Nanosecond, Some("Europe/Paris"))
    );
}

#[test]
fn record_batches_are_split_at_batch_size_and_numbered_across_the_object() {
    let (batches, error) = read_all(&mut open("types.arrows", None, 3).unwrap());
    assert_eq!(error, None);
    let sizes: Vec<Vec<u32>> = batches
        .iter()
        .map(|b| b.iter().map(|b| b.num_rows).collect())
        .collect();
    assert_eq!(sizes, [vec![3, 1], vec![3, 1], vec![2]]);
    let numbers: Vec<u64> = batches
        .iter()
        .flatten()
        .flat_map(|b| b.row_numbers.clone())
        .collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<u64>>());
    assert_eq!(rows(&batches), expected());
}

#[test]
fn only_the_columns_asked_for_are_decoded() {
    let wanted = ["meta".to_owned(), "id".to_owned(), "nope".to_owned()];
    for name in ["types.arrow", "types.arrows"] {
        let (batches, error) = read_all(&mut open(name, Some(&wanted), 8192).unwrap());
        assert_eq!(error, None);
        let names: Vec<&str> = batches[0][0]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["id", "meta", "ok", "tag"], "{name}");
        let want: Vec<Value> = expected()
            .into_iter()
            .map(|row| serde_json::json!({"id": row["id"], "meta": row["meta"]}))
            .collect();
        assert_eq!(rows(&batches), want, "{name}");
    }
}

#[test]
fn no_column_asked_for_still_counts_the_rows() {
    for name in ["types.arrow", "types.arrows"] {
        let (batches, error) = read_all(&mut open(name, Some(&[]), 8192).unwrap());
        assert_eq!(error, None, "{name}");
        let batches: Vec<&Batch> = batches.iter().flatten().collect();
        assert!(batches.iter().all(|b| b.columns.is_empty()), "{name}");
        assert_eq!(
            batches.iter().map(|b| b.num_rows).sum::<u32>(),
            10,
            "{name}"
        );
    }
}

#[test]
fn a_stream_cut_short_fails_at_its_batch_after_the_batches_before() {
    let (batches, error) = read_all(&mut open("cut.arrows", None, 8192).unwrap());
    assert_eq!(rows(&batches), expected()[..4]);
    let error = error.unwrap();
    assert_eq!(error.code, TRUNCATED_FILE);
    assert_eq!(error.row, Some(5));
    assert!(
        error
            .message
            .starts_with("cut.arrows: Arrow IPC stream, record batch 1: cut short: "),
        "{}",
        error.message
    );
}

#[test]
fn a_file_cut_short_is_refused_at_open() {
    let Err(error) = open("cut.arrow", None, 8192) else {
        panic!("opened")
    };
    assert_eq!(error.code, TRUNCATED_FILE);
    assert_eq!(error.row, None);
}

#[test]
fn another_format_is_not_arrow() {
    let Err(error) = open("not_arrow.arrows", None, 8192) else {
        panic!("opened")
    };
    assert_eq!(error.code, INVALID_ARROW);
    assert!(
        error.message.starts_with("not_arrow.arrows: not Arrow IPC"),
        "{}",
        error.message
    );
    let Err(error) = IpcBatches::open(Vec::new(), "empty", None, 10) else {
        panic!("opened")
    };
    assert_eq!(error.code, INVALID_ARROW);
}

#[test]
fn zstd_is_refused_unless_built_in() {
    let (batches, error) = read_all(&mut open("types_zstd.arrows", None, 8192).unwrap());
    if cfg!(feature = "zstd") {
        assert_eq!(error, None);
        assert_eq!(rows(&batches), expected());
    } else {
        let error = error.unwrap();
        assert_eq!(error.code, UNSUPPORTED_CODEC);
        assert_eq!(error.row, Some(1));
        assert!(
            error.message.contains("compressed with zstd"),
            "{}",
            error.message
        );
    }
}
