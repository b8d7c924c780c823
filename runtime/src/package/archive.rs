//! Reading and writing package zips. Writing records each file's SHA-256 in the manifest;
//! reading refuses what could hurt the reader: paths that escape (zip slip), archives larger
//! than the limit (zip bombs), files missing from or absent in the manifest, and any checksum
//! that does not match (a tampered or corrupt package).

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use super::PackageError;
use super::manifest::{FORMAT_VERSION, FileEntry, Manifest};

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

/// A safe relative path with `/` separators and no `.`/`..` parts.
fn check_path(path: &str) -> Result<(), PackageError> {
    if crate::paths::is_plain_relative(path) {
        Ok(())
    } else {
        Err(PackageError::Invalid(format!(
            "entry `{path}` is not a plain relative path (zip slip?)"
        )))
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes the zip: the manifest (with every file's checksum filled in) first, then the files.
pub fn write(
    mut manifest: Manifest,
    contents: &Contents,
    out: impl Write + Seek,
) -> Result<Manifest, PackageError> {
    manifest.format_version = FORMAT_VERSION;
    manifest.files = contents
        .files
        .iter()
        .map(|(p, b)| {
            (
                p.clone(),
                FileEntry {
                    sha256: sha256(b),
                    size: b.len() as u64,
                },
            )
        })
        .collect();
    let mut zip = zip::ZipWriter::new(out);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| PackageError::Invalid(e.to_string()))?;
    zip.start_file(MANIFEST, options)
        .map_err(PackageError::zip)?;
    zip.write_all(&json).map_err(PackageError::Io)?;
    for (path, bytes) in &contents.files {
        zip.start_file(path.as_str(), options)
            .map_err(PackageError::zip)?;
        zip.write_all(bytes).map_err(PackageError::Io)?;
    }
    zip.finish().map_err(PackageError::zip)?;
    Ok(manifest)
}

/// A package read and verified: its manifest and every file's bytes.
pub struct Verified {
    pub manifest: Manifest,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Reads and verifies a package zip, holding at most `limit` uncompressed bytes.
pub fn read(input: impl Read + Seek, limit: u64) -> Result<Verified, PackageError> {
    let mut zip = zip::ZipArchive::new(input)
        .map_err(|e| PackageError::Invalid(format!("not a zip archive: {e}")))?;
    let mut files = BTreeMap::new();
    let mut manifest_bytes = None;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(PackageError::zip)?;
        let name = entry.name().map_err(PackageError::zip)?.into_owned();
        if entry.is_dir() {
            continue;
        }
        check_path(&name)?;
        let mut bytes = Vec::new();
        // Count what is actually inflated, not what the header claims.
        let read = entry
            .take(limit.saturating_sub(total) + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| PackageError::Invalid(format!("entry `{name}` is corrupt: {e}")))?;
        total += read as u64;
        if total > limit {
            return Err(PackageError::TooLarge { limit });
        }
        if name == MANIFEST {
            manifest_bytes = Some(bytes);
        } else if files.insert(name.clone(), bytes).is_some() {
            return Err(PackageError::Invalid(format!(
                "entry `{name}` appears twice"
            )));
        }
    }
    let manifest_bytes =
        manifest_bytes.ok_or_else(|| PackageError::Invalid(format!("no {MANIFEST}")))?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| PackageError::Invalid(format!("{MANIFEST}: {e}")))?;
    if manifest.format_version > FORMAT_VERSION {
        return Err(PackageError::Invalid(format!(
            "package format {} is newer than this ferry reads ({FORMAT_VERSION})",
            manifest.format_version
        )));
    }
    for (path, entry) in &manifest.files {
        let bytes = files.get(path).ok_or_else(|| {
            PackageError::Invalid(format!("`{path}` is in the manifest but not in the zip"))
        })?;
        if bytes.len() as u64 != entry.size || sha256(bytes) != entry.sha256 {
            return Err(PackageError::Checksum { path: path.clone() });
        }
    }
    if let Some(extra) = files.keys().find(|p| !manifest.files.contains_key(*p)) {
        return Err(PackageError::Invalid(format!(
            "`{extra}` is in the zip but not in the manifest"
        )));
    }
    Ok(Verified { manifest, files })
}
