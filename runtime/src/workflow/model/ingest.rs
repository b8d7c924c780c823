//! The ingest step: the table, and how each object's rows reach it.

use serde::Deserialize;

use super::*;

/// `kind = "ingest"`: commit rows to a table, one commit per source object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestStep {
    pub name: String,
    pub kind: StepKind,
    pub input: String,
    pub table: String,
    #[serde(default)]
    pub mode: IngestMode,
    /// The job fails once more rows than this were skipped by error. Unlimited when absent.
    pub max_parse_exceptions: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IngestMode {
    /// Each object's rows are committed as soon as it is read, resumable object by object.
    #[default]
    Append,
    /// The job's rows atomically replace the table in one commit at the end.
    Replace,
}
