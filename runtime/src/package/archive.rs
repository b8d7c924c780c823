//! Reading and writing package zips. Writing records each file's SHA-256 in the manifest;
//! reading refuses what could hurt the reader: paths that escape (zip slip), archives larger
//! than the limit (zip bombs), files missing from or absent in the manifest, and any checksum
//! that does not match (a tampered or corrupt package).

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};

use sha2::{Digest, Sha256};

use super::PackageError;
use super::manifest::{Endpoint, FORMAT_VERSION, Manifest};
use crate::paths::NameKind;

pub const MANIFEST: &str = "manifest.json";

/// Files to put in a package, by path inside the zip.
#[derive(Default)]
pub struct Contents {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Contents {
    pub fn add(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), PackageError> {
        check_path(path)?;
        self.files.insert(path.to_owned(), bytes);
        Ok(())
    }
}

/// A safe relative path (see [`crate::paths`]): a zip slip is refused before anything is read.
fn check_path(path: &str) -> Result<(), PackageError> {
    crate::paths::check(NameKind::Entry, path)
        .map_err(|e| PackageError::Invalid(format!("{e} (zip slip?)")))
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes the zip: the files, then the manifest with every file's checksum filled in.
pub fn write(
    mut manifest: Manifest,
    contents: &Contents,
    out: impl Write + Seek,
) -> Result<Manifest, PackageError> {
    manifest.format_version = FORMAT_VERSION;
    let mut zip = crate::archive::Writer::new(out);
    for (path, bytes) in &contents.files {
        zip.add(path, bytes)?;
    }
    manifest.files = zip.files().clone();
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| PackageError::Invalid(e.to_string()))?;
    zip.finish(MANIFEST, &json)?;
    Ok(manifest)
}

/// A package read and verified: its manifest and every file's bytes.
pub struct Verified {
    pub manifest: Manifest,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Reads and verifies a package zip, holding at most `limit` uncompressed bytes (see
/// [`crate::archive::Reader`] for what is refused before anything is inflated).
pub fn read(input: impl Read + Seek, limit: u64) -> Result<Verified, PackageError> {
    let mut zip = crate::archive::Reader::open(input, limit)?;
    if !zip.contains(MANIFEST) {
        return Err(PackageError::Invalid(format!("no {MANIFEST}")));
    }
    let manifest: Manifest = serde_json::from_slice(&zip.read(MANIFEST)?)
        .map_err(|e| PackageError::Invalid(format!("{MANIFEST}: {e}")))?;
    if manifest.format_version > FORMAT_VERSION {
        return Err(PackageError::Invalid(format!(
            "package format {} is newer than this ferry reads ({FORMAT_VERSION})",
            manifest.format_version
        )));
    }
    let mut files = BTreeMap::new();
    for name in zip.names().to_vec() {
        if name == MANIFEST {
            continue;
        }
        let bytes = zip.read(&name)?;
        let Some(entry) = manifest.files.get(&name) else {
            return Err(PackageError::Invalid(format!(
                "`{name}` is in the zip but not in the manifest"
            )));
        };
        if bytes.len() as u64 != entry.size || sha256(&bytes) != entry.sha256 {
            return Err(PackageError::Checksum { path: name });
        }
        files.insert(name, bytes);
    }
    if let Some(missing) = manifest.files.keys().find(|p| !files.contains_key(*p)) {
        return Err(PackageError::Invalid(format!(
            "`{missing}` is in the manifest but not in the zip"
        )));
    }
    check_references(&manifest)?;
    Ok(Verified { manifest, files })
}

/// Everything the manifest names must be inside the verified zip: its service and version are
/// names (they become paths on every node), a predictor, a lookup's rows and a query's table
/// snapshots are entries, a model directory holds entries. Nothing a manifest says can point outside the package.
fn check_references(manifest: &Manifest) -> Result<(), PackageError> {
    use crate::paths::check;
    check(NameKind::Service, &manifest.service).map_err(PackageError::Name)?;
    check(NameKind::Version, &manifest.version).map_err(PackageError::Name)?;
    manifest
        .auth
        .check(manifest.oauth2.as_ref())
        .map_err(PackageError::Invalid)?;
    let entry = |endpoint: &str, what: &str, path: &str| -> Result<(), PackageError> {
        check_path(path)?;
        if manifest.files.contains_key(path) {
            Ok(())
        } else {
            Err(PackageError::Invalid(format!(
                "endpoint `{endpoint}`: its {what} `{path}` is not a file of the package"
            )))
        }
    };
    for endpoint in &manifest.endpoints {
        check(NameKind::Endpoint, endpoint.name()).map_err(PackageError::Name)?;
        match endpoint {
            Endpoint::Prediction {
                name,
                predictor,
                model_dir,
                ..
            } => {
                entry(name, "predictor", predictor)?;
                // It may hold no files (a predictor without artifacts): the node then makes
                // it, empty, inside the unpacked package. It is never looked up elsewhere.
                check_path(model_dir)?;
                if manifest.files.contains_key(model_dir.as_str()) {
                    return Err(PackageError::Invalid(format!(
                        "endpoint `{name}`: its model directory `{model_dir}` is a file"
                    )));
                }
            }
            Endpoint::Lookup { name, rows, .. } => entry(name, "rows", rows)?,
            Endpoint::Sql { name, tables, .. } => {
                for (table, snapshot) in tables {
                    check(NameKind::Table, table).map_err(PackageError::Name)?;
                    entry(name, "table snapshot", snapshot)?;
                }
            }
        }
    }
    Ok(())
}
