//! `ferry serve` settings: a TOML file (`--config`), with command-line flags on top.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::units::{ByteSize, HumanDuration};

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Where workflows are registered (one `<name>.toml` each).
    pub workflows: PathBuf,
    /// Jobs running at once; more wait in CREATED.
    pub max_concurrent_jobs: usize,
    /// Largest request body (uploads aside).
    pub max_body: ByteSize,
    pub max_upload: ByteSize,
    /// How long running jobs get to finish on shutdown before they are left to resume.
    pub shutdown_grace: Duration,
}

/// The file's keys; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub listen: Option<SocketAddr>,
    pub workflows: Option<PathBuf>,
    pub max_concurrent_jobs: Option<usize>,
    pub max_body: Option<ByteSize>,
    pub max_upload: Option<ByteSize>,
    pub shutdown_grace: Option<HumanDuration>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start].lines().count().max(1))
                .unwrap_or(1);
            format!("{}:{line}: {}", path.display(), e.message())
        })?;
        // Relative to the config file, as workflow paths are to theirs.
        if let Some(dir) = &file.workflows
            && dir.is_relative()
        {
            file.workflows = Some(path.parent().unwrap_or(Path::new(".")).join(dir));
        }
        Ok(file)
    }

    /// The settings, with `home` for defaults.
    pub fn resolve(self, home: &Path) -> ServeConfig {
        ServeConfig {
            listen: self
                .listen
                .unwrap_or_else(|| "127.0.0.1:8080".parse().expect("a valid address")),
            workflows: self.workflows.unwrap_or_else(|| home.join("workflows")),
            max_concurrent_jobs: self.max_concurrent_jobs.unwrap_or(2).max(1),
            max_body: self.max_body.unwrap_or(ByteSize(1 << 20)),
            max_upload: self.max_upload.unwrap_or(ByteSize(256 << 20)),
            shutdown_grace: self
                .shutdown_grace
                .map(|d| d.0)
                .unwrap_or(Duration::from_secs(10)),
        }
    }
}
