//! Test fixtures: a scratch state dir and workflow dir per test, a way to run `ferry`, and a
//! Delta table reader that replays `_delta_log` and reads the Parquet files itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::{Array, RecordBatch};
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file under the scratch dir, creating parents.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
        cmd.arg("--home")
            .arg(self.home())
            .args(args)
            .env_remove("FERRY_HOME")
            .env("FERRY_LOG", "warn");
        cmd
    }

    pub fn ferry(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs ferry and insists it succeeds.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.ferry(args);
        assert!(
            out.status.success(),
            "ferry {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs ferry with `--json` appended and parses stdout.
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ferry(&all);
        let code = out.status.code().unwrap_or(-1);
        let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "ferry {args:?} printed no JSON ({e}); exit {code}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, value)
    }

    pub fn table(&self, name: &str) -> Vec<RecordBatch> {
        read_delta(&self.home().join("tables").join(name))
    }
}

/// Waits until the newest job has `passed` files committed, and returns its id.
pub fn wait_for_passed_files(env: &Env, passed: u64) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
        let (_, page) = env.json(&["jobs", "list"]);
        if let Some(job) = page["items"].as_array().unwrap().first()
            && job["files"]["passed"].as_u64().unwrap() >= passed
        {
            return job["id"].as_str().unwrap().to_owned();
        }
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Reads a Delta table the long way: replay add/remove actions of every commit in order, then
/// read each live Parquet file.
pub fn read_delta(table: &Path) -> Vec<RecordBatch> {
    let log = table.join("_delta_log");
    let mut commits: Vec<PathBuf> = std::fs::read_dir(&log)
        .unwrap_or_else(|e| panic!("{} is not a Delta table: {e}", table.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    commits.sort();
    let mut live: Vec<String> = Vec::new();
    for commit in commits {
        for line in std::fs::read_to_string(&commit).unwrap().lines() {
            let action: Value = serde_json::from_str(line).unwrap();
            if let Some(add) = action.get("add") {
                live.push(add["path"].as_str().unwrap().to_owned());
            }
            if let Some(remove) = action.get("remove") {
                let path = remove["path"].as_str().unwrap();
                live.retain(|p| p != path);
            }
        }
    }
    let mut batches = Vec::new();
    for file in live {
        let path = table.join(percent_decode(&file));
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        batches.extend(reader.map(|b| b.unwrap()));
    }
    batches
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

pub fn row_count(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// Every value of a column as text (nulls as "null"), in table order.
pub fn column_text(batches: &[RecordBatch], column: &str) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let array = b
            .column_by_name(column)
            .unwrap_or_else(|| panic!("no column {column} in {:?}", b.schema()));
        for i in 0..array.len() {
            out.push(if array.is_null(i) {
                "null".to_owned()
            } else {
                arrow::util::display::array_value_to_string(array, i).unwrap()
            });
        }
    }
    out
}

/// A workflow with one import from `dir` (relative to the workflow), a parser and settings.
/// Appended to a workflow whose last step is the ingest step: every object in its own commit, for
/// tests that watch files pass one by one in a slow job.
pub const EACH_OBJECT_COMMITTED: &str = "commit = { max_objects = 1 }\n";

/// Appends [`EACH_OBJECT_COMMITTED`] to the workflow file at `path`.
pub fn commit_each_object(path: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(EACH_OBJECT_COMMITTED.as_bytes()).unwrap();
}

pub fn simple_workflow(
    table: &str,
    dir: &str,
    parser: &str,
    parser_settings: &str,
    extra_import: &str,
) -> String {
    format!(
        r#"
[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "{parser}"
source_settings = {{ root = "/in" }}
parser_settings = {{ {parser_settings} }}
grants.dirs = [{{ path = "{dir}", mount = "/in" }}]
{extra_import}

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "{table}"
"#
    )
}

/// What `script` prints about the table at `sys.argv[1]` (and `args` after it), run with
/// delta-rs's Python reader (`DeltaTable`) and pandas at hand.
///
/// The script leaves by `os._exit` once its answer is flushed: pyarrow 26's dataset scan
/// threads can abort the interpreter's teardown ("terminate called without an active
/// exception", about one exit in three), which would fail the test on a reader's bug.
pub fn deltalake(script: &str, table: &Path, args: &[&Path]) -> String {
    let script = format!(
        "import os, sys, json\nfrom deltalake import DeltaTable\n{script}\nsys.stdout.flush()\nos._exit(0)"
    );
    let out = Command::new(repo().join(".venv/bin/python"))
        .args(["-c", &script])
        .arg(table)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}
