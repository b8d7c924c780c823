//! The engine in process: a store in a temporary home, the real built components (found as
//! `ferry` finds them), a real Delta table — no binary, no server. What the end-to-end tests
//! prove through `ferry run`, these prove piece by piece: an ingest's commits, how a crash
//! between a commit and its record is settled, how a job's outcome is decided.

use super::outcome::{Stop, decide};
use super::{Engine, NoProgress, Prepared, RunOptions};
use crate::context::Context;
use crate::credentials::SecretSource;
use crate::home::Home;
use crate::host::{CancelToken, Catalog};
use crate::store::{ExecutionStatus, FileFilter, FileStatus, HealthStatus, Job};
use crate::workflow::Workflow;

/// A temporary home with files to import.
struct Harness {
    dir: tempfile::TempDir,
    ctx: Context,
}

impl Harness {
    async fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context::open(
            Home::new(dir.path().join("home")),
            Catalog::from_env(),
            SecretSource::environment(),
        )
        .await
        .unwrap();
        Harness { dir, ctx }
    }

    fn engine(&self) -> Engine<'_> {
        Engine::new(&self.ctx)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A CSV import of `in/` into table `t`, in `mode`.
    fn prepared(&self, mode: &str) -> Prepared {
        self.prepared_with(mode, "")
    }

    /// The same, with more keys for the ingest step.
    fn prepared_with(&self, mode: &str, ingest: &str) -> Prepared {
        self.prepared_for("parser-csv", mode, ingest)
    }

    /// An import of `in/` with `parser` into table `t`, in `mode`, with more ingest keys.
    fn prepared_for(&self, parser: &str, mode: &str, ingest: &str) -> Prepared {
        let text = format!(
            r#"
[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "{parser}"
source_settings = {{ root = "/in" }}
grants.dirs = [{{ path = "in", mount = "/in" }}]

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "t"
mode = "{mode}"
{ingest}
"#
        );
        let workflow = Workflow::parse(&self.dir.path().join("wf.toml"), &text).unwrap();
        self.engine().prepare(&workflow).unwrap()
    }

    /// A new job for `prepared`, ingested to its end.
    async fn ingest(&self, prepared: &Prepared) -> (Job, Stop) {
        let engine = self.engine();
        let job = engine.create_job(prepared).await.unwrap();
        let stop = engine
            .ingest(
                job.id,
                prepared,
                &RunOptions::default(),
                &NoProgress,
                &CancelToken::default(),
            )
            .await
            .unwrap();
        (self.ctx.store.job(job.id).await.unwrap(), stop)
    }

    async fn files(&self, job: &Job) -> Vec<crate::store::JobFile> {
        let all = FileFilter::default();
        self.ctx.store.files(job.id, &all).await.unwrap()
    }

    /// The `id` column of table `t`, sorted.
    async fn ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = Vec::new();
        let table = self.ctx.home.table("t").unwrap();
        for b in crate::table::read_table(&table).await.unwrap() {
            let c = b.column_by_name("id").unwrap();
            let c = c
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap();
            ids.extend(c.values().iter());
        }
        ids.sort();
        ids
    }

    async fn rows(&self) -> usize {
        let table = self.ctx.home.table("t").unwrap();
        crate::table::read_table(&table)
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_commits_each_object_once_and_a_crash_after_a_commit_is_settled_from_the_table() {
    let h = Harness::new().await;
    h.write("in/a.csv", "id\n1\n2\n");
    h.write("in/b.csv", "id\n3\n");
    let prepared = h.prepared("append");
    let (job, stop) = h.ingest(&prepared).await;
    assert!(matches!(stop, Stop::Completed));
    assert_eq!((job.files.passed, job.metrics.num_rows_persisted), (2, 3));
    assert_eq!(h.rows().await, 3);

    // As if killed after b.csv's commit landed but before its status was recorded: the file
    // is `running` again, with the counts and commit version written ahead of the commit.
    let store = &h.ctx.store;
    store.start_file(job.id, 1).await.unwrap();
    let files = store.files(job.id, &FileFilter::default()).await.unwrap();
    assert_eq!(files[1].status, FileStatus::Running);
    let table = crate::table::Table::open(&h.ctx.home.table("t").unwrap())
        .await
        .unwrap();
    h.engine()
        .reconcile(job.id, &files, &table, &super::commit::app_id(job.id))
        .await
        .unwrap();
    let files = store.files(job.id, &FileFilter::default()).await.unwrap();
    assert_eq!(files[1].status, FileStatus::Passed, "{files:?}");
    assert_eq!(files[1].metrics.num_rows_persisted, 1);
    // Settled from the table, not read again.
    assert_eq!(h.rows().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replace_job_commits_once_at_the_end() {
    let h = Harness::new().await;
    h.write("in/a.csv", "id\n1\n2\n");
    let prepared = h.prepared("replace");
    h.ingest(&prepared).await;
    h.write("in/b.csv", "id\n3\n");
    let (job, _) = h.ingest(&prepared).await;
    assert_eq!(job.files.passed, 2);
    // The second job's rows replaced the first's: a, b once each.
    assert_eq!(h.rows().await, 3);
    let log = h.ctx.home.table("t").unwrap().join("_delta_log");
    let commits = std::fs::read_dir(log)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(commits, 2, "one commit per replace job");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn how_a_job_ends_follows_from_its_files() {
    let h = Harness::new().await;
    h.write("in/a.csv", "id\n1\n");
    h.write("in/bad.csv.gz", "not gzip");
    let prepared = h.prepared("append");
    let (job, stop) = h.ingest(&prepared).await;
    let (status, health, failure) = decide(&job, &stop);
    assert_eq!(status, ExecutionStatus::SuccessWithWarning);
    assert_eq!(health.status, HealthStatus::Warn);
    assert!(
        health.messages.iter().any(|m| m == "1 of 2 files failed"),
        "{health:?}"
    );
    assert!(failure.is_none());

    let mut all_failed = job.clone();
    all_failed.files.passed = 0;
    all_failed.files.failed = all_failed.files.total;
    let (status, _, failure) = decide(&all_failed, &Stop::Completed);
    assert_eq!(status, ExecutionStatus::Failed);
    assert_eq!(failure.unwrap().code, "all_files_failed");

    let mut nothing_new = job;
    nothing_new.files = Default::default();
    nothing_new.metrics = Default::default();
    nothing_new.already_imported = 4;
    let (status, health, _) = decide(&nothing_new, &Stop::Completed);
    assert_eq!(status, ExecutionStatus::NoRowsIngested);
    assert!(
        health.messages[0].starts_with("4 objects already imported"),
        "{health:?}"
    );
    let (status, _, _) = decide(&nothing_new, &Stop::Canceled);
    assert_eq!(status, ExecutionStatus::Canceled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_objects_share_commits_and_data_files_within_the_commit_bounds() {
    let h = Harness::new().await;
    for i in 0..25 {
        h.write(
            &format!("in/{i:02}.csv"),
            &format!("id\n{}\n{}\n", 2 * i, 2 * i + 1),
        );
    }
    h.write("in/13-bad.csv.gz", "not gzip");
    let prepared = h.prepared_with("append", "commit = { max_objects = 10 }");
    let (job, stop) = h.ingest(&prepared).await;
    assert!(matches!(stop, Stop::Completed));
    assert_eq!((job.files.passed, job.files.failed), (25, 1));
    assert_eq!(h.rows().await, 50);

    // 25 objects, at most 10 per commit: three commits, each one shared data file.
    let path = h.ctx.home.table("t").unwrap();
    let table = crate::table::Table::open(&path).await.unwrap();
    assert_eq!(table.version(), Some(2));
    let app = super::commit::app_id(job.id);
    assert_eq!(table.app_version(&app).await.unwrap(), Some(3));
    let info = crate::table::describe("t", &path).await.unwrap().unwrap();
    assert_eq!((info.files, info.rows), (3, Some(50)));

    // Each file knows the commit that carried it; the failed one none.
    let files = h.files(&job).await;
    let versions: Vec<Option<i64>> = files
        .iter()
        .filter(|f| f.status == FileStatus::Passed)
        .map(|f| f.table_version)
        .collect();
    let expected: Vec<Option<i64>> = (0..25).map(|i| Some(i / 10)).collect();
    assert_eq!(versions, expected);
    assert!(files.iter().all(|f| f.started_at.is_some()), "{files:?}");
    let bad = files.iter().find(|f| f.name == "13-bad.csv.gz").unwrap();
    assert_eq!((bad.status, bad.table_version), (FileStatus::Failed, None));

    // A second job imports only what is new (and retries the failed one); its commits carry
    // its own application's versions.
    h.write("in/99.csv", "id\n100\n");
    let (job2, _) = h.ingest(&prepared).await;
    assert_eq!((job2.files.passed, job2.files.failed), (1, 1));
    assert_eq!(h.rows().await, 51);
    let table = crate::table::Table::open(&path).await.unwrap();
    assert_eq!(table.version(), Some(3));
    let app2 = super::commit::app_id(job2.id);
    assert_eq!(table.app_version(&app2).await.unwrap(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reimport_each_object_keeps_its_own_files_and_is_replaced_in_a_shared_commit() {
    let h = Harness::new().await;
    for i in 0..4 {
        h.write(&format!("in/{i}.csv"), &format!("id\n{i}\n"));
    }
    let workflow = Workflow::parse(
        &h.dir.path().join("wf.toml"),
        r#"
name = "re"
[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "parser-csv"
on_change = "reimport"
source_settings = { root = "/in" }
grants.dirs = [{ path = "in", mount = "/in" }]

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "t"
"#,
    )
    .unwrap();
    let prepared = h.engine().prepare(&workflow).unwrap();
    let (job, _) = h.ingest(&prepared).await;
    assert_eq!(job.files.passed, 4);
    let path = h.ctx.home.table("t").unwrap();
    let info = crate::table::describe("t", &path).await.unwrap().unwrap();
    // One commit, but a data file per object: each can be replaced alone.
    assert_eq!((info.version, info.files), (0, 4));
    assert_eq!(h.ctx.store.replaceable_files("t").await.unwrap().len(), 4);

    // A changed object's new rows replace its old ones; the others stay.
    // Another size and modification time: another ETag.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    h.write("in/2.csv", "id\n20\n21\n");
    let (job2, _) = h.ingest(&prepared).await;
    assert_eq!(job2.files.passed, 1);
    assert_eq!(h.ids().await, vec![0, 1, 3, 20, 21]);
}

/// `rows` of `id,note`, about 20 MB (so three ranges of [`super::split::RANGE_BYTES`]), with a
/// note quoted around a line break every 1000 rows, a ragged row at each of `ragged`, and
/// whatever `odd(i)` returns as the note of row `i` when it says so. Returns the text, the
/// ids of the good rows and the (row, line) of each ragged one, counted as a reader of the
/// whole object counts them.
fn large_csv(
    ragged: &[u64],
    odd: impl Fn(u64) -> Option<&'static str>,
) -> (String, Vec<i64>, Vec<(u64, u64)>) {
    let mut text = String::from("id,note\n");
    let (mut line, mut ids, mut bad) = (2u64, Vec::new(), Vec::new());
    for i in 1..=500_000u64 {
        if ragged.contains(&i) {
            text.push_str("ragged\n");
            bad.push((i, line));
            line += 1;
            continue;
        }
        let row = match odd(i) {
            Some(note) => format!("{i},{note}\n"),
            None if i % 1000 == 0 => format!("{i},\"two\nlines, {i}\"\n"),
            None => format!("{i},a note of some length for row {i}\n"),
        };
        line += row.matches('\n').count() as u64;
        text.push_str(&row);
        ids.push(i as i64);
    }
    (text, ids, bad)
}

async fn ids_and_ragged(h: &Harness, job: &Job) -> (Vec<i64>, Vec<(u64, u64)>) {
    let ids = h.ids().await;
    let ragged = h
        .ctx
        .store
        .parse_exceptions(job.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.diagnostic.code == "ragged_row")
        .map(|e| (e.diagnostic.row, e.diagnostic.line.unwrap()))
        .collect();
    (ids, ragged)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_csv_is_parsed_in_ranges_with_the_objects_own_row_and_line_numbers() {
    let h = Harness::new().await;
    // Ragged rows in the first, second and last range.
    let (text, ids, ragged) = large_csv(&[3, 250_001, 499_999], |_| None);
    assert!(
        text.len() > 2 * super::split::RANGE_BYTES,
        "{} bytes",
        text.len()
    );
    h.write("in/big.csv", &text);
    let prepared = h.prepared("append");
    assert!(prepared.splitting.is_some(), "ferry's parser-csv is split");
    let (job, stop) = h.ingest(&prepared).await;
    assert!(matches!(stop, Stop::Completed));
    assert_eq!(job.metrics.num_rows_persisted, ids.len() as u64);
    assert_eq!(job.metrics.num_rows_skipped_by_error, 3);
    let (read, found) = ids_and_ragged(&h, &job).await;
    assert_eq!(read, ids, "every row once");
    assert_eq!(found, ragged, "rows and lines of the whole object");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_that_fools_the_cutter_falls_back_to_one_piece() {
    let h = Harness::new().await;
    // A quote inside an unquoted field (literal, as csv-core reads it) makes the cutter's count
    // odd, so its first cut falls inside the next quoted line break, past the first range.
    let (text, ids, ragged) = large_csv(&[260_001], |i| (i == 10).then_some("x\"y"));
    h.write("in/odd.csv", &text);
    let prepared = h.prepared("append");
    let (job, _) = h.ingest(&prepared).await;
    assert_eq!((job.files.passed, job.files.failed), (1, 0));
    let (read, found) = ids_and_ragged(&h, &job).await;
    assert_eq!(read, ids, "every row once");
    assert_eq!(found, ragged);
    // The notes with line breaks are whole.
    let notes: usize = crate::table::read_table(&h.ctx.home.table("t").unwrap())
        .await
        .unwrap()
        .iter()
        .map(|b| {
            let c = b.column_by_name("note").unwrap();
            let c = c
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .unwrap();
            c.iter()
                .filter(|v| v.is_some_and(|v| v.starts_with("two\nlines, ")))
                .count()
        })
        .sum();
    assert_eq!(notes, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_ndjson_object_is_parsed_in_ranges_with_its_own_row_and_line_numbers() {
    let h = Harness::new().await;
    let (mut text, mut ids, mut bad) = (String::new(), Vec::new(), Vec::new());
    let (mut row, mut line) = (0u64, 1u64);
    for i in 1..=300_000i64 {
        if i % 50_000 == 0 {
            text.push('\n'); // a blank line: no row
            line += 1;
        }
        row += 1;
        if i == 7 || i == 150_001 || i == 299_999 {
            text.push_str("{\"id\": broken\n");
            bad.push((row, line));
        } else {
            text.push_str(&format!(
                "{{\"id\":{i},\"note\":\"a \\\"quoted\\\" note, row {i}\"}}\n"
            ));
            ids.push(i);
        }
        line += 1;
    }
    assert!(
        text.len() > 2 * super::split::RANGE_BYTES,
        "{} bytes",
        text.len()
    );
    h.write("in/big.ndjson", &text);
    let prepared = h.prepared_for("parser-ndjson", "append", "");
    assert_eq!(prepared.splitting, Some(super::split::Splitting::Lines));
    let (job, _) = h.ingest(&prepared).await;
    assert_eq!(job.metrics.num_rows_persisted, ids.len() as u64);
    assert_eq!(h.ids().await, ids, "every row once");
    let found: Vec<(u64, u64)> = h
        .ctx
        .store
        .parse_exceptions(job.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.diagnostic.row, e.diagnostic.line.unwrap()))
        .collect();
    assert_eq!(found, bad, "rows and lines of the whole object");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_left_open_in_the_last_range_fails_the_file_naming_its_own_row_and_line() {
    let h = Harness::new().await;
    let (mut text, _, _) = large_csv(&[], |_| None);
    let last_line = text.matches('\n').count() as u64 + 1;
    text.push_str("500001,\"never closed\n500002,x\n");
    h.write("in/open.csv", &text);
    let prepared = h.prepared("append");
    let (job, _) = h.ingest(&prepared).await;
    assert_eq!((job.files.passed, job.files.failed), (0, 1));
    let files = h.files(&job).await;
    let error = files[0].error.clone().unwrap();
    assert_eq!(error.code, "unterminated_quote");
    assert_eq!(error.row, Some(500_001));
    assert!(
        error
            .message
            .contains(&format!("starts on line {last_line} ")),
        "{}",
        error.message
    );
    // The ranges before it were read, as in one piece; nothing of the file was stored.
    assert!(
        job.metrics.num_rows_processed >= 450_000,
        "{:?}",
        job.metrics
    );
    assert_eq!(h.rows().await, 0);
}
