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
    let wf = env.write("wf.toml", wf + EACH_OBJECT_COMMITTED);
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
    use ferry::store::{NewFile, NewJob, PreparedFile, RowMetrics, Store, now};
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
        let metrics = RowMetrics {
            num_rows_processed: 2,
            num_rows_persisted: 2,
            ..Default::default()
        };
        let file = PreparedFile {
            seq: 0,
            started_at: &now(),
            metrics: &metrics,
            data_files: &[],
        };
        store.prepare_commit(job.id, &[file], 1).await.unwrap();
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

/// Grouped commits under kill -9 at random moments: a thousand small objects, 50 per commit,
/// the job killed three times wherever it happens to be (listing, parsing, between a commit
/// and its record) and resumed each time; in the end every row is in the table exactly once.
#[test]
fn a_thousand_object_job_killed_at_random_moments_stores_every_row_once() {
    use std::process::Stdio;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    let env = Env::new();
    for i in 0..1000 {
        env.write(
            &format!("in/{i:04}.csv"),
            format!("id\n{}\n{}\n", 2 * i, 2 * i + 1),
        );
    }
    let wf = simple_workflow("t", "in", "parser-csv", "", "") + "commit = { max_objects = 50 }\n";
    let wf = env.write("wf.toml", wf);
    let wf = wf.to_str().unwrap();
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}");
    let mut next = move || {
        // xorshift: reproducible from the printed seed.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let spawn = |args: &[&str]| {
        env.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let job_id = || {
        let (_, page) = env.json(&["jobs", "list"]);
        page["items"][0]["id"].as_str().map(str::to_owned)
    };

    let mut child = spawn(&["run", wf]);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(150 + next() % 900));
        child.kill().unwrap();
        child.wait().unwrap();
        let (_, page) = env.json(&["jobs", "list"]);
        eprintln!(
            "killed: {} with {} files passed",
            page["items"][0]["executionStatus"], page["items"][0]["files"]["passed"]
        );
        child = match job_id() {
            Some(id) => spawn(&["jobs", "resume", &id]),
            // Killed before the job was recorded: start it again.
            None => spawn(&["run", wf]),
        };
    }
    // The last resume runs to its end (or was refused: the job had ended before a kill).
    child.wait().unwrap();
    let id = job_id().expect("a job was recorded");
    let (_, job) = env.json(&["jobs", "show", &id]);
    if job["executionStatus"] == "RUNNING" {
        // The last resume was refused or raced a kill: finish the job now.
        let (code, job) = env.json(&["jobs", "resume", &id]);
        assert_eq!(code, 0, "{job}");
    }
    let (_, job) = env.json(&["jobs", "show", &id]);
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(job["files"]["passed"], 1000, "{job}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 2000, "{job}");
    let mut ids: Vec<i64> = column_text(&env.table("t"), "id")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, (0..2000).collect::<Vec<_>>(), "every row exactly once");
}
