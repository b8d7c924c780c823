//! The one face of ferry's library: an opened state directory and every operation a user can
//! ask of it — check and run workflows, follow and cancel jobs, keys, secrets and variables,
//! service packages, infras and deployments. The command line ([`crate::cli`]) and the HTTP server
//! ([`crate::server`]) are thin translations of arguments and requests into these calls, so
//! they cannot drift apart: `ferry validate` and `PUT /v1/workflows` run the same check.
//!
//! [`App`] is cheap to clone (it shares one [`Context`]); open one with [`App::builder`].

#![deny(missing_docs)]

mod deployments;
mod exports;
mod imports;
mod jobs;
mod keys;
mod plugins;
mod secrets;
mod tables;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::context::{Context, OpenError};
use crate::credentials::SecretSource;
use crate::home::Home;
use crate::host::{Catalog, PluginHost};
use crate::paths::{NameError, Roots};

pub use crate::engine::Ingestion;
pub use exports::MIN_PASSPHRASE;
pub use imports::{IMPORT_LIMIT, ImportSource};
pub use jobs::JobReport;
pub use plugins::{BuildError, PLUGIN_WIT_VERSION, Trial, TrialInput};
pub use secrets::SecretError;

/// An opened state directory and what can be done with it.
#[derive(Clone)]
pub struct App {
    ctx: Arc<Context>,
}

/// How to open an [`App`]: where its state lives, where plugins and secrets come from, and
/// how far workflows may reach on disk.
pub struct AppBuilder {
    home: PathBuf,
    catalog: Option<Catalog>,
    secrets: SecretSource,
    grant_roots: Option<Roots>,
}

impl AppBuilder {
    /// Built-in plugins are looked up in `catalog` (default: `FERRY_PLUGIN_PATH`, then beside
    /// the executable).
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// Secret values come from `secrets` (default: the environment only).
    pub fn secrets(mut self, secrets: SecretSource) -> Self {
        self.secrets = secrets;
        self
    }

    /// Every path a workflow names must resolve inside `roots` (what `ferry serve` does with
    /// its `grant_roots`); without this, paths are trusted, as the command line trusts its
    /// user.
    pub fn confined_to(mut self, roots: Roots) -> Self {
        self.grant_roots = Some(roots);
        self
    }

    /// Opens (creating if needed) the state directory.
    pub async fn open(self) -> Result<App, OpenError> {
        let catalog = self.catalog.unwrap_or_else(Catalog::from_env);
        let mut ctx = Context::open(Home::new(self.home), catalog, self.secrets).await?;
        if let Some(roots) = self.grant_roots {
            ctx.confine(roots);
        }
        Ok(App { ctx: Arc::new(ctx) })
    }
}

impl App {
    /// Starts opening the state directory at `home`.
    pub fn builder(home: impl Into<PathBuf>) -> AppBuilder {
        AppBuilder {
            home: home.into(),
            catalog: None,
            secrets: SecretSource::environment(),
            grant_roots: None,
        }
    }

    /// The state directory.
    pub fn home(&self) -> &Path {
        self.ctx.home.root()
    }

    /// Where table `name` is stored.
    pub fn table_path(&self, name: &str) -> Result<PathBuf, NameError> {
        self.ctx.home.table(name)
    }

    /// The plugin host, for the API node routes that run packaged predictors.
    pub fn plugin_host(&self) -> &Arc<PluginHost> {
        &self.ctx.host
    }

    fn ctx(&self) -> &Context {
        &self.ctx
    }
}
