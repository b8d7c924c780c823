//! `ferry test`: a workflow's `[[tests]]` run through the real parser, decompression and
//! validate mapping, on inputs given inline or as files. Nothing is written: no table, no job,
//! no ledger; the source plugin is not called (the test names the object's bytes).

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::download::Chunk;
use super::file::{FileContext, FileFailure, FileReport, Sink, process};
use super::{Engine, EngineError, Prepared};
use crate::host::{CancelToken, InstanceOptions, PluginError};
use crate::workflow::{ExpectedDiagnostic, TestCase, TestInput};

/// Rows kept per test for comparison; a test that expects more fails saying so.
const MAX_ROWS: usize = 100_000;

/// One test's outcome: `failures` is empty when it passed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestReport {
    pub name: String,
    pub passed: bool,
    /// Each a line of expected-versus-got (`expect.count: expected 2, got 3`).
    pub failures: Vec<String>,
    /// For rows: the lines of a diff, `-` expected and `+` got, ` ` the same.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<String>,
}

impl Engine<'_> {
    /// Runs every `[[tests]]` of the prepared workflow, in order.
    pub async fn run_tests(&self, prepared: &Prepared) -> Result<Vec<TestReport>, EngineError> {
        let mut reports = Vec::new();
        for case in &prepared.workflow.tests {
            reports.push(self.run_test(prepared, case).await?);
        }
        Ok(reports)
    }

    async fn run_test(
        &self,
        prepared: &Prepared,
        case: &TestCase,
    ) -> Result<TestReport, EngineError> {
        let workflow = &prepared.workflow;
        // A file is opened here, so a missing one is the test's error, then read as it is parsed.
        let input = match &case.input {
            TestInput::Text(text) => Feed::Text(text.clone()),
            TestInput::File(path) => {
                let file = tokio::fs::File::open(path).await.map_err(|e| {
                    EngineError::NoSuchObject(format!(
                        "test `{}`: cannot read {}: {e}",
                        case.name,
                        path.display()
                    ))
                })?;
                Feed::File(path.clone(), file)
            }
        };
        let options = InstanceOptions {
            step: workflow.import.name.as_str().into(),
            sandbox: prepared.parser_sandbox.clone(),
            limits: prepared.limits,
            cancel: CancelToken::default(),
        };
        let mut parser = self.host.parser(&prepared.parser, &options).await?;
        // The chunks a download would deliver, a few at a time, so memory does not grow with
        // the input file.
        let (tx, mut chunks) = mpsc::channel(2);
        let feeder = tokio::spawn(feed(input, tx));
        let mut schema = None;
        let mut report = FileReport::default();
        let mut sink = Sink::Preview {
            batches: Vec::new(),
            limit: MAX_ROWS,
        };
        let spool = self.home.spool();
        let on_bytes = |_| {};
        let mut ctx = FileContext {
            mapping: &prepared.mapping,
            compression: workflow.import.compression,
            decompression: &workflow.import.decompression,
            schema: &mut schema,
            exceptions_before: 0,
            max_exceptions: workflow.ingest.max_parse_exceptions,
            on_bytes: &on_bytes,
            spool: &spool,
        };
        let result = process(
            &case.key,
            &mut chunks,
            &mut parser,
            &mut ctx,
            &mut sink,
            &mut report,
        )
        .await;
        drop(chunks);
        let _ = feeder.await;
        let error = match result {
            Ok(()) => None,
            Err(FileFailure::File(e)) | Err(FileFailure::TooManyExceptions(e)) => Some(e),
            Err(FileFailure::Canceled) => None,
            Err(FileFailure::Table(e)) => return Err(e.into()),
        };
        let Sink::Preview { batches, .. } = sink else {
            unreachable!("preview sink")
        };
        let rows = super::dry_run::to_json_rows(&batches);
        let expect = &case.expect;
        let mut failures = Vec::new();
        let mut diff = Vec::new();
        match (&expect.error, &error) {
            (Some(want), Some(got)) if *want != got.code => failures.push(format!(
                "expect.error: expected `{want}`, got `{}` ({})",
                got.code, got.message
            )),
            (Some(want), None) => failures.push(format!(
                "expect.error: expected `{want}`, the object passed"
            )),
            (None, Some(got)) => {
                failures.push(format!("the object failed: {} [{}]", got.message, got.code))
            }
            _ => {}
        }
        let persisted = report.metrics.num_rows_persisted;
        if let Some(want) = expect.count
            && want != persisted
        {
            failures.push(format!("expect.count: expected {want}, got {persisted}"));
        }
        if let Some(want) = &expect.diagnostics {
            let mut want = want.clone();
            want.sort();
            let mut got: Vec<ExpectedDiagnostic> = report
                .diagnostics
                .iter()
                .map(|d| ExpectedDiagnostic {
                    code: d.code.clone(),
                    row: want
                        .iter()
                        .any(|w| w.code == d.code && w.row.is_some())
                        .then_some(d.row),
                })
                .collect();
            got.sort();
            if want != got {
                let show = |list: &[ExpectedDiagnostic]| {
                    list.iter()
                        .map(|d| match d.row {
                            Some(row) => format!("{} at row {row}", d.code),
                            None => d.code.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let detail: Vec<String> = report
                    .diagnostics
                    .iter()
                    .map(|d| format!("row {}: {} [{}]", d.row, d.message, d.code))
                    .collect();
                failures.push(format!(
                    "expect.diagnostics: expected [{}], got [{}]{}",
                    show(&want),
                    show(&got),
                    if detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", detail.join("; "))
                    }
                ));
            }
        }
        if let Some(want) = &expect.rows {
            diff = rows_diff(want, &rows);
            if diff.iter().any(|l| !l.starts_with(' ')) {
                failures.push(format!(
                    "expect.rows: {} expected, {} got; the rows differ:",
                    want.len(),
                    rows.len()
                ));
            } else {
                diff.clear();
            }
        }
        Ok(TestReport {
            name: case.name.clone(),
            passed: failures.is_empty(),
            failures,
            diff,
        })
    }
}

/// A test's input, ready to send.
enum Feed {
    Text(String),
    File(std::path::PathBuf, tokio::fs::File),
}

/// Sends a test's input as download chunks: the inline text, or the file read `CHUNK` at a
/// time. Stops when the receiver is gone (the parser failed).
async fn feed(input: Feed, tx: mpsc::Sender<Result<Chunk, PluginError>>) {
    use tokio::io::AsyncReadExt;
    let chunk = super::download::CHUNK as usize;
    match input {
        Feed::File(path, mut file) => loop {
            let mut buf = Vec::with_capacity(chunk);
            match (&mut file).take(chunk as u64).read_to_end(&mut buf).await {
                Ok(0) => break,
                Ok(_) => {
                    if tx.send(Ok(Chunk::Data(buf))).await.is_err() {
                        return;
                    }
                }
                Err(source) => {
                    let _ = tx.send(Err(PluginError::Read { path, source })).await;
                    return;
                }
            }
        },
        Feed::Text(text) => {
            for piece in text.as_bytes().chunks(chunk) {
                if tx.send(Ok(Chunk::Data(piece.to_vec()))).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Ok(Chunk::End)).await;
}

/// A line per row: ` ` when the row has every value the expected row names, else `-` the
/// expected row and `+` the row got (only the columns the expected row names).
fn rows_diff(want: &[toml::Table], got: &[Map<String, Value>]) -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..want.len().max(got.len()) {
        let expected = want.get(i).map(|row| {
            row.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect::<Map<String, Value>>()
        });
        match (expected, got.get(i)) {
            (Some(e), Some(g)) => {
                let seen: Map<String, Value> = e
                    .keys()
                    .map(|k| (k.clone(), g.get(k).cloned().unwrap_or(Value::Null)))
                    .collect();
                if e.iter().all(|(k, v)| same(v, &seen[k])) {
                    lines.push(format!("  {}", Value::Object(seen)));
                } else {
                    lines.push(format!("- {}", Value::Object(e)));
                    lines.push(format!("+ {}", Value::Object(seen)));
                }
            }
            (Some(e), None) => lines.push(format!("- {}", Value::Object(e))),
            (None, Some(g)) => lines.push(format!("+ {}", Value::Object(g.clone()))),
            (None, None) => {}
        }
    }
    lines
}

/// Equal values; numbers compare by value (`2` and `2.0` are the same), and a TOML date-time
/// by its text against the row's.
fn same(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .all(|(k, v)| same(v, b.get(k).unwrap_or(&Value::Null))),
        (a, b) => a == b,
    }
}

fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_compare_named_columns_and_numbers_by_value() {
        let want: Vec<toml::Table> =
            toml::from_str::<toml::Table>("r = [{ name = \"a\", score = 2 }, { name = \"b\" }]")
                .unwrap()["r"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_table().unwrap().clone())
                .collect();
        let got: Vec<Map<String, Value>> = serde_json::from_str(
            r#"[{"name":"a","score":2.0,"extra":1},{"name":"c"},{"name":"d"}]"#,
        )
        .unwrap();
        assert_eq!(
            rows_diff(&want, &got),
            [
                r#"  {"name":"a","score":2.0}"#,
                r#"- {"name":"b"}"#,
                r#"+ {"name":"c"}"#,
                r#"+ {"name":"d"}"#,
            ]
        );
    }
}
