//! `[[tests]]`: unit tests beside the config, as Vector and Redpanda Connect have them. Each
//! names an input (inline text or a file) and what the import step (source aside: parser,
//! decompression, validate mapping) must make of it. `ferry test` runs them through the real
//! plugins without touching any table or job store.

use std::path::PathBuf;

use serde::Deserialize;

/// One `[[tests]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTestCase {
    pub name: String,
    pub input: RawTestInput,
    #[serde(default)]
    pub expect: Expect,
}

/// `input = { text = "…", key = "a.csv" }` or `input = { file = "samples/a.csv" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTestInput {
    /// The object key the parser is told (default: the file's name, or `input`).
    pub key: Option<String>,
    pub text: Option<String>,
    pub file: Option<PathBuf>,
}

/// What a test expects; every field given is checked, and at least one must be.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Rows that reach the table, in order: each row checks the columns it names, and there
    /// must be exactly as many rows.
    pub rows: Option<Vec<toml::Table>>,
    /// How many rows reach the table.
    pub count: Option<u64>,
    /// Every row diagnostic, by code and row (order does not matter).
    pub diagnostics: Option<Vec<ExpectedDiagnostic>>,
    /// The object fails with this error code (`invalid_parquet`, `plugin_raised`, …).
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedDiagnostic {
    pub code: String,
    pub row: Option<u64>,
}

/// A checked test: its input resolved to bytes-to-be (a file relative to the workflow).
#[derive(Debug, Clone)]
pub struct TestCase {
    pub name: String,
    pub key: String,
    pub input: TestInput,
    pub expect: Expect,
}

#[derive(Debug, Clone)]
pub enum TestInput {
    Text(String),
    File(PathBuf),
}
