use std::sync::Arc;

use arrow::array::{
    Array, AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, TimeUnit};

use super::*;

fn batch(ids: &[i64], names: &[&str]) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(names.to_vec())),
        ],
    )
    .unwrap()
}

async fn stage(table: &Table, b: &RecordBatch) -> StagedFiles {
    let mut w = table.writer(b.schema()).unwrap();
    w.write(b).await.unwrap();
    w.finish().await.unwrap()
}

fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    let mut out: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("id")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn commits_append_and_record_application_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    assert!(table.arrow_schema().is_none());
    assert_eq!(table.app_version("job-a").await.unwrap(), None);

    let staged = stage(&table, &batch(&[1, 2], &["a", "b"])).await;
    assert_eq!(staged.rows, 2);
    table
        .commit(
            staged,
            WriteMode::Append,
            Some(AppTxn::new("job-a", 1)),
            Default::default(),
        )
        .await
        .unwrap();
    let staged = stage(&table, &batch(&[3], &["c"])).await;
    table
        .commit(
            staged,
            WriteMode::Append,
            Some(AppTxn::new("job-a", 2)),
            Default::default(),
        )
        .await
        .unwrap();

    let reopened = Table::open(&path).await.unwrap();
    assert_eq!(reopened.app_version("job-a").await.unwrap(), Some(2));
    assert_eq!(reopened.app_version("job-b").await.unwrap(), None);
    assert_eq!(ids(&read_table(&path).await.unwrap()), [1, 2, 3]);
}

#[tokio::test]
async fn staged_files_stay_invisible_until_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    let staged = stage(&table, &batch(&[1], &["a"])).await;
    table
        .commit(staged, WriteMode::Append, None, Default::default())
        .await
        .unwrap();
    let _never_committed = stage(&table, &batch(&[9, 9, 9], &["x", "y", "z"])).await;
    assert_eq!(ids(&read_table(&path).await.unwrap()), [1]);
}

#[tokio::test]
async fn replace_drops_old_rows_in_the_same_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    let staged = stage(&table, &batch(&[1, 2], &["a", "b"])).await;
    table
        .commit(staged, WriteMode::Append, None, Default::default())
        .await
        .unwrap();
    let before = table.version().unwrap();
    let staged = stage(&table, &batch(&[7], &["z"])).await;
    let after = table
        .commit(staged, WriteMode::Replace, None, Default::default())
        .await
        .unwrap();
    assert_eq!(after, before + 1, "one commit");
    assert_eq!(ids(&read_table(&path).await.unwrap()), [7]);
}

#[tokio::test]
async fn a_changed_column_type_is_refused_and_new_columns_are_added() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    let staged = stage(&table, &batch(&[1], &["a"])).await;
    table
        .commit(staged, WriteMode::Append, None, Default::default())
        .await
        .unwrap();

    let wider = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![2])),
            Arc::new(StringArray::from(vec!["b"])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![1_724_061_600_000_000]).with_timezone("UTC"),
            ),
        ],
    )
    .unwrap();
    let staged = stage(&table, &wider).await;
    table
        .commit(staged, WriteMode::Append, None, Default::default())
        .await
        .unwrap();
    let schema = table.arrow_schema().unwrap();
    assert_eq!(schema.fields().len(), 3);
    let rows = read_table(&path).await.unwrap();
    let ts = rows.iter().find(|b| b.num_columns() == 3).unwrap();
    assert_eq!(
        ts.column(2)
            .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
            .value(0),
        1_724_061_600_000_000
    );

    let wrong = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, true)])),
        vec![Arc::new(StringArray::from(vec!["nope"]))],
    )
    .unwrap();
    let staged = stage(&table, &wrong).await;
    let err = table
        .commit(staged, WriteMode::Append, None, Default::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("column `id` is Int64 in the table but Utf8"),
        "{err}"
    );
    assert!(ts.column(0).len() == 1);
}
