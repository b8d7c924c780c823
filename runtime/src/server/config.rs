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
    /// A request body (uploads aside) must arrive within this; an upload must send at least
    /// 1 KiB in every window of this length.
    pub body_timeout: Duration,
    /// The directories a workflow run by this server may name: its grants, artifacts,
    /// service file and plugin files must resolve inside one of them.
    pub grant_roots: Vec<PathBuf>,
    /// Hosts an import link may point to (`exports.example.com` for HTTPS, or
    /// `scheme://host[:port]` patterns); none: links are refused.
    pub import_hosts: Vec<String>,
    /// How long fetching an import link may take.
    pub import_timeout: Duration,
}

/// Why the settings file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {}", .path.display(), .source.message().trim())]
    Invalid {
        path: PathBuf,
        line: usize,
        source: toml::de::Error,
    },
    #[error("import_hosts: {0}")]
    ImportHosts(String),
    #[error("grant_roots: cannot resolve {roots}: {source}")]
    Roots {
        roots: String,
        source: std::io::Error,
    },
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
    pub body_timeout: Option<HumanDuration>,
    /// Defaults to the home's `uploads/` and the workflows directory.
    pub grant_roots: Option<Vec<PathBuf>>,
    pub import_hosts: Option<Vec<String>>,
    pub import_timeout: Option<HumanDuration>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            line: e
                .span()
                .map(|s| text[..s.start].lines().count().max(1))
                .unwrap_or(1),
            source: e,
        })?;
        // Relative to the config file, as workflow paths are to theirs.
        let base = path.parent().unwrap_or(Path::new(".")).to_owned();
        if let Some(dir) = &file.workflows
            && dir.is_relative()
        {
            file.workflows = Some(base.join(dir));
        }
        if let Some(roots) = &mut file.grant_roots {
            for root in roots.iter_mut() {
                if root.is_relative() {
                    *root = base.join(&*root);
                }
            }
        }
        Ok(file)
    }

    /// The settings, with `home` for defaults.
    pub fn resolve(self, home: &Path) -> ServeConfig {
        let workflows = self.workflows.unwrap_or_else(|| home.join("workflows"));
        ServeConfig {
            listen: self
                .listen
                .unwrap_or_else(|| "127.0.0.1:8080".parse().expect("a valid address")),
            grant_roots: self
                .grant_roots
                .unwrap_or_else(|| vec![home.join("uploads"), workflows.clone()]),
            workflows,
            max_concurrent_jobs: self.max_concurrent_jobs.unwrap_or(2).max(1),
            max_body: self.max_body.unwrap_or(ByteSize(1 << 20)),
            max_upload: self.max_upload.unwrap_or(ByteSize(256 << 20)),
            shutdown_grace: self
                .shutdown_grace
                .map(|d| d.0)
                .unwrap_or(Duration::from_secs(10)),
            body_timeout: self
                .body_timeout
                .map(|d| d.0)
                .unwrap_or(Duration::from_secs(30)),
            import_hosts: self.import_hosts.unwrap_or_default(),
            import_timeout: self
                .import_timeout
                .map(|d| d.0)
                .unwrap_or(Duration::from_secs(60)),
        }
    }
}
