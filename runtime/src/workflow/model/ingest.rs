//! The ingest step: the table, and how each object's rows reach it.

use serde::Deserialize;

use super::*;
use crate::units::{ByteSize, HumanDuration};

/// `kind = "ingest"`: commit rows to a table, several objects per commit in append mode (see
/// [`CommitPolicy`]), one commit per job in replace mode.
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
    /// When an append job's passed objects are committed together.
    #[serde(default)]
    pub commit: CommitPolicy,
}

/// `commit = { … }`: an append job gathers passed objects and commits them together, in one
/// Delta commit, as soon as any bound is reached (and when the job stops). Fewer, larger
/// commits are what make thousands of small objects fast; the bounds say how much work a
/// crash can make the job redo, and how long rows wait before readers see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommitPolicy {
    /// Objects per commit (1 commits each object on its own, as ferry did before 0.3).
    pub max_objects: u64,
    /// Rows per commit.
    pub max_rows: u64,
    /// Bytes of source objects per commit.
    pub max_bytes: ByteSize,
    /// The longest passed rows wait for their commit (checked as each object ends).
    pub max_wait: HumanDuration,
}

impl Default for CommitPolicy {
    fn default() -> Self {
        CommitPolicy {
            max_objects: 1000,
            max_rows: 1_000_000,
            max_bytes: ByteSize(256 << 20),
            max_wait: HumanDuration(std::time::Duration::from_secs(5)),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IngestMode {
    /// Objects' rows are committed as they are read (a few objects per commit, see
    /// [`CommitPolicy`]), resumable commit by commit.
    #[default]
    Append,
    /// The job's rows atomically replace the table in one commit at the end.
    Replace,
}
