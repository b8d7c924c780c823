//! Service packages: one immutable zip per service version — a manifest (service, version,
//! endpoints with their schemas, SHA-256 of every file, creation time, source job) plus the
//! predictor components, model artifacts and lookup snapshots — kept in the state dir's
//! registry (`packages/<service>/<version>.zip`). Deployments (a later issue) take packages
//! from here.

mod archive;
mod build;
mod manifest;
mod registry;

pub use crate::archive::FileEntry;
pub use archive::{Contents, MANIFEST, Verified};
pub use build::{build, sql_limits};
pub use manifest::{Column, Endpoint, Manifest};
pub use registry::{PackageInfo, Registry};

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("invalid package: {0}")]
    Invalid(String),
    #[error("invalid package: {0}")]
    Name(#[from] crate::paths::NameError),
    #[error(
        "invalid package: `{path}` does not match its checksum in the manifest (corrupt or tampered)"
    )]
    Checksum { path: String },
    #[error("invalid package: larger than the limit of {limit} bytes uncompressed")]
    TooLarge { limit: u64 },
    #[error("service `{service}` has no package version `{version}`")]
    NotFound { service: String, version: String },
    #[error(
        "service `{service}` already has a package version `{version}`; packages are immutable"
    )]
    Exists { service: String, version: String },
    #[error("package {0}")]
    Io(#[from] std::io::Error),
    #[error("package {0}")]
    Write(#[from] crate::archive::ArchiveError),
    #[error("cannot build the package: the workflow declares no [service]")]
    NoService,
    #[error("cannot build the package: endpoint `{endpoint}`: {source}")]
    Plugin {
        endpoint: String,
        source: Box<crate::host::PluginError>,
    },
    #[error("cannot build the package: endpoint `{endpoint}`: {source}")]
    Table {
        endpoint: String,
        source: Box<crate::table::TableError>,
    },
    #[error(
        "cannot build the package: endpoint `{endpoint}`: table `{table}` has no rows to serve"
    )]
    EmptyTable { endpoint: String, table: String },
    #[error(
        "cannot build the package: endpoint `{endpoint}`: table `{table}` has no key column `{key}` (columns: {columns})"
    )]
    NoKeyColumn {
        endpoint: String,
        table: String,
        key: String,
        columns: String,
    },
    #[error("cannot build the package: endpoint `{endpoint}`: {source}")]
    Query {
        endpoint: String,
        source: Box<crate::table::QueryError>,
    },
    #[error("cannot build the package: writing a table snapshot: {0}")]
    Parquet(#[from] Box<deltalake::parquet::errors::ParquetError>),
    #[error("cannot build the package: {0}")]
    Store(#[from] crate::store::StoreError),
}

impl Verified {
    /// Reads and verifies package zip `bytes` without storing it.
    pub fn read(bytes: &[u8], limit: u64) -> Result<Verified, PackageError> {
        archive::read(std::io::Cursor::new(bytes), limit)
    }
}

impl From<crate::archive::ReadError> for PackageError {
    /// The reader's refusals, in the package's words (a bomb and a checksum keep their own
    /// variants: callers and tests tell them apart).
    fn from(e: crate::archive::ReadError) -> Self {
        use crate::archive::ReadError;
        match e {
            ReadError::TooLarge { limit } => PackageError::TooLarge { limit },
            ReadError::Checksum(path) => PackageError::Checksum { path },
            ReadError::Io(e) => PackageError::Io(e),
            e => PackageError::Invalid(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests;
