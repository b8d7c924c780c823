//! A job killed mid-way resumes at its first file not passed, and no row is stored twice.

use crate::support::*;

#[test]
fn a_killed_job_resumes_without_losing_or_duplicating_rows() {
    let env = Env::new();
    // Eight objects of distinct sizes; the slow parser turns each into one row holding its size.
    let sizes: Vec<usize> = (1..=8).map(|i| i * 11).collect();
    for (i, size) in sizes.iter().enumerate() {
        env.write(&format!("in/{i:02}.bin"), vec![b'x'; *size]);
    }
    let wf = simple_workflow("t", "in", "test-misbehave", "mode = \"slow\", ms = 400", "");
    let wf = env.write("wf.toml", wf);
    let mut child = env
        .command(&["run", wf.to_str().unwrap(), "--json"])
        .spawn()
        .unwrap();

    // Wait until some files are committed, then kill -9 in the middle of the job.
    let id = wait_for_passed_files(&env, 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, job) = env.json(&["jobs", "show", &id]);
    assert_eq!(
        job["executionStatus"], "RUNNING",
        "a killed job is left resumable"
    );
    let committed = row_count(&env.table("t"));
    assert!(
        (2..8).contains(&committed),
        "killed mid-way, {committed} rows in"
    );

    let (code, job) = env.json(&["jobs", "resume", &id]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(job["files"]["passed"], 8);
    assert_eq!(job["metrics"]["numRowsPersisted"], 8);
    let mut stored: Vec<usize> = column_text(&env.table("t"), "n")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    stored.sort();
    assert_eq!(stored, sizes, "every object exactly once");

    // Terminal now: resuming again is refused.
    let again = env.ferry(&["jobs", "resume", &id]);
    assert!(!again.status.success());
}

/// The narrowest window: the process dies after an object's table commit but before its
/// status is recorded. The resume must find the commit in the table (by its application
/// transaction) and not read the object again.
#[test]
fn a_commit_without_its_status_is_recognised_on_resume() {
    use std::sync::Arc;

    use arrow::array::{RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use ferry::store::{NewFile, NewJob, RowMetrics, Store};
    use ferry::table::{AppTxn, Table, WriteMode};

    let env = Env::new();
    env.write("in/a.csv", "id\nfrom-a-1\nfrom-a-2\n");
    env.write("in/b.csv", "id\nfrom-b\n");
    let wf = env.write("wf.toml", simple_workflow("t", "in", "parser-csv", "", ""));
    let text = std::fs::read_to_string(&wf).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let id = runtime.block_on(async {
        let store = Store::open(&env.home().join("ferry.db")).await.unwrap();
        let job = store
            .create_job(&NewJob {
                workflow: "wf".into(),
                workflow_path: wf.display().to_string(),
                workflow_text: text,
                table: "t".into(),
                source_id: String::new(),
            })
            .await
            .unwrap();
        let files = ["a.csv", "b.csv"].map(|n| NewFile {
            name: n.into(),
            size: 1,
            etag: None,
        });
        store.add_files(job.id, &files).await.unwrap();
        // A runner that no longer exists had started a.csv ...
        store.mark_running(job.id, u32::MAX - 1).await.unwrap();
        store.start_file(job.id, 0).await.unwrap();
        let metrics = RowMetrics {
            num_rows_processed: 2,
            num_rows_persisted: 2,
            ..Default::default()
        };
        store
            .prepare_commit(job.id, 0, &metrics, 1, &[])
            .await
            .unwrap();
        // ... and committed it (marked rows, to tell them from a re-read), then died.
        let mut table = Table::open(&env.home().join("tables/t")).await.unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec![
                "committed-1",
                "committed-2",
            ]))],
        )
        .unwrap();
        let mut writer = table.writer(schema).unwrap();
        writer.write(&batch).await.unwrap();
        let staged = writer.finish().await.unwrap();
        let app = format!("ferry-job-{}", job.id);
        table
            .commit(
                staged,
                WriteMode::Append,
                Some(AppTxn::new(&app, 1)),
                Default::default(),
            )
            .await
            .unwrap();
        job.id.to_string()
    });

    let (code, job) = env.json(&["jobs", "resume", &id]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS");
    assert_eq!(job["files"]["passed"], 2);
    assert_eq!(job["metrics"]["numRowsPersisted"], 3);
    let mut ids = column_text(&env.table("t"), "id");
    ids.sort();
    assert_eq!(
        ids,
        ["committed-1", "committed-2", "from-b"],
        "a.csv was not read again"
    );
}
