//! The package registry: `<home>/packages/<service>/<version>.zip`, written once through a
//! temporary file and never changed. Every package entering it (built or imported) is verified.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::PackageError;
use super::archive::{self, Contents};
use super::manifest::Manifest;
use crate::paths::{self, NameKind};

/// Largest package accepted (uncompressed).
pub const DEFAULT_LIMIT: u64 = 512 << 20;

pub struct Registry {
    root: PathBuf,
    limit: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageInfo {
    pub service: String,
    pub version: String,
    pub created_at: String,
    pub size: u64,
    pub endpoints: Vec<String>,
}

impl Registry {
    pub fn new(root: PathBuf) -> Registry {
        Registry {
            root,
            limit: DEFAULT_LIMIT,
        }
    }

    pub fn with_limit(mut self, limit: u64) -> Registry {
        self.limit = limit;
        self
    }

    /// The largest package (uncompressed) read from this registry.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    fn path(&self, service: &str, version: &str) -> Result<PathBuf, PackageError> {
        let dir = paths::child(&self.root, NameKind::Service, service, "")?;
        Ok(paths::child(&dir, NameKind::Version, version, ".zip")?)
    }

    /// Versions of `service`, oldest first (`v2` before `v10`); none for a name that is not a
    /// valid service id.
    pub fn versions(&self, service: &str) -> Vec<String> {
        let Ok(dir) = paths::child(&self.root, NameKind::Service, service, "") else {
            return Vec::new();
        };
        let mut versions: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".zip")
                    .filter(|v| paths::check(NameKind::Version, v).is_ok())
                    .map(str::to_owned)
            })
            .collect();
        versions.sort_by_key(|v| natural_key(v));
        versions
    }

    pub fn services(&self) -> Vec<String> {
        let mut services: Vec<String> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|s| paths::check(NameKind::Service, s).is_ok())
            .collect();
        services.sort();
        services
    }

    /// The next generated version: `v<N+1>` after the highest `vN`.
    pub fn next_version(&self, service: &str) -> String {
        let highest = self
            .versions(service)
            .iter()
            .filter_map(|v| v.strip_prefix('v')?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        format!("v{}", highest + 1)
    }

    /// Writes a new package; refuses to replace one.
    pub fn add(&self, manifest: Manifest, contents: &Contents) -> Result<Manifest, PackageError> {
        let mut bytes = Cursor::new(Vec::new());
        let manifest = archive::write(manifest, contents, &mut bytes)?;
        let bytes = bytes.into_inner();
        // What is stored must read back: the registry never holds an unverifiable package.
        archive::read(Cursor::new(&bytes), self.limit)?;
        self.store(&manifest.service, &manifest.version, &bytes)?;
        Ok(manifest)
    }

    /// Verifies a package zip made elsewhere and adds it.
    pub fn import(&self, bytes: &[u8]) -> Result<Manifest, PackageError> {
        let verified = archive::read(Cursor::new(bytes), self.limit)?;
        let m = verified.manifest;
        self.store(&m.service, &m.version, bytes)?;
        Ok(m)
    }

    fn store(&self, service: &str, version: &str, bytes: &[u8]) -> Result<(), PackageError> {
        let path = self.path(service, version)?;
        let dir = path.parent().expect("a service directory");
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{version}.zip.tmp-{}", uuid::Uuid::new_v4()));
        std::fs::write(&tmp, bytes)?;
        // hard_link fails if the version exists: no check-then-write race between two writers.
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(PackageError::Exists {
                service: service.to_owned(),
                version: version.to_owned(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The stored zip of `service` `version`, opened for reading (an export streams it).
    pub fn file(&self, service: &str, version: &str) -> Result<std::fs::File, PackageError> {
        let path = self.path(service, version)?;
        std::fs::File::open(&path).map_err(|_| PackageError::NotFound {
            service: service.to_owned(),
            version: version.to_owned(),
        })
    }

    /// The stored zip's bytes (for download).
    pub fn bytes(&self, service: &str, version: &str) -> Result<Vec<u8>, PackageError> {
        let path = self.path(service, version)?;
        std::fs::read(&path).map_err(|_| PackageError::NotFound {
            service: service.to_owned(),
            version: version.to_owned(),
        })
    }

    /// Reads and verifies a stored package.
    pub fn open(&self, service: &str, version: &str) -> Result<archive::Verified, PackageError> {
        archive::read(Cursor::new(self.bytes(service, version)?), self.limit)
    }

    pub fn info(&self, service: &str, version: &str) -> Result<PackageInfo, PackageError> {
        let bytes = self.bytes(service, version)?;
        let m = archive::read(Cursor::new(&bytes), self.limit)?.manifest;
        Ok(PackageInfo {
            service: m.service,
            version: m.version,
            created_at: m.created_at,
            size: bytes.len() as u64,
            endpoints: m.endpoints.iter().map(|e| e.name().to_owned()).collect(),
        })
    }

    pub fn delete(&self, service: &str, version: &str) -> Result<(), PackageError> {
        let path = self.path(service, version)?;
        std::fs::remove_file(&path).map_err(|_| PackageError::NotFound {
            service: service.to_owned(),
            version: version.to_owned(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Sorts `v2` before `v10`: digit runs compare as numbers.
fn natural_key(s: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut digits = String::new();
    let mut text = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !text.is_empty() {
                key.push((0, std::mem::take(&mut text)));
            }
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((digits.parse().unwrap_or(u64::MAX), String::new()));
                digits.clear();
            }
            text.push(c);
        }
    }
    if !digits.is_empty() {
        key.push((digits.parse().unwrap_or(u64::MAX), String::new()));
    }
    if !text.is_empty() {
        key.push((0, text));
    }
    key
}
