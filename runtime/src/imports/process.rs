//! Processing a confirmed import, all or nothing. [`prepare`] decides everything first — each
//! chosen object's fate, the files to place, the package versions to add, the records to
//! write — and refuses a confirmation it cannot carry out before anything is touched. Then
//! [`Staged::place`] puts files and packages in place under a journal written ahead of every
//! step (each file it replaces kept aside), the store writes every record in one transaction,
//! and only then is the journal settled. Any failure before that, or a process killed
//! half-way, is undone by [`rollback`] from the journal: the home is as it was.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ImportError;
use super::confirm::{Confirmation, Given, OnConflict};
use super::found::{Found, State};
use super::scan::{MAX_SMALL, Opened, record, scan, variables, workflow_relative};
use crate::credentials::Secret;
use crate::exports::{ObjectKind, Project, SECRET_VALUES};
use crate::package::Registry;
use crate::store::{DeploymentWrite, Desired, ImportWrites, InfraWrite};

/// What processing did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// It was new here and is now.
    Created,
    /// The home's was put aside for the export's.
    Replaced,
    /// The home had it already, the same.
    Unchanged,
    /// It conflicted and the home's was kept.
    Skipped,
    /// It was imported under another name.
    Renamed,
}

/// One object's outcome, as the import's result lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Its kind.
    pub kind: ObjectKind,
    /// Its name in the export.
    pub name: String,
    /// What was done.
    pub action: Action,
    /// Its name here, when renamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A service's versions added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// A deployment's: whether it is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Everything an import will do, decided and checked.
#[derive(Default)]
pub struct Prepared {
    /// Files to place below the workflows directory, and where.
    files: Vec<(Placed, PathBuf)>,
    /// `(service, version, entry)`: package versions to add, verified.
    packages: Vec<(String, String, String)>,
    /// The records to write in the store's one transaction (secrets without their values).
    pub writes: ImportWrites,
    /// `(credential, field, value)`: secret values to seal into `writes`.
    pub secret_values: Vec<(String, String, Secret)>,
    /// What happens to each chosen object.
    pub outcomes: Vec<Outcome>,
}

/// Where a placed file's bytes come from.
enum Placed {
    /// An entry of the zip, streamed.
    Entry(String),
    /// Bytes made here (a renamed workflow, its `name` changed).
    Bytes(String, Vec<u8>),
}

impl Placed {
    fn entry(&self) -> &str {
        match self {
            Placed::Entry(e) | Placed::Bytes(e, _) => e,
        }
    }
}

/// `text` with its top-level `name = "from"` (before the first table) set to `to`, so a
/// renamed workflow does not declare the name of the one it stands beside.
fn renamed(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len() + to.len());
    let mut top = true;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') {
            top = false;
        }
        let value = t
            .strip_prefix("name")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('='))
            .map(str::trim);
        if top && value.is_some_and(|v| v == format!("\"{from}\"") || v == format!("'{from}'")) {
            out.push_str(&format!("name = \"{to}\"\n"));
            top = false;
        } else {
            out.push_str(line);
        }
    }
    out
}

/// What to do with one chosen object.
enum Decision {
    Write,
    Replace,
    Unchanged,
    Skip,
    Rename(String),
}

/// The action of an object the export's content is written for: created, or replaced.
fn written(d: &Decision) -> Action {
    if matches!(d, Decision::Replace) {
        Action::Replaced
    } else {
        Action::Created
    }
}

fn decide(
    f: &Found,
    confirmation: &Confirmation,
    free: impl Fn(&str) -> bool,
) -> Result<Decision, ImportError> {
    let refused = |why: &str| ImportError::Refused {
        kind: f.kind,
        name: f.name.clone(),
        why: why.to_owned(),
    };
    Ok(match f.state {
        State::New => Decision::Write,
        State::Identical => Decision::Unchanged,
        State::Conflict => match confirmation.mode(f.kind, &f.name) {
            None => {
                return Err(ImportError::Unsettled {
                    kind: f.kind,
                    name: f.name.clone(),
                });
            }
            Some(OnConflict::Skip) => Decision::Skip,
            Some(OnConflict::Replace) if f.kind == ObjectKind::Service => {
                return Err(refused(
                    "package versions are immutable, so a version that differs here cannot be replaced: skip it (the new versions are still imported)",
                ));
            }
            Some(OnConflict::Replace) => Decision::Replace,
            Some(OnConflict::Rename)
                if matches!(f.kind, ObjectKind::Workflow | ObjectKind::Deployment) =>
            {
                let name = std::iter::once(format!("{}-imported", f.name))
                    .chain((2..).map(|n| format!("{}-imported-{n}", f.name)))
                    .find(|n| free(n))
                    .expect("some name is free");
                Decision::Rename(name)
            }
            Some(OnConflict::Rename) => {
                return Err(refused(
                    "only workflows and deployments can be renamed (other objects are named by what uses them): skip or replace it",
                ));
            }
        },
    })
}

/// Opens the export's secret values with `passphrase`.
fn decrypt(sealed: &[u8], passphrase: &Secret) -> Result<BTreeMap<String, Secret>, ImportError> {
    let decryptor = age::Decryptor::new(sealed)
        .map_err(|e| ImportError::Manifest(format!("{SECRET_VALUES} is not an age file: {e}")))?;
    let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(
        passphrase.expose().to_owned(),
    ));
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|_| ImportError::WrongPassphrase)?;
    let mut plain = zeroize::Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plain)
        .map_err(|_| ImportError::WrongPassphrase)?;
    let values: BTreeMap<String, String> = serde_json::from_slice(&plain).map_err(|_| {
        ImportError::Manifest(format!("{SECRET_VALUES} does not hold a JSON object"))
    })?;
    Ok(values
        .into_iter()
        .map(|(k, v)| (k, Secret::new(v)))
        .collect())
}

fn outcome(f: &Found, action: Action) -> Outcome {
    Outcome {
        kind: f.kind,
        name: f.name.clone(),
        action,
        to: None,
        versions: Vec::new(),
        enabled: None,
    }
}

/// Decides what importing `opened` into `project` as `confirmation` says does, and checks
/// that all of it can be done: names the confirmation gives exist, conflicts are settled,
/// deployments have what they need, secrets have values, every workflow, package and infra
/// is valid. Nothing is written.
pub fn prepare(
    opened: &mut Opened,
    project: &Project<'_>,
    confirmation: &Confirmation,
    given: &Given,
    package_limit: u64,
) -> Result<Prepared, ImportError> {
    let found = scan(opened, project)?;
    let unknown = |kind: ObjectKind, name: &str| ImportError::Unknown {
        kind,
        name: name.to_owned(),
        available: {
            let names: Vec<&str> = found
                .iter()
                .filter(|f| f.kind == kind)
                .map(|f| f.name.as_str())
                .collect();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        },
    };
    for p in confirmation.named() {
        if !found.iter().any(|f| f.kind == p.kind && f.name == p.name) {
            return Err(unknown(p.kind, &p.name));
        }
    }
    for name in given.secrets.keys() {
        if !found
            .iter()
            .any(|f| f.kind == ObjectKind::Secret && f.name == *name)
        {
            return Err(unknown(ObjectKind::Secret, name));
        }
    }
    let chosen: Vec<&Found> = found
        .iter()
        .filter(|f| confirmation.chooses(f.kind, &f.name))
        .collect();
    let is_chosen =
        |kind: ObjectKind, name: &str| chosen.iter().any(|f| f.kind == kind && f.name == name);
    let mut out = Prepared::default();
    let export_variables = variables(opened)?;
    let mut export_values: Option<BTreeMap<String, Secret>> = None;

    for f in chosen.iter().copied() {
        let object = opened
            .object(f.kind, &f.name)
            .expect("found from the manifest")
            .clone();
        let invalid = |why: String| ImportError::Invalid {
            kind: f.kind,
            name: f.name.clone(),
            why,
        };
        match f.kind {
            ObjectKind::Workflow => {
                let free = |n: &str| {
                    !project.workflows.join(format!("{n}.toml")).exists()
                        && !out
                            .files
                            .iter()
                            .any(|(_, t)| t.ends_with(format!("{n}.toml")))
                };
                let decision = decide(f, confirmation, free)?;
                let name = match &decision {
                    Decision::Unchanged => {
                        out.outcomes.push(outcome(f, Action::Unchanged));
                        continue;
                    }
                    Decision::Skip => {
                        out.outcomes.push(outcome(f, Action::Skipped));
                        continue;
                    }
                    Decision::Rename(to) => to.clone(),
                    Decision::Write | Decision::Replace => f.name.clone(),
                };
                let text = String::from_utf8(opened.read(&object.files[0], MAX_SMALL)?)
                    .map_err(|_| invalid("it is not UTF-8 text".into()))?;
                let target = project.workflows.join(format!("{name}.toml"));
                crate::workflow::references(&target, &text).map_err(|e| invalid(e.to_string()))?;
                let placed = if name == f.name {
                    Placed::Entry(object.files[0].clone())
                } else {
                    Placed::Bytes(
                        object.files[0].clone(),
                        renamed(&text, &f.name, &name).into_bytes(),
                    )
                };
                out.files.push((placed, target));
                for entry in &object.files[1..] {
                    let rest = workflow_relative(entry).expect("checked when opened");
                    let target = project.workflows.join(rest);
                    let differs = super::scan::file_entry(&target)
                        .is_some_and(|e| Some(&e) != opened.manifest.files.get(entry));
                    if differs && !matches!(decision, Decision::Replace) {
                        return Err(ImportError::Refused {
                            kind: f.kind,
                            name: f.name.clone(),
                            why: format!(
                                "its file `{rest}` exists here with other content; replace the workflow to replace it too"
                            ),
                        });
                    }
                    if super::scan::file_entry(&target).is_none() || differs {
                        out.files.push((Placed::Entry(entry.clone()), target));
                    }
                }
                out.outcomes.push(match decision {
                    Decision::Rename(to) => Outcome {
                        to: Some(to),
                        ..outcome(f, Action::Renamed)
                    },
                    Decision::Replace => outcome(f, Action::Replaced),
                    _ => outcome(f, Action::Created),
                });
            }
            ObjectKind::Plugin => match decide(f, confirmation, |_| true)? {
                Decision::Unchanged => out.outcomes.push(outcome(f, Action::Unchanged)),
                Decision::Skip => out.outcomes.push(outcome(f, Action::Skipped)),
                d => {
                    let entry = &object.files[0];
                    let rest = workflow_relative(entry).expect("checked when opened");
                    out.files
                        .push((Placed::Entry(entry.clone()), project.workflows.join(rest)));
                    let action = written(&d);
                    out.outcomes.push(outcome(f, action));
                }
            },
            ObjectKind::Service => {
                let decision = decide(f, confirmation, |_| true)?;
                let mut added = Vec::new();
                for v in f.versions.iter().filter(|v| v.state == State::New) {
                    let entry = format!("packages/{}/{}.zip", f.name, v.version);
                    let bytes = opened.read(&entry, package_limit)?;
                    let verified = crate::package::Verified::read(&bytes, package_limit)
                        .map_err(|e| invalid(format!("version {}: {e}", v.version)))?;
                    if verified.manifest.service != f.name || verified.manifest.version != v.version
                    {
                        return Err(invalid(format!(
                            "`{entry}` holds {} {}",
                            verified.manifest.service, verified.manifest.version
                        )));
                    }
                    out.packages
                        .push((f.name.clone(), v.version.clone(), entry));
                    added.push(v.version.clone());
                }
                let action = match (decision, added.is_empty()) {
                    (_, false) => Action::Created,
                    (Decision::Skip, true) => Action::Skipped,
                    _ => Action::Unchanged,
                };
                out.outcomes.push(Outcome {
                    versions: added,
                    ..outcome(f, action)
                });
            }
            ObjectKind::Infra => match decide(f, confirmation, |_| true)? {
                Decision::Unchanged => out.outcomes.push(outcome(f, Action::Unchanged)),
                Decision::Skip => out.outcomes.push(outcome(f, Action::Skipped)),
                d => {
                    let r = record(opened, &object.files[0])?;
                    let spec = r.get("spec").cloned().unwrap_or_default();
                    let (kind, stage, spec) = crate::deploy::infra::checked_record(&f.name, &spec)
                        .map_err(|e| invalid(e.to_string()))?;
                    out.writes.infras.push(InfraWrite {
                        name: f.name.clone(),
                        kind,
                        stage,
                        spec,
                    });
                    let action = written(&d);
                    out.outcomes.push(outcome(f, action));
                }
            },
            ObjectKind::Deployment => {
                let free = |id: &str| !project.deployments.iter().any(|d| d.id == id);
                let decision = decide(f, confirmation, free)?;
                if matches!(decision, Decision::Unchanged | Decision::Skip) {
                    let action = if matches!(decision, Decision::Skip) {
                        Action::Skipped
                    } else {
                        Action::Unchanged
                    };
                    out.outcomes.push(outcome(f, action));
                    continue;
                }
                let r = record(opened, &object.files[0])?;
                let service = r["service"].as_str().unwrap_or_default().to_owned();
                let infra = r["infra"].as_str().unwrap_or_default().to_owned();
                let mut desired: Desired = serde_json::from_value(r["desired"].clone())
                    .map_err(|e| invalid(format!("its desired state: {e}")))?;
                let mut needs = Vec::new();
                for share in &desired.versions {
                    let export_has = is_chosen(ObjectKind::Service, &service)
                        && found.iter().any(|s| {
                            s.kind == ObjectKind::Service
                                && s.name == service
                                && s.versions.iter().any(|v| v.version == share.version)
                        });
                    if !export_has && !project.packages.versions(&service).contains(&share.version)
                    {
                        needs.push(format!("package {service} {}", share.version));
                    }
                }
                if !is_chosen(ObjectKind::Infra, &infra)
                    && !project.infras.iter().any(|i| i.name == infra)
                {
                    needs.push(format!("infra {infra}"));
                }
                if !needs.is_empty() {
                    return Err(ImportError::Unsatisfiable {
                        deployment: f.name.clone(),
                        needs: needs.join(" and "),
                    });
                }
                desired.enabled = confirmation.enabled(&f.name);
                let (id, replace, action) = match decision {
                    Decision::Rename(to) => (to, false, Action::Renamed),
                    Decision::Replace => {
                        let home = project
                            .deployments
                            .iter()
                            .find(|d| d.id == f.name)
                            .expect("a conflict is with a deployment here");
                        if home.service != service || home.infra != infra {
                            return Err(ImportError::Refused {
                                kind: f.kind,
                                name: f.name.clone(),
                                why: format!(
                                    "here it serves {} on infra {}, in the export {service} on {infra}: replacing moves nothing between infras; rename or skip it",
                                    home.service, home.infra
                                ),
                            });
                        }
                        (f.name.clone(), true, Action::Replaced)
                    }
                    _ => (f.name.clone(), false, Action::Created),
                };
                out.outcomes.push(Outcome {
                    to: (id != f.name).then(|| id.clone()),
                    enabled: Some(desired.enabled),
                    ..outcome(f, action)
                });
                out.writes.deployments.push(DeploymentWrite {
                    id,
                    service,
                    infra,
                    desired,
                    replace,
                });
            }
            ObjectKind::Variable => match decide(f, confirmation, |_| true)? {
                Decision::Unchanged => out.outcomes.push(outcome(f, Action::Unchanged)),
                Decision::Skip => out.outcomes.push(outcome(f, Action::Skipped)),
                d => {
                    let value = export_variables.get(&f.name).ok_or_else(|| {
                        ImportError::Manifest(format!("variable `{}` has no value", f.name))
                    })?;
                    out.writes.variables.push((f.name.clone(), value.clone()));
                    let action = written(&d);
                    out.outcomes.push(outcome(f, action));
                }
            },
            ObjectKind::Secret => {
                let d = decide(f, confirmation, |_| true)?;
                if matches!(d, Decision::Skip) {
                    out.outcomes.push(outcome(f, Action::Skipped));
                    continue;
                }
                let value = match given.secrets.get(&f.name) {
                    Some(v) => Some(v.clone()),
                    None if f.value_included == Some(true) => {
                        if export_values.is_none() {
                            let passphrase =
                                given.passphrase.as_ref().ok_or(ImportError::NoPassphrase)?;
                            let sealed = opened.read(SECRET_VALUES, MAX_SMALL)?;
                            export_values = Some(decrypt(&sealed, passphrase)?);
                        }
                        export_values.as_ref().and_then(|v| v.get(&f.name)).cloned()
                    }
                    None => None,
                };
                let value = value.ok_or_else(|| ImportError::NoValue {
                    name: f.name.clone(),
                })?;
                let (credential, field) = f.name.rsplit_once('.').expect("checked when opened");
                out.secret_values
                    .push((credential.to_owned(), field.to_owned(), value));
                let action = written(&d);
                out.outcomes.push(outcome(f, action));
            }
        }
    }
    Ok(out)
}

/// One step of placing, written to the journal before it is taken.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Step {
    /// A file written at `target`; what was there is kept at `backup`.
    File {
        target: PathBuf,
        backup: Option<PathBuf>,
    },
    /// A package version added to the registry.
    Package { service: String, version: String },
}

/// The journal of one import's placing, in its directory.
pub struct Staged {
    dir: PathBuf,
    steps: Vec<Step>,
}

fn journal(dir: &Path) -> PathBuf {
    dir.join("journal.json")
}

impl Staged {
    /// A journal in import directory `dir`.
    pub fn new(dir: &Path) -> Staged {
        Staged {
            dir: dir.to_owned(),
            steps: Vec::new(),
        }
    }

    /// Writes the journal whole, then renames it into place: a reader finds the old one or
    /// the new one.
    fn save(&self) -> Result<(), ImportError> {
        let path = journal(&self.dir);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(&self.steps).expect("steps encode");
        std::fs::write(&tmp, bytes).map_err(ImportError::io(&tmp))?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(ImportError::io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(ImportError::io(&path))
    }

    fn record(&mut self, step: Step) -> Result<(), ImportError> {
        self.steps.push(step);
        self.save()
    }

    /// Places `prepared`'s files below `root` (the workflows directory; nothing lands outside
    /// it, symlinks followed) and its package versions in `registry`, journaling each step.
    pub fn place(
        &mut self,
        prepared: &Prepared,
        opened: &mut Opened,
        root: &Path,
        registry: &Registry,
    ) -> Result<(), ImportError> {
        std::fs::create_dir_all(root).map_err(ImportError::io(root))?;
        let real_root = root.canonicalize().map_err(ImportError::io(root))?;
        let replaced = self.dir.join("replaced");
        for (placed, target) in &prepared.files {
            let entry = placed.entry();
            let parent = target.parent().expect("a file below the root");
            std::fs::create_dir_all(parent).map_err(ImportError::io(parent))?;
            let real = parent.canonicalize().map_err(ImportError::io(parent))?;
            let name = target.file_name().expect("a file name");
            if !real.starts_with(&real_root)
                || std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink())
            {
                return Err(ImportError::Outside(entry.to_owned()));
            }
            let target = real.join(name);
            let tmp = real.join(format!(".import-{}.tmp", uuid::Uuid::new_v4()));
            let mut file = std::fs::File::create_new(&tmp).map_err(ImportError::io(&tmp))?;
            let written = match placed {
                Placed::Entry(entry) => opened.copy(entry, &mut file),
                Placed::Bytes(_, bytes) => {
                    std::io::Write::write_all(&mut file, bytes).map_err(ImportError::io(&tmp))
                }
            };
            let copied = written.and_then(|()| file.sync_all().map_err(ImportError::io(&tmp)));
            if let Err(e) = copied {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            if target.exists() {
                std::fs::create_dir_all(&replaced).map_err(ImportError::io(&replaced))?;
                let backup = replaced.join(self.steps.len().to_string());
                self.record(Step::File {
                    target: target.clone(),
                    backup: Some(backup.clone()),
                })?;
                std::fs::rename(&target, &backup).map_err(ImportError::io(&target))?;
            } else {
                self.record(Step::File {
                    target: target.clone(),
                    backup: None,
                })?;
            }
            std::fs::rename(&tmp, &target).map_err(ImportError::io(&target))?;
        }
        for (service, version, entry) in &prepared.packages {
            if registry.versions(service).contains(version) {
                return Err(ImportError::Package(crate::package::PackageError::Exists {
                    service: service.clone(),
                    version: version.clone(),
                }));
            }
            self.record(Step::Package {
                service: service.clone(),
                version: version.clone(),
            })?;
            let bytes = opened.read(entry, registry.limit())?;
            if let Err(e) = registry.import(&bytes) {
                // Not ours to remove if another writer added it meanwhile.
                self.steps.pop();
                self.save()?;
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// The import is committed: the journal and the files it replaced go.
    pub fn settle(self) -> Result<(), ImportError> {
        settle(&self.dir)
    }
}

fn settle(dir: &Path) -> Result<(), ImportError> {
    let replaced = dir.join("replaced");
    match std::fs::remove_dir_all(&replaced) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(ImportError::io(&replaced)(e));
        }
        _ => {}
    }
    let path = journal(dir);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ImportError::io(&path)(e)),
        _ => Ok(()),
    }
}

/// Undoes what the journal in import directory `dir` says was placed, newest first: files
/// written are removed and the ones they replaced put back, package versions added are
/// removed. Without a journal there is nothing to undo. `committed`: the store holds the
/// import, so nothing is undone and the journal is only settled.
pub fn rollback(dir: &Path, registry: &Registry, committed: bool) -> Result<(), ImportError> {
    if committed {
        return settle(dir);
    }
    let path = journal(dir);
    let steps: Vec<Step> = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| ImportError::Manifest(format!("{}: {e}", path.display())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return settle(dir),
        Err(e) => return Err(ImportError::io(&path)(e)),
    };
    for step in steps.into_iter().rev() {
        match step {
            Step::File { target, backup } => match backup {
                // The original was moved aside: put it back over what was placed.
                Some(backup) if backup.exists() => {
                    std::fs::rename(&backup, &target).map_err(ImportError::io(&target))?;
                }
                // Journaled but not yet moved: the original is still in place.
                Some(_) => {}
                None => match std::fs::remove_file(&target) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(ImportError::io(&target)(e));
                    }
                    _ => {}
                },
            },
            Step::Package { service, version } => match registry.delete(&service, &version) {
                Ok(()) | Err(crate::package::PackageError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            },
        }
    }
    settle(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_workflow_declares_its_new_name_and_only_at_the_top() {
        let text =
            "# churn\nname = \"churn\"\ndescription = \"x\"\n\n[[steps]]\nname = \"churn\"\n";
        assert_eq!(
            renamed(text, "churn", "churn-imported"),
            "# churn\nname = \"churn-imported\"\ndescription = \"x\"\n\n[[steps]]\nname = \"churn\"\n"
        );
        assert_eq!(
            renamed("[[steps]]\nname = 'a'\n", "a", "b"),
            "[[steps]]\nname = 'a'\n"
        );
    }

    /// A journal as a process killed while placing leaves it: a new file written, a file
    /// replaced (the original moved aside), a replacement journaled but not yet moved, and a
    /// package version added.
    #[test]
    fn a_rollback_puts_back_what_was_replaced_and_removes_what_was_added() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, dir) = (tmp.path().join("workflows"), tmp.path().join("import"));
        std::fs::create_dir_all(dir.join("replaced")).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        let registry = Registry::new(tmp.path().join("packages"));
        let added = root.join("added.toml");
        let replaced = root.join("replaced.toml");
        let untouched = root.join("untouched.toml");
        std::fs::write(&added, "new").unwrap();
        std::fs::write(&replaced, "the export's").unwrap();
        std::fs::write(dir.join("replaced/1"), "the home's").unwrap();
        std::fs::write(&untouched, "still the home's").unwrap();
        let steps = vec![
            Step::File {
                target: added.clone(),
                backup: None,
            },
            Step::File {
                target: replaced.clone(),
                backup: Some(dir.join("replaced/1")),
            },
            Step::File {
                target: untouched.clone(),
                backup: Some(dir.join("replaced/2")),
            },
            Step::Package {
                service: "churn".into(),
                version: "v9".into(),
            },
        ];
        std::fs::write(journal(&dir), serde_json::to_vec(&steps).unwrap()).unwrap();

        rollback(&dir, &registry, false).unwrap();
        assert!(!added.exists());
        assert_eq!(std::fs::read_to_string(&replaced).unwrap(), "the home's");
        assert_eq!(
            std::fs::read_to_string(&untouched).unwrap(),
            "still the home's"
        );
        assert!(!journal(&dir).exists() && !dir.join("replaced").exists());
        // Nothing left to undo: a second rollback changes nothing.
        rollback(&dir, &registry, false).unwrap();
        assert_eq!(std::fs::read_to_string(&replaced).unwrap(), "the home's");
    }
}
