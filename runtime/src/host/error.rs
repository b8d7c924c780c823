//! Errors at the plugin boundary. Each names the plugin, so a user knows which component of a
//! step failed, and none of them can take the host down.

use std::path::PathBuf;
use std::time::Duration;

use crate::units::ByteSize;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("plugin `{name}` not found; looked in: {}", searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotFound {
        name: String,
        searched: Vec<PathBuf>,
    },
    #[error("cannot read plugin {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a WebAssembly component", path.display())]
    NotWasm { path: PathBuf },
    #[error("{} is a core WebAssembly module, not a component: build it for wasm32-wasip2", path.display())]
    CoreModule { path: PathBuf },
    #[error("cannot compile plugin {}: {message}", path.display())]
    Compile { path: PathBuf, message: String },
    #[error("plugin `{plugin}` does not export {expected} (it exports: {}); is it a {kind} plugin?", if exports.is_empty() { "nothing".to_owned() } else { exports.join(", ") })]
    WrongWorld {
        plugin: String,
        kind: &'static str,
        expected: String,
        exports: Vec<String>,
    },
    #[error(
        "plugin `{plugin}` was built for {found}, but this ferry supports {supported}: rebuild it against ferry's wit/ package"
    )]
    IncompatibleVersion {
        plugin: String,
        found: String,
        supported: String,
    },
    #[error("plugin `{plugin}` ({}) changed since it was pinned: the workflow pins sha256 {expected}, the file has {found}", path.display())]
    DigestMismatch {
        plugin: String,
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("plugin `{plugin}` cannot be linked: {message}")]
    Link { plugin: String, message: String },
    #[error("plugin `{plugin}` exceeded its time limit of {}s in `{call}`", limit.as_secs_f64())]
    Timeout {
        plugin: String,
        call: &'static str,
        limit: Duration,
    },
    #[error("plugin `{plugin}` exceeded its memory limit of {limit} in `{call}`")]
    OutOfMemory {
        plugin: String,
        call: &'static str,
        limit: ByteSize,
    },
    #[error("plugin `{plugin}` crashed in `{call}`: {message}")]
    Trap {
        plugin: String,
        call: &'static str,
        message: String,
    },
    #[error("plugin `{plugin}` was interrupted: the job was canceled")]
    Canceled { plugin: String },
    #[error("plugin `{plugin}` returned an invalid batch: {message}")]
    InvalidOutput { plugin: String, message: String },
    /// The plugin asked for a host its step does not grant; the host refused the request.
    #[error(
        "plugin `{plugin}` in step `{step}` tried to reach {host}, which the step does not grant (add it to grants.hosts to allow it)"
    )]
    HostDenied {
        plugin: String,
        step: String,
        host: String,
    },
    /// The plugin itself reported an error (its own code and message).
    #[error("{message} [{code}]")]
    Reported {
        plugin: String,
        code: String,
        message: String,
        row: Option<u64>,
    },
}

impl PluginError {
    /// The row the error concerns, when a plugin named one.
    pub fn row(&self) -> Option<u64> {
        match self {
            PluginError::Reported { row, .. } => *row,
            _ => None,
        }
    }

    /// What went wrong, without the code (records keep the code beside it).
    pub fn message(&self) -> String {
        match self {
            PluginError::Reported { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// A short stable code for job records (`plugin_timeout`, `plugin_trap`, ...).
    pub fn code(&self) -> &str {
        match self {
            PluginError::Reported { code, .. } => code,
            PluginError::NotFound { .. } => "plugin_not_found",
            PluginError::Read { .. } => "plugin_unreadable",
            PluginError::NotWasm { .. } | PluginError::CoreModule { .. } => "plugin_not_component",
            PluginError::Compile { .. } => "plugin_compile",
            PluginError::WrongWorld { .. } => "plugin_wrong_kind",
            PluginError::IncompatibleVersion { .. } => "plugin_incompatible",
            PluginError::DigestMismatch { .. } => "plugin_digest_mismatch",
            PluginError::Link { .. } => "plugin_link",
            PluginError::Timeout { .. } => "plugin_timeout",
            PluginError::OutOfMemory { .. } => "plugin_out_of_memory",
            PluginError::Trap { .. } => "plugin_trap",
            PluginError::Canceled { .. } => "canceled",
            PluginError::InvalidOutput { .. } => "plugin_invalid_output",
            PluginError::HostDenied { .. } => "host_denied",
        }
    }
}
