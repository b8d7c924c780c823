//! Parquet, Avro and Arrow IPC files written by independent writers (pyarrow, fastavro) go
//! through ferry's file parsers into a Delta table, which the `deltalake` Python package reads
//! back: every value is compared with what the writer's own reader sees. Broken files fail
//! alone, named; a plugin built for WIT 0.1 still runs; `ferry validate` checks settings
//! against what a plugin says it takes.

use std::path::Path;
use std::process::Command;

use crate::support::*;

fn python(args: &[&str]) -> std::process::Output {
    Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("tests/formats/files.py"))
        .args(args)
        .output()
        .unwrap()
}

fn run_python(args: &[&str]) -> String {
    let out = python(args);
    assert!(
        out.status.success(),
        "files.py {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn workflow(env: &Env, name: &str, dir: &Path, parser: &str, settings: &str) -> String {
    let wf = env.write(
        &format!("{name}.toml"),
        simple_workflow(name, dir.to_str().unwrap(), parser, settings, ""),
    );
    wf.to_str().unwrap().to_owned()
}

#[test]
fn parquet_avro_and_arrow_files_are_stored_value_for_value() {
    let env = Env::new();
    let files = env.path("files");
    run_python(&["write", files.to_str().unwrap()]);
    for (format, parser) in [
        ("parquet", "parser-parquet"),
        ("avro", "parser-avro"),
        ("arrow", "parser-arrow"),
    ] {
        let wf = workflow(&env, format, &files.join(format), parser, "");
        let (code, job) = env.json(&["run", &wf]);
        assert_eq!(code, 0, "{format}: {job}");
        assert_eq!(job["executionStatus"], "SUCCESS", "{format}: {job}");
        assert_eq!(job["files"]["passed"], 2, "{format}: {job}");
        assert_eq!(job["metrics"]["numRowsPersisted"], 5000, "{format}: {job}");
        let table = env.home().join("tables").join(format);
        let checked = run_python(&[
            "check",
            table.to_str().unwrap(),
            files.join(format).to_str().unwrap(),
            format,
        ]);
        assert!(checked.contains("5000 rows, 12 columns equal"), "{checked}");
    }
    // Nothing of the copies the file parsers read is left behind.
    let spool = env.home().join("tmp/objects");
    let left: Vec<_> = std::fs::read_dir(&spool)
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_validate_step_over_parquet_keeps_its_typed_columns() {
    let env = Env::new();
    let files = env.path("files");
    run_python(&["write", files.to_str().unwrap()]);
    let dir = files.join("parquet");
    let import = simple_workflow("t", dir.to_str().unwrap(), "parser-parquet", "", "");
    let (import, _ingest) = import.split_at(import.find("[[steps]]\nname = \"ingest\"").unwrap());
    let wf = env.write(
        "wf.toml",
        format!(
            r#"{import}
[[steps]]
name = "validate"
kind = "validate"
input = "import"
schema.prediction_id = "id"
schema.prediction_score = "score"
columns = {{ emb = {{ type = "float32[]" }}, day = {{ type = "date" }} }}

[[steps]]
name = "ingest"
kind = "ingest"
input = "validate"
table = "t"
"#
        ),
    );
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    let batches = env.table("t");
    let schema = batches[0].schema();
    let mut names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["day", "emb", "prediction_id", "prediction_score"],
        "{schema:?}"
    );
    use arrow::datatypes::DataType;
    let ty = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(ty("day"), DataType::Date32);
    assert!(
        matches!(ty("emb"), DataType::List(ref item) if item.data_type() == &DataType::Float32),
        "{:?}",
        ty("emb")
    );
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 5000);
}

#[test]
fn broken_files_fail_alone_and_say_where() {
    let env = Env::new();
    let bad = env.path("bad");
    run_python(&["bad", bad.to_str().unwrap()]);
    let good = env.path("good");
    run_python(&["write", good.to_str().unwrap()]);
    std::fs::copy(good.join("parquet/a.parquet"), bad.join("good.parquet")).unwrap();
    for (parser, file, code) in [
        ("parser-parquet", "footer.parquet", "invalid_parquet"),
        ("parser-parquet", "cut.parquet", "truncated_file"),
        ("parser-parquet", "zstd.parquet", "unsupported_codec"),
        ("parser-avro", "sync.avro", "invalid_avro"),
        ("parser-arrow", "cut.arrows", "truncated_file"),
    ] {
        let dir = env.path(&format!("one-{file}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(bad.join(file), dir.join(file)).unwrap();
        if parser == "parser-parquet" {
            std::fs::copy(bad.join("good.parquet"), dir.join("good.parquet")).unwrap();
        }
        let name = file.replace('.', "_");
        let wf = workflow(&env, &name, &dir, parser, "");
        let (exit, job) = env.json(&["run", &wf]);
        let (_, files) = env.json(&["jobs", "files", job["id"].as_str().unwrap()]);
        let files = files["items"].as_array().unwrap();
        let failed = files.iter().find(|f| f["name"] == file).unwrap();
        assert_eq!(failed["status"], "failed", "{file}: {failed}");
        assert_eq!(failed["error"]["code"], code, "{file}: {failed}");
        let message = failed["error"]["message"].as_str().unwrap();
        assert!(message.contains(file), "{file}: {message}");
        if parser == "parser-parquet" {
            // The good file beside it is stored whole, and the exit code says one failed.
            assert_eq!(exit, 3, "{job}");
            let good = files.iter().find(|f| f["name"] == "good.parquet").unwrap();
            assert_eq!(good["status"], "passed", "{good}");
            assert_eq!(good["metrics"]["numRowsPersisted"], 2500, "{good}");
        }
    }
}

#[test]
fn a_plugin_built_for_wit_0_1_still_runs() {
    let env = Env::new();
    env.write("in/a.txt", "1\n2\nnot a number\n40\n");
    let wf = env.write(
        "wf.toml",
        simple_workflow("t", "in", "test-v01-parser", "", ""),
    );
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 3, "{job}");
    assert_eq!(job["metrics"]["numRowsSkippedByError"], 1, "{job}");
    let mut n = column_text(&env.table("t"), "n");
    n.sort();
    assert_eq!(n, ["1", "2", "40"]);
}

#[test]
fn validate_checks_settings_against_what_the_plugin_describes() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("in")).unwrap();
    let wf = env.write(
        "wf.toml",
        simple_workflow("t", "in", "parser-parquet", "batch_sise = 10", ""),
    );
    let out = env.ferry(&["validate", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78), "{}", stdout(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("`parser-parquet` has no setting `batch_sise` (did you mean `batch_size`?)"),
        "{text}"
    );
    let wf = env.write(
        "wf2.toml",
        simple_workflow("t", "in", "parser-parquet", "batch_size = \"ten\"", ""),
    );
    let out = env.ferry(&["validate", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78), "{}", stdout(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("must be a whole number"), "{text}");
}
