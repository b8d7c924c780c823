//! Runs workflows as jobs. [`Ferry`] is the library's front door: the CLI (and later the HTTP
//! server) are thin faces on it and share every path below.
//!
//! The job loop commits each object's rows to the table in one Delta commit that carries an
//! application transaction `(ferry-job-<id>, seq + 1)`. The store records the object's counts
//! and that version just before the commit and its status just after, so whichever of the two
//! a crash interrupts, a resume reads the table's transaction version and knows the truth: no
//! object is lost and none is stored twice.

mod check;
mod download;
mod dry_run;
mod file;
mod inflate;
mod job;
mod outcome;
mod pipeline;
mod prepare;

use std::sync::Arc;

use uuid::Uuid;

pub use dry_run::{DryRun, DryRunMetrics, ValidationResult};
pub use job::RunOptions;
pub use prepare::{Prepared, prepare};

use crate::credentials::SecretSource;
use crate::home::Home;
use crate::host::{Catalog, PluginError, PluginHost};
use crate::store::{FileStatus, Store, StoreError};
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
    #[error("cannot create state directory {path}: {source}")]
    Home {
        path: String,
        source: std::io::Error,
    },
    #[error("job {id} was taken over by another process while this one ran it")]
    LeaseLost { id: Uuid },
    #[error("{0}")]
    NoSuchObject(String),
    #[error(transparent)]
    Secrets(#[from] crate::credentials::SecretFileError),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Name(#[from] crate::paths::NameError),
}

impl EngineError {
    /// Whether the fault lies in the workflow file (exit code 78, EX_CONFIG).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            EngineError::Workflow(_)
                | EngineError::Plugins(_)
                | EngineError::Config(_)
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

/// One ferry state directory, opened: its job store and plugin host.
pub struct Ferry {
    pub home: Home,
    pub store: Store,
    pub host: Arc<PluginHost>,
    pub catalog: Catalog,
    pub secrets: SecretSource,
    /// Where a workflow's files may be (see [`Ferry::confine`]); `None` trusts every path, as
    /// the command line trusts its local user.
    grant_roots: Option<crate::paths::Roots>,
}

impl Ferry {
    pub async fn open(
        home: Home,
        catalog: Catalog,
        secrets: SecretSource,
    ) -> Result<Ferry, EngineError> {
        home.create().map_err(|source| EngineError::Home {
            path: home.root().display().to_string(),
            source,
        })?;
        let store = Store::open(&home.database()).await?;
        let host = Arc::new(PluginHost::new(home.compile_cache())?);
        Ok(Ferry {
            home,
            store,
            host,
            catalog,
            secrets,
            grant_roots: None,
        })
    }

    /// From now on, every path a workflow names (granted directories, artifacts, its service
    /// file, custom plugins) must resolve, symlinks followed, inside one of `roots`; anything
    /// else is a problem [`Ferry::prepare`] reports. `ferry serve` runs workflows that arrive
    /// over HTTP, so it confines them to its `grant_roots`.
    pub fn confine(&mut self, roots: crate::paths::Roots) {
        self.grant_roots = Some(roots);
    }

    /// The state dir's package registry.
    pub fn packages(&self) -> crate::package::Registry {
        crate::package::Registry::new(self.home.root().join("packages"))
    }

    /// Loads a workflow's plugins and checks everything `ferry validate` checks.
    pub fn prepare(&self, workflow: &Workflow) -> Result<Prepared, EngineError> {
        prepare(
            workflow,
            &self.host,
            &self.catalog,
            &self.secrets,
            self.grant_roots.as_ref(),
        )
        .map_err(EngineError::Plugins)
    }
}
