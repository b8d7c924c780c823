use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};

use super::*;

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter_with_nullable(columns.into_iter().map(|(n, a)| (n, a, true)))
        .unwrap()
}

fn people(ids: &[i64], names: &[&str]) -> RecordBatch {
    batch(vec![
        ("id", Arc::new(Int64Array::from(ids.to_vec()))),
        ("name", Arc::new(StringArray::from(names.to_vec()))),
    ])
}

fn utc_micros(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}

fn utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

async fn stage(table: &Table, batches: &[&RecordBatch]) -> StagedFiles {
    let mut w = table.writer(batches[0].schema()).unwrap();
    for b in batches {
        w.write(b).await.unwrap();
    }
    w.finish().await.unwrap()
}

async fn append(table: &mut Table, b: &RecordBatch, txn: Option<AppTxn>) -> i64 {
    let staged = stage(table, &[b]).await;
    table
        .commit(staged, WriteMode::Append, txn, Default::default())
        .await
        .unwrap()
}

/// `(id, name)` rows of the table, sorted; a null name reads as "null".
async fn rows(path: &Path) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = Vec::new();
    for b in read_table(path).await.unwrap() {
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let names = b.column_by_name("name").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            let name = names.is_valid(i).then(|| names.value(i).to_owned());
            out.push((ids.value(i), name.unwrap_or_else(|| "null".into())));
        }
    }
    out.sort();
    out
}

fn owned(rows: &[(i64, &str)]) -> Vec<(i64, String)> {
    rows.iter().map(|(i, n)| (*i, (*n).to_owned())).collect()
}

/// Every action of one commit file, as JSON.
fn log_actions(path: &Path, version: i64) -> Vec<serde_json::Value> {
    let file = path.join(format!("_delta_log/{version:020}.json"));
    std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn commit_files(path: &Path) -> usize {
    std::fs::read_dir(path.join("_delta_log"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.ends_with(".json") && !name.starts_with('_')
        })
        .count()
}

#[tokio::test]
async fn two_appends_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    assert_eq!(table.version(), None);
    assert!(table.arrow_schema().is_none());
    assert!(read_table(&path).await.unwrap().is_empty());

    let first = stage(&table, &[&people(&[1, 2], &["a", "b"])]).await;
    assert_eq!((first.rows(), first.files()), (2, 1));
    let mut info = serde_json::Map::new();
    info.insert("ferry.jobId".into(), "job-1".into());
    info.insert("ferry.file".into(), "a.csv".into());
    let v0 = table
        .commit(first, WriteMode::Append, Some(AppTxn::new("app", 1)), info)
        .await
        .unwrap();
    let v1 = append(
        &mut table,
        &people(&[3], &["c"]),
        Some(AppTxn::new("app", 2)),
    )
    .await;
    assert_eq!((v0, v1), (0, 1));
    assert_eq!(table.version(), Some(1));

    assert_eq!(rows(&path).await, owned(&[(1, "a"), (2, "b"), (3, "c")]));
    let total: usize = read_table(&path)
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(total, 3);

    // The table was created together with its first rows: one commit, not two.
    assert_eq!(commit_files(&path), 2);
    let first_commit = log_actions(&path, 0);
    for kind in ["commitInfo", "protocol", "metaData", "add", "txn"] {
        assert!(
            first_commit.iter().any(|a| a.get(kind).is_some()),
            "{kind} in {first_commit:?}"
        );
    }
    let info = first_commit
        .iter()
        .find_map(|a| a.get("commitInfo"))
        .unwrap();
    assert_eq!(info["ferry.jobId"], "job-1");
    assert_eq!(info["ferry.file"], "a.csv");
    let txn = first_commit.iter().find_map(|a| a.get("txn")).unwrap();
    assert_eq!(
        (txn["appId"].as_str(), txn["version"].as_i64()),
        (Some("app"), Some(1))
    );
}

#[tokio::test]
async fn every_ferry_type_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    let ts = vec![Some(1_724_061_600_123_456), None, Some(-1)];
    let b = batch(vec![
        (
            "flag",
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        ),
        (
            "n",
            Arc::new(Int64Array::from(vec![Some(i64::MAX), None, Some(-7)])),
        ),
        (
            "x",
            Arc::new(Float64Array::from(vec![Some(0.5), Some(f64::NAN), None])),
        ),
        (
            "s",
            Arc::new(StringArray::from(vec![Some("é"), None, Some("")])),
        ),
        ("at", utc_micros(ts.clone())),
    ]);
    append(&mut table, &b, None).await;

    let schema = Table::open(&path).await.unwrap().arrow_schema().unwrap();
    assert_eq!(schema.field_with_name("at").unwrap().data_type(), &utc());
    assert_eq!(schema.as_ref(), b.schema().as_ref());
    let back = read_table(&path).await.unwrap();
    assert_eq!(back.len(), 1);
    let back = &back[0];
    assert_eq!(back.schema(), b.schema());
    let at = back.column_by_name("at").unwrap();
    assert_eq!(at.data_type(), &utc());
    let at = at.as_primitive::<TimestampMicrosecondType>();
    assert_eq!(at.iter().collect::<Vec<_>>(), ts);
    let x = back.column(2).as_primitive::<Float64Type>();
    assert!(x.value(1).is_nan() && x.is_null(2));
    for i in [0, 1, 3] {
        assert_eq!(back.column(i), b.column(i), "column {i}");
    }
}

#[tokio::test]
async fn replace_swaps_all_rows_in_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    append(&mut table, &people(&[1, 2], &["a", "b"]), None).await;
    append(&mut table, &people(&[3], &["c"]), None).await;

    // A replace gathers several objects' files into its one commit.
    let mut all = stage(&table, &[&people(&[7], &["x"])]).await;
    all.extend(stage(&table, &[&people(&[8, 9], &["y", "z"])]).await);
    assert_eq!((all.rows(), all.files()), (3, 2));
    let v = table
        .commit(
            all,
            WriteMode::Replace,
            Some(AppTxn::new("app", 2)),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(v, 2, "one commit");
    assert_eq!(rows(&path).await, owned(&[(7, "x"), (8, "y"), (9, "z")]));
    let actions = log_actions(&path, 2);
    let count = |kind: &str| actions.iter().filter(|a| a.get(kind).is_some()).count();
    assert_eq!((count("remove"), count("add"), count("txn")), (2, 2, 1));

    // The old rows are still in the log's history, only no longer current.
    let reopened = Table::open(&path).await.unwrap();
    assert_eq!(reopened.version(), Some(2));
}

#[tokio::test]
async fn app_version_is_the_last_committed_per_app() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    assert_eq!(table.app_version("ferry-job-a").await.unwrap(), None);

    append(
        &mut table,
        &people(&[1], &["a"]),
        Some(AppTxn::new("ferry-job-a", 1)),
    )
    .await;
    append(
        &mut table,
        &people(&[2], &["b"]),
        Some(AppTxn::new("ferry-job-b", 1)),
    )
    .await;
    append(
        &mut table,
        &people(&[3], &["c"]),
        Some(AppTxn::new("ferry-job-a", 3)),
    )
    .await;
    append(&mut table, &people(&[4], &["d"]), None).await;

    let reopened = Table::open(&path).await.unwrap();
    for t in [&table, &reopened] {
        assert_eq!(t.app_version("ferry-job-a").await.unwrap(), Some(3));
        assert_eq!(t.app_version("ferry-job-b").await.unwrap(), Some(1));
        assert_eq!(t.app_version("ferry-job-c").await.unwrap(), None);
    }

    // Committing a version the table already holds would store those rows twice.
    let mut reopened = reopened;
    let staged = stage(&reopened, &[&people(&[9], &["dup"])]).await;
    let err = reopened
        .commit(
            staged,
            WriteMode::Append,
            Some(AppTxn::new("ferry-job-a", 3)),
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            TableError::AlreadyCommitted {
                committed: 3,
                version: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(reopened.version(), Some(3));
    assert_eq!(rows(&path).await.len(), 4);
}

#[tokio::test]
async fn staged_files_stay_invisible_until_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");

    // Before the table exists: files land in the directory, but there is still no table.
    let table = Table::open(&path).await.unwrap();
    let orphan = stage(&table, &[&people(&[5, 6], &["x", "y"])]).await;
    assert_eq!(orphan.files(), 1);
    drop(orphan);
    assert!(Table::open(&path).await.unwrap().version().is_none());
    assert!(read_table(&path).await.unwrap().is_empty());

    // After: the table keeps its rows and version.
    let mut table = Table::open(&path).await.unwrap();
    append(&mut table, &people(&[1], &["a"]), None).await;
    let _never_committed = stage(&table, &[&people(&[9, 9, 9], &["x", "y", "z"])]).await;
    let mut unfinished = table.writer(people(&[], &[]).schema()).unwrap();
    unfinished.write(&people(&[8], &["w"])).await.unwrap();
    drop(unfinished);
    assert_eq!(rows(&path).await, owned(&[(1, "a")]));
    assert_eq!(Table::open(&path).await.unwrap().version(), Some(0));
}

#[tokio::test]
async fn a_changed_column_type_is_refused_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    append(&mut table, &people(&[1], &["a"]), None).await;

    let wrong = batch(vec![("id", Arc::new(StringArray::from(vec!["one"])))]);
    // When the writer starts...
    let err = table.writer(wrong.schema()).err().unwrap();
    assert!(
        matches!(&err, TableError::SchemaMismatch { column, .. } if column == "id"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("column `id` is Int64 in the table but Utf8 in the new rows"),
        "{err}"
    );

    // ... when a batch disagrees with the writer's columns ...
    let mut w = table.writer(people(&[], &[]).schema()).unwrap();
    let err = w.write(&wrong).await.unwrap_err();
    assert!(err.to_string().contains("column `id`"), "{err}");
    w.write(&people(&[2], &["b"])).await.unwrap();
    assert_eq!(w.rows(), 1);

    // ... and when the table changed between a writer's start and its commit.
    let other = tempfile::tempdir().unwrap();
    let path2 = other.path().join("t");
    let mut fresh = Table::open(&path2).await.unwrap();
    let as_int = stage(
        &fresh,
        &[&batch(vec![("v", Arc::new(Int64Array::from(vec![1])))])],
    )
    .await;
    let as_text = stage(
        &fresh,
        &[&batch(vec![("v", Arc::new(StringArray::from(vec!["1"])))])],
    )
    .await;
    fresh
        .commit(as_int, WriteMode::Append, None, Default::default())
        .await
        .unwrap();
    let err = fresh
        .commit(as_text, WriteMode::Append, None, Default::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("column `v` is Int64 in the table but Utf8 in the new rows"),
        "{err}"
    );
    assert_eq!(fresh.version(), Some(0));
}

#[tokio::test]
async fn new_columns_are_added_by_the_commit_that_carries_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    append(&mut table, &people(&[1], &["a"]), None).await;

    // A later object has an extra column, and lacks `name`.
    let wider = batch(vec![
        ("id", Arc::new(Int64Array::from(vec![2]))),
        ("at", utc_micros(vec![Some(1_000_000)])),
    ]);
    let v = append(&mut table, &wider, None).await;
    assert_eq!(v, 1);
    assert!(
        log_actions(&path, 1)
            .iter()
            .any(|a| a.get("metaData").is_some())
    );
    let schema = Table::open(&path).await.unwrap().arrow_schema().unwrap();
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "name", "at"]);
    assert!(schema.fields().iter().all(|f| f.is_nullable()));

    // Every batch comes back with the table's columns; missing values are null.
    let back = read_table(&path).await.unwrap();
    assert!(back.iter().all(|b| b.schema() == schema));
    assert_eq!(rows(&path).await, owned(&[(1, "a"), (2, "null")]));
    let ats: Vec<Option<i64>> = back
        .iter()
        .flat_map(|b| {
            b.column_by_name("at")
                .unwrap()
                .as_primitive::<TimestampMicrosecondType>()
                .iter()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ats.iter().flatten().collect::<Vec<_>>(), [&1_000_000]);
    assert_eq!(ats.len(), 2);

    // A batch with a new column mid-object widens the writer too.
    let mut w = table.writer(people(&[], &[]).schema()).unwrap();
    w.write(&people(&[3], &["c"])).await.unwrap();
    w.write(&batch(vec![
        ("id", Arc::new(Int64Array::from(vec![4]))),
        ("score", Arc::new(Float64Array::from(vec![0.25]))),
    ]))
    .await
    .unwrap();
    let staged = w.finish().await.unwrap();
    table
        .commit(staged, WriteMode::Append, None, Default::default())
        .await
        .unwrap();
    let names: Vec<_> = table
        .arrow_schema()
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "name", "at", "score"]);
    assert_eq!(rows(&path).await.len(), 4);
}

#[tokio::test]
async fn a_large_object_rolls_into_several_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    let mut w = table
        .writer_with_target(people(&[], &[]).schema(), 256 << 10)
        .unwrap();
    let mut expected = 0i64;
    for chunk in 0..20 {
        let ids: Vec<i64> = (chunk * 10_000..(chunk + 1) * 10_000).collect();
        let names: Vec<String> = ids
            .iter()
            .map(|i| format!("name-{i}-{}", i * 7919))
            .collect();
        let b = batch(vec![
            ("id", Arc::new(Int64Array::from(ids.clone()))),
            ("name", Arc::new(StringArray::from(names))),
        ]);
        w.write(&b).await.unwrap();
        expected += ids.iter().sum::<i64>();
    }
    let staged = w.finish().await.unwrap();
    assert_eq!(staged.rows(), 200_000);
    assert!(staged.files() > 1, "{} files", staged.files());
    table
        .commit(staged, WriteMode::Append, None, Default::default())
        .await
        .unwrap();
    let back = read_table(&path).await.unwrap();
    let ids = back
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec());
    let (count, sum) = ids.fold((0, 0i64), |(c, s), v| (c + 1, s + v));
    assert_eq!((count, sum), (200_000, expected));
}

#[tokio::test]
async fn checkpoints_keep_transactions_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    for i in 0..101 {
        append(
            &mut table,
            &people(&[i], &["r"]),
            Some(AppTxn::new("app", i + 1)),
        )
        .await;
    }
    assert!(
        path.join("_delta_log/00000000000000000099.checkpoint.parquet")
            .exists(),
        "checkpoint at the 100th commit"
    );
    let reopened = Table::open(&path).await.unwrap();
    assert_eq!(reopened.version(), Some(100));
    assert_eq!(reopened.app_version("app").await.unwrap(), Some(101));
    assert_eq!(rows(&path).await.len(), 101);
}

#[tokio::test]
async fn a_stale_handle_appends_but_cannot_replace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut first = Table::open(&path).await.unwrap();
    append(&mut first, &people(&[1], &["a"]), None).await;
    let mut stale = Table::open(&path).await.unwrap();
    append(&mut first, &people(&[2], &["b"]), None).await;

    // Appends commute: the stale handle's commit is placed after the other one.
    let v = append(&mut stale, &people(&[3], &["c"]), None).await;
    assert_eq!(v, 2);
    // An overwrite read the table as it was: someone appended since, so it must not land.
    append(&mut first, &people(&[4], &["d"]), None).await;
    let staged = stage(&stale, &[&people(&[9], &["z"])]).await;
    let err = stale
        .commit(staged, WriteMode::Replace, None, Default::default())
        .await
        .unwrap_err();
    assert!(matches!(err, TableError::Conflict { .. }), "{err}");
    assert_eq!(rows(&path).await.len(), 4);
}

#[tokio::test]
async fn a_first_commit_needs_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    let err = table
        .commit(
            StagedFiles::default(),
            WriteMode::Replace,
            Some(AppTxn::new("app", 1)),
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, TableError::NoColumns { .. }), "{err}");
    assert!(!path.join("_delta_log").exists());

    // Once the table exists, an empty commit still records the transaction.
    append(
        &mut table,
        &people(&[1], &["a"]),
        Some(AppTxn::new("app", 1)),
    )
    .await;
    table
        .commit(
            StagedFiles::default(),
            WriteMode::Append,
            Some(AppTxn::new("app", 2)),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(table.app_version("app").await.unwrap(), Some(2));
    assert_eq!(rows(&path).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn memory_probe() {
    let path = Path::new("/tmp/memprobe/t");
    let _ = std::fs::remove_dir_all("/tmp/memprobe");
    let mut table = Table::open(path).await.unwrap();
    let schema = batch(vec![
        ("id", Arc::new(Int64Array::from(Vec::<i64>::new()))),
        ("x", Arc::new(Float64Array::from(Vec::<f64>::new()))),
        ("s", Arc::new(StringArray::from(Vec::<String>::new()))),
        ("at", utc_micros(vec![])),
    ])
    .schema();
    let target: u64 = std::env::var("PROBE_TARGET")
        .map(|v| v.parse().unwrap())
        .unwrap_or(128 << 20);
    let mut w = table.writer_with_target(schema, target).unwrap();
    let n = 65_536i64;
    let mut state = 0x2545F4914F6CDD1Du64;
    for chunk in 0..250 {
        let ids: Vec<i64> = (chunk * n..(chunk + 1) * n).collect();
        let s: Vec<String> = ids
            .iter()
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                format!("{state:016x}{:016x}", state.rotate_left(29))
            })
            .collect();
        let b = batch(vec![
            ("id", Arc::new(Int64Array::from(ids.clone()))),
            (
                "x",
                Arc::new(Float64Array::from(
                    ids.iter().map(|i| *i as f64 * 0.37).collect::<Vec<_>>(),
                )),
            ),
            ("s", Arc::new(StringArray::from(s))),
            (
                "at",
                utc_micros(ids.iter().map(|i| Some(i * 1_000_003)).collect()),
            ),
        ]);
        w.write(&b).await.unwrap();
    }
    let staged = w.finish().await.unwrap();
    eprintln!(
        "PROBE rows={} files={} bytes={}",
        staged.rows(),
        staged.files(),
        staged.bytes()
    );
    table
        .commit(staged, WriteMode::Append, None, Default::default())
        .await
        .unwrap();
}

mod maintenance;
