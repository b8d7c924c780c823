//! The state directory (`--home`, `FERRY_HOME`, default `./.ferry`): where the job store,
//! tables and the compiled-plugin cache live. One place, so every face of ferry agrees.

use std::path::{Path, PathBuf};

use crate::paths::{self, NameError, NameKind};

/// Paths inside one ferry state directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Home { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite job store.
    pub fn database(&self) -> PathBuf {
        self.root.join("ferry.db")
    }

    /// Where table `name` is stored (a Delta table directory); a name that is not a valid
    /// table name (see [`crate::paths`]) names no path at all.
    pub fn table(&self, name: &str) -> Result<PathBuf, NameError> {
        paths::child(&self.root.join("tables"), NameKind::Table, name, "")
    }

    /// Where objects are copied for parsers that read whole files; nothing there outlives the
    /// file being parsed.
    pub fn spool(&self) -> PathBuf {
        self.root.join("tmp").join("objects")
    }

    /// The key the secret store is sealed with, unless `FERRY_MASTER_KEY` gives one (made on
    /// first use, mode 0600).
    pub fn master_key(&self) -> PathBuf {
        self.root.join("master.key")
    }

    /// The server's workflows directory unless `--workflows` names another, and what an export
    /// takes workflows from.
    pub fn workflows(&self) -> PathBuf {
        self.root.join("workflows")
    }

    /// Where export `id`'s zip is kept; an id that is not a safe name names no path.
    pub fn export(&self, id: &str) -> Result<PathBuf, NameError> {
        paths::child(&self.root.join("exports"), NameKind::Export, id, ".zip")
    }

    /// Where import `id` keeps its zip, its processing journal and the files it replaced;
    /// an id that is not a safe name names no path.
    pub fn import(&self, id: &str) -> Result<PathBuf, NameError> {
        paths::child(&self.root.join("imports"), NameKind::Import, id, "")
    }

    /// Compiled plugin artifacts, keyed by content hash and engine compatibility.
    pub fn compile_cache(&self) -> PathBuf {
        self.root.join("cache").join("compiled")
    }

    pub fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(self.root.join("tables"))?;
        std::fs::create_dir_all(self.compile_cache())
    }
}
