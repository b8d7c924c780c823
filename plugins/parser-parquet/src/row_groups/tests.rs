use ferry_guest::batch_json;
use ferry_guest::types::{ColumnValues, DecimalValues, TimeUnit};
use serde_json::Value;

use super::*;
use crate::failure::{INVALID_PARQUET, TRUNCATED_FILE, UNSUPPORTED_CODEC};

use crate::object_chunks::ObjectChunks;

type Source = ObjectChunks<Vec<u8>>;

fn fixture(name: &str) -> Source {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    ObjectChunks::new(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

fn open(
    name: &str,
    columns: Option<&[String]>,
    batch_size: usize,
) -> Result<RowGroups<Source>, Error> {
    RowGroups::open(fixture(name), name, columns, batch_size)
}

/// Every batch until the end, or the error that stopped the reading with the batches before.
fn read_all(groups: &mut RowGroups<Source>) -> (Vec<Batch>, Option<Error>) {
    let mut batches = Vec::new();
    loop {
        match groups.next_batch() {
            Ok(Some(batch)) => batches.push(batch),
            Ok(None) => return (batches, None),
            Err(e) => return (batches, Some(e)),
        }
    }
}

fn expected() -> Vec<Value> {
    let path = format!("{}/tests/data/types.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_codec_decodes_to_the_values_pyarrow_wrote() {
    for codec in ["none", "snappy", "gzip", "lz4"] {
        let name = format!("types_{codec}.parquet");
        let (batches, error) = read_all(&mut open(&name, None, 8192).unwrap());
        assert_eq!(error, None, "{name}");
        let rows: Vec<Value> = batches.iter().flat_map(batch_json::rows).collect();
        assert_eq!(rows, expected(), "{name}");
    }
}

#[test]
fn batches_stay_within_their_row_group_and_the_batch_size() {
    let (batches, error) = read_all(&mut open("types_snappy.parquet", None, 3).unwrap());
    assert_eq!(error, None);
    let sizes: Vec<u32> = batches.iter().map(|b| b.num_rows).collect();
    // Row groups of 4, 4 and 2 rows.
    assert_eq!(sizes, [3, 1, 3, 1, 2]);
    let numbers: Vec<u64> = batches.iter().flat_map(|b| b.row_numbers.clone()).collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<u64>>());
}

#[test]
fn columns_keep_their_arrow_types() {
    let (batches, _) = read_all(&mut open("types_snappy.parquet", None, 8192).unwrap());
    let columns = &batches[0].columns;
    let find = |name: &str| &columns.iter().find(|c| c.name == name).unwrap().values;
    // Both a Parquet-dictionary column and an Arrow dictionary column arrive as strings.
    assert!(matches!(find("city"), ColumnValues::Utf8(_)));
    assert!(matches!(find("kind"), ColumnValues::Utf8(_)));
    assert_eq!(find("emb"), &ColumnValues::FixedSizeList(4));
    assert!(matches!(find("tags"), ColumnValues::List(_)));
    assert_eq!(find("point"), &ColumnValues::Struct(2));
    let ColumnValues::Timestamp(at) = find("at") else {
        panic!("at is a timestamp")
    };
    assert_eq!(
        (at.unit, at.timezone.as_deref()),
        (TimeUnit::Microsecond, Some("UTC"))
    );
    let ColumnValues::Timestamp(wall) = find("wall") else {
        panic!("wall is a timestamp")
    };
    assert_eq!(
        (wall.unit, wall.timezone.as_deref()),
        (TimeUnit::Millisecond, None)
    );
    let ColumnValues::Decimal128(DecimalValues {
        precision, scale, ..
    }) = find("price")
    else {
        panic!("price is a decimal")
    };
    assert_eq!((*precision, *scale), (10, 2));
    assert!(matches!(find("day"), ColumnValues::Date32(_)));
    assert!(matches!(find("score"), ColumnValues::Float32(_)));
}

#[test]
fn only_the_columns_asked_for_are_read_nested_ones_by_their_root() {
    let wanted = ["point".to_owned(), "id".to_owned(), "not_there".to_owned()];
    let (batches, error) = read_all(&mut open("types_gzip.parquet", Some(&wanted), 8192).unwrap());
    assert_eq!(error, None);
    let names: Vec<&str> = batches[0].columns.iter().map(|c| c.name.as_str()).collect();
    // In the file's order, the struct followed by its fields.
    assert_eq!(names, ["id", "point", "x", "label"]);
    let rows: Vec<Value> = batches.iter().flat_map(batch_json::rows).collect();
    let want: Vec<Value> = expected()
        .into_iter()
        .map(|row| serde_json::json!({"id": row["id"], "point": row["point"]}))
        .collect();
    assert_eq!(rows, want);
}

#[test]
fn no_column_asked_for_still_counts_the_rows() {
    let (batches, error) = read_all(&mut open("types_none.parquet", Some(&[]), 8192).unwrap());
    assert_eq!(error, None);
    assert!(batches.iter().all(|b| b.columns.is_empty()));
    assert_eq!(batches.iter().map(|b| b.num_rows).sum::<u32>(), 10);
}

#[test]
fn a_codec_left_out_of_the_build_is_refused_at_its_first_row_group() {
    let mut codecs = vec!["brotli"];
    if !cfg!(feature = "zstd") {
        codecs.push("zstd");
    }
    for codec in codecs {
        let name = format!("types_{codec}.parquet");
        let (batches, error) = read_all(&mut open(&name, None, 8192).unwrap());
        assert!(batches.is_empty());
        let error = error.unwrap();
        assert_eq!(error.code, UNSUPPORTED_CODEC, "{error:?}");
        assert_eq!(error.row, Some(1));
        assert!(
            error.message.starts_with(&format!(
                "{name}: row group 0: its pages are compressed with {codec}, which this build"
            )),
            "{}",
            error.message
        );
    }
}

#[cfg(feature = "zstd")]
#[test]
fn zstd_decodes_when_built_in() {
    let (batches, error) = read_all(&mut open("types_zstd.parquet", None, 8192).unwrap());
    assert_eq!(error, None);
    let rows: Vec<Value> = batches.iter().flat_map(batch_json::rows).collect();
    assert_eq!(rows, expected());
}

#[test]
fn a_file_cut_short_is_truncated() {
    let Err(error) = open("truncated.parquet", None, 8192) else {
        panic!("opened")
    };
    assert_eq!(error.code, TRUNCATED_FILE);
    assert_eq!(error.row, None);
    assert_eq!(
        error.message,
        "truncated.parquet: the file is cut short: it starts like a Parquet file but does not \
         end with its footer's magic `PAR1`"
    );
}

#[test]
fn a_corrupt_footer_is_invalid() {
    let Err(error) = open("corrupt_footer.parquet", None, 8192) else {
        panic!("opened")
    };
    assert_eq!(error.code, INVALID_PARQUET);
    assert!(
        error
            .message
            .starts_with("corrupt_footer.parquet: corrupt footer: "),
        "{}",
        error.message
    );
}

#[test]
fn another_format_is_not_parquet() {
    let Err(error) = open("not_parquet.parquet", None, 8192) else {
        panic!("opened")
    };
    assert_eq!(error.code, INVALID_PARQUET);
    assert_eq!(
        error.message,
        "not_parquet.parquet: not a Parquet file: it does not start with the Parquet magic `PAR1`"
    );
    let Err(error) = RowGroups::open(ObjectChunks::new(Vec::new()), "empty", None, 10) else {
        panic!("opened")
    };
    assert_eq!(error.code, INVALID_PARQUET);
}

#[test]
fn a_bad_page_stops_at_its_row_group_after_the_groups_before() {
    let (batches, error) = read_all(&mut open("bad_page.parquet", None, 8192).unwrap());
    let rows: Vec<Value> = batches.iter().flat_map(batch_json::rows).collect();
    assert_eq!(rows, expected()[..4]);
    let error = error.unwrap();
    assert_eq!(error.code, INVALID_PARQUET, "{error:?}");
    assert_eq!(error.row, Some(5));
    assert!(
        error.message.starts_with("bad_page.parquet: row group 1: "),
        "{}",
        error.message
    );
}
