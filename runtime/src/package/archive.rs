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

/// Reads and verifies a package zip, holding at most `limit` uncompressed bytes.
///
/// The sizes the zip declares are summed before anything is inflated, so a bomb is refused
/// without spending memory on it; what is inflated is counted too, so a zip that lies about
/// its sizes stops at the limit. Symlink entries and names given twice are refused.
pub fn read(mut input: impl Read + Seek, limit: u64) -> Result<Verified, PackageError> {
    let declared_entries = declared_entries(&mut input)?;
    let mut zip = zip::ZipArchive::new(input)
        .map_err(|e| PackageError::Invalid(format!("not a zip archive: {e}")))?;
    // The reader indexes entries by name, so a second entry of a name would vanish from view
    // (and could be what another reader unpacks): count what the central directory declares.
    if declared_entries.is_some_and(|n| n != zip.len() as u64) {
        return Err(PackageError::Invalid(format!(
            "the zip declares {} entries but holds {} distinct names: an entry appears twice",
            declared_entries.unwrap_or_default(),
            zip.len()
        )));
    }
    let mut declared = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(PackageError::zip)?;
        declared = declared.saturating_add(entry.size());
        if declared > limit {
            return Err(PackageError::TooLarge { limit });
        }
    }
    let mut files = BTreeMap::new();
    let mut manifest_bytes = None;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(PackageError::zip)?;
        let name = entry.name().map_err(PackageError::zip)?.into_owned();
        if entry.is_symlink() {
            return Err(PackageError::Invalid(format!(
                "entry `{name}` is a symbolic link; packages hold only plain files"
            )));
        }
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
        let twice = if name == MANIFEST {
            manifest_bytes.replace(bytes).is_some()
        } else {
            files.insert(name.clone(), bytes).is_some()
        };
        if twice {
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
    check_references(&manifest)?;
    Ok(Verified { manifest, files })
}

/// How many entries the zip's end-of-central-directory record declares (the ZIP64 record's
/// count when the classic one overflows); `None` when there is no such record (the zip
/// reader then says what is wrong).
fn declared_entries(input: &mut (impl Read + Seek)) -> Result<Option<u64>, PackageError> {
    use std::io::SeekFrom;
    const EOCD: &[u8] = b"PK\x05\x06";
    let len = input.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 65535);
    input.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    input.read_exact(&mut tail)?;
    input.seek(SeekFrom::Start(0))?;
    let Some(at) = tail.windows(4).rposition(|w| w == EOCD) else {
        return Ok(None);
    };
    let Some(record) = tail.get(at..at + 22) else {
        return Ok(None);
    };
    let classic = u16::from_le_bytes([record[10], record[11]]);
    if classic != u16::MAX {
        return Ok(Some(classic as u64));
    }
    // ZIP64: the locator (20 bytes, just before) gives the offset of the ZIP64 record.
    let Some(locator) = at.checked_sub(20).and_then(|l| tail.get(l..l + 20)) else {
        return Ok(None);
    };
    if &locator[..4] != b"PK\x06\x07" {
        return Ok(None);
    }
    let offset = u64::from_le_bytes(locator[8..16].try_into().expect("8 bytes"));
    let mut record = [0u8; 56];
    input.seek(SeekFrom::Start(offset))?;
    let found = input.read_exact(&mut record).is_ok() && &record[..4] == b"PK\x06\x06";
    input.seek(SeekFrom::Start(0))?;
    Ok(found.then(|| u64::from_le_bytes(record[32..40].try_into().expect("8 bytes"))))
}

/// Everything the manifest names must be inside the verified zip: its service and version are
/// names (they become paths on every node), a predictor and a lookup's rows are entries, a
/// model directory holds entries. Nothing a manifest says can point outside the package.
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
        }
    }
    Ok(())
}
