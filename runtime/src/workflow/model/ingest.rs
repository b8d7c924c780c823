//! The ingest step: the table, and how each object's rows reach it.

use serde::Deserialize;

use super::*;
use crate::units::{ByteSize, HumanDuration};

/// `kind = "ingest"`: commit rows to a table, several objects per commit in append mode (see
/// [`CommitPolicy`]), one commit per job in replace mode, one MERGE per object in merge mode.
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
    /// `mode = "merge"`: the columns that identify a row. Rows of an object whose key the
    /// table holds update that row; the others are inserted.
    #[serde(default)]
    pub key: Vec<String>,
    /// `mode = "merge"`: what a matched row takes from the object's row.
    pub on_match: Option<OnMatch>,
    /// `mode = "merge"`: what one object repeating a key means.
    pub on_duplicate_key: Option<OnDuplicateKey>,
}

impl IngestStep {
    /// How a merge job combines rows with the table's, `None` unless `mode = "merge"`.
    pub fn merge(&self) -> Option<MergeRule> {
        (self.mode == IngestMode::Merge).then(|| MergeRule {
            key: self.key.clone(),
            on_match: self.on_match.unwrap_or_default(),
            on_duplicate_key: self.on_duplicate_key.unwrap_or_default(),
        })
    }
}

/// A merge's rule, whole: the check made sure `key` names at least one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRule {
    pub key: Vec<String>,
    pub on_match: OnMatch,
    pub on_duplicate_key: OnDuplicateKey,
}

/// `on_match`: how a table row whose key an object's row has changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMatch {
    /// Every column the object has takes the object's value (nulls included).
    #[default]
    Update,
    /// Only the object's non-null values are taken: delayed actuals fill in a prediction's
    /// row without erasing what it had.
    UpdateNonNull,
}

/// `on_duplicate_key`: one object with two rows for one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDuplicateKey {
    /// The object's last row for the key is the one merged.
    #[default]
    Last,
    /// The object fails, naming the key; the table is unchanged by it.
    Fail,
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
    /// Each object's rows are merged on `key`: one Delta MERGE per object, matched rows
    /// updated and the others inserted.
    Merge,
}
