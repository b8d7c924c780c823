//! Runs a workflow's import → validate → ingest as a job ([`Engine`]), on the parts of an opened
//! state directory ([`Context`]).
//!
//! The job loop commits each object's rows to the table in one Delta commit that carries an
//! application transaction `(ferry-job-<id>, seq + 1)`. The store records the object's counts
//! and that version just before the commit and its status just after, so whichever of the two
//! a crash interrupts, a resume reads the table's transaction version and knows the truth: no
//! object is lost and none is stored twice.

mod commit;
mod download;
mod dry_run;
mod file;
mod inflate;
mod ingestion;
mod job;
mod outcome;
mod parse_ahead;
mod pipeline;
mod prepare;
mod split;
mod workflow_tests;

use uuid::Uuid;

pub use dry_run::{DryRun, DryRunMetrics, ValidationResult, to_json_rows as json_rows};
pub use ingestion::Ingestion;
pub use job::RunOptions;
pub(crate) use job::error_code;
pub(crate) use outcome::{Stop, decide};
pub use prepare::{Prepared, prepare};
pub use workflow_tests::TestReport;

use crate::context::{Context, OpenError};
use crate::host::PluginError;
use crate::store::{FileStatus, StoreError};
use crate::table::TableError;
use crate::workflow::{Problem, Workflow, WorkflowError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Plugins(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("job {id} was taken over by another process while this one ran it")]
    LeaseLost { id: Uuid },
    #[error("{0}")]
    NoSuchObject(String),
    /// A job is writing to the table, and the operation could delete what it stages.
    #[error("table `{table}` is being written by job {job}; try again once it ends")]
    TableBusy { table: String, job: Uuid },
    #[error(transparent)]
    Secrets(#[from] crate::credentials::SecretFileError),
    #[error("cannot read the key from standard input: {0}")]
    Stdin(std::io::Error),
    #[error(transparent)]
    Name(#[from] crate::paths::NameError),
    /// A rollup into a table that another rollup (or none) made.
    #[error("{0}")]
    RollupChanged(String),
}

impl EngineError {
    /// Whether the fault lies in the workflow file (exit code 78, EX_CONFIG).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            EngineError::Workflow(_)
                | EngineError::Plugins(_)
                | EngineError::Stdin(_)
                | EngineError::Name(_)
        )
    }
}

/// Hooks for showing progress; all optional.
pub trait Progress: Send + Sync {
    fn listed(&self, _files: u64, _bytes: u64) {}
    fn file_started(&self, _name: &str) {}
    fn bytes(&self, _n: u64) {}
    fn file_finished(&self, _name: &str, _status: FileStatus) {}
}

/// Shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// The engine, working on one opened state directory: it prepares workflows and runs their
/// import → validate → ingest as a job (the package and deploy steps after it are the
/// runner's, [`crate::runner`]).
#[derive(Clone, Copy)]
pub struct Engine<'a> {
    ctx: &'a Context,
}

impl<'a> Engine<'a> {
    pub fn new(ctx: &'a Context) -> Engine<'a> {
        Engine { ctx }
    }

    /// Loads a workflow's plugins and checks what can be checked without the store.
    pub fn prepare(&self, workflow: &Workflow) -> Result<Prepared, EngineError> {
        prepare(
            workflow,
            &self.host,
            &self.catalog,
            &self.secrets(),
            self.grant_roots(),
        )
        .map_err(EngineError::Plugins)
    }
}

/// The engine reads the context's parts as its own.
impl std::ops::Deref for Engine<'_> {
    type Target = Context;
    fn deref(&self) -> &Context {
        self.ctx
    }
}

#[cfg(test)]
mod tests;
