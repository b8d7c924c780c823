//! Opening an export zip and judging it: the safe reader refuses what could hurt (slip,
//! symlinks, duplicates, bombs), the manifest must say `ferry-export` of a version this ferry
//! reads, every entry must match its checksum, and every object must be where its kind lives.
//! Then each object is compared with what this home holds.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ImportError;
use super::found::{Found, FoundVersion, State};
use crate::archive::{FileEntry, Reader};
use crate::exports::{
    Dependency, ExportManifest, ExportObject, FORMAT, FORMAT_VERSION, MANIFEST, ObjectKind,
    Project, SECRET_VALUES, VARIABLES,
};
use crate::paths::{self, NameKind};

/// The largest manifest, record, workflow text or sealed values held in memory (they list
/// names and checksums, or hold one object's declaration).
pub(super) const MAX_SMALL: u64 = 16 << 20;

/// An export zip opened and verified: its manifest, and its entries to read.
pub struct Opened {
    /// The manifest, checked.
    pub manifest: ExportManifest,
    /// The zip's size in bytes.
    pub size: u64,
    zip: Reader<File>,
}

impl Opened {
    /// Entry `entry`'s bytes (verified already), refused if it declares more than `max`.
    pub fn read(&mut self, entry: &str, max: u64) -> Result<Vec<u8>, ImportError> {
        Ok(self.zip.read_at_most(entry, max)?)
    }

    /// Streams entry `entry` into `out`.
    pub fn copy(&mut self, entry: &str, out: &mut dyn Write) -> Result<(), ImportError> {
        self.zip.copy(entry, out)?;
        Ok(())
    }

    /// The object of `kind` named `name`.
    pub fn object(&self, kind: ObjectKind, name: &str) -> Option<&ExportObject> {
        self.manifest
            .objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
    }
}

/// Opens the zip at `path`, holding at most `limit` uncompressed bytes, and verifies it.
pub fn open(path: &Path, limit: u64) -> Result<Opened, ImportError> {
    let file = File::open(path).map_err(ImportError::io(path))?;
    let size = file.metadata().map_err(ImportError::io(path))?.len();
    let mut zip = Reader::open(file, limit)?;
    if !zip.contains(MANIFEST) {
        return Err(ImportError::NotAnExport(format!(
            "it has no {MANIFEST} (a package zip is imported with `ferry packages import`)"
        )));
    }
    let bytes = zip.read_at_most(MANIFEST, MAX_SMALL)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ImportError::NotAnExport(format!("{MANIFEST} is not JSON: {e}")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(ImportError::NotAnExport(format!(
            "{MANIFEST} does not say format \"{FORMAT}\""
        )));
    }
    let found = value
        .get("formatVersion")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| ImportError::Manifest("formatVersion is not a number".into()))?;
    if found > u64::from(FORMAT_VERSION) {
        return Err(ImportError::Version {
            found: u32::try_from(found).unwrap_or(u32::MAX),
            reads: FORMAT_VERSION,
        });
    }
    let manifest: ExportManifest =
        serde_json::from_value(value).map_err(|e| ImportError::Manifest(e.to_string()))?;
    zip.verify(MANIFEST, &manifest.files)?;
    check(&manifest)?;
    Ok(Opened {
        manifest,
        size,
        zip,
    })
}

/// Every object is named as its kind is named and lives where its kind lives, once.
fn check(manifest: &ExportManifest) -> Result<(), ImportError> {
    let bad = |o: &ExportObject, why: String| {
        ImportError::Manifest(format!("{} `{}`: {why}", o.kind.noun(), o.name))
    };
    let mut seen = BTreeSet::new();
    for o in &manifest.objects {
        if !seen.insert((o.kind, o.name.as_str())) {
            return Err(bad(o, "listed twice".into()));
        }
        let name = |kind| paths::check(kind, &o.name).map_err(|e| bad(o, e.to_string()));
        let expect = |files: Vec<String>| {
            if o.files == files {
                Ok(())
            } else {
                Err(bad(o, format!("its files must be {files:?}")))
            }
        };
        match o.kind {
            ObjectKind::Workflow => {
                name(NameKind::Workflow)?;
                if o.files.first() != Some(&format!("workflows/{}.toml", o.name))
                    || o.files.iter().any(|f| workflow_relative(f).is_none())
                {
                    return Err(bad(o, "its files must be under workflows/".into()));
                }
            }
            ObjectKind::Plugin => {
                if o.files.len() != 1 || workflow_relative(&o.files[0]).is_none() {
                    return Err(bad(o, "it must be one file under workflows/".into()));
                }
            }
            ObjectKind::Service => {
                name(NameKind::Service)?;
                for v in &o.versions {
                    paths::check(NameKind::Version, v).map_err(|e| bad(o, e.to_string()))?;
                }
                expect(
                    o.versions
                        .iter()
                        .map(|v| format!("packages/{}/{v}.zip", o.name))
                        .collect(),
                )?;
            }
            ObjectKind::Infra => {
                name(NameKind::Infra)?;
                expect(vec![format!("infras/{}.json", o.name)])?;
            }
            ObjectKind::Deployment => {
                name(NameKind::Deployment)?;
                expect(vec![format!("deployments/{}.json", o.name)])?;
            }
            ObjectKind::Variable => {
                name(NameKind::Variable)?;
                expect(vec![VARIABLES.to_owned()])?;
            }
            ObjectKind::Secret => {
                let (credential, field) = o
                    .name
                    .rsplit_once('.')
                    .ok_or_else(|| bad(o, "a secret is named credential.field".into()))?;
                paths::check(NameKind::Credential, credential)
                    .map_err(|e| bad(o, e.to_string()))?;
                if field.is_empty() {
                    return Err(bad(o, "a secret is named credential.field".into()));
                }
                let included = o.value_included == Some(true);
                expect(if included {
                    vec![SECRET_VALUES.to_owned()]
                } else {
                    Vec::new()
                })?;
            }
        }
        if let Some(f) = o.files.iter().find(|f| !manifest.files.contains_key(*f)) {
            return Err(bad(o, format!("its file `{f}` is not in the zip")));
        }
    }
    Ok(())
}

/// The path below the workflows directory of an entry under `workflows/`.
pub(super) fn workflow_relative(entry: &str) -> Option<&str> {
    let rest = entry.strip_prefix("workflows/")?;
    paths::check(NameKind::Entry, rest).ok()?;
    Some(rest)
}

/// The checksum of the file at `path`, if there is one.
pub(super) fn file_entry(path: &Path) -> Option<FileEntry> {
    hash_file(File::open(path).ok()?)
}

/// The checksum of an open file (none for a directory).
fn hash_file(mut file: File) -> Option<FileEntry> {
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut hash = Sha256::new();
    let size = std::io::copy(&mut file, &mut hash).ok()?;
    Some(FileEntry {
        sha256: hex::encode(hash.finalize()),
        size,
    })
}

/// How entry `entry` stands against the file at `target`.
fn file_state(opened: &Opened, entry: &str, target: &Path) -> State {
    match file_entry(target) {
        None => State::New,
        Some(e) if Some(&e) == opened.manifest.files.get(entry) => State::Identical,
        Some(_) => State::Conflict,
    }
}

/// The JSON record an export carries for an infra or deployment.
pub(super) fn record(opened: &mut Opened, entry: &str) -> Result<serde_json::Value, ImportError> {
    let bytes = opened.read(entry, MAX_SMALL)?;
    serde_json::from_slice(&bytes).map_err(|e| ImportError::Manifest(format!("{entry}: {e}")))
}

/// The export's variables' values.
pub(super) fn variables(opened: &mut Opened) -> Result<BTreeMap<String, String>, ImportError> {
    if !opened.manifest.files.contains_key(VARIABLES) {
        return Ok(BTreeMap::new());
    }
    let bytes = opened.read(VARIABLES, MAX_SMALL)?;
    serde_json::from_slice(&bytes).map_err(|e| ImportError::Manifest(format!("{VARIABLES}: {e}")))
}

/// Each object of the export against `project`: new, identical or in conflict, and what it
/// needs that neither the export nor the home has.
pub fn scan(opened: &mut Opened, project: &Project<'_>) -> Result<Vec<Found>, ImportError> {
    let objects = opened.manifest.objects.clone();
    let in_export =
        |kind: ObjectKind, name: &str| objects.iter().any(|o| o.kind == kind && o.name == name);
    let home_infra = |name: &str| project.infras.iter().any(|i| i.name == name);
    let variables = variables(opened)?;
    let mut found = Vec::new();
    for o in &objects {
        let mut f = Found {
            kind: o.kind,
            name: o.name.clone(),
            state: State::New,
            versions: Vec::new(),
            missing: Vec::new(),
            unsatisfiable: false,
            value_included: None,
            needs_value: false,
        };
        match o.kind {
            ObjectKind::Workflow | ObjectKind::Plugin => {
                let targets: Vec<(String, PathBuf)> = o
                    .files
                    .iter()
                    .map(|e| {
                        let rest = workflow_relative(e).expect("checked when opened");
                        (e.clone(), project.workflows.join(rest))
                    })
                    .collect();
                f.state = State::of_parts(targets.iter().map(|(e, t)| file_state(opened, e, t)));
                if o.kind == ObjectKind::Workflow {
                    let text =
                        String::from_utf8(opened.read(&o.files[0], MAX_SMALL)?).unwrap_or_default();
                    let plugins = crate::workflow::references(&targets[0].1, &text)
                        .map(|r| r.plugins)
                        .unwrap_or_default();
                    for d in &o.depends_on {
                        let there = match d.kind {
                            ObjectKind::Plugin => {
                                (d.in_export && in_export(ObjectKind::Plugin, &d.name))
                                    || plugins
                                        .get(&d.name)
                                        .is_some_and(|p| project.workflows.join(p).is_file())
                            }
                            ObjectKind::Infra => {
                                in_export(ObjectKind::Infra, &d.name) || home_infra(&d.name)
                            }
                            _ => true,
                        };
                        if !there {
                            f.missing.push(d.clone());
                        }
                    }
                }
            }
            ObjectKind::Service => {
                for v in &o.versions {
                    let entry = format!("packages/{}/{v}.zip", o.name);
                    let stored = project
                        .packages
                        .versions(&o.name)
                        .contains(v)
                        .then(|| project.packages.file(&o.name, v).ok())
                        .flatten()
                        .and_then(hash_file);
                    let state = match stored {
                        None => State::New,
                        Some(e) if Some(&e) == opened.manifest.files.get(&entry) => {
                            State::Identical
                        }
                        Some(_) => State::Conflict,
                    };
                    f.versions.push(FoundVersion {
                        version: v.clone(),
                        state,
                    });
                }
                f.state = State::of_parts(f.versions.iter().map(|v| v.state));
            }
            ObjectKind::Infra => {
                let r = record(opened, &o.files[0])?;
                if let Some(home) = project.infras.iter().find(|i| i.name == o.name) {
                    f.state = if r.get("spec") == Some(&home.spec) {
                        State::Identical
                    } else {
                        State::Conflict
                    };
                }
            }
            ObjectKind::Deployment => {
                let r = record(opened, &o.files[0])?;
                if let Some(home) = project.deployments.iter().find(|d| d.id == o.name) {
                    let same = r.get("service").and_then(|s| s.as_str()) == Some(&home.service)
                        && r.get("infra").and_then(|s| s.as_str()) == Some(&home.infra)
                        && r.get("desired").cloned() == serde_json::to_value(&home.desired).ok();
                    f.state = if same {
                        State::Identical
                    } else {
                        State::Conflict
                    };
                }
                for d in &o.depends_on {
                    let there = match d.kind {
                        ObjectKind::Service => {
                            let version = d.version.clone().unwrap_or_default();
                            objects.iter().any(|s| {
                                s.kind == ObjectKind::Service
                                    && s.name == d.name
                                    && s.versions.contains(&version)
                            }) || project.packages.versions(&d.name).contains(&version)
                        }
                        ObjectKind::Infra => {
                            in_export(ObjectKind::Infra, &d.name) || home_infra(&d.name)
                        }
                        _ => true,
                    };
                    if !there {
                        f.missing.push(Dependency {
                            in_export: false,
                            ..d.clone()
                        });
                    }
                }
                f.unsatisfiable = !f.missing.is_empty();
            }
            ObjectKind::Variable => {
                if let Some(home) = project.variables.get(&o.name) {
                    f.state = if variables.get(&o.name) == Some(home) {
                        State::Identical
                    } else {
                        State::Conflict
                    };
                }
            }
            ObjectKind::Secret => {
                let included = o.value_included == Some(true);
                let stored = project
                    .secrets
                    .iter()
                    .any(|s| format!("{}.{}", s.credential, s.field) == o.name);
                // A stored value cannot be compared without opening both: it is a conflict
                // the confirmation settles (skip keeps the stored one).
                f.state = if stored { State::Conflict } else { State::New };
                f.value_included = Some(included);
                f.needs_value = !included && !stored;
            }
        }
        found.push(f);
    }
    Ok(found)
}
