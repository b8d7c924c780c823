//! Job and file records as users see them (JSON keys in camelCase, as in the jobs APIs ferry's
//! users know), and the status enums that make invalid states unwritable.

use serde::{Deserialize, Serialize};

use crate::diagnostic::RowDiagnostic;
use uuid::Uuid;

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            /// Case-insensitive, so `canceled` and `CANCELED` both work on the command line.
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| format!(
                        "unknown {} `{s}`; expected one of: {}",
                        stringify!($name),
                        $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    ))
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// Where a job is. The last five are terminal: once written they never change.
    ExecutionStatus {
        Created = "CREATED",
        Running = "RUNNING",
        Success = "SUCCESS",
        SuccessWithWarning = "SUCCESS_WITH_WARNING",
        NoRowsIngested = "NO_ROWS_INGESTED",
        Failed = "FAILED",
        Canceled = "CANCELED",
    }
}

impl ExecutionStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(self, ExecutionStatus::Created | ExecutionStatus::Running)
    }

    /// The statuses a finished job can have, for SQL guards.
    pub const TERMINAL: [ExecutionStatus; 5] = [
        ExecutionStatus::Success,
        ExecutionStatus::SuccessWithWarning,
        ExecutionStatus::NoRowsIngested,
        ExecutionStatus::Failed,
        ExecutionStatus::Canceled,
    ];
}

text_enum! {
    /// What the job's owner wants; a runner observes it and moves the execution status.
    DesiredStatus {
        Running = "RUNNING",
        Canceled = "CANCELED",
    }
}

text_enum! {
    HealthStatus {
        Ok = "ok",
        Warn = "warn",
        Error = "error",
    }
}

text_enum! {
    FileStatus {
        Pending = "pending",
        Running = "running",
        Passed = "passed",
        Failed = "failed",
        Skipped = "skipped",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub messages: Vec<String>,
}

/// Row counts, per file and summed per job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowMetrics {
    /// Every data row read: persisted + skipped by filter + skipped by error.
    pub num_rows_processed: u64,
    /// Persisted rows that carried a warning (an optional value that did not fit, stored null).
    pub num_rows_processed_with_warning: u64,
    pub num_rows_skipped_by_filter: u64,
    pub num_rows_skipped_by_error: u64,
    pub num_rows_persisted: u64,
}

impl RowMetrics {
    pub fn add(&mut self, other: &RowMetrics) {
        self.num_rows_processed += other.num_rows_processed;
        self.num_rows_processed_with_warning += other.num_rows_processed_with_warning;
        self.num_rows_skipped_by_filter += other.num_rows_skipped_by_filter;
        self.num_rows_skipped_by_error += other.num_rows_skipped_by_error;
        self.num_rows_persisted += other.num_rows_persisted;
    }
}

/// Why a file or a job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
}

/// One row problem kept in the job's sample: a diagnostic and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseException {
    pub file: String,
    #[serde(flatten)]
    pub diagnostic: RowDiagnostic,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub total: u64,
    pub pending: u64,
    pub running: u64,
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: Uuid,
    pub workflow: String,
    pub workflow_path: String,
    pub table: String,
    pub execution_status: ExecutionStatus,
    pub desired_execution_status: DesiredStatus,
    pub health: Health,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<ErrorInfo>,
    pub metrics: RowMetrics,
    pub files: FileCounts,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Not serialized: the workflow as the job started with it.
    #[serde(skip)]
    pub workflow_text: String,
    #[serde(skip)]
    pub runner_pid: Option<u32>,
    /// Not serialized: the identity of the source the job reads (part of the ledger key).
    #[serde(skip)]
    pub source_id: String,
    /// Listed objects an incremental run left out because earlier jobs imported them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub already_imported: u64,
    /// Packages the job's package step built.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<PackageRef>,
    /// Deployments the job's deploy step updated, with the operation to follow.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<DeploymentRef>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub service: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRef {
    pub deployment: String,
    pub operation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobFile {
    pub seq: u64,
    pub name: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub status: FileStatus,
    pub metrics: RowMetrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_version: Option<i64>,
    #[serde(skip)]
    pub commit_version: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// A page of a newest-first listing and the cursor for the next one.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
