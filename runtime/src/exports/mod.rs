//! Project exports (as UbiOps' exports API): the selected workflows, plugins, package
//! versions, infras, deployments, variables and secrets of a home in one zip with a manifest
//! of what each object is, what it depends on and every file's SHA-256. Secret values go in
//! only when asked for, and then only encrypted (age, to a passphrase given at export time).
//!
//! [`plan`] decides what goes in from a [`Selection`]; [`write`] writes it. The store keeps
//! each export's record; the app runs the two steps (`crate::app`).

#![deny(missing_docs)]

mod manifest;
mod plan;
mod selection;
mod write;

pub use manifest::{
    Dependency, ExportManifest, ExportObject, FORMAT, FORMAT_VERSION, MANIFEST, ObjectKind,
    SECRET_VALUES, VARIABLES,
};
pub use plan::{Plan, Project, Source, plan};
pub use selection::{ALL, Kind, Plain, SecretPick, Selection, ServicePick};
pub use write::{Values, Written, write};

/// Why an export could not be made. No variant carries a secret value or the passphrase.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A command-line selection that does not parse.
    #[error("invalid selection {0}")]
    Selection(String),
    /// The selection names an object the home does not have.
    #[error("no {kind} `{name}` to export (there are: {available})")]
    Unknown {
        /// The kind, in words.
        kind: String,
        /// The name asked for.
        name: String,
        /// What there is.
        available: String,
    },
    /// Secret values were asked for without a passphrase to encrypt them to.
    #[error(
        "secret values were asked for (include_value) but no passphrase was given to encrypt them with (--passphrase-file or FERRY_EXPORT_PASSPHRASE; over HTTP `passphrase`)"
    )]
    NoPassphrase,
    /// The passphrase is too short to protect anything.
    #[error("the passphrase must be at least {min} characters")]
    WeakPassphrase {
        /// The least length.
        min: usize,
    },
    /// A secret asked for with its value has no value that opens.
    #[error("secret `{name}` has no stored value to export")]
    NoValue {
        /// `credential.field`.
        name: String,
    },
    /// A workflow file that cannot be read as a workflow.
    #[error("workflow `{name}`: {source}")]
    Workflow {
        /// The workflow.
        name: String,
        /// Why.
        #[source]
        source: Box<crate::workflow::WorkflowError>,
    },
    /// A workflow names a file outside the workflows directory, which cannot travel with it.
    #[error(
        "workflow `{workflow}`: its {what} `{path}` is not a file inside the workflows directory, so an export cannot carry it"
    )]
    Outside {
        /// The workflow.
        workflow: String,
        /// What names the file.
        what: String,
        /// The path as written.
        path: String,
    },
    /// Two workflows give one plugin name to different files.
    #[error("plugin `{name}` names two files: {first} and {second}; give them different names")]
    PluginClash {
        /// The plugin name.
        name: String,
        /// The first file and its workflow.
        first: String,
        /// The other.
        second: String,
    },
    /// A package zip could not be read.
    #[error(transparent)]
    Package(#[from] crate::package::PackageError),
    /// Writing the zip failed.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// age could not encrypt the values.
    #[error("encrypting the secret values: {0}")]
    Encrypt(String),
    /// The export has not completed, so there is no zip to give.
    #[error("export {id} is {status}: there is no zip to download")]
    NotCompleted {
        /// The export.
        id: String,
        /// Where it is.
        status: crate::store::ExportStatus,
    },
    /// The master key did not open a stored value.
    #[error(transparent)]
    Vault(#[from] crate::credentials::VaultError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl ExportError {
    /// Whether the request asked for something wrong (a 4xx), not the home failing.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            ExportError::Selection(_)
                | ExportError::Unknown { .. }
                | ExportError::NoPassphrase
                | ExportError::WeakPassphrase { .. }
                | ExportError::NoValue { .. }
                | ExportError::Workflow { .. }
                | ExportError::Outside { .. }
                | ExportError::PluginClash { .. }
        )
    }
}
