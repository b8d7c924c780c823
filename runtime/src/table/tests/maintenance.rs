//! Compaction and vacuum on real tables: rows unchanged, files that must stay stay.

use std::collections::HashSet;
use std::time::Duration;

use super::*;

/// Paths of the data files the table's current version references.
async fn live_files(path: &Path) -> HashSet<String> {
    let table = Table::open(path).await.unwrap();
    let state = table.delta.snapshot().unwrap();
    state
        .snapshot()
        .try_log_data()
        .unwrap()
        .iter()
        .map(|f| f.path().into_owned())
        .collect()
}

fn parquet_on_disk(path: &Path) -> HashSet<String> {
    std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet"))
        .collect()
}

#[tokio::test]
async fn compaction_rewrites_small_files_in_one_commit_and_keeps_replaceable_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    for i in 0..5 {
        append(
            &mut table,
            &people(&[i], &["x"]),
            Some(AppTxn::new("job", i + 1)),
        )
        .await;
    }
    let before = live_files(&path).await;
    assert_eq!(before.len(), 5);
    let handle = before.iter().next().unwrap().clone();
    let keep = HashSet::from([handle.clone()]);

    let report = table.compact(&keep, TARGET_FILE_BYTES).await.unwrap();
    assert_eq!(report.version, Some(5));
    assert_eq!(
        (report.files_removed, report.files_added, report.files_kept),
        (4, 1, 1)
    );
    assert_eq!(report.rows, 4);
    let after = live_files(&path).await;
    assert_eq!(after.len(), 2);
    assert!(
        after.contains(&handle),
        "the replaceable file stays as it was"
    );
    assert_eq!(
        rows(&path).await,
        owned(&[(0, "x"), (1, "x"), (2, "x"), (3, "x"), (4, "x")])
    );

    // One commit: removes and adds that change no data, and the job's transaction survives.
    let actions = log_actions(&path, 5);
    let removes: Vec<_> = actions.iter().filter_map(|a| a.get("remove")).collect();
    let adds: Vec<_> = actions.iter().filter_map(|a| a.get("add")).collect();
    assert_eq!((removes.len(), adds.len()), (4, 1));
    assert!(
        removes
            .iter()
            .chain(&adds)
            .all(|a| a["dataChange"] == false)
    );
    let info = actions.iter().find_map(|a| a.get("commitInfo")).unwrap();
    assert_eq!(info["operation"], "OPTIMIZE");
    assert_eq!(
        Table::open(&path)
            .await
            .unwrap()
            .app_version("job")
            .await
            .unwrap(),
        Some(5)
    );

    // The old files stay on disk for readers of older versions.
    assert_eq!(parquet_on_disk(&path).len(), 6);
    // Nothing left to do.
    let again = table.compact(&keep, TARGET_FILE_BYTES).await.unwrap();
    assert_eq!((again.version, again.files_removed), (None, 0));
}

#[tokio::test]
async fn a_compaction_and_appends_through_other_handles_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut job = Table::open(&path).await.unwrap();
    for i in 0..3 {
        append(
            &mut job,
            &people(&[i], &["a"]),
            Some(AppTxn::new("job", i + 1)),
        )
        .await;
    }
    // The compaction reads the table, then the job commits again before it lands.
    let mut maintenance = Table::open(&path).await.unwrap();
    append(&mut job, &people(&[3], &["a"]), Some(AppTxn::new("job", 4))).await;
    let report = maintenance
        .compact(&HashSet::new(), TARGET_FILE_BYTES)
        .await
        .unwrap();
    assert_eq!((report.files_removed, report.version), (3, Some(4)));
    // And the job, whose handle predates the compaction, goes on appending.
    append(&mut job, &people(&[4], &["a"]), Some(AppTxn::new("job", 5))).await;
    assert_eq!(
        rows(&path).await,
        owned(&[(0, "a"), (1, "a"), (2, "a"), (3, "a"), (4, "a")])
    );
    assert_eq!(live_files(&path).await.len(), 3);
}

#[tokio::test]
async fn a_compaction_loses_to_a_replace_that_removed_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut writer = Table::open(&path).await.unwrap();
    append(&mut writer, &people(&[1], &["a"]), None).await;
    append(&mut writer, &people(&[2], &["b"]), None).await;
    let mut maintenance = Table::open(&path).await.unwrap();
    let staged = stage(&writer, &[&people(&[9], &["z"])]).await;
    writer
        .commit(staged, WriteMode::Replace, None, Default::default())
        .await
        .unwrap();
    let err = maintenance
        .compact(&HashSet::new(), TARGET_FILE_BYTES)
        .await
        .unwrap_err();
    assert!(matches!(err, TableError::Conflict { .. }), "{err}");
    // The replace stands, with no compacted copy of the rows it removed.
    assert_eq!(rows(&path).await, owned(&[(9, "z")]));
}

#[tokio::test]
async fn vacuum_deletes_only_what_no_version_within_the_retention_needs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t");
    let mut table = Table::open(&path).await.unwrap();
    for i in 0..3 {
        append(&mut table, &people(&[i], &["a"]), None).await;
    }
    // A failed object's staged file: on disk, named by no commit.
    let orphan = stage(&table, &[&people(&[99], &["lost"])]).await;
    let orphan = orphan.paths().pop().unwrap();
    table
        .compact(&HashSet::new(), TARGET_FILE_BYTES)
        .await
        .unwrap();
    assert_eq!(parquet_on_disk(&path).len(), 5);

    // Within a week's retention everything is recent: nothing goes.
    let week = table.deleted_file_retention();
    assert_eq!(week, Duration::from_secs(7 * 86_400));
    let kept = table.vacuum(week, false).await.unwrap();
    assert!(kept.files_deleted.is_empty(), "{kept:?}");

    // A dry run lists without deleting.
    let dry = table.vacuum(Duration::ZERO, true).await.unwrap();
    assert_eq!(dry.files_deleted.len(), 4, "{dry:?}");
    assert_eq!(parquet_on_disk(&path).len(), 5);

    let done = table.vacuum(Duration::ZERO, false).await.unwrap();
    let deleted: HashSet<String> = done.files_deleted.iter().cloned().collect();
    assert_eq!(deleted.len(), 4);
    assert!(deleted.contains(&orphan), "{deleted:?}");
    // Every file the current version names is still there, and so is every row.
    let live = live_files(&path).await;
    assert!(deleted.is_disjoint(&live));
    assert_eq!(parquet_on_disk(&path), live);
    assert_eq!(rows(&path).await, owned(&[(0, "a"), (1, "a"), (2, "a")]));
}
