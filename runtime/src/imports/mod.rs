//! Project imports (as UbiOps' imports API): an export zip — uploaded, fetched from a link, or
//! one of this home's own exports — is scanned (verified entry by entry against its manifest,
//! each object compared with what the home holds), waits for a confirmation that picks the
//! objects, settles conflicts and fills secret values, then is processed all or nothing.
//!
//! [`scan`] opens and judges a zip; [`confirm`] models the choices; [`process`] turns them into
//! files to place and records to write, places the files under a journal (so a failure, or a
//! process killed half-way, is rolled back) and leaves the records to the store's one
//! transaction. [`link`] fetches a zip under the server's outbound policy.

#![deny(missing_docs)]

mod confirm;
mod found;
pub mod link;
mod process;
mod scan;

pub use confirm::{Confirmation, Given, OnConflict, Pick};
pub use found::{Found, FoundVersion, State};
pub use link::LinkPolicy;
pub use process::{Action, Outcome, Prepared, Staged, prepare, rollback};
pub use scan::{Opened, open, scan};

use crate::exports::ObjectKind;

/// The name of the zip inside an import's directory.
pub const ZIP: &str = "export.zip";

/// Why an import could not be scanned, confirmed or processed. No variant carries a secret
/// value, a passphrase or a link's query string.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The zip is unsafe, corrupt, too large, or does not match its manifest.
    #[error("the zip cannot be imported: {0}")]
    Zip(#[from] crate::archive::ReadError),
    /// A zip, but not a ferry export.
    #[error("not a ferry export: {0}")]
    NotAnExport(String),
    /// An export of a newer layout than this ferry reads.
    #[error(
        "the export is of format version {found}; this ferry reads version {reads} and older: import it with a newer ferry"
    )]
    Version {
        /// The export's version.
        found: u32,
        /// The newest this ferry reads.
        reads: u32,
    },
    /// The manifest says something an export cannot (a name that is not a name, a file that
    /// is not where its kind lives).
    #[error("the export's manifest is invalid: {0}")]
    Manifest(String),
    /// The confirmation names an object the export does not hold.
    #[error("the export holds no {} `{name}` (it holds: {available})", kind.noun())]
    Unknown {
        /// Its kind.
        kind: ObjectKind,
        /// The name given.
        name: String,
        /// What the export holds of that kind.
        available: String,
    },
    /// An object conflicts with one of this home and the confirmation does not say what to do.
    #[error(
        "{} `{name}` already exists here with other content: say --on-conflict skip, replace or rename (or {}:{name}=MODE for it alone)",
        kind.noun(), kind.noun()
    )]
    Unsettled {
        /// Its kind.
        kind: ObjectKind,
        /// Its name.
        name: String,
    },
    /// The confirmation asks for something this object cannot have done.
    #[error("{} `{name}`: {why}", kind.noun())]
    Refused {
        /// Its kind.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// Why not.
        why: String,
    },
    /// A chosen deployment needs what neither the export (as chosen) nor this home has.
    #[error(
        "deployment `{deployment}` cannot be imported: it needs {needs}, which neither the chosen objects nor this home have"
    )]
    Unsatisfiable {
        /// The deployment.
        deployment: String,
        /// What it needs, in words.
        needs: String,
    },
    /// A chosen secret has no value: not in the export, not given.
    #[error("secret `{name}` has no value: give it (--secret {name}=-) or leave it out")]
    NoValue {
        /// `credential.field`.
        name: String,
    },
    /// The export's secret values need the passphrase they were encrypted to.
    #[error(
        "the export's secret values are encrypted: give the passphrase they were exported with (--passphrase-file or FERRY_EXPORT_PASSPHRASE; over HTTP `passphrase`)"
    )]
    NoPassphrase,
    /// The passphrase does not open the export's secret values.
    #[error("the passphrase does not open the export's secret values")]
    WrongPassphrase,
    /// An object's content is not valid here.
    #[error("{} `{name}` is invalid: {why}", kind.noun())]
    Invalid {
        /// Its kind.
        kind: ObjectKind,
        /// Its name.
        name: String,
        /// Why.
        why: String,
    },
    /// A request or argument that does not say what it must.
    #[error("{0}")]
    Request(String),
    /// A link that is not an http(s) URL, or whose host the policy does not allow.
    #[error("{0}")]
    LinkRefused(String),
    /// Fetching a link failed, or it answered something other than a zip.
    #[error("fetching {url}: {why}")]
    Link {
        /// The link, without its query.
        url: String,
        /// What happened.
        why: String,
    },
    /// The zip is larger than the import limit.
    #[error("the zip is larger than the import limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The import is not where the request needs it to be.
    #[error("import {id} is {status}; {needs}")]
    State {
        /// The import.
        id: String,
        /// Where it is.
        status: crate::store::ImportStatus,
        /// What the request needed.
        needs: &'static str,
    },
    /// No such export to import from.
    #[error("export {id} cannot be imported: {why}")]
    Export {
        /// The export.
        id: String,
        /// Why.
        why: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file to be placed would land outside the workflows directory.
    #[error("`{0}` would be written outside the workflows directory")]
    Outside(String),
    /// A package could not be added to the registry.
    #[error(transparent)]
    Package(#[from] crate::package::PackageError),
    /// The master key could not seal or open a value.
    #[error(transparent)]
    Vault(#[from] crate::credentials::VaultError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl ImportError {
    /// Whether the request or the zip is wrong (a 4xx), not the home failing.
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            ImportError::Io { .. }
                | ImportError::Package(_)
                | ImportError::Vault(_)
                | ImportError::Store(_)
                | ImportError::State { .. }
        )
    }

    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ImportError {
        let path = path.display().to_string();
        move |source| ImportError::Io { path, source }
    }
}
